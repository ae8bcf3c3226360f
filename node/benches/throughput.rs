//! Throughput figures for one node (no HTTP), each next to a baseline measured in the same
//! run (the machine is shared and noisy, so ratios are what compare across runs):
//! - signature checks per second vs a bare ed25519-dalek `verify_strict` loop;
//! - item events applied and durably committed per second (bulk commission, 1,000 items per
//!   transaction, and single-item transfers) vs writing the very same batches (same keys,
//!   same values) straight into a fresh sled database: the storage engine's share;
//! - bytes on disk per item event (sled's file size) and bytes written per item event.
//!
//! Run: `cargo bench -p custody-node --bench throughput`

use custody_consensus::Validator;
use custody_ledger::crypto::public_key;
use custody_ledger::genesis::{ChainParams, Genesis, Member, MemberId, Role};
use custody_ledger::gs1::{Expiry, Gln, Gtin, ItemId, Lot, Serial, Sgtin};
use custody_ledger::transaction::{
    Commission, Move, Payload, SignedTransaction, Transaction, TX_FORMAT_VERSION,
};
use custody_node::consensus_driver::{self, DriverOptions, NoPeers, SafetyWal};
use custody_node::node::{now_ms, Node};
use custody_node::storage::{BatchOp, KvBackend, KvPairs, SledKv, StorageError, Store, WriteBatch};
use ed25519_dalek::{SigningKey, Verifier as _};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// A sled backend that keeps a copy of every batch written through it.
struct Recording {
    inner: SledKv,
    batches: Mutex<Vec<WriteBatch>>,
    bytes: AtomicU64,
}

impl KvBackend for Recording {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.inner.get(key)
    }
    fn scan_prefix_from(
        &self,
        prefix: &[u8],
        start_after: Option<&[u8]>,
        limit: usize,
    ) -> Result<KvPairs, StorageError> {
        self.inner.scan_prefix_from(prefix, start_after, limit)
    }
    fn write_batch(&self, batch: WriteBatch) -> Result<(), StorageError> {
        let bytes: usize = batch
            .ops()
            .iter()
            .map(|op| match op {
                BatchOp::Put { key, value } => key.len() + value.len(),
                BatchOp::Delete { key } => key.len(),
            })
            .sum();
        self.batches.lock().expect("lock").push(batch.clone());
        self.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
        self.inner.write_batch(batch)
    }
    fn size_on_disk(&self) -> Result<u64, StorageError> {
        self.inner.size_on_disk()
    }
}

/// Writes `batches` into a fresh sled database, flushing each, as the node does: what the
/// same writes cost without the ledger. Seconds.
fn bare_sled(batches: &[WriteBatch]) -> f64 {
    let dir = tempfile::tempdir().expect("tempdir");
    let kv = SledKv::open(dir.path()).expect("sled");
    let start = Instant::now();
    for b in batches {
        kv.write_batch(b.clone()).expect("write");
    }
    start.elapsed().as_secs_f64()
}

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
        version: TX_FORMAT_VERSION,
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

/// Submits all, then waits until the consensus driver has committed everything; returns
/// (seconds, item events) and prints how the time split between admission and the rest.
fn run<B: KvBackend>(node: &Node<B>, txs: Vec<SignedTransaction>) -> (f64, usize) {
    let start = Instant::now();
    let first = node.store().head().expect("head").map_or(0, |h| h.height);
    let mut admit = 0.0;
    for chunk in txs.chunks(10_000) {
        let t0 = Instant::now();
        for t in chunk {
            node.submit(t.clone()).expect("bench transaction is valid");
        }
        admit += t0.elapsed().as_secs_f64();
        while node.mempool_len() > 0 {
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let last = node.store().head().expect("head").map_or(0, |h| h.height);
    let mut events = 0;
    for h in first + 1..=last {
        let block = node.store().block(h).expect("block").expect("committed");
        events += block
            .txs
            .iter()
            .map(|t| t.tx.payload.item_count())
            .sum::<usize>();
    }
    println!(
        "      admission (signature, rules on mempool state) {admit:.2} s; consensus, rules again, commit {:.2} s; {} blocks",
        secs - admit,
        last - first
    );
    (secs, events)
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
    let recording = Recording {
        inner: SledKv::open(dir.path()).expect("sled"),
        batches: Mutex::default(),
        bytes: AtomicU64::new(0),
    };
    let store = Arc::new(Store::with_backend(recording, &genesis).expect("open store"));
    let node =
        Arc::new(Node::new("bench".into(), genesis.clone(), store.clone(), 20_000).expect("node"));
    let wal_dir = tempfile::tempdir().expect("tempdir");
    let (driver, thread) = consensus_driver::spawn(
        Arc::clone(&node),
        vkey.clone(),
        SafetyWal::in_dir(wal_dir.path()),
        Arc::new(NoPeers),
        DriverOptions::default(),
    )
    .expect("consensus driver");
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
    let shapes_before = store.backend().batches.lock().expect("lock").len();
    let (secs, events) = run(&node, txs);
    let bulk_shapes: Vec<WriteBatch> =
        store.backend().batches.lock().expect("lock")[shapes_before..].to_vec();
    let bulk_bare = bare_sled(&bulk_shapes);
    println!("commit throughput (one validator through the consensus driver, sled, each block flushed before it counts),");
    println!("next to writing the same pairs and bytes straight into sled:");
    report(
        &format!("bulk commission, {per_tx} items/tx"),
        events,
        secs,
        &bulk_shapes,
        bulk_bare,
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
    let shapes_before = store.backend().batches.lock().expect("lock").len();
    let (secs2, events2) = run(&node, txs);
    let single_shapes: Vec<WriteBatch> =
        store.backend().batches.lock().expect("lock")[shapes_before..].to_vec();
    let single_bare = bare_sled(&single_shapes);
    report(
        "single-item moves, 1 item/tx",
        events2,
        secs2,
        &single_shapes,
        single_bare,
    );

    // 4. Bytes per item event: written (keys + values) and sled's files.
    let size = store.size_on_disk().expect("size");
    let total = (events + events2) as f64;
    let written = store.backend().bytes.load(Ordering::Relaxed) as f64;
    println!(
        "disk: {:.0} bytes written per item-event (keys + values); sled's files: {size} bytes = {:.0} bytes per item-event",
        written / total,
        size as f64 / total
    );
    driver.shutdown();
    thread.join().expect("driver thread").expect("driver");
}

fn report(what: &str, events: usize, secs: f64, batches: &[WriteBatch], bare_secs: f64) {
    let ops: usize = batches.iter().map(WriteBatch::len).sum();
    println!("  {what}: {:.0} item-events/s", events as f64 / secs);
    println!(
        "      {events} events in {} blocks, {:.1} key-value pairs per event, {secs:.2} s; the same writes into bare sled {bare_secs:.2} s (storage is {:.0}% of the time)",
        batches.len(),
        ops as f64 / events as f64,
        100.0 * bare_secs / secs
    );
}
