//! Runs the built `custody` binary for the contracts that need no node: help text, key
//! files, bad arguments, and an unreachable node.

// Helpers outside #[test] fns unwrap too: in a test binary a panic is a failed test.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

fn custody(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_custody"))
        .args(args)
        .env_remove("CUSTODY_NODE")
        .env_remove("CUSTODY_KEY")
        .output()
        .expect("run custody")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn generate_key(path: &Path) -> String {
    let o = custody(&["keys", "generate", "-o", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    stdout(&o).trim().to_string()
}

const ITEM: &str = "(01)09506000134352(21)ABC123";

#[test]
fn help_lists_commands_and_exit_codes() {
    let o = custody(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    let help = stdout(&o);
    for cmd in [
        "keys",
        "commission",
        "pack",
        "unpack",
        "ship",
        "receive",
        "move",
        "status",
        "recall",
        "decommission",
        "return",
        "show",
        "history",
        "shipment",
        "block",
        "node-status",
        "inventory",
    ] {
        assert!(help.contains(cmd), "help lacks {cmd}:\n{help}");
    }
    assert!(help.contains("Exit codes"), "{help}");
    for code in [
        "0  success",
        "2  bad usage",
        "3  the node rejected",
        "4  not found",
        "5  node unreachable",
    ] {
        assert!(help.contains(code), "help lacks {code:?}:\n{help}");
    }
}

#[test]
fn unknown_subcommand_is_usage_error() {
    let o = custody(&["frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn keys_generate_writes_pem_and_refuses_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("me.pem");
    let public = generate_key(&path);
    assert_eq!(public.len(), 64, "{public}");
    assert!(public.bytes().all(|b| b.is_ascii_hexdigit()));

    let pem = std::fs::read_to_string(&path).unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"), "{pem}");
    assert!(pem.trim_end().ends_with("-----END PRIVATE KEY-----"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "key file is readable by others: {mode:o}");
    }

    // `keys show` prints the same public key.
    let o = custody(&["keys", "show", "--key", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim(), public);

    // A second generate refuses to overwrite and leaves the file alone.
    let o = custody(&["keys", "generate", "-o", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), pem);

    // --force replaces it.
    let o = custody(&[
        "keys",
        "generate",
        "-o",
        path.to_str().unwrap(),
        "--force",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let new_public = doc["public_key"].as_str().unwrap();
    assert_ne!(new_public, public);
    assert_ne!(std::fs::read_to_string(&path).unwrap(), pem);
}

#[test]
fn keys_show_without_key_is_usage_error() {
    let o = custody(&["keys", "show"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--key"), "{}", stderr(&o));
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.pem");
    std::fs::write(&bad, "not a key").unwrap();
    let o = custody(&["keys", "show", "--key", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn bad_item_argument_exits_2_with_the_parse_error() {
    let o = custody(&["show", "(01)09506000134353(21)ABC"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("check digit"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let o = custody(&["move", "--to", "0614141000005", ITEM, "garbage"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("garbage"));
}

#[test]
fn bad_serial_ranges_exit_2() {
    let base = [
        "commission",
        "--gtin",
        "09506000134352",
        "--lot",
        "L1",
        "--expiry",
        "261231",
        "--serials",
    ];
    for (range, needle) in [("0100..0001", "reversed"), ("1..2000000", "at most")] {
        let mut args = base.to_vec();
        args.push(range);
        let o = custody(&args);
        assert_eq!(o.status.code(), Some(2), "{range}");
        assert!(stderr(&o).contains(needle), "{range}: {}", stderr(&o));
    }
}

#[test]
fn submit_without_key_is_usage_error() {
    let o = custody(&[
        "move",
        "--to",
        "0614141000005",
        ITEM,
        "--node",
        "http://127.0.0.1:9",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("CUSTODY_KEY"), "{}", stderr(&o));
}

#[test]
fn duplicate_items_are_refused_locally() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k.pem");
    generate_key(&key);
    let o = custody(&[
        "move",
        "--to",
        "0614141000005",
        ITEM,
        ITEM,
        "--key",
        key.to_str().unwrap(),
        "--node",
        "http://127.0.0.1:9",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("twice"), "{}", stderr(&o));
}

#[test]
fn submit_to_unreachable_node_exits_5() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k.pem");
    generate_key(&key);
    let o = custody(&[
        "move",
        "--to",
        "0614141000005",
        ITEM,
        "--key",
        key.to_str().unwrap(),
        "--node",
        "http://127.0.0.1:9",
    ]);
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    assert!(stderr(&o).contains("127.0.0.1:9"), "{}", stderr(&o));

    // With --json, stdout still carries exactly one JSON document.
    let o = Command::new(env!("CARGO_BIN_EXE_custody"))
        .args(["--json", "move", "--to", "0614141000005", ITEM])
        .env("CUSTODY_KEY", &key)
        .env("CUSTODY_NODE", "http://127.0.0.1:9")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(5));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(doc["error"]["code"], "unreachable");
}

#[test]
fn query_to_unreachable_node_exits_5() {
    let o = custody(&["node-status", "--node", "http://127.0.0.1:9"]);
    assert_eq!(o.status.code(), Some(5));
    let o = custody(&["show", ITEM, "--node", "http://127.0.0.1:9"]);
    assert_eq!(o.status.code(), Some(5));
}
