//! Every rule: a transaction that breaks it is rejected with its precise reason and changes
//! nothing (the harness compares the whole state before and after each rejection).

use super::*;
use crate::transaction::TxError;

fn tx_err(e: TxError) -> ApplyError {
    ApplyError::Rule(RuleError::Tx(e))
}

// ---------------------------------------------------------------------------------------
// Stateless checks: signature, chain, form

#[test]
fn tampered_payload_fails_signature() {
    let mut h = Harness::new();
    let mut tx = h.sign("manufacturer", commission(&["1"]));
    tx.check_stateless(&h.genesis).unwrap();
    let Payload::Commission(c) = &mut tx.tx.payload else {
        unreachable!()
    };
    c.serials[0] = Serial::parse("2").unwrap();
    assert_eq!(
        tx.check_stateless(&h.genesis),
        Err(TxError::BadSignature(m("manufacturer")))
    );
    assert_eq!(
        h.reject_tx(&tx),
        tx_err(TxError::BadSignature(m("manufacturer")))
    );
}

#[test]
fn tampered_header_fields_fail_signature() {
    let h = Harness::new();
    let tx = h.sign("manufacturer", commission(&["1"]));
    let bad = TxError::BadSignature(m("manufacturer"));
    let mut t = tx.clone();
    t.tx.sequence = 2;
    assert_eq!(t.check_stateless(&h.genesis), Err(bad.clone()));
    let mut t = tx.clone();
    t.tx.event_time_ms += 1;
    assert_eq!(t.check_stateless(&h.genesis), Err(bad.clone()));
    let mut t = tx.clone();
    t.signature.0[0] ^= 1;
    assert_eq!(t.check_stateless(&h.genesis), Err(bad.clone()));
    // The signer field names whose key must verify: relabelling a distributor-signed
    // transaction as the manufacturer's fails.
    let mut t = h.sign("distributor", commission(&["1"]));
    t.tx.signer = m("manufacturer");
    assert_eq!(t.check_stateless(&h.genesis), Err(bad));
}

#[test]
fn signed_with_another_members_key() {
    let mut h = Harness::new();
    let tx = h
        .unsigned("manufacturer", commission(&["1"]))
        .sign(&h.keys["distributor"]);
    assert_eq!(
        h.reject_tx(&tx),
        tx_err(TxError::BadSignature(m("manufacturer")))
    );
}

#[test]
fn unknown_signer() {
    let mut h = Harness::new();
    let mut t = h.unsigned("manufacturer", commission(&["1"]));
    t.signer = m("mallory");
    let tx = t.sign(&h.keys["manufacturer"]);
    assert_eq!(
        h.reject_tx(&tx),
        tx_err(TxError::UnknownSigner(m("mallory")))
    );
    // apply alone refuses it too (it does not trust its caller for this).
    let ctx = h.next_ctx(&tx);
    assert_eq!(
        apply(&h.state, &h.genesis, &tx, &ctx),
        Err(tx_err(TxError::UnknownSigner(m("mallory"))))
    );
}

#[test]
fn other_chain_id() {
    let mut h = Harness::new();
    let mut t = h.unsigned("manufacturer", commission(&["1"]));
    t.chain_id = "other-chain".into();
    let tx = t.sign(&h.keys["manufacturer"]);
    assert_eq!(
        h.reject_tx(&tx),
        tx_err(TxError::WrongChain {
            expected: "test-chain".into(),
            found: "other-chain".into()
        })
    );
    // Relabelling a valid transaction with this chain's id breaks its signature.
    let mut g2 = h.genesis.clone();
    g2.chain_id = "other-chain".into();
    tx.check_stateless(&g2).unwrap();
    let mut relabelled = tx.clone();
    relabelled.tx.chain_id = "test-chain".into();
    assert_eq!(
        relabelled.check_stateless(&h.genesis),
        Err(TxError::BadSignature(m("manufacturer")))
    );
}

#[test]
fn replayed_transaction() {
    let mut h = Harness::new();
    let tx = h.sign("manufacturer", commission(&["1"]));
    h.run(&tx).unwrap();
    assert_eq!(
        h.reject_tx(&tx),
        ApplyError::Rule(RuleError::Sequence {
            member: m("manufacturer"),
            expected: 2,
            found: 1
        })
    );
    // Even a replay whose payload would be valid again is refused.
    let tx = h.sign("manufacturer", ship("S1", "distributor", &[unit("1")]));
    h.run(&tx).unwrap();
    let r = h.receive("S1", &[], &[]);
    h.ok("distributor", r);
    h.ok("distributor", ship("S3", "manufacturer", &[unit("1")]));
    let r = h.receive("S3", &[], &[]);
    h.ok("manufacturer", r);
    let e = h.reject_tx(&tx);
    assert_eq!(
        e,
        ApplyError::Rule(RuleError::Sequence {
            member: m("manufacturer"),
            expected: 4,
            found: 2
        })
    );
}

#[test]
fn sequence_gap_and_zero() {
    let mut h = Harness::new();
    let mut t = h.unsigned("manufacturer", commission(&["1"]));
    t.sequence = 2;
    let tx = t.sign(&h.keys["manufacturer"]);
    assert_eq!(
        h.reject_tx(&tx),
        ApplyError::Rule(RuleError::Sequence {
            member: m("manufacturer"),
            expected: 1,
            found: 2
        })
    );
    let mut t = h.unsigned("manufacturer", commission(&["1"]));
    t.sequence = 0;
    let tx = t.sign(&h.keys["manufacturer"]);
    assert_eq!(h.reject_tx(&tx), tx_err(TxError::ZeroSequence));
    // Sequences are per member.
    h.ok("manufacturer", commission(&["1"]));
    assert_eq!(h.next_seq("distributor"), 1);
}

#[test]
fn event_time_too_far_ahead() {
    let mut h = Harness::new();
    let ahead = h.genesis.params.max_event_ahead_ms;
    let mut t = h.unsigned("manufacturer", commission(&["1"]));
    t.event_time_ms = T0 + ahead + 1;
    let tx = t.sign(&h.keys["manufacturer"]);
    assert_eq!(
        h.reject_tx(&tx),
        ApplyError::Rule(RuleError::EventTimeAhead {
            event_ms: T0 + ahead + 1,
            block_ms: T0,
            max_ms: ahead
        })
    );
    let mut t = h.unsigned("manufacturer", commission(&["1"]));
    t.event_time_ms = T0 + ahead;
    h.run(&t.sign(&h.keys["manufacturer"])).unwrap();
}

#[test]
fn too_many_items() {
    let mut h = Harness::new();
    h.genesis.params.max_tx_items = 3;
    let e = h.reject("manufacturer", commission(&["1", "2", "3", "4"]));
    assert_eq!(e, tx_err(TxError::TooManyItems { count: 4, max: 3 }));
    h.ok("manufacturer", commission(&["1", "2", "3"]));
    // A pack names its parent too.
    let e = h.reject(
        "manufacturer",
        pack(&msscc(1), &[unit("1"), unit("2"), unit("3")]),
    );
    assert_eq!(e, tx_err(TxError::TooManyItems { count: 4, max: 3 }));
    let tx = h.unsigned("manufacturer", commission(&["5", "6", "7", "8"]));
    assert_eq!(
        tx.check_form(&h.genesis.params),
        Err(TxError::TooManyItems { count: 4, max: 3 })
    );
    // With the default limit.
    let h = Harness::new();
    let serials: Vec<String> = (0..=h.genesis.params.max_tx_items)
        .map(|i| i.to_string())
        .collect();
    let refs: Vec<&str> = serials.iter().map(String::as_str).collect();
    let tx = h.unsigned("manufacturer", commission(&refs));
    assert_eq!(
        tx.check_form(&h.genesis.params),
        Err(TxError::TooManyItems {
            count: 10_001,
            max: 10_000
        })
    );
}

#[test]
fn too_large() {
    let mut h = Harness::new();
    h.genesis.params.max_tx_bytes = 100;
    let tx = h.sign("manufacturer", commission(&["1", "2", "3", "4", "5", "6"]));
    let size = tx.encoded_len();
    assert_eq!(
        h.reject_tx(&tx),
        tx_err(TxError::TooLarge { size, max: 100 })
    );
}

#[test]
fn empty_lists() {
    let mut h = Harness::new();
    let u = h.commissioned(&["1"]);
    let cases: Vec<(Payload, &str)> = vec![
        (commission(&[]), "serials"),
        (pack(&msscc(1), &[]), "children"),
        (unpack(&msscc(1), &[]), "children"),
        (ship("S1", "distributor", &[]), "items"),
        (move_to(&[], M_GLN), "items"),
        (set_status(&[], StatusChange::Quarantine, "x"), "items"),
        (recall("R1", gtin(), &[]), "lots"),
        (decommission(&[], DecommissionReason::Destroyed), "items"),
        (ret(&[], "x"), "items"),
    ];
    for (p, field) in cases {
        assert_eq!(h.reject("manufacturer", p), tx_err(TxError::Empty(field)));
    }
    // An unpack names what comes out, a receipt what it accepts: an empty one accounts for
    // nothing.
    h.ok("manufacturer", pack(&msscc(1), &u));
    h.ok("manufacturer", unpack(&msscc(1), &u));
    assert_eq!(h.contents(&msscc(1)).children, 0);
    assert_eq!(h.item(&u[0]).parent, None);
    h.ok("manufacturer", ship("S1", "distributor", &u));
    h.expect(
        "distributor",
        receive_accepting("S1", &[], &[], &[], &[], None),
        RuleError::ShipmentIncomplete {
            shipment: sid("S1"),
            outstanding: 1,
            accounted: 0,
        },
    );
}

#[test]
fn duplicate_items_in_one_tx() {
    let mut h = Harness::new();
    let u = h.commissioned(&["1", "2"]);
    let dup = |id: &ItemId| TxError::Duplicate(id.to_string());
    let a = &u[0];
    let one = std::slice::from_ref(a);
    let two = [a.clone(), a.clone()];
    let cases: Vec<(Payload, TxError)> = vec![
        (commission(&["9", "9"]), TxError::Duplicate("9".into())),
        (pack(&msscc(1), &two), dup(a)),
        (unpack(&msscc(1), &two), dup(a)),
        (ship("S1", "distributor", &two), dup(a)),
        (move_to(&two, M_GLN), dup(a)),
        (set_status(&two, StatusChange::Quarantine, "x"), dup(a)),
        (
            recall("R1", gtin(), &["L1", "L1"]),
            TxError::Duplicate("L1".into()),
        ),
        (decommission(&two, DecommissionReason::Destroyed), dup(a)),
        (ret(&two, "x"), dup(a)),
        (receive_accepting("S1", &two, &[], &[], &[], None), dup(a)),
        (receive_accepting("S1", &[], &two, &[], &[], None), dup(a)),
        (receive_accepting("S1", &[], one, one, &[], None), dup(a)),
        (receive_accepting("S1", &[], one, &[], one, None), dup(a)),
        (receive_accepting("S1", one, one, &[], &[], None), dup(a)),
        (receive_accepting("S1", one, &[], one, &[], None), dup(a)),
    ];
    for (p, e) in cases {
        assert_eq!(h.reject("manufacturer", p), tx_err(e));
    }
}

#[test]
fn bad_text_fields() {
    let mut h = Harness::new();
    let u = h.commissioned(&["1"]);
    assert_eq!(
        h.reject(
            "manufacturer",
            set_status(&u, StatusChange::Quarantine, " ")
        ),
        tx_err(TxError::BadText {
            field: "reason",
            max: crate::transaction::MAX_TEXT
        })
    );
    assert_eq!(
        h.reject("manufacturer", ship(&"S".repeat(65), "distributor", &u)),
        tx_err(TxError::BadText {
            field: "shipment",
            max: crate::transaction::MAX_ID
        })
    );
}

// ---------------------------------------------------------------------------------------
// Commission and prefixes

#[test]
fn double_commission_across_txs() {
    let mut h = Harness::new();
    h.commissioned(&["1", "2"]);
    h.expect(
        "manufacturer",
        commission(&["3", "2"]),
        RuleError::AlreadyCommissioned {
            item: unit("2"),
            height: 1,
        },
    );
    // Another lot or expiry does not make it a new item.
    h.expect(
        "manufacturer",
        commission_of(gtin(), "L2", "291231", &["1"]),
        RuleError::AlreadyCommissioned {
            item: unit("1"),
            height: 1,
        },
    );
    // Not even after it was decommissioned: a serial exists once, forever.
    h.ok(
        "manufacturer",
        decommission(&[unit("1")], DecommissionReason::Destroyed),
    );
    h.expect(
        "manufacturer",
        commission(&["1"]),
        RuleError::AlreadyCommissioned {
            item: unit("1"),
            height: 1,
        },
    );
}

#[test]
fn double_commission_within_one_tx() {
    let mut h = Harness::new();
    assert_eq!(
        h.reject("manufacturer", commission(&["1", "2", "1"])),
        tx_err(TxError::Duplicate("1".into()))
    );
    // apply refuses it on its own as well, should a caller skip the form check.
    let tx = h.sign("manufacturer", commission(&["1", "2", "1"]));
    let ctx = h.next_ctx(&tx);
    assert_eq!(
        apply(&h.state, &h.genesis, &tx, &ctx),
        Err(ApplyError::Rule(RuleError::AlreadyCommissioned {
            item: unit("1"),
            height: ctx.height
        }))
    );
}

#[test]
fn commission_foreign_prefix() {
    let mut h = Harness::new();
    h.expect(
        "distributor",
        commission(&["1"]),
        RuleError::ForeignPrefix {
            id: "GTIN 10614141000019".into(),
            signer: m("distributor"),
            owner: Some(m("manufacturer")),
        },
    );
    h.expect(
        "pharmacy",
        commission(&["1"]),
        RuleError::ForeignPrefix {
            id: "GTIN 10614141000019".into(),
            signer: m("pharmacy"),
            owner: Some(m("manufacturer")),
        },
    );
    let nobodys = gtin_of("0614149", "00001");
    h.expect(
        "manufacturer",
        commission_of(nobodys.clone(), "L1", "301231", &["1"]),
        RuleError::ForeignPrefix {
            id: format!("GTIN {nobodys}"),
            signer: m("manufacturer"),
            owner: None,
        },
    );
    // The distributor commissions its own GTINs.
    h.ok(
        "distributor",
        commission_of(gtin_of("0614142", "00001"), "L1", "301231", &["1"]),
    );
}

#[test]
fn commission_at_foreign_location() {
    let mut h = Harness::new();
    let Payload::Commission(mut c) = commission(&["1"]) else {
        unreachable!()
    };
    c.location = Some(gln(D_GLN));
    h.expect(
        "manufacturer",
        Payload::Commission(c.clone()),
        RuleError::ForeignLocation {
            gln: gln(D_GLN),
            member: m("manufacturer"),
        },
    );
    c.location = Some(gln(M_GLN));
    h.ok("manufacturer", Payload::Commission(c));
    assert_eq!(h.item(&unit("1")).location, Some(gln(M_GLN)));
}

#[test]
fn pack_into_foreign_sscc() {
    let mut h = Harness::new();
    let u = h.commissioned(&["1"]);
    h.expect(
        "manufacturer",
        pack(&dsscc(1), &u),
        RuleError::ForeignPrefix {
            id: format!("SSCC {}", dsscc(1)),
            signer: m("manufacturer"),
            owner: Some(m("distributor")),
        },
    );
    let nobodys = sscc_of("0614149", 1);
    h.expect(
        "manufacturer",
        pack(&nobodys, &u),
        RuleError::ForeignPrefix {
            id: format!("SSCC {nobodys}"),
            signer: m("manufacturer"),
            owner: None,
        },
    );
    h.ok("manufacturer", pack(&msscc(1), &u));
    // A received container of another prefix may be refilled by its custodian.
    h.transfer("manufacturer", "distributor", "S1", &[cont(&msscc(1))]);
    h.ok("distributor", unpack(&msscc(1), &u));
    h.ok("distributor", pack(&msscc(1), &u));
}

// ---------------------------------------------------------------------------------------
// Custody

#[test]
fn wrong_custodian() {
    let mut h = Harness::new();
    let u = h.commissioned(&["1", "2"]);
    h.ok("manufacturer", pack(&msscc(1), &[u[1].clone()]));
    let not = |item: &ItemId, signer: &str| RuleError::NotCustodian {
        item: item.clone(),
        custodian: m("manufacturer"),
        signer: m(signer),
    };
    h.expect(
        "distributor",
        ship("S1", "pharmacy", &u[..1]),
        not(&u[0], "distributor"),
    );
    h.expect(
        "distributor",
        move_to(&u[..1], D_GLN),
        not(&u[0], "distributor"),
    );
    h.expect(
        "distributor",
        pack(&dsscc(1), &u[..1]),
        not(&u[0], "distributor"),
    );
    h.expect(
        "distributor",
        decommission(&u[..1], DecommissionReason::Destroyed),
        not(&u[0], "distributor"),
    );
    h.expect(
        "pharmacy",
        decommission(&u[..1], DecommissionReason::Dispensed),
        not(&u[0], "pharmacy"),
    );
    h.expect(
        "distributor",
        set_status(&u[..1], StatusChange::Quarantine, "x"),
        not(&u[0], "distributor"),
    );
    // Into or out of someone else's container.
    let c = cont(&msscc(1));
    h.expect(
        "distributor",
        unpack(&msscc(1), &u[1..]),
        not(&c, "distributor"),
    );
    h.transfer("manufacturer", "distributor", "S1", &u[..1]);
    h.expect(
        "distributor",
        pack(&msscc(1), &u[..1]),
        not(&c, "distributor"),
    );
    // After a transfer the old custodian has lost its rights.
    h.expect(
        "manufacturer",
        ship("S2", "pharmacy", &u[..1]),
        RuleError::NotCustodian {
            item: u[0].clone(),
            custodian: m("distributor"),
            signer: m("manufacturer"),
        },
    );
}

#[test]
fn unknown_items() {
    let mut h = Harness::new();
    let u = h.commissioned(&["1"]);
    let x = unit("404");
    let unknown = || RuleError::UnknownItem(unit("404"));
    h.expect(
        "manufacturer",
        ship("S1", "distributor", std::slice::from_ref(&x)),
        unknown(),
    );
    h.expect(
        "manufacturer",
        move_to(std::slice::from_ref(&x), M_GLN),
        unknown(),
    );
    h.expect(
        "manufacturer",
        pack(&msscc(1), std::slice::from_ref(&x)),
        unknown(),
    );
    h.expect(
        "manufacturer",
        pack(&msscc(1), &[u[0].clone(), x.clone()]),
        unknown(),
    );
    h.expect(
        "manufacturer",
        set_status(std::slice::from_ref(&x), StatusChange::Quarantine, "x"),
        unknown(),
    );
    h.expect(
        "manufacturer",
        decommission(std::slice::from_ref(&x), DecommissionReason::Destroyed),
        unknown(),
    );
    h.expect("pharmacy", ret(std::slice::from_ref(&x), "x"), unknown());
    h.expect(
        "manufacturer",
        unpack(&msscc(9), &u),
        RuleError::UnknownItem(cont(&msscc(9))),
    );
    h.expect(
        "manufacturer",
        ship("S1", "distributor", &[cont(&msscc(9))]),
        RuleError::UnknownItem(cont(&msscc(9))),
    );
}

// ---------------------------------------------------------------------------------------
// Shipping and receiving

#[test]
fn ship_checks() {
    let mut h = Harness::new();
    let u = h.commissioned(&["1", "2"]);
    h.expect(
        "manufacturer",
        ship("S1", "manufacturer", &u[..1]),
        RuleError::ShipToSelf(m("manufacturer")),
    );
    h.expect(
        "manufacturer",
        ship("S1", "nobody", &u[..1]),
        RuleError::UnknownMember(m("nobody")),
    );
    h.ok("manufacturer", ship("S1", "distributor", &u[..1]));
    h.expect(
        "manufacturer",
        ship("S1", "pharmacy", &u[1..]),
        RuleError::ShipmentExists(sid("S1")),
    );
}

#[test]
fn receive_by_wrong_member() {
    let mut h = Harness::new();
    let u = h.commissioned(&["1"]);
    h.ok("manufacturer", ship("S1", "distributor", &u));
    for who in ["pharmacy", "manufacturer", "regulator"] {
        h.expect(
            who,
            h.receive("S1", &[], &[]),
            RuleError::NotAddressee {
                shipment: sid("S1"),
                to: m("distributor"),
                signer: m(who),
            },
        );
    }
    h.expect(
        "distributor",
        h.receive("S9", &[], &[]),
        RuleError::UnknownShipment(sid("S9")),
    );
    let r = h.receive("S1", &[], &[]);
    h.ok("distributor", r);
}

#[test]
fn receive_twice() {
    let mut h = Harness::new();
    let u = h.commissioned(&["1", "2"]);
    h.ok("manufacturer", ship("S1", "distributor", &u));
    h.ok("distributor", h.receive("S1", &[u[1].clone()], &[]));
    h.expect(
        "distributor",
        h.receive("S1", &[], &[]),
        RuleError::ShipmentClosed(sid("S1")),
    );
}

#[test]
fn receive_receive_at_foreign_location() {
    let mut h = Harness::new();
    let u = h.commissioned(&["1"]);
    h.ok("manufacturer", ship("S1", "distributor", &u));
    h.expect(
        "distributor",
        h.receive_full("S1", &[], &[], &[], Some(P_GLN)),
        RuleError::ForeignLocation {
            gln: gln(P_GLN),
            member: m("distributor"),
        },
    );
    h.ok(
        "distributor",
        h.receive_full("S1", &[], &[], &[], Some(D_GLN)),
    );
    assert_eq!(h.item(&u[0]).location, Some(gln(D_GLN)));
}

#[test]
fn rejected_or_missing_item_not_in_shipment() {
    let mut h = Harness::new();
    let u = h.commissioned(&["1", "2", "3"]);
    h.ok("manufacturer", ship("S1", "distributor", &u[..2]));
    h.ok("manufacturer", ship("S2", "distributor", &u[2..]));
    let not = |id: &ItemId| RuleError::NotInShipment {
        item: id.clone(),
        shipment: sid("S1"),
    };
    // Exists but travels in another shipment.
    h.expect(
        "distributor",
        h.receive("S1", &[u[2].clone()], &[]),
        not(&u[2]),
    );
    h.expect(
        "distributor",
        h.receive_full("S1", &[], &[u[2].clone()], &[], None),
        not(&u[2]),
    );
    // Accepted, but travels in another shipment.
    h.expect(
        "distributor",
        receive_accepting("S1", &u, &[], &[], &[], None),
        not(&u[2]),
    );
    // Does not exist.
    h.expect(
        "distributor",
        h.receive("S1", &[unit("404")], &[]),
        RuleError::UnknownItem(unit("404")),
    );
    h.expect(
        "distributor",
        receive_accepting("S1", &[u[0].clone(), unit("404")], &[], &[], &[], None),
        RuleError::UnknownItem(unit("404")),
    );
}

#[test]
fn unexpected_item_that_was_shipped() {
    let mut h = Harness::new();
    let u = h.commissioned(&["1", "2"]);
    h.ok("manufacturer", pack(&msscc(1), &u[1..]));
    h.ok(
        "manufacturer",
        ship("S1", "distributor", &[u[0].clone(), cont(&msscc(1))]),
    );
    let not = |id: &ItemId| RuleError::NotUnexpected {
        item: id.clone(),
        shipment: sid("S1"),
    };
    h.expect(
        "distributor",
        h.receive("S1", &[], &[u[0].clone()]),
        not(&u[0]),
    );
    // Contents of a shipped case were shipped too.
    h.expect(
        "distributor",
        h.receive("S1", &[], &[u[1].clone()]),
        not(&u[1]),
    );
    h.ok("distributor", h.receive("S1", &[], &[unit("404")]));
}

#[test]
fn in_transit_items() {
    let mut h = Harness::new();
    let u = h.commissioned(&["1", "2"]);
    h.ok("manufacturer", pack(&msscc(1), &u[1..]));
    h.ok(
        "manufacturer",
        ship("S1", "distributor", &[u[0].clone(), cont(&msscc(1))]),
    );
    let transit = |id: &ItemId| RuleError::InTransit {
        item: id.clone(),
        shipment: sid("S1"),
    };
    let one = &u[..1];
    h.expect("manufacturer", ship("S2", "pharmacy", one), transit(&u[0]));
    h.expect("manufacturer", move_to(one, M_GLN), transit(&u[0]));
    h.expect("manufacturer", pack(&msscc(2), one), transit(&u[0]));
    h.expect(
        "manufacturer",
        pack(&msscc(1), one),
        transit(&cont(&msscc(1))),
    );
    h.expect(
        "manufacturer",
        unpack(&msscc(1), &u[1..]),
        transit(&cont(&msscc(1))),
    );
    h.expect(
        "manufacturer",
        decommission(one, DecommissionReason::Destroyed),
        transit(&u[0]),
    );
    // The addressee has no rights before receipt.
    h.expect(
        "distributor",
        ship("S2", "pharmacy", one),
        RuleError::NotCustodian {
            item: u[0].clone(),
            custodian: m("manufacturer"),
            signer: m("distributor"),
        },
    );
    // The unit in the case travels with it (its own state is as packed).
    assert_eq!(h.item(&u[1]).status, Status::Active);
    let v = h.view(&u[1]);
    assert_eq!(v.status, Status::InTransit);
    assert_eq!(v.transit.as_ref().unwrap().shipment, sid("S1"));
}

// ---------------------------------------------------------------------------------------
// Containers

#[test]
fn packing_cycles() {
    let mut h = Harness::new();
    let u = h.commissioned(&["1"]);
    let (a, b, p) = (msscc(1), msscc(2), msscc(3));
    h.ok("manufacturer", pack(&a, &u));
    h.ok("manufacturer", pack(&b, &[cont(&a)]));
    h.ok("manufacturer", pack(&p, &[cont(&b)]));
    let cycle = |child: &Sscc, parent: &Sscc| RuleError::PackingCycle {
        child: cont(child),
        parent: parent.clone(),
    };
    h.expect("manufacturer", pack(&p, &[cont(&p)]), cycle(&p, &p));
    // A container inside another takes no new contents (nor does its container take
    // itself from above), so no cycle can be built through one.
    h.expect(
        "manufacturer",
        pack(&a, &[cont(&p)]),
        RuleError::InsideContainer {
            item: cont(&a),
            parent: b.clone(),
        },
    );
    h.expect(
        "manufacturer",
        pack(&b, &[cont(&p)]),
        RuleError::InsideContainer {
            item: cont(&b),
            parent: p.clone(),
        },
    );
    // A new container cannot hold itself either (it is reported as the unknown child it
    // is, since it does not exist yet).
    let n = msscc(4);
    h.expect(
        "manufacturer",
        pack(&n, &[cont(&n)]),
        RuleError::UnknownItem(cont(&n)),
    );
    // Something already inside cannot be packed again.
    h.expect(
        "manufacturer",
        pack(&n, &[cont(&a)]),
        RuleError::InsideContainer {
            item: cont(&a),
            parent: b.clone(),
        },
    );
}

#[test]
fn acting_on_an_item_inside_a_container() {
    let mut h = Harness::new();
    let u = h.commissioned(&["1"]);
    let c = msscc(1);
    h.ok("manufacturer", pack(&c, &u));
    let inside = || RuleError::InsideContainer {
        item: unit("1"),
        parent: c.clone(),
    };
    h.expect("manufacturer", ship("S1", "distributor", &u), inside());
    h.expect("manufacturer", move_to(&u, M_GLN), inside());
    h.expect("manufacturer", pack(&msscc(2), &u), inside());
    h.expect(
        "manufacturer",
        decommission(&u, DecommissionReason::Destroyed),
        inside(),
    );
    h.expect(
        "manufacturer",
        unpack(&msscc(2), &u),
        RuleError::UnknownItem(cont(&msscc(2))),
    );
    // Through the container, or once unpacked: accepted.
    h.ok("manufacturer", move_to(&[cont(&c)], M_GLN));
    assert_eq!(h.item(&u[0]).location, None);
    assert_eq!(h.view(&u[0]).location, Some(gln(M_GLN)));
    h.ok("manufacturer", unpack(&c, &u));
    assert_eq!(h.item(&u[0]).location, Some(gln(M_GLN)));
    h.ok("manufacturer", pack(&msscc(2), &u));
}

#[test]
fn unpack_item_not_in_container() {
    let mut h = Harness::new();
    let u = h.commissioned(&["1", "2"]);
    h.ok("manufacturer", pack(&msscc(1), &u[..1]));
    h.expect(
        "manufacturer",
        unpack(&msscc(1), &u[1..]),
        RuleError::NotInContainer {
            item: u[1].clone(),
            parent: msscc(1),
        },
    );
}

// ---------------------------------------------------------------------------------------
// Decommissioned items

#[test]
fn decommissioned_items() {
    let mut h = Harness::new();
    let u = h.commissioned(&["1", "2"]);
    h.ok("manufacturer", pack(&msscc(1), &u[1..]));
    h.ok(
        "manufacturer",
        decommission(
            &[u[0].clone(), cont(&msscc(1))],
            DecommissionReason::Destroyed,
        ),
    );
    assert_eq!(h.view(&u[1]).status, Status::Destroyed);
    let gone = |id: &ItemId| RuleError::Decommissioned {
        item: id.clone(),
        status: Status::Destroyed,
    };
    let one = &u[..1];
    h.expect("manufacturer", ship("S1", "distributor", one), gone(&u[0]));
    h.expect("manufacturer", move_to(one, M_GLN), gone(&u[0]));
    h.expect("manufacturer", pack(&msscc(2), one), gone(&u[0]));
    h.expect(
        "manufacturer",
        decommission(one, DecommissionReason::Dispensed),
        gone(&u[0]),
    );
    h.expect(
        "manufacturer",
        set_status(one, StatusChange::Quarantine, "x"),
        gone(&u[0]),
    );
    h.ok("manufacturer", commission(&["3"]));
    h.expect(
        "manufacturer",
        pack(&msscc(1), &[unit("3")]),
        gone(&cont(&msscc(1))),
    );
    h.expect(
        "manufacturer",
        unpack(&msscc(1), &u[1..]),
        gone(&cont(&msscc(1))),
    );
    h.expect("pharmacy", ret(one, "x"), RuleError::NotReturnable {
        item: u[0].clone(),
        signer: m("pharmacy"),
        why: "it is destroyed with manufacturer, neither dispensed by nor shipped back to the signer".into(),
    });
}

// ---------------------------------------------------------------------------------------
// Holds, recalls, selling

#[test]
fn move_to_foreign_gln() {
    let mut h = Harness::new();
    let u = h.commissioned(&["1"]);
    h.expect(
        "manufacturer",
        move_to(&u, D_GLN),
        RuleError::ForeignLocation {
            gln: gln(D_GLN),
            member: m("manufacturer"),
        },
    );
    h.ok("manufacturer", move_to(&u, M_GLN));
    assert_eq!(h.item(&u[0]).location, Some(gln(M_GLN)));
}

#[test]
fn recall_permissions() {
    let mut h = Harness::new();
    let u = h.commissioned(&["1"]);
    for who in ["distributor", "pharmacy"] {
        h.expect(
            who,
            recall("R1", gtin(), &["L1"]),
            RuleError::NotAllowed {
                member: m(who),
                action: format!("recall GTIN {}: only its owner or a regulator may", gtin()),
            },
        );
    }
    // Only lots that exist can be recalled.
    h.expect(
        "manufacturer",
        recall("R1", gtin(), &["L1", "L2"]),
        RuleError::UnknownLot {
            gtin: gtin(),
            lot: Lot::parse("L2").unwrap(),
        },
    );
    h.ok(
        "manufacturer",
        commission_of(gtin(), "L2", "301231", &["l2-1"]),
    );
    let ch = h.ok("regulator", recall("R1", gtin(), &["L1"]));
    assert_eq!(ch.recalls["R1"].affected, 1);
    assert_eq!(ch.recalls["R1"].by, m("regulator"));
    // The recall marks the lot, not its units.
    assert!(ch.items.is_empty() && ch.events.is_empty());
    assert_eq!(h.lot("L1").recall.unwrap().recall_id, "R1");
    assert_eq!(h.eff(&u[0]).recall().unwrap().recall_id, "R1");
    assert_eq!(h.eff(&unit("l2-1")).recall(), None);
    h.expect(
        "manufacturer",
        recall("R1", gtin(), &["L2"]),
        RuleError::RecallExists("R1".into()),
    );
    h.expect(
        "manufacturer",
        recall("R2", gtin(), &["L2", "L1"]),
        RuleError::LotRecalled {
            gtin: gtin(),
            lot: Lot::parse("L1").unwrap(),
            recall_id: "R1".into(),
        },
    );
    h.expect(
        "manufacturer",
        commission(&["2"]),
        RuleError::LotRecalled {
            gtin: gtin(),
            lot: Lot::parse("L1").unwrap(),
            recall_id: "R1".into(),
        },
    );
    h.ok("manufacturer", recall("R2", gtin(), &["L2"]));
}

#[test]
fn recalled_unit_may_only_travel_back() {
    let mut h = Harness::new();
    let u = h.commissioned(&["1", "2", "3"]);
    h.transfer("manufacturer", "distributor", "S1", &u);
    h.transfer("distributor", "pharmacy", "S2", &u[..1]);
    h.ok("manufacturer", recall("R1", gtin(), &["L1"]));
    let why = "under recall R1".to_string();
    // Onward: refused.
    h.expect(
        "distributor",
        ship("S3", "pharmacy", &u[1..2]),
        RuleError::Restricted {
            item: u[1].clone(),
            why: why.clone(),
            to: m("pharmacy"),
        },
    );
    // Also when hidden in a case: the case's summary holds a recalled lot.
    h.ok("distributor", pack(&dsscc(1), &u[1..2]));
    h.expect(
        "distributor",
        ship("S3", "pharmacy", &[cont(&dsscc(1))]),
        RuleError::Restricted {
            item: cont(&dsscc(1)),
            why: format!("holding units of lot L1 of GTIN {} under recall R1", gtin()),
            to: m("pharmacy"),
        },
    );
    // Back to the GTIN owner (in a case): accepted.
    h.ok(
        "distributor",
        ship("S3", "manufacturer", &[cont(&dsscc(1))]),
    );
    // Back to a previous custodian that is not the owner: accepted.
    h.ok("pharmacy", ship("S4", "distributor", &u[..1]));
    let r = h.receive("S4", &[], &[]);
    h.ok("distributor", r);
    // Sideways to a member that never held it: refused.
    h.expect(
        "distributor",
        ship("S5", "regulator", &u[2..3]),
        RuleError::Restricted {
            item: u[2].clone(),
            why,
            to: m("regulator"),
        },
    );
}

#[test]
fn quarantined_unit_may_only_travel_back() {
    let mut h = Harness::new();
    let u = h.commissioned(&["1"]);
    h.transfer("manufacturer", "distributor", "S1", &u);
    h.ok(
        "distributor",
        set_status(&u, StatusChange::Damaged, "crushed"),
    );
    h.expect(
        "distributor",
        ship("S2", "pharmacy", &u),
        RuleError::Restricted {
            item: u[0].clone(),
            why: "damaged (crushed)".into(),
            to: m("pharmacy"),
        },
    );
    h.ok(
        "distributor",
        set_status(&u, StatusChange::Release, "inspected"),
    );
    assert_eq!(h.item(&u[0]).hold, None);
    h.ok("distributor", ship("S2", "pharmacy", &u));
}

#[test]
fn regulator_sets_status_on_anything_others_only_on_their_own() {
    let mut h = Harness::new();
    let u = h.commissioned(&["1"]);
    h.ok(
        "regulator",
        set_status(&u, StatusChange::Suspect, "tip-off"),
    );
    assert_eq!(
        h.item(&u[0]).hold.as_ref().unwrap().kind,
        StatusChange::Suspect
    );
    assert_eq!(h.item(&u[0]).custodian, m("manufacturer"));
}

#[test]
fn dispensing_a_unit_that_is_not_sellable() {
    let mut h = Harness::new();
    // Made before lot OLD expired, sold after.
    h.now = T0 - 400 * DAY_MS;
    let u = h.commissioned(&["1", "2", "3", "4"]);
    h.ok(
        "manufacturer",
        commission_of(gtin(), "OLD", "230101", &["old"]),
    );
    h.now = T0;
    let old = unit("old");
    let case = msscc(1);
    h.ok("manufacturer", pack(&case, &[u[1].clone(), u[0].clone()]));
    h.transfer(
        "manufacturer",
        "pharmacy",
        "S1",
        &[cont(&case), u[2].clone(), u[3].clone(), old.clone()],
    );
    h.ok(
        "pharmacy",
        set_status(&u[..1], StatusChange::Quarantine, "check"),
    );
    let dispense = |ids: &[ItemId]| decommission(ids, DecommissionReason::Dispensed);
    let quarantined = |action| RuleError::NotSellable {
        item: u[0].clone(),
        why: "quarantined (check)".into(),
        action,
    };
    // Through its case, which counts the items on hold inside it.
    assert_eq!(h.contents(&case).held, 1);
    h.expect(
        "pharmacy",
        dispense(&[cont(&case)]),
        RuleError::NotSellable {
            item: cont(&case),
            why: "holding 1 items on hold".into(),
            action: "dispensed",
        },
    );
    h.ok("pharmacy", unpack(&case, &u[..1]));
    h.expect("pharmacy", dispense(&u[..1]), quarantined("dispensed"));
    h.expect(
        "pharmacy",
        decommission(&u[..1], DecommissionReason::Exported),
        quarantined("exported"),
    );
    h.expect(
        "pharmacy",
        dispense(std::slice::from_ref(&old)),
        RuleError::NotSellable {
            item: old.clone(),
            why: "expired on 2023-01-01".into(),
            action: "dispensed",
        },
    );
    // A good unit listed with a bad one: the whole transaction is refused.
    h.expect(
        "pharmacy",
        dispense(&[u[3].clone(), old.clone()]),
        RuleError::NotSellable {
            item: old.clone(),
            why: "expired on 2023-01-01".into(),
            action: "dispensed",
        },
    );
    h.ok("manufacturer", recall("R1", gtin(), &["L1"]));
    h.expect(
        "pharmacy",
        dispense(&u[2..3]),
        RuleError::NotSellable {
            item: u[2].clone(),
            why: "under recall R1".into(),
            action: "dispensed",
        },
    );
    // Destroying is always possible.
    h.ok(
        "pharmacy",
        decommission(
            &[old, u[2].clone(), u[0].clone()],
            DecommissionReason::Destroyed,
        ),
    );
}
