//! Provenance bundles end to end (issue 6): a unit with a long history (commission, pack,
//! ship, receive, move, unpack, ship, receive, quarantine, release, dispense, return) made
//! through a four-validator cluster; its bundle, its case's and another unit's, built by
//! every node, verify offline against the genesis alone and prove the node's item state. A
//! never-commissioned serial's bundle proves its absence; forged absence and forged
//! presence fail. Flipping any byte of a real bundle file fails verification, and every
//! structural forgery (another item's event, a dropped or reordered event, a certificate
//! one signature short or signed by a non-validator, a state proof for another root, a
//! header of another height) fails at the check named by its `BundleError` variant.
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
use custody_ledger::gs1::{Gln, Gtin, ItemId, Serial, Sgtin, Sscc};
use custody_ledger::proof::{
    verify_bundle, verify_bundle_bytes, BundleError, BundleFormatError, CertifiedHeader,
    ProofBundle,
};
use custody_ledger::state::{Action, ItemState, Status};
use custody_ledger::transaction::{
    Decommission, DecommissionReason, Move, Pack, Payload, Receive, Return, SetStatus, Ship,
    ShipmentId, StatusChange, Unpack,
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
    unit_state: ItemState,
    case_state: ItemState,
    twin_state: ItemState,
}

/// The history made once through the cluster, then the cluster is shut down.
struct Fixture {
    genesis: Genesis,
    unit: ItemId,
    case: Sscc,
    twin: ItemId,
    absent: ItemId,
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
    let case = manufacturer_sscc(1);
    let case_id = ItemId::Sscc(case.clone());

    c.submit_committed(
        "manufacturer",
        common::commission_payload(
            &["U1".into(), "U2".into(), "U3".into()],
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
            children: vec![],
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
                unit_state: s(&unit),
                case_state: s(&case_id),
                twin_state: s(&twin),
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
        ] {
            let bytes = bundle.to_bytes();
            assert_eq!(&ProofBundle::from_bytes(&bytes).unwrap(), bundle);
            let p = verify_bundle_bytes(g, &bytes)
                .unwrap_or_else(|e| panic!("validator {i}'s bundle of {id} fails: {e}"));
            assert_eq!(&p.item, id);
            assert_eq!(p.state.as_ref(), Some(state), "validator {i}, {id}");
            assert_eq!(p.story.len(), state.event_count as usize);
            assert_eq!(p.story.len(), bundle.events.len());
            for (line, e) in p.story.iter().zip(&bundle.events) {
                assert_eq!(line.action, e.event.action);
                assert_eq!(line.height, e.event.height);
            }
        }
        stories.push(verify(g, &n.unit).unwrap());
    }
    // Every node proves the same story and state of the unit.
    for s in &stories[1..] {
        assert_eq!(s.state, stories[0].state);
        assert_eq!(s.story, stories[0].story);
    }

    // The unit's story, one line per event.
    let unit = &stories[0];
    let story: Vec<(Action, &str, Option<&Sscc>)> = unit
        .story
        .iter()
        .map(|l| (l.action.clone(), l.custodian.0.as_str(), l.via.as_ref()))
        .collect();
    let case = Some(&f.case);
    let expected = vec![
        (Action::Commissioned, "manufacturer", None),
        (
            Action::Packed {
                into: f.case.clone(),
            },
            "manufacturer",
            None,
        ),
        (
            Action::Shipped {
                shipment: shipment("SH-1"),
                to: "distributor".into(),
            },
            "manufacturer",
            case,
        ),
        (
            Action::Received {
                shipment: shipment("SH-1"),
            },
            "distributor",
            case,
        ),
        (
            Action::Moved {
                to: gln(DISTRIBUTOR_GLNS[1]),
            },
            "distributor",
            case,
        ),
        (
            Action::Unpacked {
                from: f.case.clone(),
            },
            "distributor",
            None,
        ),
        (
            Action::Shipped {
                shipment: shipment("SH-2"),
                to: "pharmacy".into(),
            },
            "distributor",
            None,
        ),
        (
            Action::Received {
                shipment: shipment("SH-2"),
            },
            "pharmacy",
            None,
        ),
        (
            Action::StatusSet {
                change: StatusChange::Quarantine,
                reason: QUARANTINE_REASON.into(),
            },
            "pharmacy",
            None,
        ),
        (
            Action::StatusSet {
                change: StatusChange::Release,
                reason: RELEASE_REASON.into(),
            },
            "pharmacy",
            None,
        ),
        (
            Action::Decommissioned {
                reason: DecommissionReason::Dispensed,
            },
            "pharmacy",
            None,
        ),
        (
            Action::Returned {
                reason: RETURN_REASON.into(),
            },
            "pharmacy",
            None,
        ),
    ];
    assert_eq!(story, expected);
    let statuses: Vec<Status> = unit.story.iter().map(|l| l.status).collect();
    assert_eq!(statuses[2], Status::InTransit);
    assert_eq!(statuses[10], Status::Dispensed);
    assert_eq!(statuses[11], Status::Active);
    let state = unit.state.as_ref().unwrap();
    assert_eq!(
        state.custody_chain,
        ["manufacturer", "distributor", "pharmacy"].map(MemberId::from)
    );
    assert_eq!(
        state.hold.as_ref().map(|h| h.kind),
        Some(StatusChange::Quarantine)
    );
    assert_eq!(state.location, Some(gln(common::PHARMACY_GLN)));
    for w in unit.story.windows(2) {
        assert!(w[0].height < w[1].height && w[0].time_ms < w[1].time_ms);
    }
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

    // "Never commissioned" for a commissioned unit: its state and history dropped.
    let mut forged = n.unit.clone();
    forged.state.state = None;
    forged.events.clear();
    let e = fails(g, &forged);
    assert!(
        matches!(&e, BundleError::State(m) if m.contains("holds the item")),
        "{e}"
    );

    // The same with the unit's head header kept but every other header dropped.
    let mut forged = n.unit.clone();
    forged.state.state = None;
    forged.events.clear();
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

    // ... with the unit's history attached as well.
    fabricated.events = n.unit.events.clone();
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

#[test]
fn structural_forgeries_fail_at_the_check_that_names_them() {
    let f = fixture();
    let g = &f.genesis;
    let n = &f.nodes[0];
    let real = &n.unit;
    verify_bundle(g, real).unwrap();
    let last = real.events.len() - 1;
    assert_eq!(real.events.len(), 12);

    // Another item's event in place of the unit's: the twin travelled in the same case,
    // so its events come from the very same transactions.
    let twin = &n.twin;
    let mut b = real.clone();
    b.events[3].event = twin.events[3].event.clone();
    let e = fails(g, &b);
    assert!(
        matches!(&e, BundleError::History(m) if m.contains("another item")),
        "{e}"
    );
    let mut b = real.clone();
    b.events[3] = twin.events[3].clone();
    let e = fails(g, &b);
    assert!(
        matches!(&e, BundleError::History(m) if m.contains("another item")),
        "{e}"
    );
    // ... renamed to the unit: the hash chain breaks.
    let mut b = real.clone();
    b.events[3] = twin.events[3].clone();
    b.events[3].event.item = f.unit.clone();
    let e = fails(g, &b);
    assert!(
        matches!(&e, BundleError::History(m) if m.contains("does not follow")),
        "{e}"
    );
    // An event's transaction swapped for another transaction of the unit.
    let mut b = real.clone();
    b.events[4].tx = real.events[5].tx.clone();
    b.events[4].inclusion = real.events[5].inclusion.clone();
    let e = fails(g, &b);
    assert!(
        matches!(&e, BundleError::Event { seq: 4, reason } if reason.contains("its transaction is")),
        "{e}"
    );
    // Inclusion proofs: another position, or a sibling hash changed. The ship through the
    // case (event 2) and the pharmacy's receipt (event 7) share their blocks with other
    // transactions.
    for seq in [2, 7] {
        let inclusion = &real.events[seq].inclusion;
        assert!(inclusion.leaf_count >= 2 && !inclusion.lemmas.is_empty());
        let mut b = real.clone();
        let p = &mut b.events[seq].inclusion;
        p.index = (p.index + 1) % p.leaf_count;
        let e = fails(g, &b);
        assert!(
            matches!(&e, BundleError::Event { seq: s, reason } if *s as usize == seq && reason.contains("not in block")),
            "{e}"
        );
        let mut b = real.clone();
        b.events[seq].inclusion.lemmas[0] = real.events[0].tx.hash();
        let e = fails(g, &b);
        assert!(
            matches!(&e, BundleError::Event { seq: s, reason } if *s as usize == seq && reason.contains("not in block")),
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
    for h in &older.headers {
        if b.header(h.header.height).is_none() {
            b.headers.push(h.clone());
        }
    }
    b.headers.sort_by_key(|h| h.header.height);
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
    // A header swapped, with its certificate, for the block in between the unit's pack and
    // ship (certified, in order, but not the block the unit was shipped in).
    let ship = real.events[2].event.height;
    assert!(real.events[1].event.height < f.aside.header.height);
    assert!(f.aside.header.height < ship);
    let mut b = real.clone();
    let i = b
        .headers
        .iter()
        .position(|h| h.header.height == ship)
        .unwrap();
    b.headers[i] = f.aside.clone();
    let e = fails(g, &b);
    assert!(
        matches!(&e, BundleError::Event { seq: 2, reason } if reason.contains("no certified header")),
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
