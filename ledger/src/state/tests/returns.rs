//! Returns: a dispensed unit back to the pharmacy that dispensed it, and return shipments
//! back to a member that sold the items.

use super::*;

fn not_returnable(item: &ItemId, signer: &str, why: &str) -> RuleError {
    RuleError::NotReturnable {
        item: item.clone(),
        signer: m(signer),
        why: why.into(),
    }
}

/// Units 1..=n with the pharmacy (via the distributor).
fn at_pharmacy(h: &mut Harness, serials: &[&str]) -> Vec<ItemId> {
    let u = h.commissioned(serials);
    h.transfer("manufacturer", "distributor", "S1", &u);
    h.transfer("distributor", "pharmacy", "S2", &u);
    u
}

#[test]
fn dispensed_unit_returned_by_its_pharmacy() {
    let mut h = Harness::new();
    let u = at_pharmacy(&mut h, &["1"]);
    h.ok("pharmacy", decommission(&u, DecommissionReason::Dispensed));
    for who in ["distributor", "manufacturer"] {
        h.expect(
            who,
            ret(&u, "patient"),
            not_returnable(&u[0], who, "it was dispensed by pharmacy"),
        );
    }
    h.ok("pharmacy", ret(&u, "patient"));
    let s = h.item(&u[0]);
    assert_eq!(s.status, Status::Active);
    assert_eq!(s.custodian, m("pharmacy"));
    assert_eq!(s.hold.as_ref().unwrap().kind, StatusChange::Quarantine);
    assert_eq!(s.hold.as_ref().unwrap().reason, "returned: patient");
    assert_eq!(
        h.state.history(&u[0]).last().unwrap().action,
        Action::Returned {
            reason: "patient".into()
        }
    );
    // Returned stock is on hold until released.
    h.expect(
        "pharmacy",
        decommission(&u, DecommissionReason::Dispensed),
        RuleError::NotSellable {
            item: u[0].clone(),
            why: "quarantined (returned: patient)".into(),
            action: "dispensed",
        },
    );
    h.ok("pharmacy", set_status(&u, StatusChange::Release, "sealed"));
    h.ok("pharmacy", decommission(&u, DecommissionReason::Dispensed));
    // Only dispensed units come back that way.
    h.ok("pharmacy", ret(&u, "patient"));
    h.expect(
        "pharmacy",
        ret(&u, "again"),
        not_returnable(
            &u[0],
            "pharmacy",
            "it is active with pharmacy, neither dispensed by nor shipped back to the signer",
        ),
    );
    h.state.check_histories();
}

#[test]
fn return_shipment_to_original_seller() {
    let mut h = Harness::new();
    let u = at_pharmacy(&mut h, &["1", "2"]);
    h.ok("pharmacy", ship("R1", "distributor", &u));
    // Only the addressee takes it back.
    h.expect(
        "manufacturer",
        ret(&u[..1], "wrong order"),
        not_returnable(
            &u[0],
            "manufacturer",
            "it is in_transit with pharmacy, neither dispensed by nor shipped back to the signer",
        ),
    );
    // One at a time: the shipment stays open until everything is back.
    h.ok("distributor", ret(&u[..1], "wrong order"));
    assert_eq!(
        h.state.shipments[&sid("R1")].status,
        ShipmentStatus::InTransit
    );
    let s = h.item(&u[0]);
    assert_eq!(
        (s.custodian.clone(), s.status),
        (m("distributor"), Status::Active)
    );
    assert_eq!(s.transit, None);
    assert_eq!(s.hold.as_ref().unwrap().kind, StatusChange::Quarantine);
    h.expect(
        "distributor",
        ret(&u[..1], "again"),
        not_returnable(
            &u[0],
            "distributor",
            "it is active with distributor, neither dispensed by nor shipped back to the signer",
        ),
    );
    h.ok("distributor", ret(&u[1..], "wrong order"));
    let shipment = &h.state.shipments[&sid("R1")];
    assert_eq!(shipment.status, ShipmentStatus::Received);
    assert_eq!(shipment.receipt.as_ref().unwrap().accepted, 2);
    let r = h.receive("R1", &[], &[]);
    h.expect("distributor", r, RuleError::ShipmentClosed(sid("R1")));
    h.state.check_histories();
}

#[test]
fn return_shipment_to_a_member_that_never_held_the_items() {
    let mut h = Harness::new();
    let u = h.commissioned(&["1"]);
    h.transfer("manufacturer", "distributor", "S1", &u);
    h.ok("distributor", ship("S2", "pharmacy", &u));
    h.expect(
        "pharmacy",
        ret(&u, "return"),
        not_returnable(
            &u[0],
            "pharmacy",
            "pharmacy never held it (or not all it holds), so it is not a return of its sale",
        ),
    );
    let r = h.receive("S2", &[], &[]);
    h.ok("pharmacy", r);
}

#[test]
fn return_of_an_item_inside_a_returned_container() {
    let mut h = Harness::new();
    let u = h.commissioned(&["1"]);
    h.ok("manufacturer", pack(&msscc(1), &u));
    h.transfer("manufacturer", "distributor", "S1", &[cont(&msscc(1))]);
    h.ok(
        "distributor",
        ship("R1", "manufacturer", &[cont(&msscc(1))]),
    );
    // Return the container, which carries it.
    h.expect(
        "manufacturer",
        ret(&u, "damaged"),
        RuleError::InsideContainer {
            item: u[0].clone(),
            parent: msscc(1),
        },
    );
    let ch = h.ok("manufacturer", ret(&[cont(&msscc(1))], "damaged"));
    assert_eq!(ch.events.len(), 1);
    let v = h.view(&u[0]);
    assert_eq!(v.custodian, m("manufacturer"));
    assert_eq!(v.status, Status::Active);
    assert_eq!(v.parent, Some(msscc(1)));
    // Under the container's quarantine, without an event of its own: its story has the
    // container's return.
    assert_eq!(v.hold.as_ref().unwrap().kind, StatusChange::Quarantine);
    assert_eq!(
        h.state.history(&u[0]).last().unwrap().action,
        Action::Packed { into: msscc(1) }
    );
    let Some(StoryEntry::Event { via, event }) = h.state.story(&u[0]).last().cloned() else {
        panic!("no story")
    };
    assert_eq!(via, Some(msscc(1)));
    assert_eq!(
        event.action,
        Action::Returned {
            reason: "damaged".into()
        }
    );
    // The receipt counts top-level items and the units they carry, like a receive does.
    let receipt = h.state.shipments[&sid("R1")].receipt.clone().unwrap();
    assert_eq!((receipt.accepted, receipt.units), (1, 1));
}

#[test]
fn returned_container_must_not_carry_items_the_addressee_never_held() {
    let mut h = Harness::new();
    let u = h.commissioned(&["1", "2"]);
    // The distributor sold a case with unit 1 to the pharmacy; the manufacturer sold unit 2
    // to the pharmacy directly.
    h.ok("manufacturer", pack(&msscc(1), &u[..1]));
    h.transfer("manufacturer", "distributor", "S1", &[cont(&msscc(1))]);
    h.transfer("distributor", "pharmacy", "S2", &[cont(&msscc(1))]);
    h.transfer("manufacturer", "pharmacy", "S3", &u[1..]);
    // The pharmacy puts unit 2 into the case and sends it to the distributor.
    h.ok("pharmacy", pack(&msscc(1), &u[1..]));
    h.ok("pharmacy", ship("R1", "distributor", &[cont(&msscc(1))]));
    // Unit 2 was never the distributor's: this is no return of its sale (the case was
    // filled by the pharmacy, so not all it holds came the distributor's way).
    h.expect(
        "distributor",
        ret(&[cont(&msscc(1))], "return"),
        not_returnable(
            &cont(&msscc(1)),
            "distributor",
            "distributor never held it (or not all it holds), so it is not a return of its sale",
        ),
    );
    let r = h.receive("R1", &[], &[]);
    h.ok("distributor", r);
}

#[test]
fn dispensed_unit_inside_a_dispensed_case() {
    let mut h = Harness::new();
    let u = h.commissioned(&["1", "2"]);
    h.ok("manufacturer", pack(&msscc(1), &u));
    h.transfer("manufacturer", "pharmacy", "S1", &[cont(&msscc(1))]);
    h.ok(
        "pharmacy",
        decommission(&[cont(&msscc(1))], DecommissionReason::Dispensed),
    );
    assert_eq!(h.view(&u[0]).status, Status::Dispensed);
    assert_eq!(h.item(&u[0]).status, Status::Active);
    // A unit of a dispensed case cannot come back on its own: it would be active inside a
    // dispensed case.
    h.expect(
        "pharmacy",
        ret(&u[..1], "patient"),
        RuleError::InsideContainer {
            item: u[0].clone(),
            parent: msscc(1),
        },
    );
    h.ok("pharmacy", ret(&[cont(&msscc(1))], "patient"));
    for id in &u {
        assert_eq!(h.view(id).status, Status::Active);
        assert_eq!(h.item(id).parent, Some(msscc(1)));
    }
}
