//! The node's HTTP API through the real `custody-node dev` binary: bad input of every kind
//! gets a JSON error with a stable code and changes nothing.

// Test helpers may unwrap: a panic here is a failed test with its location.
#![allow(clippy::unwrap_used)]

use custody_ledger::crypto::signing_key_from_pem;
use custody_ledger::genesis::Genesis;
use custody_ledger::gs1::{Expiry, Gtin, Lot, Serial};
use custody_ledger::transaction::{Commission, Payload, Transaction, TX_FORMAT_VERSION};
use serde_json::{json, Value};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct DevNode {
    child: Child,
    url: String,
    dir: tempfile::TempDir,
}

impl Drop for DevNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The first of `n` consecutive free ports, chosen below Linux's ephemeral range (32768–
/// 60999) so that no `:0` bind (the nodes' own p2p listeners) can take one meanwhile. The
/// dev network serves its four validators' APIs on port..port+3.
fn free_ports(n: u16) -> u16 {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    for _ in 0..1000 {
        let base = rng.gen_range(20_000..32_000 - n);
        if (base..base + n).all(|p| TcpListener::bind(("127.0.0.1", p)).is_ok()) {
            return base;
        }
    }
    panic!("no {n} consecutive free ports in 20000..32000");
}

fn start() -> DevNode {
    let port = free_ports(4);
    let dir = tempfile::tempdir().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_custody-node"))
        .args(["dev", "--data-dir"])
        .arg(dir.path())
        .args(["--api-port", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let node = DevNode {
        child,
        url: format!("http://127.0.0.1:{port}"),
        dir,
    };
    let start = Instant::now();
    while ureq::get(&format!("{}/v1/status", node.url))
        .call()
        .is_err()
    {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "node did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    node
}

/// Status code and JSON body of a response, error or not.
fn answer(r: Result<ureq::Response, ureq::Error>) -> (u16, Value) {
    match r {
        Ok(resp) => (resp.status(), resp.into_json().unwrap()),
        Err(ureq::Error::Status(code, resp)) => (code, resp.into_json().unwrap()),
        Err(e) => panic!("transport error: {e}"),
    }
}

fn post(node: &DevNode, body: &str) -> (u16, Value) {
    answer(
        ureq::post(&format!("{}/v1/transactions", node.url))
            .set("content-type", "application/json")
            .send_string(body),
    )
}

/// POSTs only the headers of a transaction whose body would be `length` bytes and reads the
/// answer. The server must answer from the headers alone; sending the body through an HTTP
/// client instead races the server closing the connection after it answered (a client may see
/// a broken pipe while still writing).
fn post_declaring_length(node: &DevNode, length: usize) -> (u16, Value) {
    use std::io::{Read, Write};
    let addr = node.url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "POST /v1/transactions HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {length}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let code = head.split(' ').nth(1).unwrap().parse().unwrap();
    (code, serde_json::from_str(body).unwrap())
}

fn get(node: &DevNode, path: &str) -> (u16, Value) {
    answer(ureq::get(&format!("{}{path}", node.url)).call())
}

fn commission(node: &DevNode, chain_id: &str, key_of: &str, signer: &str) -> String {
    commission_of_version(node, TX_FORMAT_VERSION, chain_id, key_of, signer)
}

/// A signed commission of transaction format `version`, as JSON.
fn commission_of_version(
    node: &DevNode,
    version: u16,
    chain_id: &str,
    key_of: &str,
    signer: &str,
) -> String {
    let pem = std::fs::read_to_string(node.dir.path().join(format!("keys/{key_of}.pem"))).unwrap();
    let tx = Transaction {
        version,
        chain_id: chain_id.into(),
        signer: signer.into(),
        sequence: 1,
        event_time_ms: custody_node::node::now_ms(),
        payload: Payload::Commission(Commission {
            gtin: Gtin::parse("10614141000019").unwrap(),
            lot: Lot::parse("L1").unwrap(),
            expiry: Expiry::parse("301231").unwrap(),
            serials: vec![Serial::parse("1").unwrap()],
            location: None,
        }),
    }
    .sign(&signing_key_from_pem(&pem).unwrap());
    serde_json::to_string(&tx).unwrap()
}

#[test]
fn bad_requests_get_clear_json_errors_and_change_nothing() {
    let node = start();
    let genesis: Genesis =
        Genesis::from_json(&std::fs::read_to_string(node.dir.path().join("genesis.json")).unwrap())
            .unwrap();
    let chain = genesis.chain_id.as_str();

    // Oversized body: refused on its declared length, before a byte of it is read.
    let (code, body) = post_declaring_length(&node, 5 * 1024 * 1024);
    assert_eq!(
        (code, body["error"]["code"].as_str()),
        (413, Some("payload_too_large")),
        "{body}"
    );

    // Not JSON, wrong shape, bad check digit inside.
    let bad_digit = commission(&node, chain, "manufacturer", "manufacturer")
        .replace("10614141000019", "10614141000018");
    for bad in ["not json", "{}", bad_digit.as_str()] {
        let (code, body) = post(&node, bad);
        assert_eq!(
            (code, body["error"]["code"].as_str()),
            (400, Some("malformed")),
            "{body}"
        );
    }

    // The format version is required in JSON: without it the transaction is malformed.
    let mut unversioned: Value =
        serde_json::from_str(&commission(&node, chain, "manufacturer", "manufacturer")).unwrap();
    unversioned["tx"].as_object_mut().unwrap().remove("version");
    let (code, body) = post(&node, &unversioned.to_string());
    assert_eq!(
        (code, body["error"]["code"].as_str()),
        (400, Some("malformed")),
        "{body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("version"),
        "{body}"
    );

    // Another transaction format version, properly signed: refused, naming both versions.
    let (code, body) = post(
        &node,
        &commission_of_version(&node, 7, chain, "manufacturer", "manufacturer"),
    );
    assert_eq!(
        (code, body["error"]["code"].as_str()),
        (400, Some("unsupported_version")),
        "{body}"
    );
    assert_eq!(
        body["error"]["message"],
        "transaction format version 7 is not supported; this node reads version 1",
        "{body}"
    );

    // Forged: signed with the distributor's key in the manufacturer's name.
    let (code, body) = post(
        &node,
        &commission(&node, chain, "distributor", "manufacturer"),
    );
    assert_eq!(
        (code, body["error"]["code"].as_str()),
        (400, Some("bad_signature")),
        "{body}"
    );

    // Made for another chain.
    let (code, body) = post(
        &node,
        &commission(&node, "other-chain", "manufacturer", "manufacturer"),
    );
    assert_eq!(
        (code, body["error"]["code"].as_str()),
        (400, Some("wrong_chain")),
        "{body}"
    );

    // Foreign prefix: the distributor commissioning the manufacturer's GTIN.
    let (code, body) = post(
        &node,
        &commission(&node, chain, "distributor", "distributor"),
    );
    assert_eq!(
        (code, body["error"]["code"].as_str()),
        (422, Some("rule")),
        "{body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not to distributor"),
        "{body}"
    );

    // Nothing of that changed the chain.
    let (_, status) = get(&node, "/v1/status");
    assert_eq!(status["height"], 0);
    assert_eq!(status["mempool_size"], 0);

    // Queries: malformed ids, unknown items, unknown routes.
    let (code, body) = get(&node, "/v1/items/garbage");
    assert_eq!(
        (code, body["error"]["code"].as_str()),
        (400, Some("malformed"))
    );
    let (code, body) = get(&node, "/v1/items/%2801%2910614141000019%2821%29404");
    assert_eq!(
        (code, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    let (code, body) = get(&node, "/v1/nope");
    assert_eq!(
        (code, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    let (code, body) = get(&node, "/v1/transactions/zz");
    assert_eq!(
        (code, body["error"]["code"].as_str()),
        (400, Some("malformed"))
    );

    // The good transaction is accepted and committed, and a replay of it is refused.
    let good = commission(&node, chain, "manufacturer", "manufacturer");
    let (code, body) = post(&node, &good);
    assert_eq!(code, 202, "{body}");
    let hash = body["hash"].as_str().unwrap().to_string();
    let (_, st) = get(&node, &format!("/v1/transactions/{hash}?wait_ms=10000"));
    assert_eq!(st["status"], "committed", "{st}");
    let (code, body) = post(&node, &good);
    assert_eq!(
        (code, body["error"]["code"].as_str()),
        (409, Some("duplicate")),
        "{body}"
    );

    // The peer list names the other three validators of the dev network, connected, none of
    // whose messages was rejected.
    let start = Instant::now();
    let peers = loop {
        let (code, peers) = get(&node, "/v1/peers");
        assert_eq!(code, 200, "{peers}");
        let connected: Vec<&Value> = peers
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["connected"] == true)
            .collect();
        if connected.len() == 3 {
            break peers;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "validators not all connected: {peers}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let mut names: Vec<&str> = peers
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["validator-1", "validator-2", "validator-3"],
        "{peers}"
    );
    for p in peers.as_array().unwrap() {
        assert_eq!((&p["validator"], &p["rejected"]), (&json!(true), &json!(0)));
    }
    let (_, status) = get(&node, "/v1/status");
    assert_eq!(status["peers"], 3, "{status}");
    assert_eq!(status["equivocations"], 0, "{status}");
    let (code, evidence) = get(&node, "/v1/evidence");
    assert_eq!((code, evidence), (200, json!({"seen": 0, "recent": []})));

    // The dashboard is served.
    let page = ureq::get(&format!("{}/", node.url))
        .call()
        .unwrap()
        .into_string()
        .unwrap();
    assert!(page.contains("<title>Custody"));
}
