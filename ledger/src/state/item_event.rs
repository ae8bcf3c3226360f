//! One entry of an item's hash-linked history.

use crate::encoding;
use crate::genesis::MemberId;
use crate::gs1::{Gln, ItemId, Sscc};
use crate::hash::{tag, Hash32};
use crate::state::item_state::{Hold, Status};
use crate::transaction::{DecommissionReason, ShipmentId, StatusChange};
use serde::{Deserialize, Serialize};

/// What happened to the item.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Created by its manufacturer (units) or first packer (cases and pallets).
    Commissioned,
    /// Put into a case or pallet.
    Packed {
        /// The container.
        into: Sscc,
    },
    /// Items were added to this container.
    Filled {
        /// How many.
        added: u32,
    },
    /// Taken out of a case or pallet.
    Unpacked {
        /// The container.
        from: Sscc,
    },
    /// Items were taken out of this container.
    Emptied {
        /// How many.
        removed: u32,
    },
    /// Shipped.
    Shipped {
        /// Shipment id.
        shipment: ShipmentId,
        /// Addressee.
        to: MemberId,
    },
    /// Received by the addressee.
    Received {
        /// Shipment id.
        shipment: ShipmentId,
    },
    /// Refused at receipt; stays with the shipper, quarantined.
    Rejected {
        /// Shipment id.
        shipment: ShipmentId,
        /// The container it was taken out of, when it travelled inside an accepted one.
        from: Option<Sscc>,
    },
    /// Reported missing at receipt; stays with the shipper, suspect.
    Missing {
        /// Shipment id.
        shipment: ShipmentId,
        /// The container it was taken out of, when it travelled inside an accepted one.
        from: Option<Sscc>,
    },
    /// Moved to another location.
    Moved {
        /// New location.
        to: Gln,
    },
    /// Hold status changed.
    StatusSet {
        /// The change.
        change: StatusChange,
        /// Why.
        reason: String,
    },
    /// Left the supply chain.
    Decommissioned {
        /// Why.
        reason: DecommissionReason,
    },
    /// Came back (dispensed unit returned, or a return shipment taken back).
    Returned {
        /// Why.
        reason: String,
    },
}

/// One history event. Events are hash-linked: `prev` is the hash of the item's previous
/// event (zero for the first), so the latest hash commits to the whole history.
///
/// An event is written for the items a transaction names (and a container whose contents
/// change); what happens to a container happens to everything in it without an event of
/// their own, so a unit's story is its own events and its containers' events while it was
/// inside (see [`story`](crate::state::story)).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ItemEvent {
    /// The item.
    pub item: ItemId,
    /// Position in the item's history, from 0.
    pub seq: u32,
    /// Hash of the previous event.
    pub prev: Hash32,
    /// The transaction that caused it.
    pub tx: Hash32,
    /// Block height.
    pub height: u64,
    /// The transaction's position in its block.
    pub tx_index: u32,
    /// The transaction's event time, Unix milliseconds.
    pub time_ms: u64,
    /// The member that signed the transaction.
    pub actor: MemberId,
    /// What happened.
    pub action: Action,
    /// Custodian afterwards (its own: see [`ItemState`](crate::state::ItemState)).
    pub custodian: MemberId,
    /// Location afterwards.
    pub location: Option<Gln>,
    /// Status afterwards.
    pub status: Status,
    /// The case or pallet it is in afterwards.
    pub parent: Option<Sscc>,
    /// Its own hold afterwards.
    pub hold: Option<Hold>,
}

impl ItemEvent {
    /// The event's hash, which the next event's `prev` (or the item's head) holds.
    pub fn hash(&self) -> Hash32 {
        Hash32::tagged(tag::EVENT, &[&encoding::encode(self)])
    }
}
