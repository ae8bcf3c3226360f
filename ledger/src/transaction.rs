//! Custody transactions: what a member signs (format version, chain id, its sequence number,
//! the event time and one payload), the canonical bytes it signs, and the stateless checks
//! (version, form, size, signature) a node runs before any ledger rule.

use crate::crypto::{self, Signature};
use crate::encoding;
use crate::genesis::{ChainParams, Genesis, MemberId};
use crate::gs1::{Expiry, Gln, Gtin, ItemId, Lot, Serial, Sscc};
use crate::hash::{tag, Hash32};
use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// A shipment's identifier (a dispatch advice / ASN number), unique on the chain.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ShipmentId(pub String);

impl fmt::Display for ShipmentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why an item leaves the supply chain for good (or until returned).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecommissionReason {
    /// Handed to a patient or end user.
    Dispensed,
    /// Destroyed.
    Destroyed,
    /// Reported stolen.
    Stolen,
    /// Expired and taken out of stock.
    Expired,
    /// Exported out of the market.
    Exported,
}

/// A change of an item's hold status.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusChange {
    /// Put on hold pending investigation: may not be sold or shipped onward.
    Quarantine,
    /// Damaged: may not be sold or shipped onward.
    Damaged,
    /// Suspected counterfeit or diverted: may not be sold or shipped onward.
    Suspect,
    /// Clears a hold.
    Release,
}

/// Commission new serials of one GTIN, lot and expiry (the packaging line).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Commission {
    /// The product.
    pub gtin: Gtin,
    /// Batch/lot (AI 10).
    pub lot: Lot,
    /// Expiry (AI 17).
    pub expiry: Expiry,
    /// The new serials (AI 21).
    pub serials: Vec<Serial>,
    /// Where they were made (a GLN of the signer).
    #[serde(default)]
    pub location: Option<Gln>,
}

/// Put items into a case or pallet (created on first use).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Pack {
    /// The case or pallet.
    pub parent: Sscc,
    /// What goes in.
    pub children: Vec<ItemId>,
}

/// Take items out of a case or pallet.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Unpack {
    /// The case or pallet.
    pub parent: Sscc,
    /// What comes out, each named (the CLI reads a container's contents from the node to
    /// empty it), so the work is what the transaction names.
    pub children: Vec<ItemId>,
}

/// Send items to another member.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Ship {
    /// A new shipment id.
    pub shipment: ShipmentId,
    /// The addressee.
    pub to: MemberId,
    /// Top-level items (a pallet carries its contents).
    pub items: Vec<ItemId>,
}

/// Take in a shipment addressed to the signer, noting discrepancies. Every top-level item
/// still travelling in the shipment is accounted for, accepted or refused (rejected or
/// missing); a refused item may also be one inside an accepted container.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Receive {
    /// The shipment.
    pub shipment: ShipmentId,
    /// Shipped top-level items (pallets, cases, loose units) taken into custody, with
    /// whatever they hold.
    #[serde(default)]
    pub accepted: Vec<ItemId>,
    /// Shipped items refused at the dock; they stay with the shipper, on hold.
    #[serde(default)]
    pub rejected: Vec<ItemId>,
    /// Shipped items that did not arrive; they stay with the shipper, marked suspect.
    #[serde(default)]
    pub missing: Vec<ItemId>,
    /// Items that arrived but were not shipped (possibly unknown serials): recorded only.
    #[serde(default)]
    pub unexpected: Vec<ItemId>,
    /// Where the accepted goods are put (a GLN of the signer).
    #[serde(default)]
    pub location: Option<Gln>,
    /// Free text for the receiving record.
    #[serde(default)]
    pub note: String,
}

/// Move items to another location of their custodian.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Move {
    /// Items (a case or pallet moves its contents).
    pub items: Vec<ItemId>,
    /// The destination, a GLN of the signer.
    pub to: Gln,
}

/// Quarantine, mark damaged or suspect, or release items.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct SetStatus {
    /// Items (contents follow their container).
    pub items: Vec<ItemId>,
    /// The change.
    pub status: StatusChange,
    /// Why.
    pub reason: String,
}

/// Recall lots of a GTIN.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Recall {
    /// A new recall id.
    pub recall_id: String,
    /// The product.
    pub gtin: Gtin,
    /// The lots recalled.
    pub lots: Vec<Lot>,
    /// Why.
    pub reason: String,
}

/// Take items out of the supply chain.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Decommission {
    /// Items (a case takes its contents along).
    pub items: Vec<ItemId>,
    /// Why.
    pub reason: DecommissionReason,
}

/// Take back items: a dispensed unit returned by a patient to the pharmacy that dispensed
/// it, or a return shipment addressed to a member that held the items before (checked
/// against the original sale). Returned items come back on hold (quarantined).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Return {
    /// Items coming back.
    pub items: Vec<ItemId>,
    /// Why.
    pub reason: String,
}

/// What a transaction does.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Payload {
    /// See [`Commission`].
    Commission(Commission),
    /// See [`Pack`].
    Pack(Pack),
    /// See [`Unpack`].
    Unpack(Unpack),
    /// See [`Ship`].
    Ship(Ship),
    /// See [`Receive`].
    Receive(Receive),
    /// See [`Move`].
    Move(Move),
    /// See [`SetStatus`].
    SetStatus(SetStatus),
    /// See [`Recall`].
    Recall(Recall),
    /// See [`Decommission`].
    Decommission(Decommission),
    /// See [`Return`].
    Return(Return),
}

impl Payload {
    /// The payload kind, as in JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            Payload::Commission(_) => "commission",
            Payload::Pack(_) => "pack",
            Payload::Unpack(_) => "unpack",
            Payload::Ship(_) => "ship",
            Payload::Receive(_) => "receive",
            Payload::Move(_) => "move",
            Payload::SetStatus(_) => "set_status",
            Payload::Recall(_) => "recall",
            Payload::Decommission(_) => "decommission",
            Payload::Return(_) => "return",
        }
    }

    /// Number of identifiers the payload names: what the per-transaction and per-block
    /// item limits count, and (see [`apply`](crate::state::apply)) what bounds its work.
    pub fn item_count(&self) -> usize {
        match self {
            Payload::Commission(c) => c.serials.len(),
            Payload::Pack(p) => p.children.len() + 1,
            Payload::Unpack(u) => u.children.len() + 1,
            Payload::Ship(s) => s.items.len(),
            Payload::Receive(r) => {
                r.accepted.len() + r.rejected.len() + r.missing.len() + r.unexpected.len()
            }
            Payload::Move(m) => m.items.len(),
            Payload::SetStatus(s) => s.items.len(),
            Payload::Recall(r) => r.lots.len(),
            Payload::Decommission(d) => d.items.len(),
            Payload::Return(r) => r.items.len(),
        }
    }
}

/// The transaction format this build writes and accepts ([`Transaction::version`]).
pub const TX_FORMAT_VERSION: u16 = 1;

/// An unsigned transaction.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Transaction {
    /// The transaction format ([`TX_FORMAT_VERSION`]): first, so that any reader can tell
    /// which layout follows. Signed and hashed with the rest; required in JSON too. A
    /// transaction of another version is refused ([`TxError::Version`]).
    pub version: u16,
    /// The chain it is made for; a transaction for another chain is refused.
    pub chain_id: String,
    /// The signing member.
    pub signer: MemberId,
    /// The member's sequence number: 1 for its first transaction, then one more each time.
    pub sequence: u64,
    /// When the scan or business event happened, Unix milliseconds (the member's clock).
    pub event_time_ms: u64,
    /// What it does.
    pub payload: Payload,
}

/// A transaction with its member's signature.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct SignedTransaction {
    /// The transaction.
    pub tx: Transaction,
    /// ed25519 signature over [`Transaction::sign_bytes`].
    pub signature: Signature,
}

/// Longest free-text field (reasons, notes), bytes.
pub const MAX_TEXT: usize = 512;
/// Longest identifier field (shipment id, recall id), bytes.
pub const MAX_ID: usize = 64;

/// Why a transaction is refused before any ledger rule runs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    /// Written in a transaction format this node does not read.
    #[error(
        "transaction format version {found} is not supported; this node reads version {supported}"
    )]
    Version {
        /// The transaction's version.
        found: u16,
        /// The one this node reads ([`TX_FORMAT_VERSION`]).
        supported: u16,
    },
    /// Made for another chain.
    #[error("transaction is for chain {found:?}, this chain is {expected:?}")]
    WrongChain {
        /// This chain.
        expected: String,
        /// The transaction's chain id.
        found: String,
    },
    /// Signer is not in the genesis member list.
    #[error("signer {0} is not a member of this chain")]
    UnknownSigner(MemberId),
    /// Signature does not verify against the signer's key.
    #[error("signature does not verify against {0}'s key")]
    BadSignature(MemberId),
    /// Too many items.
    #[error("transaction names {count} items, the limit is {max}")]
    TooManyItems {
        /// Items named.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// Too many bytes.
    #[error("transaction is {size} bytes, the limit is {max}")]
    TooLarge {
        /// Encoded size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// A required list is empty.
    #[error("{0} is empty")]
    Empty(&'static str),
    /// An identifier appears twice.
    #[error("{0} is listed twice")]
    Duplicate(String),
    /// A text field is too long or empty.
    #[error("{field} must be 1 to {max} bytes")]
    BadText {
        /// The field.
        field: &'static str,
        /// Its limit.
        max: usize,
    },
    /// Sequence numbers start at 1.
    #[error("sequence numbers start at 1")]
    ZeroSequence,
}

fn no_duplicates<'a, T: Ord + fmt::Display + 'a>(
    items: impl IntoIterator<Item = &'a T>,
) -> Result<(), TxError> {
    let mut seen = BTreeSet::new();
    for i in items {
        if !seen.insert(i) {
            return Err(TxError::Duplicate(i.to_string()));
        }
    }
    Ok(())
}

fn text(field: &'static str, s: &str, max: usize, may_be_empty: bool) -> Result<(), TxError> {
    if s.len() > max || (!may_be_empty && s.trim().is_empty()) {
        return Err(TxError::BadText { field, max });
    }
    Ok(())
}

fn non_empty<T>(field: &'static str, v: &[T]) -> Result<(), TxError> {
    if v.is_empty() {
        return Err(TxError::Empty(field));
    }
    Ok(())
}

impl Transaction {
    /// The exact bytes the member signs: a domain tag, then the canonical encoding.
    pub fn sign_bytes(&self) -> Vec<u8> {
        let mut out = tag::TX_SIGN.as_bytes().to_vec();
        out.push(0);
        out.extend_from_slice(&encoding::encode(self));
        out
    }

    /// Signs with `key`.
    pub fn sign(self, key: &SigningKey) -> SignedTransaction {
        let signature = crypto::Signer::sign(key, &self.sign_bytes());
        SignedTransaction {
            tx: self,
            signature,
        }
    }

    /// Checks the payload's form: non-empty lists, no duplicates, text lengths, item limit.
    pub fn check_form(&self, params: &ChainParams) -> Result<(), TxError> {
        if self.sequence == 0 {
            return Err(TxError::ZeroSequence);
        }
        let count = self.payload.item_count();
        let max = params.max_tx_items as usize;
        if count > max {
            return Err(TxError::TooManyItems { count, max });
        }
        match &self.payload {
            Payload::Commission(c) => {
                non_empty("serials", &c.serials)?;
                no_duplicates(&c.serials)
            }
            Payload::Pack(p) => {
                non_empty("children", &p.children)?;
                no_duplicates(&p.children)
            }
            Payload::Unpack(u) => {
                non_empty("children", &u.children)?;
                no_duplicates(&u.children)
            }
            Payload::Ship(s) => {
                text("shipment", &s.shipment.0, MAX_ID, false)?;
                non_empty("items", &s.items)?;
                no_duplicates(&s.items)
            }
            Payload::Receive(r) => {
                text("shipment", &r.shipment.0, MAX_ID, false)?;
                text("note", &r.note, MAX_TEXT, true)?;
                no_duplicates(
                    r.accepted
                        .iter()
                        .chain(&r.rejected)
                        .chain(&r.missing)
                        .chain(&r.unexpected),
                )
            }
            Payload::Move(m) => {
                non_empty("items", &m.items)?;
                no_duplicates(&m.items)
            }
            Payload::SetStatus(s) => {
                non_empty("items", &s.items)?;
                text("reason", &s.reason, MAX_TEXT, false)?;
                no_duplicates(&s.items)
            }
            Payload::Recall(r) => {
                text("recall_id", &r.recall_id, MAX_ID, false)?;
                text("reason", &r.reason, MAX_TEXT, false)?;
                non_empty("lots", &r.lots)?;
                no_duplicates(&r.lots)
            }
            Payload::Decommission(d) => {
                non_empty("items", &d.items)?;
                no_duplicates(&d.items)
            }
            Payload::Return(r) => {
                non_empty("items", &r.items)?;
                text("reason", &r.reason, MAX_TEXT, false)?;
                no_duplicates(&r.items)
            }
        }
    }
}

impl SignedTransaction {
    /// The transaction hash: names it in blocks, histories and the API.
    pub fn hash(&self) -> Hash32 {
        Hash32::tagged(tag::TX, &[&encoding::encode(self)])
    }

    /// Encoded size in bytes.
    pub fn encoded_len(&self) -> usize {
        encoding::encode(self).len()
    }

    /// Every check that needs no ledger state: format version, chain id, size, form,
    /// signer, signature.
    pub fn check_stateless(&self, genesis: &Genesis) -> Result<(), TxError> {
        if self.tx.version != TX_FORMAT_VERSION {
            return Err(TxError::Version {
                found: self.tx.version,
                supported: TX_FORMAT_VERSION,
            });
        }
        if self.tx.chain_id != genesis.chain_id {
            return Err(TxError::WrongChain {
                expected: genesis.chain_id.clone(),
                found: self.tx.chain_id.clone(),
            });
        }
        let size = self.encoded_len();
        let max = genesis.params.max_tx_bytes as usize;
        if size > max {
            return Err(TxError::TooLarge { size, max });
        }
        self.tx.check_form(&genesis.params)?;
        self.check_signature(genesis)
    }

    /// Checks the signature against the signer's key from genesis.
    pub fn check_signature(&self, genesis: &Genesis) -> Result<(), TxError> {
        let member = genesis
            .member(&self.tx.signer)
            .ok_or_else(|| TxError::UnknownSigner(self.tx.signer.clone()))?;
        if !crypto::verify(&member.public_key, &self.tx.sign_bytes(), &self.signature) {
            return Err(TxError::BadSignature(self.tx.signer.clone()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::genesis::tests::demo;

    /// A transaction of format `version` by the demo genesis's first member, signed.
    fn signed(version: u16) -> (Genesis, SignedTransaction) {
        let (g, keys) = demo();
        let tx = Transaction {
            version,
            chain_id: g.chain_id.clone(),
            signer: g.members[0].name.clone(),
            sequence: 1,
            event_time_ms: 1_700_000_000_000,
            payload: Payload::Recall(Recall {
                recall_id: "R-1".into(),
                gtin: Gtin::parse("10614141000019").expect("a valid GTIN"),
                lots: vec![Lot::parse("L1").expect("a valid lot")],
                reason: "sterility".into(),
            }),
        };
        let stx = tx.sign(&keys[0]);
        (g, stx)
    }

    #[test]
    fn the_current_version_passes_the_stateless_checks() {
        let (g, stx) = signed(TX_FORMAT_VERSION);
        assert_eq!(stx.check_stateless(&g), Ok(()));
    }

    #[test]
    fn another_version_is_refused_naming_both() {
        let (g, stx) = signed(7);
        let e = stx.check_stateless(&g).unwrap_err();
        assert_eq!(
            e,
            TxError::Version {
                found: 7,
                supported: TX_FORMAT_VERSION
            }
        );
        assert_eq!(
            e.to_string(),
            "transaction format version 7 is not supported; this node reads version 1"
        );
    }

    #[test]
    fn the_version_is_signed_and_hashed() {
        let (g, mut stx) = signed(TX_FORMAT_VERSION);
        let hash = stx.hash();
        assert_eq!(encoding::encode(&stx.tx)[..1], [TX_FORMAT_VERSION as u8]);
        stx.tx.version = 2;
        assert_ne!(stx.hash(), hash);
        assert!(matches!(
            stx.check_signature(&g),
            Err(TxError::BadSignature(_))
        ));
    }

    #[test]
    fn json_without_a_version_is_refused() {
        let (_, stx) = signed(TX_FORMAT_VERSION);
        let mut json = serde_json::to_value(&stx).expect("a transaction serializes");
        assert_eq!(json["tx"]["version"], TX_FORMAT_VERSION);
        let back: SignedTransaction =
            serde_json::from_value(json.clone()).expect("its JSON reads back");
        assert_eq!(back, stx);
        if let Some(tx) = json["tx"].as_object_mut() {
            tx.remove("version");
        }
        let e = serde_json::from_value::<SignedTransaction>(json).unwrap_err();
        assert!(e.to_string().contains("missing field `version`"), "{e}");
    }
}
