//! The genesis file: chain id, validator set, members (keys, roles, GS1 company prefixes,
//! GLNs) and chain parameters. Every node and every offline verifier starts from it.

use crate::crypto::PublicKey;
use crate::encoding;
use crate::gs1::{Gln, Gtin, ItemId, Sscc};
use crate::hash::{tag, Hash32};
use custody_consensus::{Validator, ValidatorSet};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A member's unique name, e.g. `manufacturer`; how members are named on the command line
/// and in item state.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MemberId(pub String);

impl fmt::Display for MemberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for MemberId {
    fn from(s: &str) -> Self {
        MemberId(s.to_string())
    }
}

/// What a member does in the supply chain; decides which transactions it may sign.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Commissions serials of its own GTINs, packs, ships, recalls.
    Manufacturer,
    /// Receives, stores, ships on.
    Distributor,
    /// Pharmacy or hospital: receives, dispenses, takes returns.
    Dispenser,
    /// Carrier or 3PL: holds goods in transit, packs pallets.
    Logistics,
    /// Authority: may recall any lot and quarantine any item.
    Regulator,
}

/// A supply-chain participant allowed to sign transactions.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Member {
    /// Unique name.
    pub name: MemberId,
    /// The key its transactions are signed with.
    pub public_key: PublicKey,
    /// Its roles.
    pub roles: Vec<Role>,
    /// GS1 company prefixes it owns (6 to 12 digits).
    #[serde(default)]
    pub company_prefixes: Vec<String>,
    /// Locations (GLN) it operates.
    #[serde(default)]
    pub glns: Vec<Gln>,
}

impl Member {
    /// True if the member has `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
    /// True if the member owns the company prefix of `gtin`.
    pub fn owns_gtin(&self, gtin: &Gtin) -> bool {
        self.company_prefixes
            .iter()
            .any(|p| gtin.has_company_prefix(p))
    }
    /// True if the member owns the company prefix of `sscc`.
    pub fn owns_sscc(&self, sscc: &Sscc) -> bool {
        self.company_prefixes
            .iter()
            .any(|p| sscc.has_company_prefix(p))
    }
    /// True if `gln` is one of the member's locations.
    pub fn has_gln(&self, gln: &Gln) -> bool {
        self.glns.contains(gln)
    }
}

/// The default [`ChainParams::max_block_bytes`]: 3 MiB, under the 4 MiB gossip frame.
pub const DEFAULT_MAX_BLOCK_BYTES: u32 = 3 * 1024 * 1024;

/// Room a block's header and transaction count take, at most, beside its transactions.
pub const BLOCK_HEADER_ROOM: u64 = 4096;

/// Limits and timings every node of the chain applies alike.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct ChainParams {
    /// Most transactions in one block.
    pub max_block_txs: u32,
    /// Most items named in one transaction.
    pub max_tx_items: u32,
    /// Most items named by all transactions of one block (a block holds at least one
    /// transaction whatever its size).
    pub max_block_items: u32,
    /// Largest encoded transaction, bytes.
    pub max_tx_bytes: u32,
    /// Largest encoded block, bytes: a validity rule every validator checks before voting,
    /// and a proposer never builds past. It must leave room under the network's gossip
    /// frame for the proposal that carries the block.
    pub max_block_bytes: u32,
    /// How far a block's time may run ahead of a validator's clock, milliseconds.
    pub max_clock_drift_ms: u64,
    /// How far a transaction's event time (the member's claim) may run ahead of its
    /// block's time, milliseconds.
    pub max_event_ahead_ms: u64,
    /// How far a transaction's event time may lie behind its block's time, milliseconds
    /// (scans recorded offline and submitted later).
    pub max_event_behind_ms: u64,
    /// Most levels of containers above a unit (a unit in a case on a pallet: 2).
    pub max_nesting: u32,
    /// Most distinct lots (GTIN + lot) one container may hold, its contents' contents
    /// included: what shipping or selling a container checks, whatever its size.
    pub max_container_lots: u32,
    /// Consensus: base propose timeout, milliseconds (grows by `timeout_delta_ms` per round).
    pub timeout_propose_ms: u64,
    /// Consensus: base prevote timeout, milliseconds.
    pub timeout_prevote_ms: u64,
    /// Consensus: base precommit timeout, milliseconds.
    pub timeout_precommit_ms: u64,
    /// Consensus: timeout growth per round, milliseconds.
    pub timeout_delta_ms: u64,
}

impl Default for ChainParams {
    fn default() -> Self {
        ChainParams {
            max_block_txs: 2_000,
            max_tx_items: 10_000,
            max_block_items: 10_000,
            max_tx_bytes: 1024 * 1024,
            max_block_bytes: DEFAULT_MAX_BLOCK_BYTES,
            max_clock_drift_ms: 10_000,
            max_event_ahead_ms: 10_000,
            max_event_behind_ms: 7 * 24 * 3600 * 1000,
            max_nesting: 8,
            max_container_lots: 64,
            timeout_propose_ms: 1_000,
            timeout_prevote_ms: 500,
            timeout_precommit_ms: 500,
            timeout_delta_ms: 500,
        }
    }
}

/// The genesis document.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Genesis {
    /// Names the chain; signed into every transaction and vote.
    pub chain_id: String,
    /// Unix time of genesis, milliseconds.
    pub genesis_time_ms: u64,
    /// Validators, in proposer-rotation order.
    pub validators: Vec<Validator>,
    /// Members that may sign transactions.
    pub members: Vec<Member>,
    /// Chain parameters.
    #[serde(default)]
    pub params: ChainParams,
}

/// Why a genesis document is not usable.
#[derive(Debug, thiserror::Error)]
pub enum GenesisError {
    /// Not valid JSON of the genesis shape.
    #[error("genesis is not valid: {0}")]
    Malformed(String),
    /// Contents break a rule.
    #[error("genesis is not valid: {0}")]
    Invalid(String),
}

impl Genesis {
    /// Parses and validates a genesis JSON document.
    pub fn from_json(text: &str) -> Result<Genesis, GenesisError> {
        let g: Genesis =
            serde_json::from_str(text).map_err(|e| GenesisError::Malformed(e.to_string()))?;
        g.validate()?;
        Ok(g)
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("genesis serializes to JSON")
    }

    /// The genesis hash: the parent of block 1.
    pub fn hash(&self) -> Hash32 {
        Hash32::tagged(tag::GENESIS, &[&encoding::encode(self)])
    }

    /// Checks names, keys and prefixes are unique and well formed.
    pub fn validate(&self) -> Result<(), GenesisError> {
        let bad = |m: String| Err(GenesisError::Invalid(m));
        if self.chain_id.is_empty() || self.chain_id.len() > 64 {
            return bad("chain_id must be 1 to 64 characters".into());
        }
        if self.validator_set().is_none() {
            return bad("validators must be non-empty with unique names and keys".into());
        }
        let p = &self.params;
        if p.max_tx_bytes == 0
            || u64::from(p.max_tx_bytes) + BLOCK_HEADER_ROOM > u64::from(p.max_block_bytes)
        {
            return bad(format!(
                "max_tx_bytes ({}) must be positive and leave {BLOCK_HEADER_ROOM} bytes under max_block_bytes ({}): every valid transaction must fit in a block",
                p.max_tx_bytes, p.max_block_bytes
            ));
        }
        let mut names = BTreeMap::new();
        let mut keys = BTreeMap::new();
        for m in &self.members {
            if m.name.0.is_empty() || m.name.0.len() > 64 {
                return bad(format!(
                    "member name {:?} must be 1 to 64 characters",
                    m.name.0
                ));
            }
            if names.insert(&m.name, ()).is_some() {
                return bad(format!("member {} is listed twice", m.name));
            }
            if let Some(other) = keys.insert(m.public_key, &m.name) {
                return bad(format!("members {other} and {} share a key", m.name));
            }
            for p in &m.company_prefixes {
                if !(6..=12).contains(&p.len()) || !p.bytes().all(|b| b.is_ascii_digit()) {
                    return bad(format!(
                        "{}: company prefix {p:?} must be 6 to 12 digits",
                        m.name
                    ));
                }
            }
        }
        let all: Vec<(&MemberId, &String)> = self
            .members
            .iter()
            .flat_map(|m| m.company_prefixes.iter().map(move |p| (&m.name, p)))
            .collect();
        for (i, (a, p)) in all.iter().enumerate() {
            for (b, q) in &all[i + 1..] {
                if p.starts_with(q.as_str()) || q.starts_with(p.as_str()) {
                    return bad(format!(
                        "company prefixes {p} ({a}) and {q} ({b}) overlap: a GTIN must have one owner"
                    ));
                }
            }
        }
        Ok(())
    }

    /// The validator set.
    pub fn validator_set(&self) -> Option<ValidatorSet> {
        ValidatorSet::new(self.validators.clone())
    }

    /// The member named `name`.
    pub fn member(&self, name: &MemberId) -> Option<&Member> {
        self.members.iter().find(|m| &m.name == name)
    }

    /// The member owning `gtin`'s company prefix.
    pub fn gtin_owner(&self, gtin: &Gtin) -> Option<&Member> {
        self.members.iter().find(|m| m.owns_gtin(gtin))
    }

    /// The member owning the company prefix of an item's identifier.
    pub fn item_owner(&self, id: &ItemId) -> Option<&Member> {
        match id {
            ItemId::Sgtin(s) => self.gtin_owner(&s.gtin),
            ItemId::Sscc(s) => self.members.iter().find(|m| m.owns_sscc(s)),
        }
    }

    /// The member using `key`.
    pub fn member_by_key(&self, key: &PublicKey) -> Option<&Member> {
        self.members.iter().find(|m| &m.public_key == key)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    /// A small genesis for tests: manufacturer (prefix 0614141), distributor (0614142),
    /// pharmacy, regulator; one validator. Keys are `[i; 32]`.
    pub fn demo() -> (Genesis, Vec<SigningKey>) {
        let keys: Vec<SigningKey> = (1..=5u8)
            .map(|i| SigningKey::from_bytes(&[i; 32]))
            .collect();
        let pk = |i: usize| PublicKey(keys[i].verifying_key().to_bytes());
        let gln = |s: &str| Gln::parse(s).unwrap();
        let g = Genesis {
            chain_id: "test-chain".into(),
            genesis_time_ms: 0,
            validators: vec![Validator {
                name: "validator-0".into(),
                public_key: pk(4),
            }],
            members: vec![
                Member {
                    name: "manufacturer".into(),
                    public_key: pk(0),
                    roles: vec![Role::Manufacturer],
                    company_prefixes: vec!["0614141".into()],
                    glns: vec![gln("0614141000005")],
                },
                Member {
                    name: "distributor".into(),
                    public_key: pk(1),
                    roles: vec![Role::Distributor],
                    company_prefixes: vec!["0614142".into()],
                    glns: vec![gln("0614142000004")],
                },
                Member {
                    name: "pharmacy".into(),
                    public_key: pk(2),
                    roles: vec![Role::Dispenser],
                    company_prefixes: vec![],
                    glns: vec![gln("0614143000003")],
                },
                Member {
                    name: "regulator".into(),
                    public_key: pk(3),
                    roles: vec![Role::Regulator],
                    company_prefixes: vec![],
                    glns: vec![],
                },
            ],
            params: ChainParams::default(),
        };
        (g, keys)
    }

    #[test]
    fn demo_is_valid_and_json_round_trips() {
        let (g, _) = demo();
        g.validate().unwrap();
        assert_eq!(Genesis::from_json(&g.to_json()).unwrap(), g);
    }

    #[test]
    fn a_transaction_limit_past_the_block_limit_is_refused() {
        let (mut g, _) = demo();
        g.params.max_tx_bytes = g.params.max_block_bytes + 1;
        assert!(g.validate().is_err());
        // A genesis written before the block limit existed reads with the default.
        let mut v: serde_json::Value = serde_json::from_str(&demo().0.to_json()).unwrap();
        v["params"]
            .as_object_mut()
            .unwrap()
            .remove("max_block_bytes");
        let old = Genesis::from_json(&v.to_string()).unwrap();
        assert_eq!(old.params.max_block_bytes, DEFAULT_MAX_BLOCK_BYTES);
    }

    #[test]
    fn overlapping_prefixes_are_refused() {
        let (mut g, _) = demo();
        g.members[1].company_prefixes = vec!["061414".into()];
        assert!(g.validate().unwrap_err().to_string().contains("overlap"));
    }

    #[test]
    fn duplicate_member_is_refused() {
        let (mut g, _) = demo();
        let m = g.members[0].clone();
        g.members.push(m);
        assert!(g.validate().is_err());
    }
}
