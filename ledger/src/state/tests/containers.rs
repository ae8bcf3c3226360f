//! The container model: acting on a pallet costs the same whatever it holds, and every unit
//! in it (in cases on it) follows through [`Effective`]: custodian, location, status,
//! shipment, hold and route from its containers, recall from its lot's record.

use super::*;

/// Units in cases on a pallet, with the manufacturer: case 0 also holds `x`, the one unit
/// of lot L2.
struct Nest {
    h: Harness,
    pallet: Sscc,
    cases: Vec<Sscc>,
    /// Lot L1 units, by case.
    units: Vec<Vec<ItemId>>,
    x: ItemId,
}

impl Nest {
    fn new(cases: usize, per_case: usize) -> Nest {
        let mut h = Harness::new();
        h.ok(
            "manufacturer",
            commission_of(gtin(), "L2", "301231", &["x"]),
        );
        let serials: Vec<String> = (0..cases * per_case).map(|i| format!("u{i}")).collect();
        let refs: Vec<&str> = serials.iter().map(String::as_str).collect();
        h.ok("manufacturer", commission(&refs));
        let units: Vec<Vec<ItemId>> = serials
            .chunks(per_case)
            .map(|c| c.iter().map(|s| unit(s)).collect())
            .collect();
        let x = unit("x");
        let case_ids: Vec<Sscc> = (1..=cases as u64).map(msscc).collect();
        for (i, c) in case_ids.iter().enumerate() {
            let mut items = units[i].clone();
            if i == 0 {
                items.push(x.clone());
            }
            h.ok("manufacturer", pack(c, &items));
        }
        let pallet = msscc(1000);
        let top: Vec<ItemId> = case_ids.iter().map(cont).collect();
        h.ok("manufacturer", pack(&pallet, &top));
        Nest {
            h,
            pallet,
            cases: case_ids,
            units,
            x,
        }
    }

    fn l1_units(&self) -> u64 {
        self.units.iter().map(Vec::len).sum::<usize>() as u64
    }

    /// Every unit, x included.
    fn all_units(&self) -> Vec<ItemId> {
        let mut all: Vec<ItemId> = self.units.iter().flatten().cloned().collect();
        all.push(self.x.clone());
        all
    }

    fn pallet_id(&self) -> ItemId {
        cont(&self.pallet)
    }

    /// Runs `payload` by `who`, returning (events, items) it wrote.
    fn cost(&mut self, who: &str, payload: Payload) -> (usize, usize) {
        let ch = self.h.ok(who, payload);
        (ch.events.len(), ch.items.len())
    }
}

fn lots_of(c: &Contents) -> Vec<(String, u64)> {
    c.lots
        .iter()
        .map(|l| (l.lot.as_str().to_string(), l.units))
        .collect()
}

/// The life of a nest of `cases` cases of `per_case` units: what each step writes.
fn pallet_travels(cases: usize, per_case: usize) -> Vec<(&'static str, (usize, usize))> {
    let mut n = Nest::new(cases, per_case);
    let l1 = n.l1_units();
    let p = n.pallet_id();
    let pc = n.h.contents(&n.pallet);
    assert_eq!(
        (pc.children, pc.units, pc.depth, pc.held),
        (cases as u32, l1 + 1, 2, 0)
    );
    assert_eq!(lots_of(&pc), vec![("L1".into(), l1), ("L2".into(), 1)]);
    let mut costs = Vec::new();

    // Ship: the pallet's event only; every unit travels.
    costs.push((
        "ship",
        n.cost(
            "manufacturer",
            ship("S1", "distributor", std::slice::from_ref(&p)),
        ),
    ));
    assert_eq!(n.h.state.shipments[&sid("S1")].units, l1 + 1);
    for id in n.all_units() {
        let e = n.h.eff(&id);
        assert_eq!(e.custodian(), &m("manufacturer"), "{id}");
        assert_eq!(e.status(), Status::InTransit, "{id}");
        assert_eq!(e.transit().unwrap().shipment, sid("S1"), "{id}");
        assert_eq!(e.ancestors.len(), 2, "{id}");
    }

    // Receive (nowhere in particular), then move it.
    let r = n.h.receive("S1", &[], &[]);
    costs.push(("receive", n.cost("distributor", r)));
    costs.push((
        "move",
        n.cost("distributor", move_to(std::slice::from_ref(&p), D_GLN)),
    ));
    for id in n.all_units() {
        let s = n.h.view(&id);
        assert_eq!(s.custodian, m("distributor"), "{id}");
        assert_eq!(s.location, Some(gln(D_GLN)), "{id}");
        assert_eq!((s.status, s.transit), (Status::Active, None), "{id}");
        assert_eq!(s.route, vec![m("manufacturer"), m("distributor")], "{id}");
        // Its own state is as it was packed.
        let own = n.h.item(&id);
        assert_eq!(own.custodian, m("manufacturer"), "{id}");
        assert_eq!(own.event_count, 2, "{id}");
    }

    // A hold on the pallet covers every unit, and keeps the pallet back.
    costs.push((
        "hold pallet",
        n.cost(
            "distributor",
            set_status(
                std::slice::from_ref(&p),
                StatusChange::Quarantine,
                "inspection",
            ),
        ),
    ));
    for id in n.all_units() {
        let hold = n.h.eff(&id).hold().cloned().unwrap();
        assert_eq!(hold.kind, StatusChange::Quarantine, "{id}");
        assert_eq!(hold.reason, "inspection", "{id}");
    }
    n.h.expect(
        "distributor",
        ship("S2", "pharmacy", std::slice::from_ref(&p)),
        RuleError::Restricted {
            item: p.clone(),
            why: "quarantined (inspection)".into(),
            to: m("pharmacy"),
        },
    );
    costs.push((
        "release pallet",
        n.cost(
            "distributor",
            set_status(std::slice::from_ref(&p), StatusChange::Release, "fine"),
        ),
    ));
    assert!(n.all_units().iter().all(|id| n.h.eff(id).hold().is_none()));

    // A hold on one unit deep inside: counted by its case and the pallet.
    let u0 = n.units[0][0].clone();
    costs.push((
        "hold unit",
        n.cost(
            "distributor",
            set_status(std::slice::from_ref(&u0), StatusChange::Damaged, "crushed"),
        ),
    ));
    assert_eq!(n.h.contents(&n.pallet).held, 1);
    assert_eq!(n.h.contents(&n.cases[0]).held, 1);
    n.h.expect(
        "distributor",
        ship("S2", "pharmacy", std::slice::from_ref(&p)),
        RuleError::Restricted {
            item: p.clone(),
            why: "holding 1 items on hold".into(),
            to: m("pharmacy"),
        },
    );
    costs.push((
        "release unit",
        n.cost(
            "distributor",
            set_status(std::slice::from_ref(&u0), StatusChange::Release, "ok"),
        ),
    ));
    assert_eq!(n.h.contents(&n.pallet).held, 0);
    assert_eq!(n.h.contents(&n.cases[0]).held, 0);

    // On to the pharmacy, which refuses x out of case 0.
    costs.push((
        "ship on",
        n.cost(
            "distributor",
            ship("S2", "pharmacy", std::slice::from_ref(&p)),
        ),
    ));
    let x = n.x.clone();
    let r =
        n.h.receive_full("S2", std::slice::from_ref(&x), &[], &[], Some(P_GLN));
    costs.push(("receive refusing x", n.cost("pharmacy", r)));
    // x stays with the distributor, quarantined, where the pallet was.
    let xs = n.h.item(&x).clone();
    assert_eq!((&xs.parent, &xs.packing), (&None, &None));
    assert_eq!(xs.custodian, m("distributor"));
    assert_eq!((xs.status, &xs.transit), (Status::Active, &None));
    assert_eq!(xs.location, Some(gln(D_GLN)));
    assert_eq!(xs.route, vec![m("manufacturer"), m("distributor")]);
    assert_eq!(xs.hold.as_ref().unwrap().kind, StatusChange::Quarantine);
    assert_eq!(n.h.view(&x), xs);
    // The summaries lost x: its unit, its lot, nothing held.
    let pc = n.h.contents(&n.pallet);
    assert_eq!((pc.children, pc.units, pc.held), (cases as u32, l1, 0));
    assert_eq!(lots_of(&pc), vec![("L1".into(), l1)]);
    let c0 = n.h.contents(&n.cases[0]);
    assert_eq!(
        (c0.children, c0.units, c0.held),
        (per_case as u32, per_case as u64, 0)
    );
    assert_eq!(lots_of(&c0), vec![("L1".into(), per_case as u64)]);
    let receipt = n.h.state.shipments[&sid("S2")].receipt.clone().unwrap();
    assert_eq!((receipt.accepted, receipt.units), (1, l1));
    for id in n.units.iter().flatten() {
        let s = n.h.view(id);
        assert_eq!(s.custodian, m("pharmacy"), "{id}");
        assert_eq!(s.location, Some(gln(P_GLN)), "{id}");
        assert_eq!(
            s.route,
            vec![m("manufacturer"), m("distributor"), m("pharmacy")],
            "{id}"
        );
    }

    // Unpack case 1 off the pallet, then a unit out of it: each now holds, as its own,
    // what it inherited.
    let c1 = n.cases[1].clone();
    costs.push((
        "unpack case",
        n.cost("pharmacy", unpack(&n.pallet.clone(), &[cont(&c1)])),
    ));
    let route = vec![m("manufacturer"), m("distributor"), m("pharmacy")];
    let cs = n.h.item(&cont(&c1)).clone();
    assert_eq!(cs.parent, None);
    assert_eq!(
        (cs.custodian.clone(), cs.location.clone(), cs.status),
        (m("pharmacy"), Some(gln(P_GLN)), Status::Active)
    );
    assert_eq!(cs.route, route);
    let pc = n.h.contents(&n.pallet);
    assert_eq!(
        (pc.children, pc.units),
        (cases as u32 - 1, l1 - per_case as u64)
    );
    let u = n.units[1][0].clone();
    costs.push((
        "unpack unit",
        n.cost("pharmacy", unpack(&c1, std::slice::from_ref(&u))),
    ));
    let us = n.h.item(&u).clone();
    assert_eq!((us.parent.clone(), us.packing.clone()), (None, None));
    assert_eq!(
        (us.custodian.clone(), us.location.clone(), us.status),
        (m("pharmacy"), Some(gln(P_GLN)), Status::Active)
    );
    assert_eq!(us.route, route);
    assert_eq!(n.h.contents(&c1).units, per_case as u64 - 1);
    // A unit straight out of case 0, still on the pallet: the same, from the pallet.
    let v = n.units[0][1].clone();
    costs.push((
        "unpack nested unit",
        n.cost(
            "pharmacy",
            unpack(&n.cases[0].clone(), std::slice::from_ref(&v)),
        ),
    ));
    let vs = n.h.item(&v).clone();
    assert_eq!(
        (vs.parent.clone(), vs.custodian.clone(), vs.location.clone()),
        (None, m("pharmacy"), Some(gln(P_GLN)))
    );
    assert_eq!(vs.route, route);
    assert_eq!(n.h.contents(&n.pallet).units, l1 - per_case as u64 - 1);
    assert_eq!(n.h.contents(&n.cases[0]).units, per_case as u64 - 1);

    // A recall marks the lot: no item is written, every unit of it is under it, wherever.
    let ch = n.h.ok("manufacturer", recall("R1", gtin(), &["L1"]));
    costs.push(("recall", (ch.events.len(), ch.items.len())));
    assert_eq!((ch.lots.len(), ch.recalls.len()), (1, 1));
    assert_eq!(ch.recalls["R1"].affected, l1);
    for id in n.units.iter().flatten() {
        assert_eq!(n.h.eff(id).recall().unwrap().recall_id, "R1", "{id}");
    }
    assert_eq!(n.h.eff(&x).recall(), None);
    n.h.expect(
        "pharmacy",
        decommission(std::slice::from_ref(&u), DecommissionReason::Dispensed),
        RuleError::NotSellable {
            item: u.clone(),
            why: "under recall R1".into(),
            action: "dispensed",
        },
    );

    n.h.state.check_histories();
    costs
}

#[test]
fn a_pallet_costs_the_same_whatever_it_holds() {
    let want = vec![
        ("ship", (1, 1)),
        ("receive", (1, 1)),
        ("move", (1, 1)),
        ("hold pallet", (1, 1)),
        ("release pallet", (1, 1)),
        // The unit's event; it, its case and the pallet (which count it as held).
        ("hold unit", (1, 3)),
        ("release unit", (1, 3)),
        ("ship on", (1, 1)),
        // x's Rejected and its case's Emptied and the pallet's Received; the three of them.
        ("receive refusing x", (3, 3)),
        ("unpack case", (2, 2)),
        ("unpack unit", (2, 2)),
        // The unit, its case (Emptied) and the pallet's summary.
        ("unpack nested unit", (2, 3)),
        ("recall", (0, 0)),
    ];
    assert_eq!(pallet_travels(2, 2), want);
    assert_eq!(pallet_travels(5, 40), want);
}

#[test]
fn a_held_unit_refused_at_receipt_leaves_the_summaries() {
    let mut n = Nest::new(3, 4);
    let p = n.pallet_id();
    n.h.transfer(
        "manufacturer",
        "distributor",
        "S1",
        std::slice::from_ref(&p),
    );
    let u0 = n.units[0][0].clone();
    n.h.ok(
        "distributor",
        set_status(std::slice::from_ref(&u0), StatusChange::Damaged, "crushed"),
    );
    // Restricted, but the manufacturer owns everything on it: it may go back.
    n.h.ok(
        "distributor",
        ship("S2", "manufacturer", std::slice::from_ref(&p)),
    );
    let r = n.h.receive("S2", std::slice::from_ref(&u0), &[]);
    let ch = n.h.ok("manufacturer", r);
    assert_eq!((ch.events.len(), ch.items.len()), (3, 3));
    let s = n.h.view(&u0);
    assert_eq!(s.parent, None);
    assert_eq!(s.custodian, m("distributor"));
    let hold = s.hold.unwrap();
    assert_eq!(hold.kind, StatusChange::Quarantine);
    assert!(hold.reason.contains("rejected"), "{}", hold.reason);
    for c in [&n.pallet, &n.cases[0]] {
        assert_eq!(n.h.contents(c).held, 0, "{c}");
    }
    assert_eq!(n.h.contents(&n.pallet).units, 12);
    assert_eq!(n.h.contents(&n.cases[0]).units, 4);
    assert_eq!(
        lots_of(&n.h.contents(&n.cases[0])),
        vec![("L1".into(), 3), ("L2".into(), 1)]
    );
    // The pallet is clear again: it may go on to the pharmacy.
    n.h.ok("manufacturer", ship("S3", "pharmacy", &[p]));
    n.h.state.check_histories();
}
