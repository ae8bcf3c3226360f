//! Rule tests: each rule accepted in its good case and rejected, changing nothing, in its
//! bad case.

use super::*;
use crate::genesis::tests::demo;
use crate::genesis::{Genesis, MemberId};
use crate::gs1::{Gtin, ItemId, Lot};
use crate::hash::Hash32;
use crate::transaction::{Commission, Payload, ShipmentId, SignedTransaction, Transaction};
use ed25519_dalek::SigningKey;
use std::collections::BTreeMap;

/// A state held in maps, for tests.
#[derive(Default)]
pub(crate) struct MemState {
    pub items: BTreeMap<ItemId, ItemState>,
    pub sequences: BTreeMap<MemberId, u64>,
    pub shipments: BTreeMap<ShipmentId, Shipment>,
    pub recalls: BTreeMap<String, RecallRecord>,
    pub events: Vec<ItemEvent>,
}

impl StateView for MemState {
    fn item(&self, id: &ItemId) -> Result<Option<ItemState>, StateError> {
        Ok(self.items.get(id).cloned())
    }
    fn last_sequence(&self, m: &MemberId) -> Result<u64, StateError> {
        Ok(self.sequences.get(m).copied().unwrap_or(0))
    }
    fn shipment(&self, id: &ShipmentId) -> Result<Option<Shipment>, StateError> {
        Ok(self.shipments.get(id).cloned())
    }
    fn recall(&self, id: &str) -> Result<Option<RecallRecord>, StateError> {
        Ok(self.recalls.get(id).cloned())
    }
    fn lot_recall(&self, gtin: &Gtin, lot: &Lot) -> Result<Option<String>, StateError> {
        Ok(self
            .recalls
            .values()
            .find(|r| &r.gtin == gtin && r.lots.contains(lot))
            .map(|r| r.recall_id.clone()))
    }
    fn lot_items(&self, gtin: &Gtin, lot: &Lot) -> Result<Vec<ItemId>, StateError> {
        Ok(self
            .items
            .values()
            .filter(|s| {
                s.product
                    .as_ref()
                    .is_some_and(|p| &p.gtin == gtin && &p.lot == lot)
            })
            .map(|s| s.id.clone())
            .collect())
    }
}

impl MemState {
    pub fn commit(&mut self, ch: Changes) {
        for (id, c) in ch.items {
            self.items.insert(id, c.after);
        }
        self.events.extend(ch.events);
        self.shipments.extend(ch.shipments);
        self.recalls.extend(ch.recalls);
        self.sequences.extend(ch.sequences);
    }
}

pub(crate) struct Harness {
    pub genesis: Genesis,
    pub keys: BTreeMap<String, SigningKey>,
    pub state: MemState,
    pub height: u64,
}

impl Harness {
    pub fn new() -> Self {
        let (genesis, keys) = demo();
        let keys = genesis
            .members
            .iter()
            .zip(keys)
            .map(|(m, k)| (m.name.0.clone(), k))
            .collect();
        Harness {
            genesis,
            keys,
            state: MemState::default(),
            height: 0,
        }
    }

    pub fn sign(&self, who: &str, payload: Payload) -> SignedTransaction {
        let seq = self
            .state
            .sequences
            .get(&MemberId::from(who))
            .copied()
            .unwrap_or(0)
            + 1;
        Transaction {
            chain_id: self.genesis.chain_id.clone(),
            signer: who.into(),
            sequence: seq,
            event_time_ms: 1_700_000_000_000,
            payload,
        }
        .sign(&self.keys[who])
    }

    /// Applies and commits; returns the error and checks the state did not change on error.
    pub fn run(&mut self, stx: &SignedTransaction) -> Result<Changes, ApplyError> {
        self.height += 1;
        stx.check_stateless(&self.genesis)?;
        let ctx = BlockContext {
            height: self.height,
            time_ms: 1_700_000_000_000,
            tx_hash: stx.hash(),
        };
        let r = apply(&self.state, &self.genesis, stx, &ctx);
        if let Ok(ch) = &r {
            self.state.commit(ch.clone());
        }
        r
    }
}

pub(crate) fn commission(serials: &[&str]) -> Payload {
    Payload::Commission(Commission {
        gtin: Gtin::parse("10614141000019").unwrap(),
        lot: Lot::parse("L1").unwrap(),
        expiry: crate::gs1::Expiry::parse("301231").unwrap(),
        serials: serials
            .iter()
            .map(|s| crate::gs1::Serial::parse(s).unwrap())
            .collect(),
        location: None,
    })
}

#[test]
fn commission_creates_items_with_linked_history() {
    let mut h = Harness::new();
    let tx = h.sign("manufacturer", commission(&["1", "2"]));
    let ch = h.run(&tx).unwrap();
    assert_eq!(ch.events.len(), 2);
    let s = h.state.items.values().next().unwrap();
    assert_eq!(s.custodian, MemberId::from("manufacturer"));
    assert_eq!(s.event_count, 1);
    assert_ne!(s.history_head, Hash32::ZERO);
    assert_eq!(h.state.sequences[&MemberId::from("manufacturer")], 1);
}
