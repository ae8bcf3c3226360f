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

    // 10 cases of 10, one pallet.
    let cases: Vec<Sscc> = (1..=10).map(msscc).collect();
    let pallet = msscc(1000);
    for (i, case) in cases.iter().enumerate() {
        let lo = i as u32 * 10 + 1;
        h.ok("manufacturer", pack(case, &units(lo..=lo + 9)));
    }
    let case_ids: Vec<ItemId> = cases.iter().map(cont).collect();
    h.ok("manufacturer", pack(&pallet, &case_ids));
    assert_eq!(h.item(&cont(&pallet)).children, case_ids);
    assert_eq!(h.item(&cont(&cases[1])).location, Some(gln(M_GLN)));

    // Ship the pallet: everything on it travels.
    let ch = h.ok(
        "manufacturer",
        ship("ASN-1", "distributor", &[cont(&pallet)]),
    );
    assert_eq!(ch.event_count(), 111);
    assert!(h
        .state
        .items
        .values()
        .all(|s| s.status == Status::InTransit && s.custodian == m("manufacturer")));

    // Receive: unit 15 (in case 2) refused, an unknown serial turned up.
    let rejected = unit("15");
    let stray = unit("999");
    h.ok(
        "distributor",
        receive_full(
            "ASN-1",
            std::slice::from_ref(&rejected),
            &[],
            std::slice::from_ref(&stray),
            Some(D_GLN),
        ),
    );
    for (id, s) in &h.state.items {
        if id == &rejected {
            continue;
        }
        assert_eq!(s.custodian, m("distributor"), "{id}");
        assert_eq!(s.status, Status::Active, "{id}");
        assert_eq!(s.transit, None, "{id}");
        assert_eq!(s.location, Some(gln(D_GLN)), "{id}");
        assert_eq!(
            s.custody_chain,
            vec![m("manufacturer"), m("distributor")],
            "{id}"
        );
    }
    let r = h.item(&rejected);
    assert_eq!(r.custodian, m("manufacturer"));
    assert_eq!(r.status, Status::Active);
    assert_eq!(r.transit, None);
    assert_eq!(r.parent, None);
    assert_eq!(r.location, Some(gln(M_GLN)));
    let hold = r.hold.clone().unwrap();
    assert_eq!(hold.kind, StatusChange::Quarantine);
    assert!(hold.reason.contains("rejected"), "{}", hold.reason);
    let case2 = h.item(&cont(&cases[1]));
    assert_eq!(case2.children.len(), 9);
    assert!(!case2.children.contains(&rejected));
    assert!(!h.state.items.contains_key(&stray));
    let shipment = &h.state.shipments[&sid("ASN-1")];
    assert_eq!(shipment.status, ShipmentStatus::Received);
    assert_eq!(shipment.items, vec![cont(&pallet)]);
    let receipt = shipment.receipt.as_ref().unwrap();
    assert_eq!(receipt.accepted, 1 + 10 + 99);
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
    h.ok("distributor", unpack(&pallet, &[]));
    assert!(h.item(&cont(&pallet)).children.is_empty());
    assert_eq!(h.item(&cont(&cases[0])).parent, None);
    h.ok("distributor", ship("ASN-2", "pharmacy", &[cont(&cases[0])]));
    h.ok("pharmacy", receive("ASN-2", &[], &[]));
    h.ok("pharmacy", unpack(&cases[0], &units(1..=1)));
    h.ok(
        "pharmacy",
        decommission(&units(1..=1), DecommissionReason::Dispensed),
    );
    let u1 = unit("1");
    let s = h.item(&u1).clone();
    assert_eq!(s.status, Status::Dispensed);
    assert_eq!(s.custodian, m("pharmacy"));
    assert_eq!(
        s.custody_chain,
        vec![m("manufacturer"), m("distributor"), m("pharmacy")]
    );
    assert_eq!(h.item(&unit("2")).custodian, m("pharmacy"));
    assert_eq!(h.item(&unit("11")).custodian, m("distributor"));

    // Unit 1's history: every event, hash-linked, with `via` when carried.
    let hist = h.state.history(&u1);
    let got: Vec<(Action, Option<Sscc>, MemberId)> = hist
        .iter()
        .map(|e| (e.action.clone(), e.via.clone(), e.actor.clone()))
        .collect();
    let p = Some(pallet.clone());
    let c1 = Some(cases[0].clone());
    let want = vec![
        (Action::Commissioned, None, m("manufacturer")),
        (
            Action::Packed {
                into: cases[0].clone(),
            },
            None,
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
            Action::Shipped {
                shipment: sid("ASN-2"),
                to: m("pharmacy"),
            },
            c1.clone(),
            m("distributor"),
        ),
        (
            Action::Received {
                shipment: sid("ASN-2"),
            },
            c1,
            m("pharmacy"),
        ),
        (
            Action::Unpacked {
                from: cases[0].clone(),
            },
            None,
            m("pharmacy"),
        ),
        (
            Action::Decommissioned {
                reason: DecommissionReason::Dispensed,
            },
            None,
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

    // The refused unit's history ends with the rejection, through the pallet.
    let rh = h.state.history(&rejected);
    let last = rh.last().unwrap();
    assert_eq!(
        last.action,
        Action::Rejected {
            shipment: sid("ASN-1")
        }
    );
    assert_eq!(last.via, Some(pallet.clone()));
    assert_eq!(last.custodian, m("manufacturer"));

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
    h.ok(
        "distributor",
        receive_full("S1", &[cont(&c1)], &[u[2].clone()], &[], None),
    );
    // Case 1 left the pallet with its contents, all with the manufacturer.
    assert_eq!(h.item(&cont(&p)).children, vec![cont(&c2)]);
    assert_eq!(h.item(&cont(&c1)).parent, None);
    assert_eq!(h.item(&cont(&c1)).children, u[..2].to_vec());
    for id in [cont(&c1), u[0].clone(), u[1].clone()] {
        let s = h.item(&id);
        assert_eq!(s.custodian, m("manufacturer"), "{id}");
        assert_eq!(
            s.hold.as_ref().unwrap().kind,
            StatusChange::Quarantine,
            "{id}"
        );
    }
    assert_eq!(h.item(&u[0]).parent, Some(c1.clone()));
    let missing = h.item(&u[2]);
    assert_eq!(missing.custodian, m("manufacturer"));
    assert_eq!(missing.hold.as_ref().unwrap().kind, StatusChange::Suspect);
    assert_eq!(missing.parent, None);
    assert_eq!(h.item(&cont(&c2)).children, vec![u[3].clone()]);
    assert_eq!(h.item(&u[3]).custodian, m("distributor"));
    let receipt = h.state.shipments[&sid("S1")].receipt.clone().unwrap();
    assert_eq!(receipt.accepted, 3);
    assert_eq!(receipt.missing, vec![u[2].clone()]);
    h.state.check_histories();
}
