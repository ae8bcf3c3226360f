//! Read access to ledger state, as the rules need it.

use crate::genesis::MemberId;
use crate::gs1::{Gtin, ItemId, Lot};
use crate::state::item_state::ItemState;
use crate::state::records::{LotRecord, RecallRecord, Shipment};
use crate::state::rule_error::StateError;
use crate::transaction::ShipmentId;

/// A read-only view of the ledger state.
///
/// # Correctness
/// Every method answers for one consistent state (one committed height plus, for an
/// [`Overlay`](crate::state::Overlay), the changes stacked on it).
pub trait StateView {
    /// An item's state.
    fn item(&self, id: &ItemId) -> Result<Option<ItemState>, StateError>;
    /// The last sequence number the member used (0 if none).
    fn last_sequence(&self, member: &MemberId) -> Result<u64, StateError>;
    /// A shipment.
    fn shipment(&self, id: &ShipmentId) -> Result<Option<Shipment>, StateError>;
    /// A recall.
    fn recall(&self, recall_id: &str) -> Result<Option<RecallRecord>, StateError>;
    /// A lot's record (absent until its first commission).
    fn lot(&self, gtin: &Gtin, lot: &Lot) -> Result<Option<LotRecord>, StateError>;
}
