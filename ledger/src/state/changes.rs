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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gs1::{Expiry, Gtin, Lot};
    use crate::smt::{MemNodeStore, Smt};
    use crate::state::records::{LotRecall, ShipmentStatus};

    fn root(ch: &Changes) -> Hash32 {
        Smt::update(&MemNodeStore::new(), Smt::empty_root(), &ch.leaves())
            .expect("an empty tree takes any update")
            .root
    }

    fn base() -> Changes {
        let gtin = Gtin::parse("10614141000019").expect("GTIN");
        let lot = Lot::parse("L1").expect("lot");
        let mut ch = Changes::default();
        ch.shipments.insert(
            ShipmentId("SH-1".into()),
            Shipment {
                id: ShipmentId("SH-1".into()),
                from: "manufacturer".into(),
                to: "distributor".into(),
                items: vec![],
                outstanding: 1,
                units: 10,
                shipped_tx: Hash32::ZERO,
                shipped_height: 1,
                status: ShipmentStatus::InTransit,
                receipt: None,
            },
        );
        ch.recalls.insert(
            "R1".into(),
            RecallRecord {
                recall_id: "R1".into(),
                gtin: gtin.clone(),
                lots: vec![lot.clone()],
                by: "manufacturer".into(),
                reason: "why".into(),
                tx: Hash32::ZERO,
                height: 2,
                affected: 10,
            },
        );
        ch.lots.insert(
            (gtin.clone(), lot.clone()),
            LotRecord {
                gtin,
                lot,
                expiry: Expiry::parse("301231").expect("expiry"),
                units: 10,
                created_height: 1,
                recall: None,
            },
        );
        ch.sequences.insert("manufacturer".into(), 3);
        ch
    }

    #[test]
    fn replicas_differing_in_any_record_have_different_roots() {
        let r = root(&base());
        assert_eq!(r, root(&base()), "the root is a function of the records");
        let mut shipment = base();
        if let Some(s) = shipment.shipments.values_mut().next() {
            s.outstanding = 0;
        }
        let mut recall = base();
        if let Some(x) = recall.recalls.values_mut().next() {
            x.affected = 11;
        }
        let mut lot = base();
        if let Some(l) = lot.lots.values_mut().next() {
            l.recall = Some(LotRecall {
                recall_id: "R1".into(),
                tx: Hash32::ZERO,
                height: 2,
                tx_index: 0,
                by: "manufacturer".into(),
                time_ms: 0,
            });
        }
        let mut sequence = base();
        sequence.sequences.insert("manufacturer".into(), 4);
        let mut other_member = base();
        other_member.sequences.insert("distributor".into(), 3);
        let roots = [
            r,
            root(&shipment),
            root(&recall),
            root(&lot),
            root(&sequence),
            root(&other_member),
        ];
        for (i, a) in roots.iter().enumerate() {
            for b in &roots[i + 1..] {
                assert_ne!(a, b, "two different states share a root");
            }
        }
    }

    #[test]
    fn each_kind_of_record_has_its_own_key() {
        let gtin = Gtin::parse("10614141000019").expect("GTIN");
        let lot = Lot::parse("L1").expect("lot");
        let m = MemberId::from("R1");
        let s = ShipmentId("R1".into());
        let keys = [
            StateKey::Lot(&gtin, &lot).hash(),
            StateKey::Shipment(&s).hash(),
            StateKey::Recall("R1").hash(),
            StateKey::Sequence(&m).hash(),
        ];
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }
}
