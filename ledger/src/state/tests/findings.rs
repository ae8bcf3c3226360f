//! The integrity review's findings, each refused with its precise rule and changing nothing
//! (the harness compares the whole state, lots included, before and after each refusal):
//! event times bounded by the block's time and by the items' earlier events, safety rules
//! read from the block's time, the way back for recalled goods, lots, receipts that account
//! for the whole shipment, and bounded containers.

use super::*;

fn behind_rule(event_ms: u64, h: &Harness) -> RuleError {
    RuleError::EventTimeBehind {
        event_ms,
        block_ms: h.now,
        max_ms: h.genesis.params.max_event_behind_ms,
    }
}

fn before_rule(item: ItemId, event_ms: u64, previous_ms: u64) -> RuleError {
    RuleError::EventTimeBeforePrevious {
        item,
        event_ms,
        previous_ms,
    }
}

fn lot(l: &str) -> Lot {
    Lot::parse(l).unwrap()
}

fn recalled_lot_why(l: &str, recall_id: &str) -> String {
    format!(
        "holding units of lot {l} of GTIN {} under recall {recall_id}",
        gtin()
    )
}

// ---------------------------------------------------------------------------------------
// (a), (b): event time within the window behind the block's time

#[test]
fn event_time_back_dated_past_the_window() {
    let mut h = Harness::new();
    let behind = h.genesis.params.max_event_behind_ms;
    assert_eq!(behind, 7 * DAY_MS);
    let too_early = T0 - behind - 1;
    h.expect_at(
        "manufacturer",
        too_early,
        commission(&["1"]),
        behind_rule(too_early, &h),
    );
    // At the window's edge: accepted.
    h.ok_at("manufacturer", T0 - behind, commission(&["1"]));
    // Every kind of transaction, not only new items.
    let u = vec![unit("1")];
    let payloads = vec![
        ship("S1", "distributor", &u),
        move_to(&u, M_GLN),
        pack(&msscc(1), &u),
        set_status(&u, StatusChange::Quarantine, "x"),
        recall("R1", gtin(), &["L1"]),
        decommission(&u, DecommissionReason::Destroyed),
    ];
    for p in payloads {
        h.expect_at("manufacturer", too_early, p, behind_rule(too_early, &h));
    }
    h.ok("manufacturer", ship("S1", "distributor", &u));
    let r = h.receive("S1", &[], &[]);
    h.expect_at("distributor", too_early, r, behind_rule(too_early, &h));
}

#[test]
fn event_time_zero() {
    let mut h = Harness::new();
    h.expect_at("manufacturer", 0, commission(&["1"]), behind_rule(0, &h));
    // Nor on an existing item, whose clock it would set back.
    let u = h.commissioned(&["1"]);
    h.expect_at("manufacturer", 0, move_to(&u, M_GLN), behind_rule(0, &h));
    h.expect_at(
        "manufacturer",
        0,
        ship("S1", "distributor", &u),
        behind_rule(0, &h),
    );
    assert_eq!(h.item(&u[0]).last_event_ms, T0);
}

// ---------------------------------------------------------------------------------------
// (c): event time not before the item's latest event, nor its containers'

#[test]
fn event_time_before_the_items_previous_event() {
    let mut h = Harness::new();
    let u = h.commissioned(&["1", "2"]);
    let later = T0 + DAY_MS;
    h.now = later;
    h.ok("manufacturer", move_to(&u[..1], M_GLN));
    assert_eq!(h.item(&u[0]).last_event_ms, later);
    assert_eq!(h.item(&u[1]).last_event_ms, T0);
    // Earlier than unit 1's latest event, though well within the window.
    let early = later - 1;
    let one = &u[..1];
    let payloads = vec![
        ship("S1", "distributor", one),
        move_to(one, M_GLN),
        set_status(one, StatusChange::Quarantine, "x"),
        decommission(one, DecommissionReason::Destroyed),
        pack(&msscc(1), one),
        // Named after an item it is not too early for.
        ship("S1", "distributor", &[u[1].clone(), u[0].clone()]),
        pack(&msscc(1), &[u[1].clone(), u[0].clone()]),
    ];
    for p in payloads {
        h.expect_at(
            "manufacturer",
            early,
            p,
            before_rule(u[0].clone(), early, later),
        );
    }
    // Unit 2's own clock is older: the same time is fine for it.
    h.ok_at("manufacturer", early, move_to(&u[1..], M_GLN));
    // The receiver may not date its receipt before the shipment either.
    h.ok("manufacturer", ship("S1", "distributor", one));
    let r = h.receive("S1", &[], &[]);
    h.expect_at(
        "distributor",
        early,
        r.clone(),
        before_rule(u[0].clone(), early, later),
    );
    let refused = h.receive("S1", one, &[]);
    h.expect_at(
        "distributor",
        early,
        refused,
        before_rule(u[0].clone(), early, later),
    );
    h.ok_at("distributor", later, r);
    // Nor a return before the item was sent back.
    let sent = later + DAY_MS;
    h.now = sent;
    h.transfer("distributor", "pharmacy", "S2", one);
    h.ok("pharmacy", ship("S3", "distributor", one));
    h.expect_at(
        "distributor",
        sent - 1,
        ret(one, "wrong order"),
        before_rule(u[0].clone(), sent - 1, sent),
    );
    h.ok("distributor", ret(one, "wrong order"));
}

#[test]
fn event_time_before_a_containers_latest_event() {
    let mut h = Harness::new();
    let u = h.commissioned(&["1", "2"]);
    let (case, pallet) = (msscc(1), msscc(2));
    h.ok("manufacturer", pack(&case, &u));
    h.ok("manufacturer", pack(&pallet, &[cont(&case)]));
    let later = T0 + DAY_MS;
    h.now = later;
    h.ok("manufacturer", move_to(&[cont(&pallet)], M_GLN));
    // The units' and the case's own latest events are older than the pallet's move, which
    // is part of their story: nothing about them may be dated before it.
    assert_eq!(h.item(&u[0]).last_event_ms, T0);
    assert_eq!(h.item(&cont(&case)).last_event_ms, T0);
    let early = later - 1;
    let too_early = || before_rule(cont(&pallet), early, later);
    let payloads = vec![
        set_status(&u[..1], StatusChange::Quarantine, "x"),
        set_status(&[cont(&case)], StatusChange::Quarantine, "x"),
        unpack(&case, &u[..1]),
        unpack(&pallet, &[cont(&case)]),
    ];
    for p in payloads {
        h.expect_at("manufacturer", early, p, too_early());
    }
    // A unit refused at receipt out of the pallet it travelled in.
    h.ok("manufacturer", ship("S1", "distributor", &[cont(&pallet)]));
    let r = h.receive("S1", &u[..1], &[]);
    h.expect_at("distributor", early, r.clone(), too_early());
    h.ok("distributor", r);
    // The case is the distributor's now, through the pallet, and so is its clock.
    h.now = later + DAY_MS;
    h.ok("distributor", move_to(&[cont(&pallet)], D_GLN));
    h.expect_at(
        "distributor",
        later,
        unpack(&case, &u[1..]),
        before_rule(cont(&pallet), later, later + DAY_MS),
    );
    h.ok("distributor", unpack(&case, &u[1..]));
}

// ---------------------------------------------------------------------------------------
// (d): expiry by the block's date, whatever the member claims

#[test]
fn dispensing_a_pack_expired_by_block_time_with_an_event_time_before_expiry() {
    let mut h = Harness::new();
    // Lot E expires on 2023-11-10; made and delivered on 2023-11-08.
    h.now = T0 - 6 * DAY_MS;
    assert_eq!(crate::time::iso_date(h.now), "2023-11-08");
    h.ok(
        "manufacturer",
        commission_of(gtin(), "E", "231110", &["e1", "e2", "e3", "e4"]),
    );
    let e: Vec<ItemId> = ["e1", "e2", "e3", "e4"].iter().map(|s| unit(s)).collect();
    let case = msscc(1);
    h.ok("manufacturer", pack(&case, &e[2..]));
    h.transfer(
        "manufacturer",
        "pharmacy",
        "S1",
        &[e[0].clone(), e[1].clone(), cont(&case)],
    );
    // Before its expiry it is sold.
    h.ok(
        "pharmacy",
        decommission(&e[..1], DecommissionReason::Dispensed),
    );
    // The block is of 2023-11-14; the pharmacy claims the sale was on 2023-11-09.
    h.now = T0;
    let claimed = T0 - 5 * DAY_MS;
    assert_eq!(crate::time::iso_date(claimed), "2023-11-09");
    let expired = |item: &ItemId, why: &str, action| RuleError::NotSellable {
        item: item.clone(),
        why: why.into(),
        action,
    };
    let why = "expired on 2023-11-10";
    h.expect_at(
        "pharmacy",
        claimed,
        decommission(&e[1..2], DecommissionReason::Dispensed),
        expired(&e[1], why, "dispensed"),
    );
    h.expect_at(
        "pharmacy",
        claimed,
        decommission(&e[1..2], DecommissionReason::Exported),
        expired(&e[1], why, "exported"),
    );
    // A case holding the lot: the lot's record says when its units expire.
    h.expect_at(
        "pharmacy",
        claimed,
        decommission(&[cont(&case)], DecommissionReason::Dispensed),
        expired(
            &cont(&case),
            "holding units of lot E that expired on 2023-11-10",
            "dispensed",
        ),
    );
    // Taking it out of stock as expired is what remains.
    h.ok_at(
        "pharmacy",
        claimed,
        decommission(&e[1..2], DecommissionReason::Expired),
    );
    assert_eq!(h.item(&e[1]).status, Status::Expired);
}

// ---------------------------------------------------------------------------------------
// (e): restricted goods travel only back the way they came, or to their owner

#[test]
fn recalled_unit_that_came_back_does_not_go_downstream_again() {
    let mut h = Harness::new();
    let u = h.commissioned(&["1"]);
    h.transfer("manufacturer", "distributor", "S1", &u);
    h.transfer("distributor", "pharmacy", "S2", &u);
    h.transfer("pharmacy", "distributor", "S3", &u);
    // Going back to the distributor cut its way back to it: the pharmacy is off it.
    assert_eq!(
        h.item(&u[0]).route,
        vec![m("manufacturer"), m("distributor")]
    );
    h.ok("manufacturer", recall("R1", gtin(), &["L1"]));
    h.expect(
        "distributor",
        ship("S4", "pharmacy", &u),
        RuleError::Restricted {
            item: u[0].clone(),
            why: "under recall R1".into(),
            to: m("pharmacy"),
        },
    );
    // Upstream to the manufacturer, which owns it: accepted.
    h.ok("distributor", ship("S4", "manufacturer", &u));
}

#[test]
fn recalled_units_in_a_case_do_not_go_downstream() {
    let mut h = Harness::new();
    let u = h.commissioned(&["1", "2"]);
    let case = msscc(1);
    h.ok("manufacturer", pack(&case, &u));
    h.transfer("manufacturer", "distributor", "S1", &[cont(&case)]);
    h.transfer("distributor", "pharmacy", "S2", &[cont(&case)]);
    h.transfer("pharmacy", "distributor", "S3", &[cont(&case)]);
    assert_eq!(
        h.item(&cont(&case)).route,
        vec![m("manufacturer"), m("distributor")]
    );
    h.ok("manufacturer", recall("R1", gtin(), &["L1"]));
    // Neither inside the case, which had come back from the pharmacy...
    h.expect(
        "distributor",
        ship("S4", "pharmacy", &[cont(&case)]),
        RuleError::Restricted {
            item: cont(&case),
            why: recalled_lot_why("L1", "R1"),
            to: m("pharmacy"),
        },
    );
    // ...nor taken out of it.
    h.ok("distributor", unpack(&case, &u[..1]));
    h.expect(
        "distributor",
        ship("S4", "pharmacy", &u[..1]),
        RuleError::Restricted {
            item: u[0].clone(),
            why: "under recall R1".into(),
            to: m("pharmacy"),
        },
    );
    // To the owner: accepted, the unit and the case alike.
    h.ok(
        "distributor",
        ship("S4", "manufacturer", &[cont(&case), u[0].clone()]),
    );
}

#[test]
fn a_case_its_holder_filled_does_not_go_back_for_what_did_not_come_that_way() {
    let mut h = Harness::new();
    let a = h.commissioned(&["a1", "a2"]);
    h.ok(
        "manufacturer",
        commission_of(gtin(), "L2", "301231", &["b1"]),
    );
    let b = vec![unit("b1")];
    let (x, y) = (msscc(1), msscc(2));
    h.ok("manufacturer", pack(&x, &a[..1]));
    h.ok("manufacturer", pack(&y, &a[1..]));
    let cases = [cont(&x), cont(&y)];
    h.transfer("manufacturer", "distributor", "S1", &cases);
    h.transfer("distributor", "pharmacy", "S2", &cases);
    // Unit b1 reached the pharmacy straight from the manufacturer.
    h.transfer("manufacturer", "pharmacy", "S3", &b);
    h.ok("manufacturer", recall("R1", gtin(), &["L1", "L2"]));
    h.expect(
        "pharmacy",
        ship("B1", "distributor", &b),
        RuleError::Restricted {
            item: b[0].clone(),
            why: "under recall R1".into(),
            to: m("distributor"),
        },
    );
    // The pharmacy puts it into case Y, which did come by the distributor.
    h.ok("pharmacy", pack(&y, &b));
    assert_eq!(h.contents(&x).last_join, 0);
    assert_eq!(h.contents(&y).last_join, 2);
    // X, everything in which came that way, goes back to the distributor...
    h.ok("pharmacy", ship("B1", "distributor", &cases[..1]));
    // ...Y may not carry b1 along that way.
    h.expect(
        "pharmacy",
        ship("B2", "distributor", &cases[1..]),
        RuleError::Restricted {
            item: cont(&y),
            why: recalled_lot_why("L1", "R1"),
            to: m("distributor"),
        },
    );
    // To the owner of everything in it: accepted.
    h.ok("pharmacy", ship("B2", "manufacturer", &cases[1..]));
}

// ---------------------------------------------------------------------------------------
// (f): lots

#[test]
fn commissioning_an_expired_lot_or_a_lot_with_another_expiry() {
    let mut h = Harness::new();
    let expired = RuleError::ExpiredLot {
        gtin: gtin(),
        lot: lot("E"),
        expiry: "2023-11-10".into(),
        today: "2023-11-14".into(),
    };
    h.expect(
        "manufacturer",
        commission_of(gtin(), "E", "231110", &["e1"]),
        expired.clone(),
    );
    // Claiming an event time before the expiry does not help: the block's date decides.
    h.expect_at(
        "manufacturer",
        T0 - 5 * DAY_MS,
        commission_of(gtin(), "E", "231110", &["e1"]),
        expired,
    );
    // Expiring on the block's day: still good.
    h.ok(
        "manufacturer",
        commission_of(gtin(), "T", "231114", &["t1"]),
    );
    // A lot has one expiry, fixed by its first commission.
    h.ok("manufacturer", commission(&["1"]));
    assert_eq!(h.lot("L1").expiry, Expiry::parse("301231").unwrap());
    h.expect(
        "manufacturer",
        commission_of(gtin(), "L1", "311231", &["2"]),
        RuleError::LotExpiry {
            gtin: gtin(),
            lot: lot("L1"),
            expiry: "2030-12-31".into(),
            found: "2031-12-31".into(),
        },
    );
    h.ok("manufacturer", commission(&["2"]));
    assert_eq!(h.lot("L1").units, 2);
}

// ---------------------------------------------------------------------------------------
// (g): receipts

#[test]
fn receipt_that_does_not_account_for_every_top_level_item() {
    let mut h = Harness::new();
    let u = h.commissioned(&["1", "2", "3", "4"]);
    let case = msscc(1);
    h.ok("manufacturer", pack(&case, &u[2..]));
    let top = [u[0].clone(), u[1].clone(), cont(&case)];
    h.ok("manufacturer", ship("S1", "distributor", &top));
    let incomplete = |accounted| RuleError::ShipmentIncomplete {
        shipment: sid("S1"),
        outstanding: 3,
        accounted,
    };
    // An item left out: neither accepted nor refused.
    h.expect(
        "distributor",
        receive_accepting("S1", &[u[0].clone(), cont(&case)], &[], &[], &[], None),
        incomplete(2),
    );
    // A unit refused out of an accepted case does not account for a top-level item; nor
    // does an unexpected one.
    h.expect(
        "distributor",
        receive_accepting(
            "S1",
            &[u[0].clone(), cont(&case)],
            &u[2..3],
            &[],
            &[unit("404")],
            None,
        ),
        incomplete(2),
    );
    h.expect(
        "distributor",
        receive_accepting("S1", &[], &[], &[], &[], None),
        incomplete(0),
    );
    // Every one accepted, rejected or missing: accepted.
    h.ok(
        "distributor",
        receive_accepting("S1", &u[..1], &u[1..2], &[cont(&case)], &[], None),
    );
    let s = &h.state.shipments[&sid("S1")];
    assert_eq!((s.outstanding, s.status), (0, ShipmentStatus::Received));
    assert_eq!(h.view(&u[0]).custodian, m("distributor"));
    for id in [&u[1], &u[2], &u[3]] {
        assert_eq!(h.view(id).custodian, m("manufacturer"), "{id}");
        assert!(h.view(id).hold.is_some(), "{id}");
    }
}

#[test]
fn refusing_an_item_inside_a_refused_container() {
    let mut h = Harness::new();
    let u = h.commissioned(&["1", "2", "3"]);
    let (case, pallet) = (msscc(1), msscc(2));
    h.ok("manufacturer", pack(&case, &u[..2]));
    h.ok("manufacturer", pack(&pallet, &[cont(&case)]));
    h.ok(
        "manufacturer",
        ship("S1", "distributor", &[cont(&pallet), u[2].clone()]),
    );
    let (p, c) = (cont(&pallet), cont(&case));
    let not_accepted = |item: &ItemId, container: &ItemId| RuleError::ContainerNotAccepted {
        item: item.clone(),
        container: container.clone(),
    };
    // The pallet refused whole: nothing in it is refused on its own, in either order, and
    // whether rejected or missing.
    let cases: Vec<(Vec<ItemId>, Vec<ItemId>, RuleError)> = vec![
        (
            vec![p.clone(), u[0].clone()],
            vec![],
            not_accepted(&u[0], &p),
        ),
        (
            vec![u[0].clone(), p.clone()],
            vec![],
            not_accepted(&u[0], &p),
        ),
        (vec![p.clone()], vec![u[0].clone()], not_accepted(&u[0], &p)),
        (vec![p.clone()], vec![c.clone()], not_accepted(&c, &p)),
    ];
    for (rejected, missing, e) in cases {
        h.expect(
            "distributor",
            receive_accepting("S1", &u[2..], &rejected, &missing, &[], None),
            e,
        );
    }
    // The case refused out of the accepted pallet: its units go with it, in either order.
    let accepted = [p.clone(), u[2].clone()];
    for rejected in [[c.clone(), u[0].clone()], [u[0].clone(), c.clone()]] {
        h.expect(
            "distributor",
            receive_accepting("S1", &accepted, &rejected, &[], &[], None),
            not_accepted(&u[0], &c),
        );
    }
    h.expect(
        "distributor",
        receive_accepting(
            "S1",
            &accepted,
            std::slice::from_ref(&c),
            &u[..1],
            &[],
            None,
        ),
        not_accepted(&u[0], &c),
    );
    h.ok(
        "distributor",
        receive_accepting("S1", &accepted, std::slice::from_ref(&c), &[], &[], None),
    );
    assert_eq!(h.view(&u[0]).custodian, m("manufacturer"));
    assert_eq!(h.item(&u[0]).parent, Some(case));
}

// ---------------------------------------------------------------------------------------
// (h): bounded containers

#[test]
fn packing_into_a_container_inside_another() {
    let mut h = Harness::new();
    let u = h.commissioned(&["1", "2"]);
    let (case, pallet) = (msscc(1), msscc(2));
    h.ok("manufacturer", pack(&case, &u[..1]));
    h.ok("manufacturer", pack(&pallet, &[cont(&case)]));
    h.expect(
        "manufacturer",
        pack(&case, &u[1..]),
        RuleError::InsideContainer {
            item: cont(&case),
            parent: pallet.clone(),
        },
    );
    // Taken off the pallet, it takes contents again.
    h.ok("manufacturer", unpack(&pallet, &[cont(&case)]));
    h.ok("manufacturer", pack(&case, &u[1..]));
    assert_eq!(h.contents(&case).units, 2);
}

#[test]
fn too_many_lots_in_a_container() {
    let mut h = Harness::with_params(|p| p.max_container_lots = 2);
    for (l, serials) in [
        ("L1", &["a1", "a2", "a3"][..]),
        ("L2", &["b1", "b2"][..]),
        ("L3", &["c1"][..]),
    ] {
        h.ok("manufacturer", commission_of(gtin(), l, "301231", serials));
    }
    let (c1, c2, p) = (msscc(1), msscc(2), msscc(3));
    let too_many = |container: &Sscc| RuleError::TooManyLots {
        container: container.clone(),
        max: 2,
    };
    h.ok("manufacturer", pack(&c1, &[unit("a1"), unit("b1")]));
    // More units of a lot it holds: fine.
    h.ok("manufacturer", pack(&c1, &[unit("a2")]));
    h.expect("manufacturer", pack(&c1, &[unit("c1")]), too_many(&c1));
    // In one transaction, into a new container (which is then not created either).
    h.expect(
        "manufacturer",
        pack(&c2, &[unit("a3"), unit("b2"), unit("c1")]),
        too_many(&c2),
    );
    assert!(!h.state.items.contains_key(&cont(&c2)));
    // Through its contents' contents.
    h.ok("manufacturer", pack(&c2, &[unit("c1")]));
    h.expect(
        "manufacturer",
        pack(&p, &[cont(&c1), cont(&c2)]),
        too_many(&p),
    );
    let lots: Vec<(Lot, u64)> = h
        .contents(&c1)
        .lots
        .iter()
        .map(|l| (l.lot.clone(), l.units))
        .collect();
    assert_eq!(lots, vec![(lot("L1"), 2), (lot("L2"), 1)]);
}

#[test]
fn containers_nested_too_deep() {
    let mut h = Harness::with_params(|p| p.max_nesting = 2);
    let u = h.commissioned(&["1", "2"]);
    let (case, pallet, top) = (msscc(1), msscc(2), msscc(3));
    h.ok("manufacturer", pack(&case, &u[..1]));
    h.ok("manufacturer", pack(&pallet, &[cont(&case)]));
    assert_eq!(h.contents(&pallet).depth, 2);
    let too_deep = |container: &Sscc| RuleError::TooDeep {
        container: container.clone(),
        max: 2,
    };
    h.expect("manufacturer", pack(&top, &[cont(&pallet)]), too_deep(&top));
    // A container's depth never decreases (it bounds every walk up from a unit): emptied,
    // the pallet still counts two levels.
    h.ok("manufacturer", unpack(&pallet, &[cont(&case)]));
    assert_eq!(h.contents(&pallet).depth, 2);
    h.expect("manufacturer", pack(&top, &[cont(&pallet)]), too_deep(&top));
    // Two levels are allowed.
    h.ok("manufacturer", pack(&top, &[cont(&case)]));
    assert_eq!(h.eff(&u[0]).ancestors.len(), 2);
}
