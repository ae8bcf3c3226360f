//! Ledger records that are not items: shipments and recalls.

use crate::genesis::MemberId;
use crate::gs1::{Gln, Gtin, ItemId, Lot};
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
    /// Number of items (including contents) whose custody passed to the addressee.
    pub accepted: u32,
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
    /// Units placed under the recall.
    pub affected: u32,
}
