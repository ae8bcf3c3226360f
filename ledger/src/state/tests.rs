//! Rule tests: each rule accepted in its good case and rejected, changing nothing, in its
//! bad case.
//!
//! This module holds the harness ([`MemState`], [`Harness`] and payload builders); the
//! tests are in the submodules.

use super::*;
use crate::genesis::tests::demo;
use crate::genesis::{Genesis, MemberId};
use crate::gs1::{check_digit, Expiry, Gln, Gtin, ItemId, Lot, Serial, Sgtin, Sscc};
use crate::hash::Hash32;
use crate::state::story::{story, StoryEntry};
use crate::transaction::{
    Commission, Decommission, DecommissionReason, Move, Pack, Payload, Recall, Receive, Return,
    SetStatus, Ship, ShipmentId, SignedTransaction, StatusChange, Transaction, Unpack,
};
use ed25519_dalek::SigningKey;
use std::collections::BTreeMap;

mod containers;
mod cost;
mod findings;
mod lifecycle;
mod overlay;
mod rejections;
mod returns;

/// A state held in maps, for tests.
#[derive(Default, Clone, PartialEq, Eq, Debug)]
pub(crate) struct MemState {
    pub items: BTreeMap<ItemId, ItemState>,
    pub sequences: BTreeMap<MemberId, u64>,
    pub shipments: BTreeMap<ShipmentId, Shipment>,
    pub recalls: BTreeMap<String, RecallRecord>,
    pub lots: BTreeMap<(Gtin, Lot), LotRecord>,
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
    fn lot(&self, gtin: &Gtin, lot: &Lot) -> Result<Option<LotRecord>, StateError> {
        Ok(self.lots.get(&(gtin.clone(), lot.clone())).cloned())
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
        self.lots.extend(ch.lots);
        self.sequences.extend(ch.sequences);
    }

    /// The item's state (panics if unknown).
    pub fn get(&self, id: &ItemId) -> &ItemState {
        self.items
            .get(id)
            .unwrap_or_else(|| panic!("{id} is not in the state"))
    }

    /// The item's events, oldest first.
    pub fn history(&self, id: &ItemId) -> Vec<&ItemEvent> {
        self.events.iter().filter(|e| &e.item == id).collect()
    }

    /// The item's story: its own events, its containers' while inside, its lot's recall.
    pub fn story(&self, id: &ItemId) -> Vec<StoryEntry> {
        let own: Vec<ItemEvent> = self.history(id).into_iter().cloned().collect();
        let mut containers: BTreeMap<Sscc, Vec<ItemEvent>> = BTreeMap::new();
        for e in &self.events {
            if let ItemId::Sscc(s) = &e.item {
                containers.entry(s.clone()).or_default().push(e.clone());
            }
        }
        let recall = self
            .get(id)
            .product
            .as_ref()
            .and_then(|p| self.lots.get(&(p.gtin.clone(), p.lot.clone())))
            .and_then(|l| l.recall.as_ref());
        story(&own, &containers, recall).unwrap()
    }

    /// Checks every item's history is a hash chain ending at its head.
    pub fn check_histories(&self) {
        for (id, s) in &self.items {
            let h = self.history(id);
            assert_eq!(h.len(), s.event_count as usize, "{id}: event count");
            let mut prev = Hash32::ZERO;
            for (i, e) in h.iter().enumerate() {
                assert_eq!(e.seq as usize, i, "{id}: event seq");
                assert_eq!(e.prev, prev, "{id}: event {i} prev");
                prev = e.hash();
            }
            assert_eq!(s.history_head, prev, "{id}: history head");
        }
    }
}

/// Block time (and default event time) of harness transactions, unless a test moves
/// [`Harness::now`]: 2023-11-14T22:13:20Z.
pub(crate) const T0: u64 = 1_700_000_000_000;

/// One day, milliseconds.
pub(crate) const DAY_MS: u64 = 86_400_000;

pub(crate) struct Harness {
    pub genesis: Genesis,
    pub keys: BTreeMap<String, SigningKey>,
    pub state: MemState,
    pub height: u64,
    /// Block time of the next transaction, and the event time it claims by default.
    pub now: u64,
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
            now: T0,
        }
    }

    /// A harness whose chain parameters `f` changed.
    pub fn with_params(f: impl FnOnce(&mut crate::genesis::ChainParams)) -> Self {
        let mut h = Harness::new();
        f(&mut h.genesis.params);
        h
    }

    /// The signer's next sequence number.
    pub fn next_seq(&self, who: &str) -> u64 {
        self.state
            .sequences
            .get(&MemberId::from(who))
            .copied()
            .unwrap_or(0)
            + 1
    }

    /// An unsigned transaction by `who` with its next sequence number.
    pub fn unsigned(&self, who: &str, payload: Payload) -> Transaction {
        Transaction {
            version: crate::transaction::TX_FORMAT_VERSION,
            chain_id: self.genesis.chain_id.clone(),
            signer: who.into(),
            sequence: self.next_seq(who),
            event_time_ms: self.now,
            payload,
        }
    }

    pub fn sign(&self, who: &str, payload: Payload) -> SignedTransaction {
        self.unsigned(who, payload).sign(&self.keys[who])
    }

    /// Signs `payload` by `who` claiming event time `event_ms`.
    pub fn sign_at(&self, who: &str, event_ms: u64, payload: Payload) -> SignedTransaction {
        let mut t = self.unsigned(who, payload);
        t.event_time_ms = event_ms;
        t.sign(&self.keys[who])
    }

    /// Signs and runs a transaction claiming event time `event_ms` that must break `rule`.
    pub fn expect_at(&mut self, who: &str, event_ms: u64, payload: Payload, rule: RuleError) {
        let tx = self.sign_at(who, event_ms, payload);
        assert_eq!(self.reject_tx(&tx), ApplyError::Rule(rule));
    }

    /// Signs and runs a transaction claiming event time `event_ms`; panics unless accepted.
    pub fn ok_at(&mut self, who: &str, event_ms: u64, payload: Payload) -> Changes {
        let tx = self.sign_at(who, event_ms, payload);
        match self.run(&tx) {
            Ok(ch) => ch,
            Err(e) => panic!("{who}'s {} was rejected: {e}", tx.tx.payload.kind()),
        }
    }

    /// The block context the next [`Harness::run`] uses.
    pub fn next_ctx(&self, stx: &SignedTransaction) -> BlockContext {
        BlockContext {
            height: self.height + 1,
            time_ms: self.now,
            tx_hash: stx.hash(),
            tx_index: 0,
        }
    }

    /// Applies and commits; returns the error and checks the state did not change on error.
    pub fn run(&mut self, stx: &SignedTransaction) -> Result<Changes, ApplyError> {
        let before = self.state.clone();
        let ctx = self.next_ctx(stx);
        self.height += 1;
        let r = stx
            .check_stateless(&self.genesis)
            .map_err(ApplyError::from)
            .and_then(|()| apply(&self.state, &self.genesis, stx, &ctx));
        match &r {
            Ok(ch) => self.state.commit(ch.clone()),
            Err(_) => assert_eq!(self.state, before, "a rejected transaction changed state"),
        }
        r
    }

    /// Signs and runs; panics unless accepted.
    pub fn ok(&mut self, who: &str, payload: Payload) -> Changes {
        let tx = self.sign(who, payload);
        match self.run(&tx) {
            Ok(ch) => ch,
            Err(e) => panic!("{who}'s {} was rejected: {e}", tx.tx.payload.kind()),
        }
    }

    /// Runs a signed transaction that must be rejected; checks the whole state (items,
    /// events, sequences, shipments, recalls) is unchanged, and returns the error.
    pub fn reject_tx(&mut self, tx: &SignedTransaction) -> ApplyError {
        let before = self.state.clone();
        let e = match self.run(tx) {
            Ok(_) => panic!("{}'s {} was accepted", tx.tx.signer, tx.tx.payload.kind()),
            Err(e) => e,
        };
        assert_eq!(self.state, before, "a rejected transaction changed state");
        e
    }

    /// Signs and runs a transaction that must be rejected; returns the error.
    pub fn reject(&mut self, who: &str, payload: Payload) -> ApplyError {
        let tx = self.sign(who, payload);
        self.reject_tx(&tx)
    }

    /// Signs and runs a transaction that must break `rule`.
    pub fn expect(&mut self, who: &str, payload: Payload, rule: RuleError) {
        assert_eq!(self.reject(who, payload), ApplyError::Rule(rule));
    }

    /// Commissions `serials` of [`gtin`] (lot L1, expiry 2030-12-31) by the manufacturer.
    pub fn commissioned(&mut self, serials: &[&str]) -> Vec<ItemId> {
        self.ok("manufacturer", commission(serials));
        serials.iter().map(|s| unit(s)).collect()
    }

    /// Ships and receives (nothing rejected) from `from` to `to`.
    pub fn transfer(&mut self, from: &str, to: &str, shipment: &str, items: &[ItemId]) {
        self.ok(from, ship(shipment, to, items));
        let r = self.receive(shipment, &[], &[]);
        self.ok(to, r);
    }

    /// The item's own state.
    pub fn item(&self, id: &ItemId) -> &ItemState {
        self.state.get(id)
    }

    /// The item with its containers and lot (panics if unknown).
    pub fn eff(&self, id: &ItemId) -> Effective {
        resolve(&self.state, id, self.genesis.params.max_nesting)
            .unwrap()
            .unwrap_or_else(|| panic!("{id} is not in the state"))
    }

    /// The item as readers see it: its own state with custodian, location, status,
    /// shipment, hold and route inherited from its containers.
    pub fn view(&self, id: &ItemId) -> ItemState {
        self.eff(id).state()
    }

    /// A container's summary of its contents (panics for a unit).
    pub fn contents(&self, s: &Sscc) -> Contents {
        self.item(&cont(s)).contents.clone().unwrap()
    }

    /// The lot record of the manufacturer's GTIN and `lot`.
    pub fn lot(&self, lot: &str) -> LotRecord {
        self.state.lots[&(gtin(), Lot::parse(lot).unwrap())].clone()
    }

    /// A receipt of `shipment` refusing `rejected` and reporting `unexpected`, accepting
    /// every other top-level item still travelling in it (as the CLI fills it in).
    pub fn receive(&self, shipment: &str, rejected: &[ItemId], unexpected: &[ItemId]) -> Payload {
        self.receive_full(shipment, rejected, &[], unexpected, None)
    }

    /// [`Harness::receive`] with missing items and a put-away location.
    pub fn receive_full(
        &self,
        shipment: &str,
        rejected: &[ItemId],
        missing: &[ItemId],
        unexpected: &[ItemId],
        location: Option<&str>,
    ) -> Payload {
        let listed =
            |id: &ItemId| rejected.contains(id) || missing.contains(id) || unexpected.contains(id);
        let accepted: Vec<ItemId> = self
            .state
            .shipments
            .get(&sid(shipment))
            .map(|s| s.items.clone())
            .unwrap_or_default()
            .into_iter()
            .filter(|id| {
                self.state.items.get(id).is_some_and(|s| {
                    s.parent.is_none()
                        && s.transit.as_ref().map(|t| &t.shipment) == Some(&sid(shipment))
                })
            })
            .filter(|id| !listed(id))
            .collect();
        receive_accepting(shipment, &accepted, rejected, missing, unexpected, location)
    }
}

pub(crate) fn m(name: &str) -> MemberId {
    MemberId::from(name)
}

/// The manufacturer's GTIN.
pub(crate) fn gtin() -> Gtin {
    Gtin::parse("10614141000019").unwrap()
}

/// A GTIN-14 with indicator 1, `prefix` and `item_ref`, with its check digit.
pub(crate) fn gtin_of(prefix: &str, item_ref: &str) -> Gtin {
    let body = format!("1{prefix}{item_ref}");
    assert_eq!(body.len(), 13);
    Gtin::parse(&format!("{body}{}", check_digit(&body))).unwrap()
}

/// A unit of the manufacturer's GTIN.
pub(crate) fn unit(serial: &str) -> ItemId {
    ItemId::Sgtin(Sgtin {
        gtin: gtin(),
        serial: Serial::parse(serial).unwrap(),
    })
}

/// An SSCC with extension digit 1, `prefix` and serial reference `n`, with its check digit.
pub(crate) fn sscc_of(prefix: &str, n: u64) -> Sscc {
    let body = format!("1{prefix}{n:0width$}", width = 16 - prefix.len());
    assert_eq!(body.len(), 17);
    Sscc::parse(&format!("{body}{}", check_digit(&body))).unwrap()
}

/// A manufacturer's SSCC (prefix 0614141).
pub(crate) fn msscc(n: u64) -> Sscc {
    sscc_of("0614141", n)
}

/// A distributor's SSCC (prefix 0614142).
pub(crate) fn dsscc(n: u64) -> Sscc {
    sscc_of("0614142", n)
}

pub(crate) fn cont(s: &Sscc) -> ItemId {
    ItemId::Sscc(s.clone())
}

pub(crate) fn gln(s: &str) -> Gln {
    Gln::parse(s).unwrap()
}

pub(crate) const M_GLN: &str = "0614141000005";
pub(crate) const D_GLN: &str = "0614142000004";
pub(crate) const P_GLN: &str = "0614143000003";

pub(crate) fn sid(s: &str) -> ShipmentId {
    ShipmentId(s.into())
}

pub(crate) fn commission(serials: &[&str]) -> Payload {
    commission_of(gtin(), "L1", "301231", serials)
}

pub(crate) fn commission_of(gtin: Gtin, lot: &str, expiry: &str, serials: &[&str]) -> Payload {
    Payload::Commission(Commission {
        gtin,
        lot: Lot::parse(lot).unwrap(),
        expiry: Expiry::parse(expiry).unwrap(),
        serials: serials.iter().map(|s| Serial::parse(s).unwrap()).collect(),
        location: None,
    })
}

pub(crate) fn pack(parent: &Sscc, children: &[ItemId]) -> Payload {
    Payload::Pack(Pack {
        parent: parent.clone(),
        children: children.to_vec(),
    })
}

pub(crate) fn unpack(parent: &Sscc, children: &[ItemId]) -> Payload {
    Payload::Unpack(Unpack {
        parent: parent.clone(),
        children: children.to_vec(),
    })
}

pub(crate) fn ship(shipment: &str, to: &str, items: &[ItemId]) -> Payload {
    Payload::Ship(Ship {
        shipment: sid(shipment),
        to: to.into(),
        items: items.to_vec(),
    })
}

/// A receipt naming exactly what it accepts (see [`Harness::receive`] for the usual one).
pub(crate) fn receive_accepting(
    shipment: &str,
    accepted: &[ItemId],
    rejected: &[ItemId],
    missing: &[ItemId],
    unexpected: &[ItemId],
    location: Option<&str>,
) -> Payload {
    Payload::Receive(Receive {
        shipment: sid(shipment),
        accepted: accepted.to_vec(),
        rejected: rejected.to_vec(),
        missing: missing.to_vec(),
        unexpected: unexpected.to_vec(),
        location: location.map(gln),
        note: String::new(),
    })
}

pub(crate) fn move_to(items: &[ItemId], to: &str) -> Payload {
    Payload::Move(Move {
        items: items.to_vec(),
        to: gln(to),
    })
}

pub(crate) fn set_status(items: &[ItemId], status: StatusChange, reason: &str) -> Payload {
    Payload::SetStatus(SetStatus {
        items: items.to_vec(),
        status,
        reason: reason.into(),
    })
}

pub(crate) fn recall(recall_id: &str, gtin: Gtin, lots: &[&str]) -> Payload {
    Payload::Recall(Recall {
        recall_id: recall_id.into(),
        gtin,
        lots: lots.iter().map(|l| Lot::parse(l).unwrap()).collect(),
        reason: "contamination".into(),
    })
}

pub(crate) fn decommission(items: &[ItemId], reason: DecommissionReason) -> Payload {
    Payload::Decommission(Decommission {
        items: items.to_vec(),
        reason,
    })
}

pub(crate) fn ret(items: &[ItemId], reason: &str) -> Payload {
    Payload::Return(Return {
        items: items.to_vec(),
        reason: reason.into(),
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

#[test]
fn identifiers_have_valid_check_digits() {
    assert_eq!(gtin_of("0614141", "00001"), gtin());
    assert_eq!(msscc(1).as_str().len(), 18);
    assert!(msscc(7).has_company_prefix("0614141"));
    assert!(dsscc(7).has_company_prefix("0614142"));
    assert!(!dsscc(7).has_company_prefix("0614141"));
}
