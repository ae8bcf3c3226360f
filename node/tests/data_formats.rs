//! A node meeting a data folder of another format refuses to start: the real
//! `custody-node run` on a chain data folder of storage format 1 (what the release before
//! wrote), and on a validator's safety record without its header, exits non-zero with a
//! message naming both versions, and leaves the folder as it was.

// Test helpers may unwrap: a panic here is a failed test with its location.
#![allow(clippy::unwrap_used)]

use custody_consensus::{Height, Round, SafetyState, Step};
use custody_ledger::encoding::encode;
use custody_ledger::genesis::Genesis;
use custody_ledger::hash::Hash32;
use custody_node::storage::{KvBackend, SledKv, Store, WriteBatch, FORMAT_VERSION};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long a refusal to start may take.
const REFUSAL_LIMIT: Duration = Duration::from_secs(30);

/// A one-validator network's genesis and keys in `dir/net`.
fn init(dir: &Path) -> PathBuf {
    let net = dir.join("net");
    let init = Command::new(env!("CARGO_BIN_EXE_custody-node"))
        .args(["init", "--validators", "1", "--data-dir"])
        .arg(&net)
        .output()
        .unwrap();
    assert!(init.status.success(), "init: {init:?}");
    net
}

/// sled's error when another handle still holds the database's file lock.
const LOCKED: &str = "could not acquire lock";

/// A sled database closes its files a moment after its last handle is dropped (background
/// work still holds them): this test's own handle may hold the lock for that long. Retries
/// `attempt` while it fails on the lock, for up to 10 s.
fn while_locked<T>(mut attempt: impl FnMut() -> Result<T, String>) -> T {
    let start = Instant::now();
    loop {
        match attempt() {
            Ok(t) => return t,
            Err(e) if e.contains(LOCKED) && start.elapsed() < Duration::from_secs(10) => {
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => panic!("{e}"),
        }
    }
}

/// Runs validator 0 of `net` on `data_dir` and waits for it to exit (killing it, and
/// failing, if it is still running after [`REFUSAL_LIMIT`]); returns its status and
/// stderr. Started again while this test's own sled handle still holds the lock.
fn run_validator(net: &Path, data_dir: &Path) -> (ExitStatus, String) {
    let mut last = None;
    while_locked(|| {
        let (status, stderr) = run_validator_once(net, data_dir);
        if stderr.contains(LOCKED) {
            return Err(stderr);
        }
        last = Some((status, stderr));
        Ok(())
    });
    last.expect("the run finished")
}

fn run_validator_once(net: &Path, data_dir: &Path) -> (ExitStatus, String) {
    let log = data_dir.with_extension("log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_custody-node"))
        .arg("run")
        .arg("--genesis")
        .arg(net.join("genesis.json"))
        .arg("--key")
        .arg(net.join("keys/validator-0.pem"))
        .arg("--data-dir")
        .arg(data_dir)
        .args([
            "--api-addr",
            "127.0.0.1:0",
            "--p2p-listen",
            "/ip4/127.0.0.1/tcp/0",
        ])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > REFUSAL_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "custody-node still running after {REFUSAL_LIMIT:?}:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (status, std::fs::read_to_string(&log).unwrap())
}

/// Every key and value of `kv`.
fn contents(kv: &SledKv) -> Vec<(Vec<u8>, Vec<u8>)> {
    kv.scan_prefix(&[], usize::MAX).unwrap()
}

/// Opens the sled database in `dir` once no other handle holds it.
fn open(dir: &Path) -> SledKv {
    while_locked(|| SledKv::open(dir).map_err(|e| e.to_string()))
}

/// A refusal: exit status 1 (an error, not a panic's 101 or a signal), no panic.
fn assert_refused(status: ExitStatus, stderr: &str) {
    assert_eq!(status.code(), Some(1), "{status}:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_chain_data_folder_of_storage_format_1_is_refused() {
    assert_eq!(FORMAT_VERSION, 2);
    let dir = tempfile::tempdir().unwrap();
    let net = init(dir.path());
    let data_dir = dir.path().join("v0");
    let db = data_dir.join("db");
    // What the release before wrote: its meta records (the genesis hash of that release's
    // genesis encoding, format 1, a head) and a block's records, encoded its way.
    let before = {
        let kv = SledKv::open(&db).unwrap();
        let mut b = WriteBatch::new();
        b.put(b"mgenesis".to_vec(), encode(&Hash32([0xab; 32])));
        b.put(b"mformat".to_vec(), encode(&1u32));
        b.put(b"mhead".to_vec(), vec![1, 0x5a, 0x5a, 0x5a]);
        b.put([b"h".as_slice(), &1u64.to_be_bytes()].concat(), vec![9; 40]);
        b.put([b"c".as_slice(), &1u64.to_be_bytes()].concat(), vec![7; 24]);
        kv.write_batch(b).unwrap();
        contents(&kv)
    };

    let (status, stderr) = run_validator(&net, &data_dir);
    assert_refused(status, &stderr);
    assert!(
        stderr.contains(
            "data folder was written in storage format 1; this custody-node reads format 2"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("no migration"), "{stderr}");
    assert!(
        stderr.contains(&data_dir.display().to_string()),
        "names the data folder: {stderr}"
    );
    // Refused on its format, not on the genesis hash it holds.
    assert!(!stderr.contains("belongs to genesis"), "{stderr}");
    assert_eq!(contents(&open(&db)), before, "the refusal wrote nothing");
    assert!(!data_dir.join("consensus-safety.bin").exists());
}

#[test]
fn a_safety_record_without_its_header_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let net = init(dir.path());
    let data_dir = dir.path().join("v0");
    // A chain data folder of this format, and the safety record as the release before wrote
    // it: the bare encoding, with no magic bytes and no version.
    let genesis =
        Genesis::from_json(&std::fs::read_to_string(net.join("genesis.json")).unwrap()).unwrap();
    drop(Store::open(&data_dir.join("db"), &genesis).unwrap());
    // (run_validator retries while this test's handle still holds the lock.)
    let old = SafetyState::<Hash32> {
        height: Height(1),
        round: Round(0),
        step: Step::Prevote,
        locked: None,
        valid: None,
        valid_polka: vec![],
        signed: vec![],
    };
    let record = data_dir.join("consensus-safety.bin");
    std::fs::write(&record, encode(&old)).unwrap();

    let (status, stderr) = run_validator(&net, &data_dir);
    assert_refused(status, &stderr);
    assert!(stderr.contains(&record.display().to_string()), "{stderr}");
    assert!(stderr.contains("\"CUSTSAFE\""), "{stderr}");
    assert!(
        stderr.contains("this custody-node reads format 1"),
        "{stderr}"
    );
    // Not silently reset: the record is still the one it found.
    assert_eq!(std::fs::read(&record).unwrap(), encode(&old));
}
