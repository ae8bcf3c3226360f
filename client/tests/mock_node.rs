//! Runs the built `custody` binary against a scripted stand-in for the node's HTTP API
//! (a few lines of std::net): the submission flow (member lookup, sequence, signature,
//! wait), JSON documents, percent-encoded paths and the exit codes for node answers; and
//! that an answer past the body limits (endless, or declared too long) is refused at the
//! limit rather than read without end.

// Helpers outside #[test] fns unwrap too: in a test binary a panic is a failed test.
#![allow(clippy::unwrap_used)]

use custody_ledger::crypto;
use custody_ledger::genesis::{Genesis, Member, Role};
use custody_ledger::transaction::{Payload, SignedTransaction};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

/// One request as the mock saw it.
#[derive(Clone, Debug)]
struct Req {
    method: String,
    path: String,
    body: String,
}

type Handler = dyn Fn(&Req) -> (u16, Value) + Send + Sync;

/// A one-thread HTTP/1.1 server answering each request with `handler`.
struct MockNode {
    url: String,
    seen: Arc<Mutex<Vec<Req>>>,
}

impl MockNode {
    fn start(handler: Box<Handler>) -> MockNode {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let mut parts = line.split_whitespace();
                let method = parts.next().unwrap_or("").to_string();
                let path = parts.next().unwrap_or("").to_string();
                let mut len = 0usize;
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                        break;
                    }
                    if let Some((k, v)) = h.split_once(':') {
                        if k.eq_ignore_ascii_case("content-length") {
                            len = v.trim().parse().unwrap_or(0);
                        }
                    }
                }
                let mut body = vec![0u8; len];
                let _ = reader.read_exact(&mut body);
                let req = Req {
                    method,
                    path,
                    body: String::from_utf8_lossy(&body).into_owned(),
                };
                let (status, value) = handler(&req);
                log.lock().unwrap().push(req);
                let text = value.to_string();
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                    text.len()
                );
            }
        });
        MockNode { url, seen }
    }

    fn posted(&self) -> Vec<SignedTransaction> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.method == "POST")
            .map(|r| serde_json::from_str(&r.body).unwrap())
            .collect()
    }

    fn paths(&self) -> Vec<String> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.path.clone())
            .collect()
    }
}

const CHAIN: &str = "mock-chain";
const NEXT_SEQUENCE: u64 = 7;
const ITEM: &str = "(01)09506000134352(21)A/1";

struct Setup {
    _dir: tempfile::TempDir,
    key: PathBuf,
    public: String,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k.pem");
    let o = Command::new(env!("CARGO_BIN_EXE_custody"))
        .args(["keys", "generate", "-o", key.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success());
    let public = String::from_utf8(o.stdout).unwrap().trim().to_string();
    Setup {
        _dir: dir,
        key,
        public,
    }
}

/// Answers status and members; everything else goes to `rest`.
fn node(public: &str, rest: impl Fn(&Req) -> (u16, Value) + Send + Sync + 'static) -> MockNode {
    let public = public.to_string();
    MockNode::start(Box::new(move |r: &Req| {
        match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/v1/status") => (200, json!({"chain_id": CHAIN, "height": 4})),
            ("GET", "/v1/members") => (
                200,
                json!([
                    {"name": "other", "public_key": "00".repeat(32), "roles": [], "next_sequence": 1},
                    {"name": "manufacturer", "public_key": public, "roles": ["manufacturer"],
                     "company_prefixes": ["0614141"], "glns": [], "last_sequence": 6,
                     "next_sequence": NEXT_SEQUENCE}
                ]),
            ),
            _ => rest(r),
        }
    }))
}

fn hash_of(r: &Req) -> String {
    let stx: SignedTransaction = serde_json::from_str(&r.body).unwrap();
    stx.hash().to_hex()
}

fn run(node: &MockNode, key: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_custody"))
        .args(args)
        .args(["--node", &node.url, "--key", key.to_str().unwrap()])
        .output()
        .unwrap()
}

fn json_out(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

/// Commits everything posted at height 5.
fn committing(r: &Req) -> (u16, Value) {
    if r.method == "POST" && r.path == "/v1/transactions" {
        return (202, json!({"hash": hash_of(r), "status": "pending"}));
    }
    if r.path.starts_with("/v1/transactions/") {
        let hash = r.path["/v1/transactions/".len()..]
            .split('?')
            .next()
            .unwrap()
            .to_string();
        return (
            200,
            json!({"hash": hash, "status": "committed", "height": 5, "index": 0}),
        );
    }
    (
        404,
        json!({"error": {"code": "not_found", "message": "no route"}}),
    )
}

#[test]
fn move_is_signed_submitted_and_committed() {
    let s = setup();
    let node = node(&s.public, committing);
    let o = run(
        &node,
        &s.key,
        &["move", "--to", "0614141000005", ITEM, "--json"],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let doc = json_out(&o);
    assert_eq!(doc["status"], "committed");
    assert_eq!(doc["height"], 5);

    let posted = node.posted();
    assert_eq!(posted.len(), 1);
    let stx = &posted[0];
    assert_eq!(doc["hash"], stx.hash().to_hex());
    assert_eq!(stx.tx.chain_id, CHAIN);
    assert_eq!(stx.tx.signer.0, "manufacturer");
    assert_eq!(stx.tx.sequence, NEXT_SEQUENCE);
    assert!(stx.tx.event_time_ms > 1_600_000_000_000);
    assert!(matches!(stx.tx.payload, Payload::Move(_)));

    // The signature verifies against the member's key in a genesis that lists it.
    let pk = custody_ledger::crypto::PublicKey::from_hex(&s.public).unwrap();
    let genesis = Genesis {
        chain_id: CHAIN.into(),
        genesis_time_ms: 0,
        validators: vec![],
        members: vec![Member {
            name: "manufacturer".into(),
            public_key: pk,
            roles: vec![Role::Manufacturer],
            company_prefixes: vec![],
            glns: vec![],
        }],
        params: Default::default(),
    };
    stx.check_signature(&genesis).unwrap();
    assert!(crypto::verify(&pk, &stx.tx.sign_bytes(), &stx.signature));

    // The wait asked the node to hold the request.
    assert!(node.paths().iter().any(|p| p.contains("wait_ms=")));
}

#[test]
fn human_output_names_the_block() {
    let s = setup();
    let node = node(&s.public, committing);
    let o = run(
        &node,
        &s.key,
        &["decommission", "--reason", "dispensed", ITEM],
    );
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("committed decommission"), "{out}");
    assert!(out.contains("height 5"), "{out}");
}

#[test]
fn no_wait_returns_pending() {
    let s = setup();
    let node = node(&s.public, committing);
    let o = run(
        &node,
        &s.key,
        &[
            "status",
            "--set",
            "quarantine",
            "--reason",
            "check",
            ITEM,
            "--no-wait",
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(0));
    let doc = json_out(&o);
    assert_eq!(doc["status"], "pending");
    assert!(doc.get("height").is_none());
    assert!(!node
        .paths()
        .iter()
        .any(|p| p.starts_with("/v1/transactions/")));
}

#[test]
fn refusal_at_submit_exits_3() {
    let s = setup();
    let node = node(&s.public, |r| {
        if r.method == "POST" {
            (
                400,
                json!({"error": {"code": "rule", "message": "item is held by distributor"}}),
            )
        } else {
            (404, json!({"error": {"code": "not_found", "message": "?"}}))
        }
    });
    let o = run(
        &node,
        &s.key,
        &[
            "ship",
            "--to",
            "distributor",
            "--shipment",
            "S1",
            ITEM,
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(3));
    let doc = json_out(&o);
    assert_eq!(doc["status"], "rejected");
    assert_eq!(doc["error"]["code"], "rule");
    assert_eq!(doc["hash"].as_str().unwrap().len(), 64);
    assert!(String::from_utf8_lossy(&o.stderr).contains("held by distributor"));
}

#[test]
fn rejection_at_commit_exits_3() {
    let s = setup();
    let node = node(&s.public, |r| {
        if r.method == "POST" {
            (202, json!({"hash": hash_of(r), "status": "pending"}))
        } else {
            (
                200,
                json!({"hash": "x", "status": "rejected",
                         "error": {"code": "sequence", "message": "expected 8"}}),
            )
        }
    });
    let o = run(
        &node,
        &s.key,
        &["return", "--reason", "patient return", ITEM, "--json"],
    );
    assert_eq!(o.status.code(), Some(3));
    let doc = json_out(&o);
    assert_eq!(doc["status"], "rejected");
    assert_eq!(doc["error"]["code"], "sequence");
}

#[test]
fn full_mempool_exits_5() {
    let s = setup();
    let node = node(&s.public, |_| {
        (
            503,
            json!({"error": {"code": "mempool_full", "message": "try later"}}),
        )
    });
    let o = run(
        &node,
        &s.key,
        &["move", "--to", "0614141000005", ITEM, "--json"],
    );
    assert_eq!(o.status.code(), Some(5));
    assert_eq!(json_out(&o)["error"]["code"], "mempool_full");
}

#[test]
fn key_that_is_no_member_exits_2() {
    let s = setup();
    let node = node(&"11".repeat(32), committing);
    let o = run(&node, &s.key, &["move", "--to", "0614141000005", ITEM]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a member"));
    assert!(node.posted().is_empty());
}

#[test]
fn commission_batches_with_increasing_sequences() {
    let s = setup();
    let node = node(&s.public, committing);
    let o = run(
        &node,
        &s.key,
        &[
            "commission",
            "--gtin",
            "09506000134352",
            "--lot",
            "L1",
            "--expiry",
            "261231",
            "--serials",
            "0001..0025",
            "--batch",
            "10",
            "--json",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let doc = json_out(&o);
    assert_eq!(doc["status"], "committed");
    assert_eq!(doc["serials"], 25);
    let txs = doc["transactions"].as_array().unwrap();
    assert_eq!(txs.len(), 3);
    assert!(txs
        .iter()
        .all(|t| t["status"] == "committed" && t["height"] == 5));

    let posted = node.posted();
    let seqs: Vec<u64> = posted.iter().map(|t| t.tx.sequence).collect();
    assert_eq!(seqs, [7, 8, 9]);
    let counts: Vec<usize> = posted.iter().map(|t| t.tx.payload.item_count()).collect();
    assert_eq!(counts, [10, 10, 5]);
    let Payload::Commission(c) = &posted[2].tx.payload else {
        panic!("not a commission")
    };
    assert_eq!(c.serials[0].as_str(), "0021");
    assert_eq!(c.serials[4].as_str(), "0025");
    // All submitted before the first wait.
    let paths = node.paths();
    let last_post = paths.iter().rposition(|p| p == "/v1/transactions").unwrap();
    let first_wait = paths
        .iter()
        .position(|p| p.starts_with("/v1/transactions/"))
        .unwrap();
    assert!(last_post < first_wait, "{paths:?}");
}

#[test]
fn commission_stops_at_first_refusal() {
    let s = setup();
    let posts = Arc::new(Mutex::new(0));
    let node = node(&s.public, move |r| {
        if r.method == "POST" {
            let mut n = posts.lock().unwrap();
            *n += 1;
            if *n == 2 {
                return (
                    400,
                    json!({"error": {"code": "rule", "message": "serial 0011 exists"}}),
                );
            }
        }
        committing(r)
    });
    let o = run(
        &node,
        &s.key,
        &[
            "commission",
            "--gtin",
            "09506000134352",
            "--lot",
            "L1",
            "--expiry",
            "261231",
            "--serials",
            "0001..0030",
            "--batch",
            "10",
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(3));
    let doc = json_out(&o);
    assert_eq!(doc["status"], "rejected");
    assert_eq!(doc["serials"], 10);
    assert_eq!(doc["transactions"].as_array().unwrap().len(), 2);
    assert_eq!(node.posted().len(), 2, "the third batch is not submitted");
}

#[test]
fn show_encodes_the_item_and_maps_not_found_to_4() {
    let s = setup();
    let node = node(&s.public, |r| {
        if r.path.starts_with("/v1/items/%2801%29") && !r.path.ends_with("/history") {
            (
                200,
                json!({"id": ITEM, "product": {"gtin": "09506000134352", "lot": "L1",
                "expiry": "261231"}, "custodian": "manufacturer", "location": null,
                "status": "active", "transit": null, "hold": null, "recall": null,
                "parent": null, "children": [], "custody_chain": ["manufacturer"],
                "created_height": 1, "history_head": "00", "event_count": 1}),
            )
        } else {
            (
                404,
                json!({"error": {"code": "not_found", "message": "no such item"}}),
            )
        }
    });
    let o = run(&node, &s.key, &["show", ITEM]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("manufacturer") && out.contains("lot L1"),
        "{out}"
    );
    assert!(node
        .paths()
        .contains(&"/v1/items/%2801%2909506000134352%2821%29A%2F1".to_string()));

    let o = run(&node, &s.key, &["show", ITEM, "--json"]);
    assert_eq!(json_out(&o)["custodian"], "manufacturer");

    let o = run(&node, &s.key, &["history", ITEM, "--json"]);
    assert_eq!(o.status.code(), Some(4));
    assert_eq!(json_out(&o)["error"]["code"], "not_found");
}

#[test]
fn commission_waits_out_a_full_mempool() {
    let s = setup();
    let posts = Arc::new(Mutex::new(0));
    let node = node(&s.public, move |r| {
        if r.method == "POST" {
            let mut n = posts.lock().unwrap();
            *n += 1;
            if *n == 2 {
                return (
                    503,
                    json!({"error": {"code": "mempool_full", "message": "full"}}),
                );
            }
        }
        committing(r)
    });
    let o = run(
        &node,
        &s.key,
        &[
            "commission",
            "--gtin",
            "09506000134352",
            "--lot",
            "L1",
            "--expiry",
            "261231",
            "--serials",
            "A,B,C",
            "--batch",
            "2",
            "--json",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let doc = json_out(&o);
    assert_eq!(doc["serials"], 3);
    let seqs: Vec<u64> = node.posted().iter().map(|t| t.tx.sequence).collect();
    assert_eq!(
        seqs,
        [7, 8, 8],
        "the refused batch is sent again with the same sequence"
    );
}

/// A node whose every answer is endless (`Connection: close`, no length, `[0,0,0,…`
/// forever) or, with `declared`, announces that many bytes and sends none.
fn flooding_node(declared: Option<u64>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                        break;
                    }
                }
                let head = match declared {
                    Some(n) => format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {n}\r\n\r\n"),
                    None => "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n[".to_string(),
                };
                if stream.write_all(head.as_bytes()).is_err() || declared.is_some() {
                    // Hold the connection open without sending the announced body.
                    std::thread::sleep(std::time::Duration::from_secs(60));
                    return;
                }
                let chunk = "0,".repeat(32 * 1024);
                // Until the client hangs up.
                while stream.write_all(chunk.as_bytes()).is_ok() {}
            });
        }
    });
    url
}

#[test]
fn an_endless_answer_is_refused_at_the_limit_not_read_forever() {
    let started = std::time::Instant::now();
    let url = flooding_node(None);
    let o = Command::new(env!("CARGO_BIN_EXE_custody"))
        .args(["node-status", "--json", "--node", &url])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("67108864-byte limit"), "{stderr}");
    // Refused after the limit, not at the request timeout (30 s).
    assert!(started.elapsed().as_secs() < 25, "{:?}", started.elapsed());
}

#[test]
fn a_declared_length_past_the_limit_is_refused_before_reading() {
    let started = std::time::Instant::now();
    let url = flooding_node(Some(1 << 40));
    let o = Command::new(env!("CARGO_BIN_EXE_custody"))
        .args(["node-status", "--json", "--node", &url])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("67108864-byte limit"), "{stderr}");
    // The bundle's limit is larger, and applies to `custody proof` alike.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("b.custody-proof");
    let o = Command::new(env!("CARGO_BIN_EXE_custody"))
        .args(["proof", ITEM, "-o", out.to_str().unwrap(), "--node", &url])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("268435456-byte limit"), "{stderr}");
    assert!(!out.exists());
    // Neither waited for the body that never comes.
    assert!(started.elapsed().as_secs() < 10, "{:?}", started.elapsed());
}

#[test]
fn a_bundle_file_past_the_limit_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let key = |i: u8| {
        let k = ed25519_dalek::SigningKey::from_bytes(&[i; 32]);
        custody_ledger::crypto::PublicKey(k.verifying_key().to_bytes())
    };
    let genesis = Genesis {
        chain_id: CHAIN.into(),
        genesis_time_ms: 0,
        validators: vec![],
        members: vec![Member {
            name: "manufacturer".into(),
            public_key: key(1),
            roles: vec![Role::Manufacturer],
            company_prefixes: vec!["0614141".into()],
            glns: vec![],
        }],
        params: Default::default(),
    };
    // One validator (the client does not name the consensus crate's type).
    let mut doc: Value = serde_json::from_str(&genesis.to_json()).unwrap();
    doc["validators"] = json!([{"name": "v0", "public_key": key(9).to_hex()}]);
    Genesis::from_json(&doc.to_string()).unwrap();
    let g = dir.path().join("genesis.json");
    std::fs::write(&g, doc.to_string()).unwrap();
    // A sparse file one byte over the limit: refused by its size, not read.
    let big = dir.path().join("big.custody-proof");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(256 * 1024 * 1024 + 1)
        .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_custody"))
        .args(["verify", "bundle", big.to_str().unwrap(), "--genesis"])
        .arg(&g)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(6), "{stderr}");
    assert!(stderr.contains("over 268435456 bytes"), "{stderr}");
}
