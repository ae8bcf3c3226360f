//! The cost bound, as a property: over random sequences of every kind of transaction on a
//! small universe (three trading members and a regulator, a few lots, cases and pallets of
//! up to a few hundred units), every accepted transaction changes a number of records
//! bounded by the identifiers it names, whatever its containers or lots hold.
//!
//! # The bound
//! With `n = payload.item_count()` and `N = max_nesting`, reading apply.rs:
//! - each named item writes its own event, and at most one more for the container it
//!   leaves or enters (`Emptied` on a refusal out of an accepted container or an unpack,
//!   `Filled` once per pack) plus a pack's new container's `Commissioned`:
//!   **events ≤ 2n + 1**;
//! - each named item writes itself and, for a hold or a refusal out of a container, the
//!   summaries of its containers, at most `N` (an unpack's parent and its containers are
//!   named once for all its children): **items ≤ (N + 1)·n + 1**;
//! - lots: one per commission, one per recalled lot (≤ n); shipments: the one shipped or
//!   received, or one per returned item (≤ n); recalls: at most one.
//!
//! Per kind the total is at most: commission 2n + 1, pack 2n + 1, unpack 2n + N, ship
//! 2n + 1, receive (N + 3)·n + 1, move and decommission 2n, set-status (N + 2)·n, recall
//! n + 1, return 3n; so **total ≤ (N + 3)·(n + 1)** (C = N + 3, C' = 0). Nothing in it
//! depends on how many units a container or a lot holds.

use super::*;
use proptest::prelude::*;
use std::collections::BTreeSet;

/// Nesting allowed in the universe: small, so that the bound is tight.
const NESTING: u32 = 3;

const MEMBERS: [&str; 3] = ["manufacturer", "distributor", "pharmacy"];

/// A small deterministic generator for the choices an operation makes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // SplitMix64.
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    /// 1..=n.
    fn count(&mut self, n: usize) -> usize {
        1 + self.below(n)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> Option<&'a T> {
        (!v.is_empty()).then(|| &v[self.below(v.len())])
    }
    /// Up to `max` distinct elements of `v`, in random order.
    fn some<T: Clone>(&mut self, v: &[T], max: usize) -> Vec<T> {
        let mut pool: Vec<T> = v.to_vec();
        let k = self.count(max.min(pool.len()));
        let mut out = Vec::with_capacity(k);
        while out.len() < k && !pool.is_empty() {
            out.push(pool.swap_remove(self.below(pool.len())));
        }
        out
    }
}

/// The universe and what has been made in it so far.
struct World {
    h: Harness,
    serial: u64,
    sscc: u64,
    accepted: usize,
    biggest: u64,
}

fn member_gln(who: &str) -> Option<&'static str> {
    match who {
        "manufacturer" => Some(M_GLN),
        "distributor" => Some(D_GLN),
        "pharmacy" => Some(P_GLN),
        _ => None,
    }
}

impl World {
    fn new() -> World {
        World {
            h: Harness::with_params(|p| {
                p.max_nesting = NESTING;
                p.max_container_lots = 4;
            }),
            serial: 0,
            sscc: 0,
            accepted: 0,
            biggest: 0,
        }
    }

    fn view(&self, id: &ItemId) -> ItemState {
        self.h.view(id)
    }

    /// Top-level items `who` holds in stock.
    fn in_stock(&self, who: &str) -> Vec<ItemId> {
        self.h
            .state
            .items
            .values()
            .filter(|s| s.parent.is_none() && s.custodian == m(who) && s.status == Status::Active)
            .map(|s| s.id.clone())
            .collect()
    }

    fn new_serials(&mut self, k: usize) -> Vec<String> {
        (0..k)
            .map(|_| {
                self.serial += 1;
                format!("s{}", self.serial)
            })
            .collect()
    }

    fn new_sscc(&mut self, who: &str) -> Option<Sscc> {
        self.sscc += 1;
        match who {
            "manufacturer" => Some(msscc(self.sscc)),
            "distributor" => Some(dsscc(self.sscc)),
            _ => None,
        }
    }

    /// Runs one transaction; for an accepted one, checks the bound.
    fn run(&mut self, who: &str, payload: Payload) {
        let n = payload.item_count();
        let kind = payload.kind();
        let tx = self.h.sign(who, payload);
        let Ok(ch) = self.h.run(&tx) else {
            // Refused: the harness checked that nothing changed.
            return;
        };
        self.accepted += 1;
        let nest = NESTING as usize;
        let total = ch.events.len()
            + ch.items.len()
            + ch.lots.len()
            + ch.shipments.len()
            + ch.recalls.len();
        let what = format!(
            "{who}'s {kind} naming {n}: {} events, {} items, {} lots, {} shipments, {} recalls",
            ch.events.len(),
            ch.items.len(),
            ch.lots.len(),
            ch.shipments.len(),
            ch.recalls.len()
        );
        assert!(ch.events.len() <= 2 * n + 1, "{what}");
        assert!(ch.items.len() <= (nest + 1) * n + 1, "{what}");
        assert!(
            ch.lots.len() <= n && ch.shipments.len() <= n.max(1),
            "{what}"
        );
        assert!(ch.recalls.len() <= 1, "{what}");
        assert!(total <= (nest + 3) * (n + 1), "{what}");
        for c in ch.items.values() {
            if let Some(contents) = &c.after.contents {
                self.biggest = self.biggest.max(contents.units);
            }
        }
    }

    fn commission(&mut self, r: &mut Rng, count: usize) {
        // A few lots; a new one in place of a recalled one.
        let mut lot = ["L1", "L2", "L3", "L4", "L5"][r.below(5)].to_string();
        let key = (gtin(), Lot::parse(&lot).unwrap());
        if self
            .h
            .state
            .lots
            .get(&key)
            .is_some_and(|l| l.recall.is_some())
        {
            lot = format!("N{}", self.serial);
        }
        let serials = self.new_serials(count);
        let refs: Vec<&str> = serials.iter().map(String::as_str).collect();
        self.run("manufacturer", commission_of(gtin(), &lot, "301231", &refs));
    }

    fn pack(&mut self, r: &mut Rng, who: &str, all: bool) {
        let stock = self.in_stock(who);
        let held: Vec<ItemId> = stock
            .iter()
            .filter(|id| matches!(id, ItemId::Sscc(_)))
            .cloned()
            .collect();
        let parent = match r.pick(&held) {
            Some(ItemId::Sscc(s)) if r.chance(50) => s.clone(),
            _ => match self.new_sscc(who) {
                Some(s) => s,
                None => return,
            },
        };
        let others: Vec<ItemId> = stock
            .into_iter()
            .filter(|id| id != &cont(&parent))
            .collect();
        if others.is_empty() {
            return;
        }
        let children = if all { others } else { r.some(&others, 6) };
        self.run(who, pack(&parent, &children));
    }

    fn unpack(&mut self, r: &mut Rng, who: &str) {
        let mine: Vec<ItemId> = self
            .h
            .state
            .items
            .values()
            .filter(|s| s.contents.as_ref().is_some_and(|c| c.children > 0))
            .map(|s| s.id.clone())
            .filter(|id| {
                let v = self.view(id);
                v.custodian == m(who) && v.status == Status::Active
            })
            .collect();
        let Some(ItemId::Sscc(parent)) = r.pick(&mine).cloned() else {
            return;
        };
        let inside: Vec<ItemId> = self
            .h
            .state
            .items
            .values()
            .filter(|s| s.parent.as_ref() == Some(&parent))
            .map(|s| s.id.clone())
            .collect();
        let children = r.some(&inside, 4);
        self.run(who, unpack(&parent, &children));
    }

    fn ship(&mut self, r: &mut Rng, who: &str) {
        let items = r.some(&self.in_stock(who), 3);
        if items.is_empty() {
            return;
        }
        let to: Vec<&str> = MEMBERS.iter().copied().filter(|m| *m != who).collect();
        let to = to[r.below(to.len())];
        self.sscc += 1;
        let id = format!("S{}", self.sscc);
        self.run(who, ship(&id, to, &items));
    }

    fn receive(&mut self, r: &mut Rng) {
        let open: Vec<Shipment> = self
            .h
            .state
            .shipments
            .values()
            .filter(|s| s.status == ShipmentStatus::InTransit)
            .cloned()
            .collect();
        let Some(s) = r.pick(&open).cloned() else {
            return;
        };
        let travelling: Vec<ItemId> = s
            .items
            .iter()
            .filter(|id| {
                let own = self.h.item(id);
                own.parent.is_none() && own.transit.as_ref().map(|t| &t.shipment) == Some(&s.id)
            })
            .cloned()
            .collect();
        let (mut accepted, mut rejected, mut missing) = (vec![], vec![], vec![]);
        for id in travelling {
            match r.below(10) {
                0 => rejected.push(id),
                1 => missing.push(id),
                _ => accepted.push(id),
            }
        }
        // Refusals out of accepted containers, none inside another.
        if r.chance(40) {
            let tops: BTreeSet<&ItemId> = accepted.iter().collect();
            let nested: Vec<ItemId> = self
                .h
                .state
                .items
                .values()
                .filter(|i| i.parent.is_some())
                .map(|i| i.id.clone())
                .filter(|id| tops.contains(&self.h.eff(id).top().id))
                .collect();
            let mut chosen: Vec<ItemId> = vec![];
            for id in r.some(&nested, 3) {
                let related =
                    |a: &ItemId, b: &ItemId| self.h.eff(a).ancestors.iter().any(|x| &x.id == b);
                if chosen.iter().all(|c| !related(c, &id) && !related(&id, c)) {
                    chosen.push(id);
                }
            }
            for id in chosen {
                if r.chance(50) {
                    rejected.push(id);
                } else {
                    missing.push(id);
                }
            }
        }
        let unexpected = if r.chance(10) {
            vec![unit("stray")]
        } else {
            vec![]
        };
        let location = member_gln(&s.to.0).filter(|_| r.chance(50));
        let to = s.to.0.clone();
        let p = receive_accepting(
            &s.id.0,
            &accepted,
            &rejected,
            &missing,
            &unexpected,
            location,
        );
        self.run(&to, p);
    }

    fn move_items(&mut self, r: &mut Rng, who: &str) {
        let Some(to) = member_gln(who) else {
            return;
        };
        let items = r.some(&self.in_stock(who), 3);
        if !items.is_empty() {
            self.run(who, move_to(&items, to));
        }
    }

    fn set_status(&mut self, r: &mut Rng, who: &str) {
        let regulator = who == "regulator";
        let candidates: Vec<ItemId> = self
            .h
            .state
            .items
            .keys()
            .filter(|id| {
                let v = self.view(id);
                (regulator || v.custodian == m(who)) && !v.status.is_decommissioned()
            })
            .cloned()
            .collect();
        let items = r.some(&candidates, 3);
        if items.is_empty() {
            return;
        }
        let change = [
            StatusChange::Quarantine,
            StatusChange::Damaged,
            StatusChange::Suspect,
            StatusChange::Release,
            StatusChange::Release,
        ][r.below(5)];
        self.run(who, set_status(&items, change, "check"));
    }

    fn recall(&mut self, r: &mut Rng) {
        let lots: Vec<String> = self
            .h
            .state
            .lots
            .values()
            .filter(|l| l.recall.is_none())
            .map(|l| l.lot.as_str().to_string())
            .collect();
        let chosen = r.some(&lots, 2);
        if chosen.is_empty() {
            return;
        }
        let refs: Vec<&str> = chosen.iter().map(String::as_str).collect();
        self.sscc += 1;
        let id = format!("R{}", self.sscc);
        let by = if r.chance(50) {
            "manufacturer"
        } else {
            "regulator"
        };
        self.run(by, recall(&id, gtin(), &refs));
    }

    fn decommission(&mut self, r: &mut Rng, who: &str) {
        let items = r.some(&self.in_stock(who), 2);
        if items.is_empty() {
            return;
        }
        let reason = [
            DecommissionReason::Dispensed,
            DecommissionReason::Dispensed,
            DecommissionReason::Exported,
            DecommissionReason::Destroyed,
            DecommissionReason::Expired,
        ][r.below(5)];
        self.run(who, decommission(&items, reason));
    }

    fn return_items(&mut self, r: &mut Rng, who: &str) {
        let candidates: Vec<ItemId> = self
            .h
            .state
            .items
            .values()
            .filter(|s| {
                s.parent.is_none()
                    && ((s.status == Status::Dispensed && s.custodian == m(who))
                        || s.transit.as_ref().is_some_and(|t| t.to == m(who)))
            })
            .map(|s| s.id.clone())
            .collect();
        let items = r.some(&candidates, 2);
        if !items.is_empty() {
            self.run(who, ret(&items, "back"));
        }
    }

    /// One random operation.
    fn step(&mut self, op: u8, seed: u64) {
        let mut r = Rng(seed);
        let who = MEMBERS[r.below(MEMBERS.len())];
        match op {
            0 => {
                let k = if r.chance(20) { 200 } else { 12 };
                let count = r.count(k);
                self.commission(&mut r, count);
            }
            1 => self.pack(&mut r, who, false),
            2 => {
                let all = r.chance(30);
                self.pack(&mut r, who, all);
            }
            3 => self.unpack(&mut r, who),
            4 | 5 => self.ship(&mut r, who),
            6 | 7 => self.receive(&mut r),
            8 => self.move_items(&mut r, who),
            9 => {
                let who = if r.chance(25) { "regulator" } else { who };
                self.set_status(&mut r, who);
            }
            10 if r.chance(10) => self.recall(&mut r),
            10 => self.move_items(&mut r, who),
            11 => self.decommission(&mut r, who),
            _ => self.return_items(&mut r, who),
        }
    }

    /// A world whose manufacturer holds a case of `big` units on a pallet, for the random
    /// operations to act on.
    fn with_big_pallet(big: usize) -> World {
        let mut w = World::new();
        let serials = w.new_serials(big);
        let refs: Vec<&str> = serials.iter().map(String::as_str).collect();
        w.run("manufacturer", commission_of(gtin(), "L1", "301231", &refs));
        let units: Vec<ItemId> = serials.iter().map(|s| unit(s)).collect();
        let (case, pallet) = (msscc(900_001), msscc(900_002));
        w.run("manufacturer", pack(&case, &units));
        w.run("manufacturer", pack(&pallet, &[cont(&case)]));
        assert_eq!(w.h.contents(&pallet).units, big as u64);
        assert_eq!(w.accepted, 3);
        w
    }

    /// Every container's summary matches its contents, item by item; every item's way ends
    /// with its holder; every open shipment counts the items still travelling in it.
    fn check_summaries(&self) {
        let mut want: BTreeMap<ItemId, Contents> = BTreeMap::new();
        for s in self.h.state.items.values() {
            let e = self.h.eff(&s.id);
            for (k, a) in e.ancestors.iter().enumerate() {
                let c = want.entry(a.id.clone()).or_default();
                if k == 0 {
                    c.children += 1;
                }
                c.held += u32::from(s.hold.is_some());
                if let Some(p) = &s.product {
                    c.units += 1;
                    match c
                        .lots
                        .binary_search_by(|l| (&l.gtin, &l.lot).cmp(&(&p.gtin, &p.lot)))
                    {
                        Ok(i) => c.lots[i].units += 1,
                        Err(i) => c.lots.insert(
                            i,
                            LotCount {
                                gtin: p.gtin.clone(),
                                lot: p.lot.clone(),
                                units: 1,
                            },
                        ),
                    }
                }
                // Levels below it, itself included.
                c.depth = c.depth.max(k as u32 + 1);
            }
        }
        for s in self.h.state.items.values() {
            let Some(got) = &s.contents else { continue };
            let w = want.remove(&s.id).unwrap_or_default();
            let id = &s.id;
            assert_eq!(
                (got.children, got.units, &got.lots, got.held),
                (w.children, w.units, &w.lots, w.held),
                "{id}: summary"
            );
            assert!(
                got.depth >= w.depth,
                "{id}: depth {} < {}",
                got.depth,
                w.depth
            );
            assert!(got.depth <= NESTING, "{id}: depth {}", got.depth);
        }
        // The way an item came ends with whoever holds it.
        for s in self.h.state.items.values() {
            if s.parent.is_none() {
                assert_eq!(s.route.last(), Some(&s.custodian), "{}: route", s.id);
            }
            let v = self.view(&s.id);
            assert_eq!(
                v.route.last(),
                Some(&v.custodian),
                "{}: effective route",
                s.id
            );
        }
        for s in self.h.state.shipments.values() {
            let travelling = s
                .items
                .iter()
                .filter(|id| {
                    let own = self.h.item(id);
                    own.parent.is_none() && own.transit.as_ref().map(|t| &t.shipment) == Some(&s.id)
                })
                .count() as u32;
            match s.status {
                ShipmentStatus::InTransit => {
                    assert_eq!(s.outstanding, travelling, "{}: outstanding", s.id)
                }
                ShipmentStatus::Received => assert_eq!(travelling, 0, "{}", s.id),
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 32,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Every accepted transaction stays within (max_nesting + 3) · (item_count + 1) changed
    /// records, whatever its containers and lots hold; container summaries and shipments'
    /// outstanding counts stay exact.
    #[test]
    fn cost_is_bounded_by_what_a_transaction_names(
        big in 50usize..=200,
        ops in prop::collection::vec((0u8..13, any::<u64>()), 1..48),
    ) {
        let mut w = World::with_big_pallet(big);
        for (i, (op, seed)) in ops.iter().enumerate() {
            w.step(*op, *seed);
            if i % 8 == 7 {
                w.check_summaries();
            }
        }
        w.check_summaries();
        w.h.state.check_histories();
        prop_assert!(w.biggest >= big as u64);
    }
}

/// The same bound over one long fixed run, so that every kind of transaction is accepted
/// at least once (the property's short random runs need not reach each).
#[test]
fn every_kind_is_accepted_within_the_bound() {
    let mut w = World::with_big_pallet(200);
    let mut kinds: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut seed = Rng(7);
    for _ in 0..400 {
        let before = w.accepted;
        let op = (seed.next() % 13) as u8;
        let s = seed.next();
        let events = w.h.state.events.len();
        let recalls = w.h.state.recalls.len();
        w.step(op, s);
        if w.accepted > before {
            let kind = kind_of(&w, events, recalls);
            *kinds.entry(kind).or_default() += 1;
        }
    }
    w.check_summaries();
    w.h.state.check_histories();
    for kind in [
        "commission",
        "pack",
        "unpack",
        "ship",
        "receive",
        "move",
        "set_status",
        "recall",
        "decommission",
        "return",
    ] {
        assert!(kinds.contains_key(kind), "{kind} never accepted: {kinds:?}");
    }
    assert!(w.biggest >= 200, "biggest container: {}", w.biggest);
}

/// The kind of the transaction just accepted, from its last event (or the recall it made).
fn kind_of(w: &World, events: usize, recalls: usize) -> &'static str {
    if w.h.state.recalls.len() > recalls {
        return "recall";
    }
    match &w.h.state.events[events..].last().map(|e| &e.action) {
        Some(Action::Commissioned) => "commission",
        Some(Action::Filled { .. }) => "pack",
        Some(Action::Emptied { .. }) => "unpack",
        Some(Action::Shipped { .. }) => "ship",
        Some(Action::Received { .. } | Action::Rejected { .. } | Action::Missing { .. }) => {
            "receive"
        }
        Some(Action::Moved { .. }) => "move",
        Some(Action::StatusSet { .. }) => "set_status",
        Some(Action::Decommissioned { .. }) => "decommission",
        Some(Action::Returned { .. }) => "return",
        Some(Action::Packed { .. } | Action::Unpacked { .. }) => "other",
        None => "none",
    }
}
