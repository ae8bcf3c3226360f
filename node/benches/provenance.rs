//! Provenance bundle figures for a unit with a 10-event history (commission, pack, ship,
//! receive, move, unpack, ship, receive, dispense, return) on one validator driven by the
//! consensus driver over a sled store:
//! - the bundle's size in bytes, and what it is made of;
//! - generation time (`custody_node::provenance::bundle` + `to_bytes`), mean over the runs,
//!   next to the store reads it is built from (the state proof and the history);
//! - verification time (`verify_bundle_bytes`), mean over the runs, next to a bare
//!   ed25519-dalek `verify_strict` loop measured in the same run and the number of
//!   signature checks one verification makes, so the figures read as ratios on a shared,
//!   noisy machine.
//!
//! Run: `cargo bench -p custody-node --bench provenance` (`-- <runs>` to change the number
//! of runs, 200 by default).

use custody_consensus::Validator;
use custody_ledger::crypto::public_key;
use custody_ledger::encoding;
use custody_ledger::genesis::{ChainParams, Genesis, Member, MemberId, Role};
use custody_ledger::gs1::{check_digit, Expiry, Gln, Gtin, ItemId, Lot, Serial, Sgtin, Sscc};
use custody_ledger::hash::Hash32;
use custody_ledger::proof::{verify_bundle_bytes, ProofBundle};
use custody_ledger::transaction::{
    Commission, Decommission, DecommissionReason, Move, Pack, Payload, Receive, Return, Ship,
    ShipmentId, SignedTransaction, Transaction, Unpack, TX_FORMAT_VERSION,
};
use custody_node::consensus_driver::{self, DriverOptions, NoPeers, SafetyWal};
use custody_node::node::{now_ms, Node};
use custody_node::provenance;
use custody_node::storage::{SledKv, Store};
use ed25519_dalek::SigningKey;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

const GTIN: &str = "10614141000019";

fn gln(s: &str) -> Gln {
    Gln::parse(s).expect("GLN")
}

/// The members with their keys.
fn members() -> Vec<(Member, SigningKey)> {
    let m = |i: u8, name: &str, role: Role, prefix: &[&str], glns: &[&str]| {
        let key = SigningKey::from_bytes(&[i; 32]);
        (
            Member {
                name: name.into(),
                public_key: public_key(&key),
                roles: vec![role],
                company_prefixes: prefix.iter().map(|p| p.to_string()).collect(),
                glns: glns.iter().map(|g| gln(g)).collect(),
            },
            key,
        )
    };
    vec![
        m(
            1,
            "manufacturer",
            Role::Manufacturer,
            &["0614141"],
            &["0614141000005", "0614141000012"],
        ),
        m(
            2,
            "distributor",
            Role::Distributor,
            &["0614142"],
            &["0614142000004", "0614142000011"],
        ),
        m(3, "pharmacy", Role::Dispenser, &[], &["0614143000003"]),
    ]
}

/// Signs and submits transactions, one block each.
struct Chain {
    genesis: Arc<Genesis>,
    node: Arc<Node<SledKv>>,
    keys: BTreeMap<MemberId, SigningKey>,
    sequences: BTreeMap<MemberId, u64>,
}

impl Chain {
    /// Submits and waits until committed.
    fn step(&mut self, member: &str, payload: Payload) -> Hash32 {
        let member = MemberId::from(member);
        let seq = self.sequences.entry(member.clone()).or_insert(0);
        *seq += 1;
        let tx: SignedTransaction = Transaction {
            version: TX_FORMAT_VERSION,
            chain_id: self.genesis.chain_id.clone(),
            signer: member.clone(),
            sequence: *seq,
            event_time_ms: now_ms(),
            payload,
        }
        .sign(&self.keys[&member]);
        let hash = self.node.submit(tx).expect("bench transaction is valid");
        let start = Instant::now();
        while self
            .node
            .store()
            .tx_location(&hash)
            .expect("store")
            .is_none()
        {
            assert!(start.elapsed() < Duration::from_secs(30), "not committed");
            std::thread::sleep(Duration::from_millis(1));
        }
        hash
    }
}

fn mean_us(runs: usize, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..runs {
        f();
    }
    start.elapsed().as_secs_f64() * 1e6 / runs as f64
}

fn main() {
    let runs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(200)
        .max(100);
    let vkey = SigningKey::from_bytes(&[9; 32]);
    let (members, keys): (Vec<Member>, Vec<SigningKey>) = members().into_iter().unzip();
    let keys = members.iter().map(|m| m.name.clone()).zip(keys).collect();
    let genesis = Arc::new(Genesis {
        chain_id: "bench-provenance".into(),
        genesis_time_ms: 0,
        validators: vec![Validator {
            name: "validator-0".into(),
            public_key: public_key(&vkey),
        }],
        members,
        params: ChainParams::default(),
    });
    genesis.validate().expect("genesis");
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(Store::open(&dir.path().join("db"), &genesis).expect("open store"));
    let node = Arc::new(Node::new("bench".into(), genesis.clone(), store, 1_000).expect("node"));
    let (driver, thread) = consensus_driver::spawn(
        Arc::clone(&node),
        vkey,
        SafetyWal::in_dir(dir.path()),
        Arc::new(NoPeers),
        DriverOptions::default(),
    )
    .expect("consensus driver");
    let mut chain = Chain {
        genesis: genesis.clone(),
        node: node.clone(),
        keys,
        sequences: BTreeMap::new(),
    };

    let gtin = Gtin::parse(GTIN).expect("GTIN");
    let unit = ItemId::Sgtin(Sgtin {
        gtin: gtin.clone(),
        serial: Serial::parse("U1").expect("serial"),
    });
    let twin = ItemId::Sgtin(Sgtin {
        gtin: gtin.clone(),
        serial: Serial::parse("U2").expect("serial"),
    });
    // Extension digit 0, company prefix 0614141, serial reference 000000001.
    let body = "00614141000000001";
    let case = Sscc::parse(&format!("{body}{}", check_digit(body))).expect("SSCC");
    let case_id = ItemId::Sscc(case.clone());
    let steps: Vec<(&str, Payload)> = vec![
        (
            "manufacturer",
            Payload::Commission(Commission {
                gtin,
                lot: Lot::parse("L1").expect("lot"),
                expiry: Expiry::parse("301231").expect("expiry"),
                serials: vec![
                    Serial::parse("U1").expect("serial"),
                    Serial::parse("U2").expect("serial"),
                ],
                location: Some(gln("0614141000005")),
            }),
        ),
        (
            "manufacturer",
            Payload::Pack(Pack {
                parent: case.clone(),
                children: vec![unit.clone(), twin.clone()],
            }),
        ),
        (
            "manufacturer",
            Payload::Ship(Ship {
                shipment: ShipmentId("SH-1".into()),
                to: "distributor".into(),
                items: vec![case_id.clone()],
            }),
        ),
        (
            "distributor",
            Payload::Receive(Receive {
                shipment: ShipmentId("SH-1".into()),
                accepted: vec![case_id.clone()],
                rejected: vec![],
                missing: vec![],
                unexpected: vec![],
                location: Some(gln("0614142000004")),
                note: String::new(),
            }),
        ),
        (
            "distributor",
            Payload::Move(Move {
                items: vec![case_id],
                to: gln("0614142000011"),
            }),
        ),
        (
            "distributor",
            Payload::Unpack(Unpack {
                parent: case,
                children: vec![unit.clone(), twin.clone()],
            }),
        ),
        (
            "distributor",
            Payload::Ship(Ship {
                shipment: ShipmentId("SH-2".into()),
                to: "pharmacy".into(),
                items: vec![unit.clone()],
            }),
        ),
        (
            "pharmacy",
            Payload::Receive(Receive {
                shipment: ShipmentId("SH-2".into()),
                accepted: vec![unit.clone()],
                rejected: vec![],
                missing: vec![],
                unexpected: vec![],
                location: Some(gln("0614143000003")),
                note: String::new(),
            }),
        ),
        (
            "pharmacy",
            Payload::Decommission(Decommission {
                items: vec![unit.clone()],
                reason: DecommissionReason::Dispensed,
            }),
        ),
        (
            "pharmacy",
            Payload::Return(Return {
                items: vec![unit.clone()],
                reason: "returned unopened".into(),
            }),
        ),
    ];
    for (member, payload) in steps {
        chain.step(member, payload);
    }
    let store = node.store();

    let bundle = provenance::bundle(store, &genesis, &unit).expect("bundle");
    let bytes = bundle.to_bytes();
    let proven = verify_bundle_bytes(&genesis, &bytes).expect("the bundle verifies");
    assert_eq!(
        proven.story.len(),
        10,
        "a 10-step story (7 own events, 3 of its case)"
    );
    let cert_sigs: usize = bundle
        .headers
        .iter()
        .map(|h| h.certificate.signatures.len())
        .sum();
    let sig_checks = cert_sigs + bundle.transactions.len();

    // Generation, and the store reads it is made of.
    let generate = mean_us(runs, || {
        let b = provenance::bundle(store, &genesis, black_box(&unit)).expect("bundle");
        black_box(b.to_bytes());
    });
    let state_proof = mean_us(runs, || {
        black_box(store.state_proof(black_box(&unit)).expect("state proof"));
    });
    let history = mean_us(runs, || {
        black_box(store.history(black_box(&unit)).expect("history"));
    });

    // Verification, next to bare signature checks, interleaved run by run so that both see
    // the same load: `verify_strict` with a key decoded once, and with the key decoded
    // from its bytes each time (as `Ed25519Verifier` does for every check).
    let key_bytes = genesis.members[0].public_key.0;
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&key_bytes).expect("member key");
    let first = &bundle.transactions[0].tx;
    let msg = first.tx.sign_bytes();
    let sig = ed25519_dalek::Signature::from_bytes(&first.signature.0);
    let (mut verify, mut bare, mut bare_decoded) = (0.0, 0.0, 0.0);
    for _ in 0..runs {
        verify += mean_us(1, || {
            black_box(verify_bundle_bytes(&genesis, black_box(&bytes)).expect("verifies"));
        });
        bare += mean_us(sig_checks, || {
            black_box(vk.verify_strict(black_box(&msg), &sig)).expect("valid");
        });
        bare_decoded += mean_us(sig_checks, || {
            let vk = ed25519_dalek::VerifyingKey::from_bytes(black_box(&key_bytes)).expect("key");
            black_box(vk.verify_strict(black_box(&msg), &sig)).expect("valid");
        });
    }
    let (verify, bare, bare_decoded) = (
        verify / runs as f64,
        bare / runs as f64,
        bare_decoded / runs as f64,
    );
    let decode = mean_us(runs, || {
        black_box(ProofBundle::from_bytes(black_box(&bytes)).expect("decodes"));
    });

    let part = |v: &dyn Fn() -> Vec<u8>| v().len();
    let headers_len = part(&|| encoding::encode(&bundle.headers));
    let state_len = part(&|| encoding::encode(&bundle.state));
    let events_len = part(&|| encoding::encode(&bundle.events));
    println!(
        "provenance bundle, one unit with a 10-event history, one validator (sled), {runs} runs each:"
    );
    println!(
        "  size                 {:>8} bytes: {} headers with certificates {} B ({} signatures), state proof {} B, {} events with their transactions and inclusion proofs {} B",
        bytes.len(),
        bundle.headers.len(),
        headers_len,
        cert_sigs,
        state_len,
        bundle.events.len(),
        events_len
    );
    println!(
        "  generation           {generate:>8.1} µs  (store reads alone: state proof {state_proof:.1} µs, history {history:.1} µs = {:.0}% of it)",
        100.0 * (state_proof + history) / generate
    );
    println!(
        "  verification         {verify:>8.1} µs  = {:.1} bare ed25519 verify_strict ({bare:.1} µs each, same runs, interleaved)",
        verify / bare
    );
    println!(
        "    signature checks   {sig_checks:>8}     ({cert_sigs} certificate precommits + {} transactions): {:.1} µs bare = {:.0}% of verification; {:.1} µs = {:.0}% with the key decoded each time ({bare_decoded:.1} µs each)",
        bundle.events.len(),
        sig_checks as f64 * bare,
        100.0 * sig_checks as f64 * bare / verify,
        sig_checks as f64 * bare_decoded,
        100.0 * sig_checks as f64 * bare_decoded / verify,
    );
    println!("    decoding + canonical re-encoding check {decode:.1} µs");
    driver.shutdown();
    thread.join().expect("driver thread").expect("driver");
}
