//! The current state of one item (a unit or a case/pallet).

use crate::genesis::MemberId;
use crate::gs1::{Expiry, Gln, Gtin, ItemId, Lot, Sscc};
use crate::hash::Hash32;
use crate::transaction::{DecommissionReason, ShipmentId, StatusChange};
use serde::{Deserialize, Serialize};

/// Where an item is in its life.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// In stock at its custodian.
    Active,
    /// Shipped, not yet received.
    InTransit,
    /// Dispensed to a patient.
    Dispensed,
    /// Destroyed.
    Destroyed,
    /// Stolen.
    Stolen,
    /// Expired and removed from stock.
    Expired,
    /// Exported.
    Exported,
}

impl Status {
    /// The status a decommission leaves.
    pub fn from_decommission(r: DecommissionReason) -> Status {
        match r {
            DecommissionReason::Dispensed => Status::Dispensed,
            DecommissionReason::Destroyed => Status::Destroyed,
            DecommissionReason::Stolen => Status::Stolen,
            DecommissionReason::Expired => Status::Expired,
            DecommissionReason::Exported => Status::Exported,
        }
    }

    /// True once the item has left the supply chain.
    pub fn is_decommissioned(self) -> bool {
        !matches!(self, Status::Active | Status::InTransit)
    }

    /// Lower-case name as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::InTransit => "in_transit",
            Status::Dispensed => "dispensed",
            Status::Destroyed => "destroyed",
            Status::Stolen => "stolen",
            Status::Expired => "expired",
            Status::Exported => "exported",
        }
    }
}

/// A hold that stops an item from being sold or shipped onward.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Hold {
    /// Quarantine, damaged or suspect (never `Release`).
    pub kind: StatusChange,
    /// Why.
    pub reason: String,
}

/// A shipment an item is travelling in.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Transit {
    /// The shipment.
    pub shipment: ShipmentId,
    /// The shipper.
    pub from: MemberId,
    /// The addressee.
    pub to: MemberId,
}

/// What a unit is: its product, lot and expiry (absent for cases and pallets).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Product {
    /// GTIN.
    pub gtin: Gtin,
    /// Lot.
    pub lot: Lot,
    /// Expiry.
    pub expiry: Expiry,
}

/// One item's state. Its `history_head` is the hash of its latest event, so the state
/// commits to the item's whole history.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ItemState {
    /// The identifier.
    pub id: ItemId,
    /// Product data for units.
    pub product: Option<Product>,
    /// Who holds it (for an item in transit: the shipper, until received).
    pub custodian: MemberId,
    /// Where it is stored, when known.
    pub location: Option<Gln>,
    /// Life-cycle status.
    pub status: Status,
    /// The shipment it travels in, while in transit.
    pub transit: Option<Transit>,
    /// A hold, if any.
    pub hold: Option<Hold>,
    /// The recall it is under, if any.
    pub recall: Option<String>,
    /// The case or pallet it is packed in.
    pub parent: Option<Sscc>,
    /// What it contains (cases and pallets).
    pub children: Vec<ItemId>,
    /// Every custodian it has had, oldest first (consecutive repeats merged).
    pub custody_chain: Vec<MemberId>,
    /// Block height it was created at.
    pub created_height: u64,
    /// Hash of its latest history event.
    pub history_head: Hash32,
    /// Number of history events.
    pub event_count: u32,
}

impl ItemState {
    /// The value the state tree holds for this item: a hash of its whole encoded state
    /// (including its history head, so the root commits to every item's history).
    pub fn leaf_hash(&self) -> Hash32 {
        Hash32::tagged("custody/item-state/v1", &[&crate::encoding::encode(self)])
    }

    /// True if a member other than the current custodian held it before.
    pub fn was_held_by(&self, member: &MemberId) -> bool {
        self.custody_chain.iter().any(|m| m == member)
    }
}
