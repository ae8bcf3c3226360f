//! The changes one transaction (or one block) makes: what storage writes atomically.

use crate::genesis::MemberId;
use crate::gs1::{Gtin, ItemId, Lot};
use crate::hash::Hash32;
use crate::state::item_event::ItemEvent;
use crate::state::item_state::ItemState;
use crate::state::records::{sequence_leaf_hash, LotRecord, RecallRecord, Shipment};
use crate::state::state_key::StateKey;
use crate::transaction::ShipmentId;
use std::collections::BTreeMap;

/// One item's state before and after.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ItemChange {
    /// State before the first change (None: created).
    pub before: Option<ItemState>,
    /// State after the last change.
    pub after: ItemState,
}

/// Every state change of one transaction or block.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Changes {
    /// Items created or changed.
    pub items: BTreeMap<ItemId, ItemChange>,
    /// New history events, in order.
    pub events: Vec<ItemEvent>,
    /// Shipments created or changed.
    pub shipments: BTreeMap<ShipmentId, Shipment>,
    /// Recalls created.
    pub recalls: BTreeMap<String, RecallRecord>,
    /// Lots created or changed.
    pub lots: BTreeMap<(Gtin, Lot), LotRecord>,
    /// Members' new last sequence numbers.
    pub sequences: BTreeMap<MemberId, u64>,
}

impl Changes {
    /// Stacks `later` on top of `self` (the earliest `before` and the latest `after` win).
    pub fn merge(&mut self, later: Changes) {
        for (id, ch) in later.items {
            match self.items.get_mut(&id) {
                Some(existing) => existing.after = ch.after,
                None => {
                    self.items.insert(id, ch);
                }
            }
        }
        self.events.extend(later.events);
        self.shipments.extend(later.shipments);
        self.recalls.extend(later.recalls);
        self.lots.extend(later.lots);
        self.sequences.extend(later.sequences);
    }

    /// Number of item events: the unit of work the benchmarks count.
    pub fn event_count(&self) -> usize {
        self.events.len()
    }

    /// Every state-tree leaf the changes set: (key, value hash), items, lots, shipments,
    /// recalls and sequences alike. Nothing is ever deleted from the state.
    pub fn leaves(&self) -> Vec<(Hash32, Option<Hash32>)> {
        let mut out = Vec::with_capacity(
            self.items.len()
                + self.lots.len()
                + self.shipments.len()
                + self.recalls.len()
                + self.sequences.len(),
        );
        for (id, ch) in &self.items {
            out.push((StateKey::Item(id).hash(), Some(ch.after.leaf_hash())));
        }
        for ((gtin, lot), r) in &self.lots {
            out.push((StateKey::Lot(gtin, lot).hash(), Some(r.leaf_hash())));
        }
        for (id, s) in &self.shipments {
            out.push((StateKey::Shipment(id).hash(), Some(s.leaf_hash())));
        }
        for (id, r) in &self.recalls {
            out.push((StateKey::Recall(id).hash(), Some(r.leaf_hash())));
        }
        for (m, seq) in &self.sequences {
            out.push((
                StateKey::Sequence(m).hash(),
                Some(sequence_leaf_hash(m, *seq)),
            ));
        }
        out
    }
}
