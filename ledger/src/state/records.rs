//! Ledger records that are not items: lots, shipments, recalls and members' sequence
//! numbers. Each is a leaf of the state tree (see [`StateKey`](crate::state::StateKey)),
//! valued by the hash of its encoding under its own tag.

use crate::encoding;
use crate::genesis::MemberId;
use crate::gs1::{Expiry, Gln, Gtin, ItemId, Lot};
use crate::hash::Hash32;
use crate::transaction::ShipmentId;
use serde::{Deserialize, Serialize};

/// Whether a shipment has been received.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShipmentStatus {
    /// On its way.
    InTransit,
    /// Received by the addressee.
    Received,
}

/// What the addressee recorded at receipt.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Receipt {
    /// Receiving transaction.
    pub tx: Hash32,
    /// Block height.
    pub height: u64,
    /// Top-level items (cases, pallets, loose units) whose custody passed to the addressee.
    pub accepted: u32,
    /// Units whose custody passed, contents of the accepted containers included.
    pub units: u64,
    /// Refused items.
    pub rejected: Vec<ItemId>,
    /// Items that did not arrive.
    pub missing: Vec<ItemId>,
    /// Items that arrived without being shipped.
    pub unexpected: Vec<ItemId>,
    /// Put-away location.
    pub location: Option<Gln>,
    /// Free text.
    pub note: String,
}

/// A shipment between two members.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Shipment {
    /// Its id.
    pub id: ShipmentId,
    /// Shipper.
    pub from: MemberId,
    /// Addressee.
    pub to: MemberId,
    /// Top-level items shipped.
    pub items: Vec<ItemId>,
    /// How many of them are still travelling (neither received nor taken back).
    pub outstanding: u32,
    /// Units shipped, contents of containers included.
    pub units: u64,
    /// Shipping transaction.
    pub shipped_tx: Hash32,
    /// Block height of shipping.
    pub shipped_height: u64,
    /// Status.
    pub status: ShipmentStatus,
    /// The receipt, once received.
    pub receipt: Option<Receipt>,
}

/// A recall of lots of one GTIN.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct RecallRecord {
    /// Recall id.
    pub recall_id: String,
    /// Product.
    pub gtin: Gtin,
    /// Lots.
    pub lots: Vec<Lot>,
    /// Who issued it.
    pub by: MemberId,
    /// Why.
    pub reason: String,
    /// Recall transaction.
    pub tx: Hash32,
    /// Block height.
    pub height: u64,
    /// Units of the lots commissioned when it was issued.
    pub affected: u64,
}

/// The recall a lot is under.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct LotRecall {
    /// Recall id.
    pub recall_id: String,
    /// Recall transaction.
    pub tx: Hash32,
    /// Block height it took effect at.
    pub height: u64,
    /// The recall transaction's position in its block.
    pub tx_index: u32,
    /// Who issued it.
    pub by: MemberId,
    /// The recall transaction's event time, Unix milliseconds.
    pub time_ms: u64,
}

/// A lot of one GTIN: created by its first commission, it fixes the lot's expiry and
/// carries its recall, which every unit of the lot is under.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct LotRecord {
    /// The product.
    pub gtin: Gtin,
    /// The lot.
    pub lot: Lot,
    /// Its expiry: every unit of the lot has it.
    pub expiry: Expiry,
    /// Units commissioned.
    pub units: u64,
    /// Block height of its first commission.
    pub created_height: u64,
    /// The recall it is under, if any.
    pub recall: Option<LotRecall>,
}

impl LotRecord {
    /// Its value in the state tree.
    pub fn leaf_hash(&self) -> Hash32 {
        Hash32::tagged("custody/lot/v1", &[&encoding::encode(self)])
    }
}

impl Shipment {
    /// Its value in the state tree.
    pub fn leaf_hash(&self) -> Hash32 {
        Hash32::tagged("custody/shipment/v1", &[&encoding::encode(self)])
    }
}

impl RecallRecord {
    /// Its value in the state tree.
    pub fn leaf_hash(&self) -> Hash32 {
        Hash32::tagged("custody/recall/v1", &[&encoding::encode(self)])
    }
}

/// The value the state tree holds for a member's last sequence number.
pub fn sequence_leaf_hash(member: &MemberId, sequence: u64) -> Hash32 {
    Hash32::tagged(
        "custody/sequence/v1",
        &[member.0.as_bytes(), &sequence.to_be_bytes()],
    )
}
