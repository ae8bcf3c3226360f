//! The changes one transaction (or one block) makes: what storage writes atomically.

use crate::genesis::MemberId;
use crate::gs1::ItemId;
use crate::state::item_event::ItemEvent;
use crate::state::item_state::ItemState;
use crate::state::records::{RecallRecord, Shipment};
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
        self.sequences.extend(later.sequences);
    }

    /// Number of item events: the unit of work the benchmarks count.
    pub fn event_count(&self) -> usize {
        self.events.len()
    }
}
