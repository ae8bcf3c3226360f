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
    #[error("event time {event_ms} is more than {max_ms} ms ahead of block time {block_ms}")]
    EventTimeAhead {
        /// Transaction event time.
        event_ms: u64,
        /// Block time.
        block_ms: u64,
        /// How far ahead the chain allows.
        max_ms: u64,
    },
    /// The event time lies further behind the block's time than the chain allows.
    #[error("event time {event_ms} is more than {max_ms} ms behind block time {block_ms}")]
    EventTimeBehind {
        /// Transaction event time.
        event_ms: u64,
        /// Block time.
        block_ms: u64,
        /// How far behind the chain allows.
        max_ms: u64,
    },
    /// The event time is earlier than the item's latest event (its own or a container's).
    #[error("event time {event_ms} is earlier than {item}'s latest event ({previous_ms})")]
    EventTimeBeforePrevious {
        /// The item whose latest event is later.
        item: ItemId,
        /// Transaction event time.
        event_ms: u64,
        /// That event's time.
        previous_ms: u64,
    },
    /// The lot's expiry has passed (by block time).
    #[error("lot {lot} of GTIN {gtin} expired on {expiry} (block date {today}): it may not be commissioned")]
    ExpiredLot {
        /// The product.
        gtin: Gtin,
        /// The lot.
        lot: Lot,
        /// Its expiry date.
        expiry: String,
        /// The block's date.
        today: String,
    },
    /// A lot is commissioned again with another expiry.
    #[error("lot {lot} of GTIN {gtin} expires on {expiry}, not on {found}")]
    LotExpiry {
        /// The product.
        gtin: Gtin,
        /// The lot.
        lot: Lot,
        /// The lot's expiry.
        expiry: String,
        /// The transaction's.
        found: String,
    },
    /// A lot that was never commissioned.
    #[error("lot {lot} of GTIN {gtin} was never commissioned")]
    UnknownLot {
        /// The product.
        gtin: Gtin,
        /// The lot.
        lot: Lot,
    },
    /// A container would hold more distinct lots than the chain allows.
    #[error("{container} would hold units of more than {max} lots")]
    TooManyLots {
        /// The container.
        container: Sscc,
        /// The limit.
        max: u32,
    },
    /// Containers would nest deeper than the chain allows.
    #[error("{container} would nest containers more than {max} levels deep")]
    TooDeep {
        /// The container.
        container: Sscc,
        /// The limit.
        max: u32,
    },
    /// A receipt does not account for every item still travelling in the shipment.
    #[error("shipment {shipment} has {outstanding} items travelling; the receipt accounts for {accounted}: accept, reject or report missing each of them")]
    ShipmentIncomplete {
        /// The shipment.
        shipment: ShipmentId,
        /// Items still travelling in it.
        outstanding: u32,
        /// Items the receipt names at top level.
        accounted: u32,
    },
    /// An item refused at receipt travels in a container the receipt does not accept.
    #[error(
        "{item} travels in {container}, which this receipt does not accept: it is refused with it"
    )]
    ContainerNotAccepted {
        /// The item.
        item: ItemId,
        /// Its container.
        container: ItemId,
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
