//! Provenance bundles end to end (issues 6 and 10): a unit with a long history (commission,
//! pack, ship, receive, move, unpack, ship, receive, quarantine, release, dispense, return)
//! made through a four-validator cluster, and a unit deep in a pallet (in a case on the
//! pallet, shipped, received and moved as a whole) whose lot is then recalled; their
//! bundles, their containers' and another unit's, built by every node, verify offline
//! against the genesis alone, prove the node's item state and tell the story through the
//! containers (the pallet's shipment is the deep unit's, with no event of its own). A
//! never-commissioned serial's bundle proves its absence; forged absence and forged
//! presence fail. Flipping any byte of a real bundle file fails verification, and every
//! structural forgery (another item's event, a dropped or reordered event, a missing
//! transaction, container or lot, an extra transaction, a container's state or the lot's
//! recall altered, a certificate one signature short or signed by a non-validator, a state
//! proof for another root, a header of another height) fails at the check named by its
//! `BundleError` variant.
//!
//! `CUSTODY_TAMPER_ALL=1` flips every byte of the bundle instead of a sample, and
//! `CUSTODY_TAMPER_BITS=8` every bit of each byte flipped (see [`positions`]); both are
//! meant for optimised builds (`cargo test --release`).

// Test code: a panic is a failed test with its location.
#![allow(clippy::unwrap_used)]

mod common;

use common::{manufacturer_sscc, Cluster, DISTRIBUTOR_GLNS, GTIN, MANUFACTURER_GLNS, N};
use custody_consensus::{CommitSignature, Signer as _};
use custody_ledger::genesis::{Genesis, MemberId};
use custody_ledger::gs1::Lot;
use custody_ledger::gs1::{Gln, Gtin, ItemId, Serial, Sgtin, Sscc};
use custody_ledger::proof::{
    verify_bundle, verify_bundle_bytes, BundleError, BundleFormatError, CertifiedHeader,
    ProofBundle,
};
use custody_ledger::state::story::StoryEntry;
use custody_ledger::state::{Action, ItemState, Status};
use custody_ledger::transaction::{
    Decommission, DecommissionReason, Move, Pack, Payload, Recall, Receive, Return, SetStatus,
    Ship, ShipmentId, StatusChange, Unpack,
};
use custody_node::provenance;
use ed25519_dalek::SigningKey;
use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Instant;

/// What one node hands out for the fixture's items, with its own item states.
struct NodeBundles {
    unit: ProofBundle,
    case: ProofBundle,
    twin: ProofBundle,
    absent: ProofBundle,
    deep: ProofBundle,
    unit_state: ItemState,
    case_state: ItemState,
    twin_state: ItemState,
    /// The deep unit as the node shows it (through its containers).
    deep_state: ItemState,
}

/// The history made once through the cluster, then the cluster is shut down.
struct Fixture {
    genesis: Genesis,
    unit: ItemId,
    case: Sscc,
    twin: ItemId,
    absent: ItemId,
    /// A unit in `inner`, a case on `pallet`.
    deep: ItemId,
    inner: Sscc,
    pallet: Sscc,
    /// Bundles from each validator.
    nodes: Vec<NodeBundles>,
    /// The unit's bundle from validator 0 just after the pharmacy received it.
    older_unit: ProofBundle,
    /// The certified header of a block in which neither the unit nor its case has an
    /// event (the manufacturer moved a third unit).
    aside: CertifiedHeader,
    /// Wall time to build the history.
    build_secs: f64,
}

fn unit_id(serial: &str) -> ItemId {
    ItemId::Sgtin(Sgtin {
        gtin: Gtin::parse(GTIN).unwrap(),
        serial: Serial::parse(serial).unwrap(),
    })
}

fn gln(s: &str) -> Gln {
    Gln::parse(s).unwrap()
}

fn shipment(s: &str) -> ShipmentId {
    ShipmentId(s.into())
}

const QUARANTINE_REASON: &str = "temperature excursion reported";
const RELEASE_REASON: &str = "excursion within the label's limits";
const RETURN_REASON: &str = "patient returned it unopened";
const RECALL_ID: &str = "RC-1";

/// A story entry as (action, custodian, via) for comparison; the lot's recall as a
/// `Recalled`-like line.
fn line(e: &StoryEntry) -> (String, String, Option<Sscc>) {
    match e {
        StoryEntry::Event { via, event } => (
            format!("{:?}", event.action),
            event.custodian.0.clone(),
            via.clone(),
        ),
        StoryEntry::Recall(r) => (format!("recall {}", r.recall_id), r.by.0.clone(), None),
    }
}

fn act(a: Action) -> String {
    format!("{a:?}")
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(build_fixture)
}

fn build_fixture() -> Fixture {
    let start = Instant::now();
    let mut c = Cluster::supply_chain("provenance-test");
    let unit = unit_id("U1");
    let twin = unit_id("U2");
    let third = unit_id("U3");
    let absent = unit_id("NEVER-COMMISSIONED");
    let deep = unit_id("D1");
    let case = manufacturer_sscc(1);
    let case_id = ItemId::Sscc(case.clone());
    let inner = manufacturer_sscc(2);
    let pallet = manufacturer_sscc(3);

    c.submit_committed(
        "manufacturer",
        common::commission_payload(
            &["U1".into(), "U2".into(), "U3".into(), "D1".into()],
            Some(MANUFACTURER_GLNS[0]),
        ),
    );
    c.submit_committed(
        "manufacturer",
        Payload::Pack(Pack {
            parent: case.clone(),
            children: vec![unit.clone(), twin.clone()],
        }),
    );
    let aside_tx = c.submit_committed(
        "manufacturer",
        Payload::Move(Move {
            items: vec![third.clone()],
            to: gln(MANUFACTURER_GLNS[1]),
        }),
    );
    // Two of the steps share their block with other transactions, so that their inclusion
    // proofs are not trivial.
    let filler = |n: usize| {
        let serials: Vec<String> = (0..3).map(|i| format!("F{n}-{i}")).collect();
        ("manufacturer", common::commission_payload(&serials, None))
    };
    c.submit_together(vec![
        filler(1),
        (
            "manufacturer",
            Payload::Ship(Ship {
                shipment: shipment("SH-1"),
                to: "distributor".into(),
                items: vec![case_id.clone()],
            }),
        ),
        filler(2),
    ]);
    c.submit_committed(
        "distributor",
        Payload::Receive(Receive {
            shipment: shipment("SH-1"),
            accepted: vec![case_id.clone()],
            rejected: vec![],
            missing: vec![],
            unexpected: vec![],
            location: Some(gln(DISTRIBUTOR_GLNS[0])),
            note: String::new(),
        }),
    );
    c.submit_committed(
        "distributor",
        Payload::Move(Move {
            items: vec![case_id.clone()],
            to: gln(DISTRIBUTOR_GLNS[1]),
        }),
    );
    c.submit_committed(
        "distributor",
        Payload::Unpack(Unpack {
            parent: case.clone(),
            children: vec![unit.clone(), twin.clone()],
        }),
    );
    c.submit_committed(
        "distributor",
        Payload::Ship(Ship {
            shipment: shipment("SH-2"),
            to: "pharmacy".into(),
            items: vec![unit.clone()],
        }),
    );
    c.submit_together(vec![
        filler(3),
        filler(4),
        (
            "pharmacy",
            Payload::Receive(Receive {
                shipment: shipment("SH-2"),
                accepted: vec![unit.clone()],
                rejected: vec![],
                missing: vec![],
                unexpected: vec![],
                location: Some(gln(common::PHARMACY_GLN)),
                note: "all present".into(),
            }),
        ),
    ]);
    let older_unit = provenance::bundle(c.node(0).store(), &c.genesis, &unit).unwrap();
    c.submit_committed(
        "pharmacy",
        Payload::SetStatus(SetStatus {
            items: vec![unit.clone()],
            status: StatusChange::Quarantine,
            reason: QUARANTINE_REASON.into(),
        }),
    );
    c.submit_committed(
        "pharmacy",
        Payload::SetStatus(SetStatus {
            items: vec![unit.clone()],
            status: StatusChange::Release,
            reason: RELEASE_REASON.into(),
        }),
    );
    c.submit_committed(
        "pharmacy",
        Payload::Decommission(Decommission {
            items: vec![unit.clone()],
            reason: DecommissionReason::Dispensed,
        }),
    );
    c.submit_committed(
        "pharmacy",
        Payload::Return(Return {
            items: vec![unit.clone()],
            reason: RETURN_REASON.into(),
        }),
    );
    // The deep unit: in a case on a pallet that travels as a whole; then its lot (the lot
    // of every unit here) is recalled.
    c.submit_committed(
        "manufacturer",
        Payload::Pack(Pack {
            parent: inner.clone(),
            children: vec![deep.clone()],
        }),
    );
    c.submit_committed(
        "manufacturer",
        Payload::Pack(Pack {
            parent: pallet.clone(),
            children: vec![ItemId::Sscc(inner.clone())],
        }),
    );
    c.submit_committed(
        "manufacturer",
        Payload::Ship(Ship {
            shipment: shipment("SH-3"),
            to: "distributor".into(),
            items: vec![ItemId::Sscc(pallet.clone())],
        }),
    );
    c.submit_committed(
        "distributor",
        Payload::Receive(Receive {
            shipment: shipment("SH-3"),
            accepted: vec![ItemId::Sscc(pallet.clone())],
            rejected: vec![],
            missing: vec![],
            unexpected: vec![],
            location: Some(gln(DISTRIBUTOR_GLNS[0])),
            note: String::new(),
        }),
    );
    c.submit_committed(
        "distributor",
        Payload::Move(Move {
            items: vec![ItemId::Sscc(pallet.clone())],
            to: gln(DISTRIBUTOR_GLNS[1]),
        }),
    );
    c.submit_committed(
        "manufacturer",
        Payload::Recall(Recall {
            recall_id: RECALL_ID.into(),
            gtin: Gtin::parse(GTIN).unwrap(),
            lots: vec![Lot::parse("L1").unwrap()],
            reason: "sterility not assured".into(),
        }),
    );
    c.assert_same_chain(&[0, 1, 2, 3]);

    let store0 = c.node(0).store();
    let (aside_height, _) = store0.tx_location(&aside_tx).unwrap().unwrap();
    let aside = CertifiedHeader {
        header: store0.header(aside_height).unwrap().unwrap(),
        certificate: store0.certificate(aside_height).unwrap().unwrap(),
    };
    let nodes = (0..N)
        .map(|i| {
            let store = c.node(i).store();
            let b = |id: &ItemId| provenance::bundle(store, &c.genesis, id).unwrap();
            let s = |id: &ItemId| store.item(id).unwrap().unwrap();
            NodeBundles {
                unit: b(&unit),
                case: b(&case_id),
                twin: b(&twin),
                absent: b(&absent),
                deep: b(&deep),
                unit_state: s(&unit),
                case_state: s(&case_id),
                twin_state: s(&twin),
                deep_state: store.effective(&deep).unwrap().unwrap().state(),
            }
        })
        .collect();
    let genesis = (*c.genesis).clone();
    c.shutdown();
    Fixture {
        genesis,
        unit,
        case,
        twin,
        absent,
        deep,
        inner,
        pallet,
        nodes,
        older_unit,
        aside,
        build_secs: start.elapsed().as_secs_f64(),
    }
}

/// Verifies through the file bytes, as a regulator would.
fn verify(g: &Genesis, b: &ProofBundle) -> Result<custody_ledger::proof::Provenance, BundleError> {
    verify_bundle_bytes(g, &b.to_bytes())
}

fn fails(g: &Genesis, b: &ProofBundle) -> BundleError {
    match verify(g, b) {
        Ok(p) => panic!("a tampered bundle verified: {p:?}"),
        Err(e) => e,
    }
}

#[test]
fn long_history_bundles_from_every_node_verify_and_prove_the_nodes_state() {
    let f = fixture();
    println!("history built through the cluster in {:.1} s", f.build_secs);
    let g = &f.genesis;
    let case_id = ItemId::Sscc(f.case.clone());
    let mut stories = Vec::new();
    for (i, n) in f.nodes.iter().enumerate() {
        for (id, bundle, state) in [
            (&f.unit, &n.unit, &n.unit_state),
            (&case_id, &n.case, &n.case_state),
            (&f.twin, &n.twin, &n.twin_state),
            (&f.deep, &n.deep, &n.deep_state),
        ] {
            let bytes = bundle.to_bytes();
            assert_eq!(&ProofBundle::from_bytes(&bytes).unwrap(), bundle);
            let p = verify_bundle_bytes(g, &bytes)
                .unwrap_or_else(|e| panic!("validator {i}'s bundle of {id} fails: {e}"));
            assert_eq!(&p.item, id);
            assert_eq!(p.state.as_ref(), Some(state), "validator {i}, {id}");
            assert_eq!(bundle.events.len(), state.event_count as usize);
            // Its own events are all in its story, in order.
            let own: Vec<_> = p
                .story
                .iter()
                .filter_map(|e| match e {
                    StoryEntry::Event { via: None, event } => Some(event),
                    _ => None,
                })
                .collect();
            assert_eq!(own, bundle.events.iter().collect::<Vec<_>>());
            for w in p.story.windows(2) {
                assert!(w[0].position() <= w[1].position(), "story out of order");
            }
        }
        stories.push(verify(g, &n.unit).unwrap());
    }
    // Every node proves the same story and state of the unit.
    for s in &stories[1..] {
        assert_eq!(s.state, stories[0].state);
        assert_eq!(s.story, stories[0].story);
    }

    // The unit's story: its own events and its case's while it was inside, then the recall.
    let unit = &stories[0];
    let story: Vec<_> = unit.story.iter().map(line).collect();
    let case = Some(f.case.clone());
    let m = "manufacturer".to_string();
    let d = "distributor".to_string();
    let ph = "pharmacy".to_string();
    let expected = vec![
        (act(Action::Commissioned), m.clone(), None),
        (
            act(Action::Packed {
                into: f.case.clone(),
            }),
            m.clone(),
            None,
        ),
        (
            act(Action::Shipped {
                shipment: shipment("SH-1"),
                to: "distributor".into(),
            }),
            m.clone(),
            case.clone(),
        ),
        (
            act(Action::Received {
                shipment: shipment("SH-1"),
            }),
            d.clone(),
            case.clone(),
        ),
        (
            act(Action::Moved {
                to: gln(DISTRIBUTOR_GLNS[1]),
            }),
            d.clone(),
            case.clone(),
        ),
        (
            act(Action::Unpacked {
                from: f.case.clone(),
            }),
            d.clone(),
            None,
        ),
        (
            act(Action::Shipped {
                shipment: shipment("SH-2"),
                to: "pharmacy".into(),
            }),
            d.clone(),
            None,
        ),
        (
            act(Action::Received {
                shipment: shipment("SH-2"),
            }),
            ph.clone(),
            None,
        ),
        (
            act(Action::StatusSet {
                change: StatusChange::Quarantine,
                reason: QUARANTINE_REASON.into(),
            }),
            ph.clone(),
            None,
        ),
        (
            act(Action::StatusSet {
                change: StatusChange::Release,
                reason: RELEASE_REASON.into(),
            }),
            ph.clone(),
            None,
        ),
        (
            act(Action::Decommissioned {
                reason: DecommissionReason::Dispensed,
            }),
            ph.clone(),
            None,
        ),
        (
            act(Action::Returned {
                reason: RETURN_REASON.into(),
            }),
            ph.clone(),
            None,
        ),
        (format!("recall {RECALL_ID}"), m.clone(), None),
    ];
    assert_eq!(story, expected);
    let statuses: Vec<Status> = unit
        .story
        .iter()
        .filter_map(|e| match e {
            StoryEntry::Event { event, .. } => Some(event.status),
            _ => None,
        })
        .collect();
    assert_eq!(statuses[2], Status::InTransit);
    assert_eq!(statuses[10], Status::Dispensed);
    assert_eq!(statuses[11], Status::Active);
    let state = unit.state.as_ref().unwrap();
    assert_eq!(
        state.route,
        ["manufacturer", "distributor", "pharmacy"].map(MemberId::from)
    );
    assert_eq!(
        state.hold.as_ref().map(|h| h.kind),
        Some(StatusChange::Quarantine)
    );
    assert_eq!(state.location, Some(gln(common::PHARMACY_GLN)));
    assert_eq!(unit.recall.as_deref(), Some(RECALL_ID));
}

#[test]
fn a_unit_deep_in_a_pallet_is_proven_where_the_pallet_is_under_its_lots_recall() {
    let f = fixture();
    let g = &f.genesis;
    let n = &f.nodes[0];
    let p = verify(g, &n.deep).unwrap();
    let state = p.state.as_ref().unwrap();
    // Where the pallet is, with whoever holds it, though the unit has no event of that.
    assert_eq!(state.custodian, MemberId::from("distributor"));
    assert_eq!(state.location, Some(gln(DISTRIBUTOR_GLNS[1])));
    assert_eq!(state.status, Status::Active);
    assert_eq!(state.parent, Some(f.inner.clone()));
    assert_eq!(
        p.containers,
        vec![
            ItemId::Sscc(f.inner.clone()),
            ItemId::Sscc(f.pallet.clone())
        ]
    );
    assert_eq!(p.recall.as_deref(), Some(RECALL_ID));
    assert_eq!(
        n.deep.events.len(),
        2,
        "commissioned and packed: nothing else of its own"
    );
    assert_eq!(n.deep.containers.len(), 2);
    let story: Vec<_> = p.story.iter().map(line).collect();
    let m = "manufacturer".to_string();
    let d = "distributor".to_string();
    let (inner, pallet) = (Some(f.inner.clone()), Some(f.pallet.clone()));
    assert_eq!(
        story,
        vec![
            (act(Action::Commissioned), m.clone(), None),
            (
                act(Action::Packed {
                    into: f.inner.clone()
                }),
                m.clone(),
                None
            ),
            (
                act(Action::Packed {
                    into: f.pallet.clone()
                }),
                m.clone(),
                inner
            ),
            (
                act(Action::Shipped {
                    shipment: shipment("SH-3"),
                    to: "distributor".into()
                }),
                m.clone(),
                pallet.clone()
            ),
            (
                act(Action::Received {
                    shipment: shipment("SH-3")
                }),
                d.clone(),
                pallet.clone()
            ),
            (
                act(Action::Moved {
                    to: gln(DISTRIBUTOR_GLNS[1])
                }),
                d.clone(),
                pallet
            ),
            (format!("recall {RECALL_ID}"), m.clone(), None),
        ]
    );

    // Without the pallet's history, or the case's, or the lot: refused by name.
    let mut b = n.deep.clone();
    b.containers
        .retain(|c| c.state.id != ItemId::Sscc(f.pallet.clone()));
    let e = fails(g, &b);
    assert!(
        matches!(&e, BundleError::Story(m) if m.contains("lacks the history")),
        "{e}"
    );
    let mut b = n.deep.clone();
    b.lot = None;
    let e = fails(g, &b);
    assert!(
        matches!(&e, BundleError::Story(m) if m.contains("lacks the unit's lot")),
        "{e}"
    );
    // The recall hidden: the lot record no longer is the one the root holds.
    let mut b = n.deep.clone();
    if let Some(l) = &mut b.lot {
        l.record.recall = None;
    }
    let e = fails(g, &b);
    assert!(
        matches!(&e, BundleError::State(m) if m.contains("not the one")),
        "{e}"
    );
    // The pallet said to be elsewhere: its state no longer is the proven one.
    let mut b = n.deep.clone();
    let k = b
        .containers
        .iter()
        .position(|c| c.state.id == ItemId::Sscc(f.pallet.clone()))
        .unwrap();
    b.containers[k].state.location = Some(gln(DISTRIBUTOR_GLNS[0]));
    let e = fails(g, &b);
    assert!(
        matches!(&e, BundleError::State(m) if m.contains("not the one")),
        "{e}"
    );
    // One of the pallet's events dropped (its move): the chain no longer ends at its state.
    let mut b = n.deep.clone();
    b.containers[k].events.pop();
    let e = fails(g, &b);
    assert!(
        matches!(&e, BundleError::History(m) if m.contains("the state says")),
        "{e}"
    );
    // A container the story does not pass through, added.
    let mut b = n.deep.clone();
    let case = n.unit.containers[0].clone();
    b.containers.push(case);
    b.containers.sort_by(|a, b| a.state.id.cmp(&b.state.id));
    let e = fails(g, &b);
    assert!(matches!(&e, BundleError::Story(_)), "{e}");
}

#[test]
fn never_commissioned_serial_proves_absent_and_forgeries_fail() {
    let f = fixture();
    let g = &f.genesis;
    for n in &f.nodes {
        let p = verify(g, &n.absent).unwrap();
        assert_eq!(p.item, f.absent);
        assert_eq!(p.state, None);
        assert!(p.story.is_empty());
        assert_eq!(p.height, n.unit.state.height);
    }
    let n = &f.nodes[0];
    let strip = |b: &mut ProofBundle| {
        b.state.state = None;
        b.events.clear();
        b.containers.clear();
        b.lot = None;
        b.transactions.clear();
    };

    // "Never commissioned" for a commissioned unit: its state and story dropped.
    let mut forged = n.unit.clone();
    strip(&mut forged);
    let e = fails(g, &forged);
    assert!(
        matches!(&e, BundleError::State(m) if m.contains("the state root holds it")),
        "{e}"
    );

    // The same with the unit's head header kept but every other header dropped.
    let mut forged = n.unit.clone();
    strip(&mut forged);
    forged
        .headers
        .retain(|h| h.header.height == forged.state.height);
    assert!(matches!(fails(g, &forged), BundleError::State(_)));

    // And the reverse: the absent serial with a made-up state (the unit's, renamed).
    let mut fabricated = n.absent.clone();
    let mut state = n.unit_state.clone();
    state.id = f.absent.clone();
    fabricated.state.state = Some(state);
    let e = fails(g, &fabricated);
    assert!(
        matches!(&e, BundleError::State(m) if m.contains("does not hold")),
        "{e}"
    );

    // ... with the unit's story attached as well.
    fabricated.events = n.unit.events.clone();
    fabricated.containers = n.unit.containers.clone();
    fabricated.lot = n.unit.lot.clone();
    fabricated.transactions = n.unit.transactions.clone();
    fabricated.headers = n.unit.headers.clone();
    assert!(matches!(fails(g, &fabricated), BundleError::State(_)));

    // The absence proof relabelled as the commissioned unit's.
    let mut relabelled = n.absent.clone();
    relabelled.item = f.unit.clone();
    let e = fails(g, &relabelled);
    assert!(matches!(&e, BundleError::State(_)), "{e}");
}

/// Which positions to flip: every one when `CUSTODY_TAMPER_ALL=1`; otherwise all of the
/// first and last `EDGE` bytes and every k-th position between, about `TARGET` in all
/// (`CUSTODY_TAMPER_POSITIONS` overrides `TARGET`). Optimised builds flip about 1,500
/// positions with 128-byte edges. Unoptimised (debug) builds verify about 60 ed25519
/// signatures per bundle at roughly 9 ms each, so they flip a smaller sample (about 160
/// positions, 32-byte edges) to stay near 40 s on two cores.
fn positions(len: usize) -> Vec<usize> {
    if std::env::var("CUSTODY_TAMPER_ALL").is_ok_and(|v| v == "1") {
        return (0..len).collect();
    }
    let (edge, default_target) = if cfg!(debug_assertions) {
        (32, 160)
    } else {
        (128, 1_500)
    };
    let target = std::env::var("CUSTODY_TAMPER_POSITIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_target);
    if len <= target.max(2 * edge + 1) {
        return (0..len).collect();
    }
    let middle = len - 2 * edge;
    let step = middle.div_ceil(target.saturating_sub(2 * edge).max(1));
    (0..edge)
        .chain((edge..len - edge).step_by(step))
        .chain(len - edge..len)
        .collect()
}

/// The bits to flip at `pos`: one bit, a different one from position to position so that
/// every bit of a byte is flipped somewhere; with `CUSTODY_TAMPER_BITS=8`, each of the
/// eight bits in turn.
fn masks(pos: usize) -> Vec<u8> {
    if std::env::var("CUSTODY_TAMPER_BITS").is_ok_and(|v| v == "8") {
        (0..8).map(|b| 1u8 << b).collect()
    } else {
        vec![1u8 << (pos % 8)]
    }
}

/// The check that caught a forgery, for the tally.
fn check_name(e: &BundleError) -> &'static str {
    match e {
        BundleError::Format(BundleFormatError::Magic) => "format: magic",
        BundleError::Format(BundleFormatError::Malformed(_)) => "format: malformed",
        BundleError::Format(BundleFormatError::NotCanonical) => "format: not canonical",
        BundleError::Format(BundleFormatError::Version(_)) => "format: version",
        BundleError::Chain(_) => "chain",
        BundleError::Certificate(_) => "certificate",
        BundleError::State(_) => "state proof",
        BundleError::History(_) => "history",
        BundleError::Event { .. } => "event",
        BundleError::Origin(_) => "origin",
        BundleError::Replay(_) => "replay",
        BundleError::Transaction(_) => "transaction",
        BundleError::Story(_) => "story",
    }
}

#[test]
fn flipping_any_byte_of_a_real_bundle_fails() {
    let f = fixture();
    let g = &f.genesis;
    let bytes = f.nodes[0].unit.to_bytes();
    verify_bundle_bytes(g, &bytes).unwrap();
    let positions = positions(bytes.len());
    let start = Instant::now();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let tallies: Vec<BTreeMap<&'static str, usize>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let (bytes, positions) = (&bytes, &positions);
                s.spawn(move || {
                    let mut tally = BTreeMap::new();
                    let mut copy = bytes.clone();
                    // Interleaved, so that cheap and expensive positions are shared out.
                    for &pos in positions.iter().skip(t).step_by(threads) {
                        for mask in masks(pos) {
                            copy[pos] ^= mask;
                            match verify_bundle_bytes(g, &copy) {
                                Ok(_) => panic!(
                                    "flipping bits {mask:#04x} of byte {pos} of {} still verifies",
                                    bytes.len()
                                ),
                                Err(e) => *tally.entry(check_name(&e)).or_insert(0) += 1,
                            }
                            copy[pos] ^= mask;
                        }
                    }
                    tally
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let mut tally: BTreeMap<&str, usize> = BTreeMap::new();
    for t in tallies {
        for (k, v) in t {
            *tally.entry(k).or_insert(0) += v;
        }
    }
    println!(
        "{} of {} byte positions flipped ({} flips), all rejected in {:.1} s ({threads} threads); caught by: {tally:?}",
        positions.len(),
        bytes.len(),
        tally.values().sum::<usize>(),
        start.elapsed().as_secs_f64()
    );
    let flips: usize = positions.iter().map(|p| masks(*p).len()).sum();
    assert_eq!(tally.values().sum::<usize>(), flips);
}

/// A precommit certificate for `ch`'s header signed by the validators `signers`.
fn certify(g: &Genesis, ch: &CertifiedHeader, signers: &[u16]) -> CertifiedHeader {
    let mut out = ch.clone();
    out.certificate.signatures = signers
        .iter()
        .map(|&v| CommitSignature {
            validator: v,
            signature: common::validator_key(v as usize)
                .sign(&ch.certificate.sign_bytes(&g.chain_id)),
        })
        .collect();
    out
}

/// Where `tx` is in the bundle's transactions.
fn tx_at(b: &ProofBundle, tx: &custody_ledger::hash::Hash32) -> usize {
    b.transactions
        .iter()
        .position(|t| &t.tx.hash() == tx)
        .unwrap()
}

#[test]
fn structural_forgeries_fail_at_the_check_that_names_them() {
    let f = fixture();
    let g = &f.genesis;
    let n = &f.nodes[0];
    let real = &n.unit;
    verify_bundle(g, real).unwrap();
    let last = real.events.len() - 1;
    assert_eq!(real.events.len(), 9);

    // Another item's event in place of the unit's: the twin was packed in the same case by
    // the very same transaction.
    let twin = &n.twin;
    assert_eq!(twin.events[1].tx, real.events[1].tx);
    let mut b = real.clone();
    b.events[1] = twin.events[1].clone();
    let e = fails(g, &b);
    assert!(
        matches!(&e, BundleError::History(m) if m.contains("another item")),
        "{e}"
    );
    // ... renamed to the unit: the hash chain breaks.
    b.events[1].item = f.unit.clone();
    let e = fails(g, &b);
    assert!(
        matches!(&e, BundleError::History(m) if m.contains("does not follow")),
        "{e}"
    );
    // An event's transaction missing.
    let mut b = real.clone();
    b.transactions.remove(tx_at(real, &real.events[4].tx));
    let e = fails(g, &b);
    assert!(
        matches!(&e, BundleError::Event { seq: 4, reason, .. } if reason.contains("lacks its transaction")),
        "{e}"
    );
    // A transaction the story does not name, added (the pallet's shipment).
    let ship3 = n
        .deep
        .transactions
        .iter()
        .find(|t| matches!(&t.tx.tx.payload, Payload::Ship(s) if s.shipment == shipment("SH-3")))
        .unwrap()
        .clone();
    let mut b = real.clone();
    b.transactions.push(ship3.clone());
    b.transactions
        .sort_by_key(|t| (t.height, t.inclusion.index));
    b.headers.extend(n.deep.headers.iter().cloned());
    b.headers.sort_by_key(|h| h.header.height);
    b.headers.dedup_by_key(|h| h.header.height);
    let e = fails(g, &b);
    assert!(
        matches!(&e, BundleError::Transaction(m) if m.contains("not named")),
        "{e}"
    );
    // Inclusion proofs: another position, or a sibling hash changed. The ship of the case
    // and the pharmacy's receipt share their blocks with other transactions.
    let shared: Vec<usize> = real
        .transactions
        .iter()
        .enumerate()
        .filter(|(_, t)| t.inclusion.leaf_count >= 2 && !t.inclusion.lemmas.is_empty())
        .map(|(k, _)| k)
        .collect();
    assert!(shared.len() >= 2, "{shared:?}");
    for k in shared {
        let mut b = real.clone();
        let p = &mut b.transactions[k].inclusion;
        p.index = (p.index + 1) % p.leaf_count;
        let e = fails(g, &b);
        assert!(matches!(&e, BundleError::Transaction(_)), "{e}");
        let mut b = real.clone();
        b.transactions[k].inclusion.lemmas[0] = real.events[0].tx;
        let e = fails(g, &b);
        assert!(
            matches!(&e, BundleError::Transaction(m) if m.contains("not in block")),
            "{e}"
        );
    }

    // Dropped events: first, middle, last.
    for drop in [0, last / 2, last] {
        let mut b = real.clone();
        b.events.remove(drop);
        let e = fails(g, &b);
        assert!(
            matches!(&e, BundleError::History(m) if m.contains("the state says")),
            "dropping event {drop}: {e}"
        );
    }
    // Two events reordered.
    let mut b = real.clone();
    b.events.swap(4, 5);
    let e = fails(g, &b);
    assert!(
        matches!(&e, BundleError::History(m) if m.contains("says it is number")),
        "{e}"
    );

    // A certificate one signature short of the quorum (3 of 4): start from a certificate
    // with exactly three signatures (the cluster's own if it made one, else re-signed by
    // three validators; the re-signed bundle must still verify).
    let mut three = real.clone();
    let exact = real
        .headers
        .iter()
        .position(|h| h.certificate.signatures.len() == 3);
    let k = match exact {
        Some(k) => {
            println!("header {k}'s certificate from the cluster has exactly 3 signatures");
            k
        }
        None => {
            let k = 1;
            three.headers[k] = certify(g, &real.headers[k], &[0, 2, 3]);
            verify(g, &three).unwrap();
            println!("no certificate has exactly 3 signatures: header {k}'s re-signed by 3");
            k
        }
    };
    assert_eq!(three.headers[k].certificate.signatures.len(), 3);
    let mut b = three.clone();
    b.headers[k].certificate.signatures.remove(1);
    let e = fails(g, &b);
    assert!(
        matches!(&e, BundleError::Certificate(m) if m.contains("a quorum needs 3")),
        "{e}"
    );
    // One signature replaced by a non-validator's, under a validator's index...
    let outsider = SigningKey::from_bytes(&[99; 32]);
    let msg = real.headers[k].certificate.sign_bytes(&g.chain_id);
    let mut b = three.clone();
    b.headers[k].certificate.signatures[0].signature = outsider.sign(&msg);
    let e = fails(g, &b);
    assert!(
        matches!(&e, BundleError::Certificate(m) if m.contains("does not verify")),
        "{e}"
    );
    // ... or under an index outside the set, in place of a real one.
    let mut b = three.clone();
    b.headers[k].certificate.signatures.remove(0);
    b.headers[k].certificate.signatures.push(CommitSignature {
        validator: N as u16,
        signature: outsider.sign(&msg),
    });
    let e = fails(g, &b);
    assert!(
        matches!(&e, BundleError::Certificate(m) if m.contains("not in the set")),
        "{e}"
    );

    // The state proof from an older bundle of the same unit (another state root).
    let older = &f.older_unit;
    assert_ne!(older.state.height, real.state.height);
    let mut b = real.clone();
    b.state.proof = older.state.proof.clone();
    let e = fails(g, &b);
    assert!(matches!(&e, BundleError::State(_)), "{e}");
    // The older state with its proof and height: it is proven, but the history runs on.
    let mut b = real.clone();
    b.state = older.state.clone();
    b.headers.extend(older.headers.iter().cloned());
    b.headers.sort_by_key(|h| h.header.height);
    b.headers.dedup_by_key(|h| h.header.height);
    let e = fails(g, &b);
    assert!(
        matches!(&e, BundleError::History(m) if m.contains("the state says")),
        "{e}"
    );

    // A header swapped for another height's, keeping its certificate.
    let mut b = real.clone();
    b.headers[2].header = real.headers[3].header.clone();
    let e = fails(g, &b);
    assert!(matches!(&e, BundleError::Certificate(_)), "{e}");
    // A header swapped, with its certificate, for the block in between the case's pack and
    // ship (certified, in order, but not the block the case was shipped in).
    let case_events = &real.containers[0].events;
    let (pack, ship) = (case_events[1].height, case_events[2].height);
    assert!(pack < f.aside.header.height && f.aside.header.height < ship);
    let mut b = real.clone();
    let i = b
        .headers
        .iter()
        .position(|h| h.header.height == ship)
        .unwrap();
    b.headers[i] = f.aside.clone();
    let e = fails(g, &b);
    assert!(
        matches!(&e, BundleError::Transaction(m) if m.contains("no certified header")),
        "{e}"
    );
    // The head header swapped for an earlier block's.
    let mut b = real.clone();
    let head = b.headers.len() - 1;
    b.headers[head] = f.aside.clone();
    b.headers.sort_by_key(|h| h.header.height);
    b.headers.dedup_by_key(|h| h.header.height);
    assert!(matches!(fails(g, &b), BundleError::State(_)));

    // For another chain.
    let mut b = real.clone();
    b.chain_id = "another-chain".into();
    assert!(matches!(fails(g, &b), BundleError::Chain(_)));
}

#[test]
fn a_bundle_of_the_previous_format_is_refused_by_version() {
    let f = fixture();
    let mut bytes = f.nodes[0].unit.to_bytes();
    // The version leads the encoded bundle, right after the magic bytes.
    assert_eq!(bytes[8], 2);
    bytes[8] = 1;
    assert_eq!(
        verify_bundle_bytes(&f.genesis, &bytes).unwrap_err(),
        BundleError::Format(BundleFormatError::Version(1))
    );
}
