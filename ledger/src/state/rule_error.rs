//! Why a transaction is rejected by the ledger rules.

use crate::genesis::MemberId;
use crate::gs1::{Gln, Gtin, ItemId, Lot, Sscc};
use crate::state::item_state::Status;
use crate::transaction::{ShipmentId, TxError};

/// A broken ledger rule, with the values needed to understand it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// A stateless check failed (chain, size, form, signature).
    #[error(transparent)]
    Tx(#[from] TxError),
    /// Sequence number is not the signer's next one.
    #[error(
        "sequence {found} of {member} is not its next one ({expected}): replayed or out of order"
    )]
    Sequence {
        /// Signer.
        member: MemberId,
        /// The next sequence.
        expected: u64,
        /// The transaction's.
        found: u64,
    },
    /// Event time too far ahead of block time.
    #[error("event time {event_ms} is more than {drift_ms} ms ahead of block time {block_ms}")]
    EventTimeAhead {
        /// Transaction event time.
        event_ms: u64,
        /// Block time.
        block_ms: u64,
        /// Allowed drift.
        drift_ms: u64,
    },
    /// The GTIN or SSCC belongs to another member's company prefix.
    #[error("{id} belongs to {}'s company prefix, not to {signer}", owner.as_ref().map_or("no member", |o| o.0.as_str()))]
    ForeignPrefix {
        /// The identifier.
        id: String,
        /// Who signed.
        signer: MemberId,
        /// Who owns the prefix.
        owner: Option<MemberId>,
    },
    /// Serial (or SSCC) already exists.
    #[error("{item} was already commissioned (at height {height}): a serial exists once, forever")]
    AlreadyCommissioned {
        /// The item.
        item: ItemId,
        /// When.
        height: u64,
    },
    /// No such item.
    #[error("{0} is unknown: never commissioned")]
    UnknownItem(ItemId),
    /// The signer does not hold the item.
    #[error("{item} is held by {custodian}, not by {signer}")]
    NotCustodian {
        /// The item.
        item: ItemId,
        /// Its custodian.
        custodian: MemberId,
        /// Who signed.
        signer: MemberId,
    },
    /// The item is in transit.
    #[error("{item} is in transit in shipment {shipment}")]
    InTransit {
        /// The item.
        item: ItemId,
        /// Its shipment.
        shipment: ShipmentId,
    },
    /// The item has left the supply chain.
    #[error("{item} is {}: it has left the supply chain", status.as_str())]
    Decommissioned {
        /// The item.
        item: ItemId,
        /// Its status.
        status: Status,
    },
    /// The item is packed in a container.
    #[error("{item} is packed in {parent}: act on the container or unpack it first")]
    InsideContainer {
        /// The item.
        item: ItemId,
        /// Its container.
        parent: Sscc,
    },
    /// An SSCC was expected to hold this item.
    #[error("{item} is not in {parent}")]
    NotInContainer {
        /// The item.
        item: ItemId,
        /// The container.
        parent: Sscc,
    },
    /// Packing would put a container inside itself.
    #[error("packing {child} into {parent} would put a container inside itself")]
    PackingCycle {
        /// The child.
        child: ItemId,
        /// The container.
        parent: Sscc,
    },
    /// Recalled or held items may only go back toward the manufacturer.
    #[error(
        "{item} is {why}: it may only travel back toward the manufacturer, and {to} never held it"
    )]
    Restricted {
        /// The item.
        item: ItemId,
        /// "under recall R" or "quarantined: reason".
        why: String,
        /// The addressee.
        to: MemberId,
    },
    /// Recalled or held items may not be dispensed or exported.
    #[error("{item} is {why}: it may not be {action}")]
    NotSellable {
        /// The item.
        item: ItemId,
        /// "under recall R", "quarantined", "expired on D".
        why: String,
        /// What was attempted.
        action: &'static str,
    },
    /// Lot is under recall.
    #[error("lot {lot} of GTIN {gtin} is under recall {recall_id}")]
    LotRecalled {
        /// GTIN.
        gtin: Gtin,
        /// Lot.
        lot: Lot,
        /// Recall.
        recall_id: String,
    },
    /// Recall id reused.
    #[error("recall {0} already exists")]
    RecallExists(String),
    /// Member not in genesis.
    #[error("{0} is not a member of this chain")]
    UnknownMember(MemberId),
    /// Shipping to oneself.
    #[error("{0} cannot ship to itself: use move")]
    ShipToSelf(MemberId),
    /// Shipment id reused.
    #[error("shipment {0} already exists")]
    ShipmentExists(ShipmentId),
    /// No such shipment.
    #[error("shipment {0} is unknown")]
    UnknownShipment(ShipmentId),
    /// Received twice.
    #[error("shipment {0} was already received")]
    ShipmentClosed(ShipmentId),
    /// Receiver is not the addressee.
    #[error("shipment {shipment} is addressed to {to}, not to {signer}")]
    NotAddressee {
        /// Shipment.
        shipment: ShipmentId,
        /// Addressee.
        to: MemberId,
        /// Who signed.
        signer: MemberId,
    },
    /// Item named in a receipt is not in the shipment.
    #[error("{item} is not in shipment {shipment}")]
    NotInShipment {
        /// The item.
        item: ItemId,
        /// Shipment.
        shipment: ShipmentId,
    },
    /// An "unexpected" item was in fact shipped.
    #[error("{item} is in shipment {shipment}: it is not unexpected")]
    NotUnexpected {
        /// The item.
        item: ItemId,
        /// Shipment.
        shipment: ShipmentId,
    },
    /// The GLN is not one of the signer's.
    #[error("location {gln} is not one of {member}'s")]
    ForeignLocation {
        /// The GLN.
        gln: Gln,
        /// The member.
        member: MemberId,
    },
    /// The member may not do this.
    #[error("{member} may not {action}")]
    NotAllowed {
        /// The member.
        member: MemberId,
        /// What it tried.
        action: String,
    },
    /// A return that is not one.
    #[error("{item} cannot be returned to {signer}: {why}")]
    NotReturnable {
        /// The item.
        item: ItemId,
        /// Who signed.
        signer: MemberId,
        /// Why not.
        why: String,
    },
}

/// The state could not be read (a storage failure; fatal for a node).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("state unavailable: {0}")]
pub struct StateError(pub String);

/// Result of applying a transaction that did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// The transaction breaks a rule; nothing changes.
    #[error(transparent)]
    Rule(#[from] RuleError),
    /// The state could not be read.
    #[error(transparent)]
    State(#[from] StateError),
}

impl From<TxError> for ApplyError {
    fn from(e: TxError) -> Self {
        ApplyError::Rule(RuleError::Tx(e))
    }
}
