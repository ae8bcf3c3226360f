//! A node stops when asked: `custody-node dev` and `custody-node run` (validator and
//! follower), sent SIGINT or SIGTERM, close their API, stop consensus and exit 0 within
//! 10 s; what they committed is there after a restart.

// Test helpers may unwrap: a panic here is a failed test with its location.
#![allow(clippy::unwrap_used)]

use custody_ledger::crypto::signing_key_from_pem;
use custody_ledger::genesis::Genesis;
use custody_ledger::gs1::{Expiry, Gtin, Lot, Serial};
use custody_ledger::transaction::{Commission, Payload, Transaction, TX_FORMAT_VERSION};
use serde_json::Value;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long a node may take to stop.
const STOP_LIMIT: Duration = Duration::from_secs(10);

/// The first of `n` consecutive free ports below Linux's ephemeral range (so no `:0` bind
/// takes one meanwhile).
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

/// A running `custody-node`, killed on drop if still running.
struct Proc {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    /// Starts `custody-node ARGS` serving its API on `port`; waits until it answers.
    fn start(args: &[&str], port: u16, log: PathBuf) -> Proc {
        let child = Command::new(env!("CARGO_BIN_EXE_custody-node"))
            .args(args)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut p = Proc {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
        };
        let start = Instant::now();
        while ureq::get(&format!("{}/v1/status", p.url)).call().is_err() {
            if let Some(status) = p.child.try_wait().unwrap() {
                panic!("custody-node exited early ({status}):\n{}", p.log_text());
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "node did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        p
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn get(&self, path: &str) -> Value {
        let r = ureq::get(&format!("{}{path}", self.url))
            .timeout(Duration::from_secs(30))
            .call();
        match r {
            Ok(resp) => resp.into_json().unwrap(),
            Err(ureq::Error::Status(_, resp)) => resp.into_json().unwrap(),
            Err(e) => panic!("GET {path}: {e}"),
        }
    }

    /// Sends `signal` (`INT`, `TERM`) and waits for the exit; panics after [`STOP_LIMIT`].
    fn stop_with(mut self, signal: &str) -> ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-s", signal, &pid])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -s {signal} {pid}");
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if start.elapsed() > STOP_LIMIT {
                panic!(
                    "custody-node still running {STOP_LIMIT:?} after SIG{signal}; log:\n{}",
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Commissions one serial as the manufacturer (key in `data_dir`) and waits until it is
    /// committed; returns the transaction hash and its height.
    fn commit_one(&self, data_dir: &Path, serial: &str) -> (String, u64) {
        let hash = self.submit(data_dir, serial);
        let status = self.get(&format!("/v1/transactions/{hash}?wait_ms=30000"));
        assert_eq!(status["status"], "committed", "{status}");
        (hash, status["height"].as_u64().unwrap())
    }

    /// Submits a commission of one serial as the manufacturer; returns its hash.
    fn submit(&self, data_dir: &Path, serial: &str) -> String {
        let genesis =
            Genesis::from_json(&std::fs::read_to_string(data_dir.join("genesis.json")).unwrap())
                .unwrap();
        let pem = std::fs::read_to_string(data_dir.join("keys/manufacturer.pem")).unwrap();
        let sequence = self.get("/v1/members/manufacturer")["next_sequence"]
            .as_u64()
            .unwrap();
        let tx = Transaction {
            version: TX_FORMAT_VERSION,
            chain_id: genesis.chain_id.clone(),
            signer: "manufacturer".into(),
            sequence,
            event_time_ms: custody_node::node::now_ms(),
            payload: Payload::Commission(Commission {
                gtin: Gtin::parse("10614141000019").unwrap(),
                lot: Lot::parse("L1").unwrap(),
                expiry: Expiry::parse("301231").unwrap(),
                serials: vec![Serial::parse(serial).unwrap()],
                location: None,
            }),
        }
        .sign(&signing_key_from_pem(&pem).unwrap());
        let answer: Value = ureq::post(&format!("{}/v1/transactions", self.url))
            .send_json(serde_json::to_value(&tx).unwrap())
            .unwrap()
            .into_json()
            .unwrap();
        answer["hash"].as_str().unwrap().to_string()
    }
}

/// Opens a connection to the API and leaves it idle (as a browser's keep-alive would).
fn idle_connection(url: &str) -> std::net::TcpStream {
    std::net::TcpStream::connect(url.trim_start_matches("http://")).unwrap()
}

fn assert_clean_exit(status: ExitStatus, what: &str) {
    assert_eq!(status.code(), Some(0), "{what}: {status}");
}

#[test]
fn dev_stops_on_sigint_and_sigterm_and_keeps_its_chain() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("dev");
    let port = free_ports(4);
    let args = [
        "dev",
        "--data-dir",
        data.to_str().unwrap(),
        "--api-port",
        &port.to_string(),
    ];
    let node = Proc::start(&args, port, dir.path().join("dev-1.log"));
    let (hash, height) = node.commit_one(&data, "1");
    let _idle = idle_connection(&node.url);
    assert_clean_exit(node.stop_with("INT"), "dev after SIGINT");

    let node = Proc::start(&args, port, dir.path().join("dev-2.log"));
    let status = node.get(&format!("/v1/transactions/{hash}"));
    assert_eq!(status["status"], "committed", "after a restart: {status}");
    assert_eq!(status["height"].as_u64(), Some(height));
    assert!(node.get("/v1/status")["height"].as_u64().unwrap() >= height);
    let _idle = idle_connection(&node.url);
    assert_clean_exit(node.stop_with("TERM"), "dev after SIGTERM");
}

#[test]
fn run_validator_and_follower_stop_on_sigterm_and_sigint() {
    let dir = tempfile::tempdir().unwrap();
    let net = dir.path().join("net");
    let init = Command::new(env!("CARGO_BIN_EXE_custody-node"))
        .args([
            "init",
            "--data-dir",
            net.to_str().unwrap(),
            "--validators",
            "1",
        ])
        .output()
        .unwrap();
    assert!(init.status.success(), "init: {init:?}");
    let genesis = net.join("genesis.json");
    let run_args = |key: &str, data: &str, port: u16| -> Vec<String> {
        [
            "run",
            "--genesis",
            genesis.to_str().unwrap(),
            "--key",
            net.join(format!("keys/{key}.pem")).to_str().unwrap(),
            "--data-dir",
            dir.path().join(data).to_str().unwrap(),
            "--api-addr",
            &format!("127.0.0.1:{port}"),
            "--p2p-listen",
            "/ip4/127.0.0.1/tcp/0",
            // The API flags are accepted (defaults otherwise).
            "--api-max-connections",
            "64",
            "--api-header-timeout-ms",
            "5000",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let port = free_ports(2);

    // The only validator: commits on its own.
    let args = run_args("validator-0", "v0", port);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let v = Proc::start(&args, port, dir.path().join("v0-1.log"));
    let (hash, height) = v.commit_one(&net, "1");
    let _idle = idle_connection(&v.url);
    assert_clean_exit(v.stop_with("TERM"), "validator after SIGTERM");

    let v = Proc::start(&args, port, dir.path().join("v0-2.log"));
    let status = v.get(&format!("/v1/transactions/{hash}"));
    assert_eq!(status["status"], "committed", "after a restart: {status}");
    assert_eq!(status["height"].as_u64(), Some(height));
    // It still commits after the restart.
    v.commit_one(&net, "2");
    assert_clean_exit(v.stop_with("INT"), "validator after SIGINT");

    // A follower (the regulator's node): its thread stops when its handles are dropped.
    let args = run_args("regulator", "observer", port + 1);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let f = Proc::start(&args, port + 1, dir.path().join("f-1.log"));
    // A transaction sent to the follower alone stays pending: a long poll on it is still
    // waiting (for up to 30 s) when the signal comes, and does not hold the stop up.
    let hash = f.submit(&net, "3");
    let url = format!("{}/v1/transactions/{hash}?wait_ms=30000", f.url);
    let long_poll = std::thread::spawn(move || ureq::get(&url).call().is_ok());
    std::thread::sleep(Duration::from_millis(200));
    assert!(!long_poll.is_finished(), "the long poll is waiting");
    assert_clean_exit(f.stop_with("INT"), "follower after SIGINT");
    let _ = long_poll.join().unwrap();
    let f = Proc::start(&args, port + 1, dir.path().join("f-2.log"));
    let _idle = idle_connection(&f.url);
    assert_clean_exit(f.stop_with("TERM"), "follower after SIGTERM");
}
