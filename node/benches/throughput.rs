//! Throughput figures for one node (no HTTP): signature checks against a bare ed25519
//! verify loop measured in the same run, item events applied and durably committed per
//! second (bulk commission and single-item transfers), and bytes on disk per item event.
//!
//! Run: `cargo bench -p custody-node --bench throughput`

use custody_consensus::Validator;
use custody_ledger::crypto::public_key;
use custody_ledger::genesis::{ChainParams, Genesis, Member, MemberId, Role};
use custody_ledger::gs1::{Expiry, Gln, Gtin, ItemId, Lot, Serial, Sgtin};
use custody_ledger::transaction::{Commission, Move, Payload, SignedTransaction, Transaction};
use custody_node::consensus_driver::SoloCertifier;
use custody_node::node::{now_ms, Node};
use custody_node::storage::{KvBackend, Store};
use ed25519_dalek::{SigningKey, Verifier as _};
use std::sync::Arc;
use std::time::Instant;

const GTIN: &str = "10614141000019";
const GLNS: [&str; 2] = ["0614141000005", "0614141000012"];

fn genesis(key: &SigningKey, validator: &SigningKey) -> Genesis {
    Genesis {
        chain_id: "bench".into(),
        genesis_time_ms: 0,
        validators: vec![Validator {
            name: "validator-0".into(),
            public_key: public_key(validator),
        }],
        members: vec![Member {
            name: "manufacturer".into(),
            public_key: public_key(key),
            roles: vec![Role::Manufacturer],
            company_prefixes: vec!["0614141".into()],
            glns: GLNS.iter().map(|g| Gln::parse(g).expect("GLN")).collect(),
        }],
        params: ChainParams {
            max_tx_items: 10_000,
            ..ChainParams::default()
        },
    }
}

fn tx(g: &Genesis, key: &SigningKey, seq: u64, payload: Payload) -> SignedTransaction {
    Transaction {
        chain_id: g.chain_id.clone(),
        signer: MemberId::from("manufacturer"),
        sequence: seq,
        event_time_ms: now_ms(),
        payload,
    }
    .sign(key)
}

fn serial(i: usize) -> Serial {
    Serial::parse(&format!("S{i}")).expect("serial")
}

fn unit(i: usize) -> ItemId {
    ItemId::Sgtin(Sgtin {
        gtin: Gtin::parse(GTIN).expect("GTIN"),
        serial: serial(i),
    })
}

/// Submits all, then commits blocks until the mempool is empty; returns (seconds, events).
fn run<B: KvBackend>(node: &Node<B>, txs: Vec<SignedTransaction>) -> (f64, usize) {
    let start = Instant::now();
    let mut events = 0;
    for chunk in txs.chunks(10_000) {
        for t in chunk {
            node.submit(t.clone()).expect("bench transaction is valid");
        }
        while let Some(c) = node.produce_block().expect("commit") {
            events += c.events;
            if node.mempool_len() == 0 {
                break;
            }
        }
    }
    (start.elapsed().as_secs_f64(), events)
}

fn main() {
    let key = SigningKey::from_bytes(&[7; 32]);
    let vkey = SigningKey::from_bytes(&[9; 32]);
    let g = genesis(&key, &vkey);

    // 1. Signature checks: bare ed25519-dalek verify_strict vs the full stateless check.
    let n = 3_000;
    let sample: Vec<SignedTransaction> = (0..n)
        .map(|i| {
            tx(
                &g,
                &key,
                i as u64 + 1,
                Payload::Move(Move {
                    items: vec![unit(i)],
                    to: Gln::parse(GLNS[1]).expect("GLN"),
                }),
            )
        })
        .collect();
    let msgs: Vec<(Vec<u8>, ed25519_dalek::Signature)> = sample
        .iter()
        .map(|t| {
            (
                t.tx.sign_bytes(),
                ed25519_dalek::Signature::from_bytes(&t.signature.0),
            )
        })
        .collect();
    let vk = key.verifying_key();
    let t0 = Instant::now();
    for (m, s) in &msgs {
        assert!(vk.verify_strict(m, s).is_ok() || vk.verify(m, s).is_err());
    }
    let bare = n as f64 / t0.elapsed().as_secs_f64();
    let t0 = Instant::now();
    for t in &sample {
        t.check_stateless(&g).expect("valid");
    }
    let full = n as f64 / t0.elapsed().as_secs_f64();
    println!("signature checks ({n} single-item transactions):");
    println!("  bare ed25519-dalek verify_strict      {bare:>10.0} /s");
    println!(
        "  SignedTransaction::check_stateless    {full:>10.0} /s   ratio {:.2} of bare",
        full / bare
    );

    // 2. Bulk commission, 1,000 items per transaction, durably committed to sled.
    let dir = tempfile::tempdir().expect("tempdir");
    let genesis = Arc::new(g.clone());
    let store = Arc::new(Store::open(dir.path(), &genesis).expect("open store"));
    let certifier = SoloCertifier::new(
        vkey.clone(),
        genesis.validator_set().expect("set"),
        genesis.chain_id.clone(),
    )
    .expect("solo");
    let node = Node::new(
        "bench".into(),
        genesis.clone(),
        store.clone(),
        certifier,
        20_000,
    )
    .expect("node");
    let bulk_txs = 100;
    let per_tx = 1_000;
    let txs: Vec<SignedTransaction> = (0..bulk_txs)
        .map(|b| {
            tx(
                &g,
                &key,
                b as u64 + 1,
                Payload::Commission(Commission {
                    gtin: Gtin::parse(GTIN).expect("GTIN"),
                    lot: Lot::parse("L1").expect("lot"),
                    expiry: Expiry::parse("301231").expect("expiry"),
                    serials: (b * per_tx..(b + 1) * per_tx).map(serial).collect(),
                    location: Some(Gln::parse(GLNS[0]).expect("GLN")),
                }),
            )
        })
        .collect();
    let (secs, events) = run(&node, txs);
    println!("commit throughput (one node, sled, each block flushed before it counts):");
    println!(
        "  bulk commission, {per_tx} items/tx     {:>10.0} item-events/s  ({events} events in {secs:.2} s)",
        events as f64 / secs
    );

    // 3. Single-item transfers: one move per transaction.
    let singles = 5_000;
    let txs: Vec<SignedTransaction> = (0..singles)
        .map(|i| {
            tx(
                &g,
                &key,
                (bulk_txs + i + 1) as u64,
                Payload::Move(Move {
                    items: vec![unit(i)],
                    to: Gln::parse(GLNS[1]).expect("GLN"),
                }),
            )
        })
        .collect();
    let (secs2, events2) = run(&node, txs);
    println!(
        "  single-item moves, 1 item/tx         {:>10.0} item-events/s  ({events2} events in {secs2:.2} s)",
        events2 as f64 / secs2
    );

    // 4. Bytes on disk per item event.
    let size = store.size_on_disk().expect("size");
    println!(
        "disk: {size} bytes for {} item events = {:.0} bytes per item-event",
        events + events2,
        size as f64 / (events + events2) as f64
    );
}
