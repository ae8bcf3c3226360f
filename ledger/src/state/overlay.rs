//! A state view with pending changes stacked on a base view: how a block is built and
//! checked transaction by transaction before anything is written.

use crate::genesis::{Genesis, MemberId};
use crate::gs1::{Gtin, ItemId, Lot};
use crate::state::apply::{apply, BlockContext};
use crate::state::changes::Changes;
use crate::state::item_state::ItemState;
use crate::state::records::{LotRecord, RecallRecord, Shipment};
use crate::state::rule_error::{ApplyError, StateError};
use crate::state::view::StateView;
use crate::transaction::{ShipmentId, SignedTransaction};

/// `base` plus the changes of the transactions applied so far.
pub struct Overlay<'a, V: StateView> {
    base: &'a V,
    changes: Changes,
}

impl<'a, V: StateView> Overlay<'a, V> {
    /// An overlay with no changes yet.
    pub fn new(base: &'a V) -> Self {
        Overlay {
            base,
            changes: Changes::default(),
        }
    }

    /// Applies one transaction on top; on error nothing changes.
    pub fn apply(
        &mut self,
        genesis: &Genesis,
        tx: &SignedTransaction,
        ctx: &BlockContext,
    ) -> Result<usize, ApplyError> {
        let ch = apply(self, genesis, tx, ctx)?;
        let n = ch.event_count();
        self.changes.merge(ch);
        Ok(n)
    }

    /// An overlay that starts from earlier `changes` on the same base.
    pub fn with_changes(base: &'a V, changes: Changes) -> Self {
        Overlay { base, changes }
    }

    /// The changes so far.
    pub fn changes(&self) -> &Changes {
        &self.changes
    }

    /// Gives up the overlay, returning its changes.
    pub fn into_changes(self) -> Changes {
        self.changes
    }
}

impl<V: StateView> StateView for Overlay<'_, V> {
    fn item(&self, id: &ItemId) -> Result<Option<ItemState>, StateError> {
        match self.changes.items.get(id) {
            Some(ch) => Ok(Some(ch.after.clone())),
            None => self.base.item(id),
        }
    }

    fn last_sequence(&self, member: &MemberId) -> Result<u64, StateError> {
        match self.changes.sequences.get(member) {
            Some(s) => Ok(*s),
            None => self.base.last_sequence(member),
        }
    }

    fn shipment(&self, id: &ShipmentId) -> Result<Option<Shipment>, StateError> {
        match self.changes.shipments.get(id) {
            Some(s) => Ok(Some(s.clone())),
            None => self.base.shipment(id),
        }
    }

    fn recall(&self, recall_id: &str) -> Result<Option<RecallRecord>, StateError> {
        match self.changes.recalls.get(recall_id) {
            Some(r) => Ok(Some(r.clone())),
            None => self.base.recall(recall_id),
        }
    }

    fn lot(&self, gtin: &Gtin, lot: &Lot) -> Result<Option<LotRecord>, StateError> {
        match self.changes.lots.get(&(gtin.clone(), lot.clone())) {
            Some(r) => Ok(Some(r.clone())),
            None => self.base.lot(gtin, lot),
        }
    }
}
