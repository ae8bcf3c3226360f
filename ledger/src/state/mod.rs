//! Ledger state and the rules that change it.
//!
//! [`apply`] is a pure function: given a read-only view of the state and one signed
//! transaction, it returns the complete set of changes or the precise rule the transaction
//! breaks. A rejected transaction changes nothing; storage is the caller's business.

mod apply;
mod changes;
mod effective;
mod item_event;
mod item_state;
mod overlay;
mod records;
mod rule_error;
mod state_key;
pub mod story;
mod view;

pub use apply::{apply, BlockContext};
pub use changes::{Changes, ItemChange};
pub use effective::{resolve, Effective, ItemView, Route};
pub use item_event::{Action, ItemEvent};
pub use item_state::{
    extend_route, Contents, Hold, ItemState, LotCount, Packing, Product, Status, Transit,
};
pub use overlay::Overlay;
pub use records::{
    sequence_leaf_hash, LotRecall, LotRecord, RecallRecord, Receipt, Shipment, ShipmentStatus,
};
pub use rule_error::{ApplyError, RuleError, StateError};
pub use state_key::StateKey;
pub use view::StateView;

#[cfg(test)]
pub(crate) mod tests;
