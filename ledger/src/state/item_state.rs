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

/// Units of one lot inside a container (its contents' contents included).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct LotCount {
    /// The product.
    pub gtin: Gtin,
    /// The lot.
    pub lot: Lot,
    /// How many of its units.
    pub units: u64,
}

/// What a case or pallet holds, summed over its whole contents, so that acting on the
/// container checks the rules for everything in it at a cost bounded by its number of lots,
/// never by its number of units.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct Contents {
    /// Items packed directly in it.
    pub children: u32,
    /// Units in it, at any depth.
    pub units: u64,
    /// Its units by lot, sorted by GTIN then lot; at most the chain's `max_container_lots`.
    pub lots: Vec<LotCount>,
    /// Items in it, at any depth, that carry a hold of their own.
    pub held: u32,
    /// Levels of containers below it, itself included (1: it holds units only). Never
    /// decreases, so it bounds every walk up from a unit.
    pub depth: u32,
    /// Position in its `route` of the member that last packed something into it: every
    /// item in it has come the way of `route[last_join..]`.
    pub last_join: u32,
    /// Bumped whenever its `route` is cut back (it returned along the way it came) or
    /// replaced: contents packed before then can no longer read their way from it.
    pub route_gen: u32,
}

impl Contents {
    /// The units of one lot in it.
    pub fn lot_units(&self, gtin: &Gtin, lot: &Lot) -> u64 {
        self.lots
            .iter()
            .find(|l| &l.gtin == gtin && &l.lot == lot)
            .map_or(0, |l| l.units)
    }
}

/// Where an item sits in the container it is packed in, recorded when packed: what its
/// way through the supply chain is read from while it travels inside.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Packing {
    /// Position in the container's `route` of the member that packed it.
    pub joined_at: u32,
    /// The container's `route_gen` then.
    pub route_gen: u32,
}

/// One item's own state. An item packed in a case or pallet keeps here what it was when
/// packed: its custodian, location, status and shipment are its outermost container's
/// (see [`Effective`](crate::state::Effective)), and its recall is its lot's. Its
/// `history_head` is the hash of its latest event, so the state commits to its own history.
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
    /// Its own hold, if any (a container's hold covers its contents too).
    pub hold: Option<Hold>,
    /// The case or pallet it is packed in.
    pub parent: Option<Sscc>,
    /// How it sits in `parent`.
    pub packing: Option<Packing>,
    /// What it holds (cases and pallets).
    pub contents: Option<Contents>,
    /// The way it came: the members that passed it on from its first custodian to the
    /// current one, without detours (a member it goes back to cuts the way back to it).
    pub route: Vec<MemberId>,
    /// Block height it was created at.
    pub created_height: u64,
    /// Event time of its latest event, Unix milliseconds: the next may not be earlier.
    pub last_event_ms: u64,
    /// Hash of its latest history event.
    pub history_head: Hash32,
    /// Number of history events.
    pub event_count: u32,
}

impl ItemState {
    /// The value the state tree holds for this item: a hash of its whole encoded state
    /// (including its history head, so the root commits to every item's history).
    pub fn leaf_hash(&self) -> Hash32 {
        Hash32::tagged("custody/item-state/v2", &[&crate::encoding::encode(self)])
    }

    /// The member that passed it to its current custodian, by the way it came.
    pub fn came_from(&self) -> Option<&MemberId> {
        self.route
            .len()
            .checked_sub(2)
            .and_then(|i| self.route.get(i))
    }

    /// True for a case or pallet.
    pub fn is_container(&self) -> bool {
        matches!(self.id, ItemId::Sscc(_))
    }
}

/// Extends `route` by a move to `to`: back to a member on it cuts the way back to that
/// member, anyone else is appended. True if it cut.
pub fn extend_route(route: &mut Vec<MemberId>, to: &MemberId) -> bool {
    match route.iter().position(|m| m == to) {
        Some(i) => {
            let cut = i + 1 < route.len();
            route.truncate(i + 1);
            cut
        }
        None => {
            route.push(to.clone());
            false
        }
    }
}
