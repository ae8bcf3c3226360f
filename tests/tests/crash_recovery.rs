//! Durability: a node killed with SIGKILL while committing under load keeps every block it
//! reported committed, and its state is what replaying its blocks gives.

use custody_consensus::Ed25519Verifier;
use custody_ledger::block::{Block, BlockCertificate};
use custody_ledger::crypto::signing_key_from_pem;
use custody_ledger::genesis::{Genesis, MemberId};
use custody_ledger::gs1::{Expiry, Gtin, Lot, Serial};
use custody_ledger::hash::Hash32;
use custody_ledger::state::{BlockContext, Overlay};
use custody_ledger::transaction::{Commission, Payload, Transaction, TX_FORMAT_VERSION};
use custody_node::storage::Store;
use custody_tests::DevNode;
use rand::Rng;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Members that load the node, each with a GTIN of its own company prefix.
const LOADERS: &[(&str, &str)] = &[
    ("manufacturer", "10614141000019"),
    ("distributor", "10614142000018"),
    ("pharmacy", "10614143000017"),
];

fn get(url: &str) -> Option<Value> {
    match ureq::get(url).timeout(Duration::from_secs(35)).call() {
        Ok(r) => r.into_json().ok(),
        Err(ureq::Error::Status(_, r)) => r.into_json().ok(),
        Err(_) => None,
    }
}

/// One load-generating client.
struct Loader {
    url: String,
    genesis: Genesis,
    pem: String,
    member: &'static str,
    gtin: &'static str,
    round: u32,
    stop: Arc<AtomicBool>,
    committed: Arc<Mutex<BTreeMap<Hash32, u64>>>,
}

/// Submits 10-serial commissions one after another until the node dies or `stop` is set;
/// records every transaction the node reported committed, with its height.
fn load(l: Loader) {
    let Loader {
        url,
        genesis,
        pem,
        member,
        gtin,
        round,
        stop,
        committed,
    } = l;
    let key = signing_key_from_pem(&pem).unwrap();
    let Some(m) = get(&format!("{url}/v1/members/{member}")) else {
        return;
    };
    let mut seq = m["next_sequence"].as_u64().unwrap();
    let mut n = 0u32;
    while !stop.load(Ordering::Relaxed) {
        let serials = (0..10)
            .map(|i| Serial::parse(&format!("R{round}-{seq}-{i}")).unwrap())
            .collect();
        let tx = Transaction {
            version: TX_FORMAT_VERSION,
            chain_id: genesis.chain_id.clone(),
            signer: MemberId::from(member),
            sequence: seq,
            event_time_ms: custody_node::node::now_ms(),
            payload: Payload::Commission(Commission {
                gtin: Gtin::parse(gtin).unwrap(),
                lot: Lot::parse(&format!("R{round}")).unwrap(),
                expiry: Expiry::parse("301231").unwrap(),
                serials,
                location: None,
            }),
        }
        .sign(&key);
        let body = serde_json::to_string(&tx).unwrap();
        let Ok(resp) = ureq::post(&format!("{url}/v1/transactions"))
            .set("content-type", "application/json")
            .send_string(&body)
        else {
            return; // node gone
        };
        let hash: Value = resp.into_json().unwrap();
        let hash = hash["hash"].as_str().unwrap().to_string();
        let Some(st) = get(&format!("{url}/v1/transactions/{hash}?wait_ms=30000")) else {
            return;
        };
        if st["status"] == "committed" {
            let h = st["height"].as_u64().unwrap();
            committed
                .lock()
                .unwrap()
                .insert(Hash32::from_hex(&hash).unwrap(), h);
            seq += 1;
            n += 1;
        } else if st["error"]["code"] == "sequence" {
            // A transaction from before the last kill was still decided after the restart
            // (it was in a block a validator had locked on): take the next sequence, as a
            // client that resubmits would.
            let Some(m) = get(&format!("{url}/v1/members/{member}")) else {
                return;
            };
            seq = m["next_sequence"].as_u64().unwrap();
        } else {
            panic!("{member}'s transaction {n} was not committed: {st}");
        }
    }
}

/// Fetches every block, checks the chain (parents, bodies, certificates) and replays it
/// into an in-memory store.
fn verify_and_replay(node: &DevNode, genesis: &Genesis) -> Store<custody_node::storage::MemKv> {
    let set = genesis.validator_set().unwrap();
    let replay = Store::in_memory(genesis);
    let head = node.height().unwrap();
    let mut parent = genesis.hash();
    for h in 1..=head {
        let b = node.get(&format!("/v1/blocks/{h}")).unwrap();
        let block = Block {
            header: serde_json::from_value(b["header"].clone()).unwrap(),
            txs: serde_json::from_value(b["txs"].clone()).unwrap(),
        };
        let cert: BlockCertificate = serde_json::from_value(b["certificate"].clone()).unwrap();
        assert_eq!(block.header.height, h);
        assert_eq!(
            block.header.parent,
            parent,
            "block {h} does not extend block {}",
            h - 1
        );
        block.check_body().unwrap();
        cert.verify_for(
            &genesis.chain_id,
            &set,
            &Ed25519Verifier,
            cert.height,
            &block.hash(),
        )
        .unwrap();
        assert_eq!(cert.height.0, h);
        let mut overlay = Overlay::new(&replay);
        for (index, tx) in block.txs.iter().enumerate() {
            tx.check_stateless(genesis).unwrap();
            let ctx = BlockContext {
                height: h,
                time_ms: block.header.time_ms,
                tx_hash: tx.hash(),
                tx_index: index as u32,
            };
            overlay.apply(genesis, tx, &ctx).unwrap();
        }
        let changes = overlay.into_changes();
        replay.commit_block(&block, &cert, &changes).unwrap();
        parent = block.hash();
    }
    replay
}

#[test]
fn committed_blocks_survive_sigkill_under_load() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("dev");
    let mut node = DevNode::start(&data).unwrap();
    let port = node.port;
    let genesis =
        Genesis::from_json(&std::fs::read_to_string(data.join("genesis.json")).unwrap()).unwrap();
    let committed: Arc<Mutex<BTreeMap<Hash32, u64>>> = Arc::default();
    let mut rng = rand::thread_rng();

    for round in 0..3u32 {
        let stop = Arc::new(AtomicBool::new(false));
        let threads: Vec<_> = LOADERS
            .iter()
            .map(|&(member, gtin)| {
                let (url, g, stop, c) = (
                    node.url.clone(),
                    genesis.clone(),
                    stop.clone(),
                    committed.clone(),
                );
                let pem = std::fs::read_to_string(node.key(member)).unwrap();
                let loader = Loader {
                    url,
                    genesis: g,
                    pem,
                    member,
                    gtin,
                    round,
                    stop,
                    committed: c,
                };
                std::thread::spawn(move || load(loader))
            })
            .collect();
        // Let it commit some (however slow the machine is), then pull the plug mid-flight.
        let before_round = committed.lock().unwrap().len();
        let start = std::time::Instant::now();
        while committed.lock().unwrap().len() < before_round + 3 {
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "round {round}: no commits"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(rng.gen_range(0..700)));
        node.kill9().unwrap();
        stop.store(true, Ordering::Relaxed);
        for t in threads {
            t.join().unwrap();
        }
        let before = committed.lock().unwrap().len();
        assert!(
            before > 0,
            "round {round}: nothing was committed before the kill"
        );

        node = DevNode::start_on(&data, port).unwrap();
        // The dev network's four validators may have been killed a block apart: let the
        // ones behind catch up before comparing anything.
        settle(port);
        // Every transaction reported committed is still there, at the same height.
        for (hash, height) in committed.lock().unwrap().iter() {
            let st = node.get(&format!("/v1/transactions/{hash}")).unwrap();
            assert_eq!(
                st["status"], "committed",
                "round {round}: {hash} lost after SIGKILL"
            );
            assert_eq!(st["height"].as_u64(), Some(*height));
        }
        // The chain verifies, and the node's state is what replaying it gives.
        let replay = verify_and_replay(&node, &genesis);
        for m in &genesis.members {
            let api = node.get(&format!("/v1/members/{}", m.name)).unwrap();
            assert_eq!(
                api["last_sequence"].as_u64(),
                Some(custody_ledger::state::StateView::last_sequence(&replay, &m.name).unwrap())
            );
        }
        for &(member, gtin) in LOADERS {
            let lot = format!("R{round}");
            let api = node
                .get(&format!("/v1/lots/{gtin}/{lot}/items?limit=10000"))
                .unwrap();
            let ids = replay
                .items_by_lot(
                    &Gtin::parse(gtin).unwrap(),
                    &Lot::parse(&lot).unwrap(),
                    None,
                    usize::MAX,
                )
                .unwrap();
            assert_eq!(
                api["count"].as_u64(),
                Some(ids.len() as u64),
                "{member} lot {lot}"
            );
            for id in ids.iter().take(50) {
                let item = node
                    .get(&format!("/v1/items/{}", urlencode(&id.to_string())))
                    .unwrap();
                let want =
                    serde_json::to_value(replay.effective(id).unwrap().unwrap().view()).unwrap();
                assert_eq!(item, want, "{id} differs from the replayed state");
            }
        }
    }
}

/// Waits until the dev network's four validators (API ports `port`..`port+3`) report the
/// same height, with nothing left to decide, several times in a row.
fn settle(port: u16) {
    let start = std::time::Instant::now();
    let mut same = 0;
    while same < 5 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "validators did not converge"
        );
        // Same height everywhere and nothing left to decide: a validator restarted with a
        // lock rejoins its height and may still commit the block it locked on.
        let states: Vec<Option<(u64, String)>> = (0..4)
            .map(|i| {
                get(&format!("http://127.0.0.1:{}/v1/status", port + i)).and_then(|s| {
                    Some((
                        s["height"].as_u64()?,
                        s["consensus"]["step"].as_str()?.to_string(),
                    ))
                })
            })
            .collect();
        let converged = states.iter().all(|s| {
            s.as_ref().is_some_and(|(h, step)| {
                step == "idle" && Some(*h) == states[0].as_ref().map(|s| s.0)
            })
        });
        same = if converged { same + 1 } else { 0 };
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
