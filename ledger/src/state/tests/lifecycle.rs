//! The happy path: commission, pack, ship a pallet, receive with discrepancies, move, unpack,
//! ship on, dispense; every unit's history is a hash chain that says how it got there.

use super::*;

fn serials(range: std::ops::RangeInclusive<u32>) -> Vec<String> {
    range.map(|i| i.to_string()).collect()
}

fn units(range: std::ops::RangeInclusive<u32>) -> Vec<ItemId> {
    serials(range).iter().map(|s| unit(s)).collect()
}

#[test]
fn pallet_life_cycle() {
    let mut h = Harness::new();
    let all = serials(1..=100);
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    let Payload::Commission(mut c) = commission(&refs) else {
        unreachable!()
    };
    c.location = Some(gln(M_GLN));
    let ch = h.ok("manufacturer", Payload::Commission(c));
    assert_eq!(ch.event_count(), 100);
    assert_eq!(h.lot("L1").units, 100);

    // 10 cases of 10, one pallet.
    let cases: Vec<Sscc> = (1..=10).map(msscc).collect();
    let pallet = msscc(1000);
    for (i, case) in cases.iter().enumerate() {
        let lo = i as u32 * 10 + 1;
        h.ok("manufacturer", pack(case, &units(lo..=lo + 9)));
    }
    let case_ids: Vec<ItemId> = cases.iter().map(cont).collect();
    h.ok("manufacturer", pack(&pallet, &case_ids));
    let p = h.contents(&pallet);
    assert_eq!((p.children, p.units, p.depth), (10, 100, 2));
    for c in &cases {
        assert_eq!(h.item(&cont(c)).parent, Some(pallet.clone()));
    }
    assert_eq!(h.item(&cont(&cases[1])).location, Some(gln(M_GLN)));

    // Ship the pallet: everything on it travels, with one event (the pallet's).
    let ch = h.ok(
        "manufacturer",
        ship("ASN-1", "distributor", &[cont(&pallet)]),
    );
    assert_eq!(ch.event_count(), 1);
    assert_eq!(ch.items.len(), 1);
    for id in h.state.items.keys() {
        let s = h.view(id);
        assert_eq!(
            (s.status, s.custodian),
            (Status::InTransit, m("manufacturer")),
            "{id}"
        );
    }
    assert_eq!(h.state.shipments[&sid("ASN-1")].units, 100);

    // Receive: unit 15 (in case 2) refused, an unknown serial turned up.
    let rejected = unit("15");
    let stray = unit("999");
    let r = h.receive_full(
        "ASN-1",
        std::slice::from_ref(&rejected),
        &[],
        std::slice::from_ref(&stray),
        Some(D_GLN),
    );
    h.ok("distributor", r);
    for id in h.state.items.keys() {
        if id == &rejected {
            continue;
        }
        let s = h.view(id);
        assert_eq!(s.custodian, m("distributor"), "{id}");
        assert_eq!(s.status, Status::Active, "{id}");
        assert_eq!(s.transit, None, "{id}");
        assert_eq!(s.location, Some(gln(D_GLN)), "{id}");
        assert_eq!(s.route, vec![m("manufacturer"), m("distributor")], "{id}");
    }
    let r = h.view(&rejected);
    assert_eq!(r.custodian, m("manufacturer"));
    assert_eq!(r.status, Status::Active);
    assert_eq!(r.transit, None);
    assert_eq!(r.parent, None);
    assert_eq!(r.location, Some(gln(M_GLN)));
    assert_eq!(r.route, vec![m("manufacturer")]);
    let hold = r.hold.clone().unwrap();
    assert_eq!(hold.kind, StatusChange::Quarantine);
    assert!(hold.reason.contains("rejected"), "{}", hold.reason);
    let case2 = h.contents(&cases[1]);
    assert_eq!((case2.children, case2.units), (9, 9));
    assert_eq!(h.contents(&pallet).units, 99);
    assert!(!h.state.items.contains_key(&stray));
    let shipment = &h.state.shipments[&sid("ASN-1")];
    assert_eq!(shipment.status, ShipmentStatus::Received);
    assert_eq!(shipment.items, vec![cont(&pallet)]);
    assert_eq!(shipment.outstanding, 0);
    let receipt = shipment.receipt.as_ref().unwrap();
    assert_eq!(receipt.accepted, 1);
    assert_eq!(receipt.units, 99);
    assert_eq!(receipt.rejected, vec![rejected.clone()]);
    assert_eq!(receipt.unexpected, vec![stray.clone()]);
    assert!(receipt.missing.is_empty());
    assert_eq!(receipt.location, Some(gln(D_GLN)));

    // The refused unit is the manufacturer's to deal with; the distributor cannot touch it.
    h.expect(
        "distributor",
        move_to(std::slice::from_ref(&rejected), D_GLN),
        RuleError::NotCustodian {
            item: rejected.clone(),
            custodian: m("manufacturer"),
            signer: m("distributor"),
        },
    );

    // Move the pallet, break it down, send case 1 on to the pharmacy.
    h.ok("distributor", move_to(&[cont(&pallet)], D_GLN));
    h.ok("distributor", unpack(&pallet, &case_ids));
    let p = h.contents(&pallet);
    assert_eq!((p.children, p.units, p.lots.len()), (0, 0, 0));
    assert_eq!(h.item(&cont(&cases[0])).parent, None);
    h.ok("distributor", ship("ASN-2", "pharmacy", &[cont(&cases[0])]));
    let r = h.receive("ASN-2", &[], &[]);
    h.ok("pharmacy", r);
    h.ok("pharmacy", unpack(&cases[0], &units(1..=1)));
    h.ok(
        "pharmacy",
        decommission(&units(1..=1), DecommissionReason::Dispensed),
    );
    let u1 = unit("1");
    let s = h.item(&u1).clone();
    assert_eq!(s.status, Status::Dispensed);
    assert_eq!(s.custodian, m("pharmacy"));
    assert_eq!(s.parent, None);
    assert_eq!(
        s.route,
        vec![m("manufacturer"), m("distributor"), m("pharmacy")]
    );
    assert_eq!(h.view(&unit("2")).custodian, m("pharmacy"));
    assert_eq!(h.view(&unit("11")).custodian, m("distributor"));

    // Unit 1's own history is a hash chain of what was done to it by name.
    let hist = h.state.history(&u1);
    let got: Vec<(Action, MemberId)> = hist
        .iter()
        .map(|e| (e.action.clone(), e.actor.clone()))
        .collect();
    let c1 = cases[0].clone();
    let want = vec![
        (Action::Commissioned, m("manufacturer")),
        (Action::Packed { into: c1.clone() }, m("manufacturer")),
        (Action::Unpacked { from: c1.clone() }, m("pharmacy")),
        (
            Action::Decommissioned {
                reason: DecommissionReason::Dispensed,
            },
            m("pharmacy"),
        ),
    ];
    assert_eq!(got, want);
    let mut prev = Hash32::ZERO;
    for (i, e) in hist.iter().enumerate() {
        assert_eq!(e.seq as usize, i);
        assert_eq!(e.prev, prev);
        assert_eq!(e.item, u1);
        prev = e.hash();
    }
    assert_eq!(s.history_head, prev);
    assert_eq!(s.event_count as usize, hist.len());
    let last = hist.last().unwrap();
    assert_eq!(last.status, Status::Dispensed);
    assert_eq!(last.custodian, m("pharmacy"));

    // Its story says how it got there: its own events, and its case's and pallet's while
    // it was inside them.
    let got: Vec<(Action, Option<Sscc>, MemberId)> = h
        .state
        .story(&u1)
        .into_iter()
        .map(|e| match e {
            StoryEntry::Event { via, event } => (event.action, via, event.actor),
            StoryEntry::Recall(r) => panic!("no recall: {r:?}"),
        })
        .collect();
    let p = Some(pallet.clone());
    let c = Some(c1.clone());
    let want = vec![
        (Action::Commissioned, None, m("manufacturer")),
        (Action::Packed { into: c1.clone() }, None, m("manufacturer")),
        (
            Action::Packed {
                into: pallet.clone(),
            },
            c.clone(),
            m("manufacturer"),
        ),
        (
            Action::Shipped {
                shipment: sid("ASN-1"),
                to: m("distributor"),
            },
            p.clone(),
            m("manufacturer"),
        ),
        (
            Action::Received {
                shipment: sid("ASN-1"),
            },
            p.clone(),
            m("distributor"),
        ),
        (Action::Moved { to: gln(D_GLN) }, p, m("distributor")),
        (
            Action::Unpacked {
                from: pallet.clone(),
            },
            c.clone(),
            m("distributor"),
        ),
        (
            Action::Shipped {
                shipment: sid("ASN-2"),
                to: m("pharmacy"),
            },
            c.clone(),
            m("distributor"),
        ),
        (
            Action::Received {
                shipment: sid("ASN-2"),
            },
            c,
            m("pharmacy"),
        ),
        (Action::Unpacked { from: c1 }, None, m("pharmacy")),
        (
            Action::Decommissioned {
                reason: DecommissionReason::Dispensed,
            },
            None,
            m("pharmacy"),
        ),
    ];
    assert_eq!(got, want);

    // The refused unit's history ends with the rejection: taken out of case 2.
    let rh = h.state.history(&rejected);
    let last = rh.last().unwrap();
    assert_eq!(
        last.action,
        Action::Rejected {
            shipment: sid("ASN-1"),
            from: Some(cases[1].clone()),
        }
    );
    assert_eq!(last.custodian, m("manufacturer"));
    assert_eq!(last.parent, None);

    // Every item's chain is intact; the manufacturer can release and resend the refused unit.
    h.state.check_histories();
    h.ok(
        "manufacturer",
        set_status(
            std::slice::from_ref(&rejected),
            StatusChange::Release,
            "recounted",
        ),
    );
    h.transfer("manufacturer", "distributor", "ASN-3", &[rejected]);
    h.state.check_histories();
}

#[test]
fn receive_with_missing_and_rejected_containers() {
    let mut h = Harness::new();
    let u = h.commissioned(&["1", "2", "3", "4"]);
    let (c1, c2, p) = (msscc(1), msscc(2), msscc(3));
    h.ok("manufacturer", pack(&c1, &u[..2]));
    h.ok("manufacturer", pack(&c2, &u[2..]));
    h.ok("manufacturer", pack(&p, &[cont(&c1), cont(&c2)]));
    h.ok("manufacturer", ship("S1", "distributor", &[cont(&p)]));
    // Case 1 refused whole, unit 3 missing from case 2.
    let r = h.receive_full("S1", &[cont(&c1)], &[u[2].clone()], &[], None);
    if let Payload::Receive(r) = &r {
        assert_eq!(r.accepted, vec![cont(&p)]);
    }
    h.ok("distributor", r);
    // Case 1 left the pallet with its contents, all with the manufacturer.
    let pc = h.contents(&p);
    assert_eq!((pc.children, pc.units), (1, 1));
    assert_eq!(h.item(&cont(&c1)).parent, None);
    let cc1 = h.contents(&c1);
    assert_eq!((cc1.children, cc1.units), (2, 2));
    for id in [cont(&c1), u[0].clone(), u[1].clone()] {
        let s = h.view(&id);
        assert_eq!(s.custodian, m("manufacturer"), "{id}");
        assert_eq!(
            s.hold.as_ref().unwrap().kind,
            StatusChange::Quarantine,
            "{id}"
        );
    }
    assert_eq!(h.item(&u[0]).parent, Some(c1.clone()));
    let missing = h.view(&u[2]);
    assert_eq!(missing.custodian, m("manufacturer"));
    assert_eq!(missing.hold.as_ref().unwrap().kind, StatusChange::Suspect);
    assert_eq!(missing.parent, None);
    let cc2 = h.contents(&c2);
    assert_eq!((cc2.children, cc2.units), (1, 1));
    assert_eq!(h.item(&u[3]).parent, Some(c2.clone()));
    assert_eq!(h.view(&u[3]).custodian, m("distributor"));
    let receipt = h.state.shipments[&sid("S1")].receipt.clone().unwrap();
    assert_eq!((receipt.accepted, receipt.units), (1, 1));
    assert_eq!(receipt.rejected, vec![cont(&c1)]);
    assert_eq!(receipt.missing, vec![u[2].clone()]);
    h.state.check_histories();
}
