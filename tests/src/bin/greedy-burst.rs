//! `greedy-burst`: a member with legitimate keys sending the largest transactions the chain
//! allows, for the fault scenario `greedy_member` (`testnet/faults`). Not part of the
//! product.
//!
//! It reads the chain's limits from `GET /v1/genesis` and signs with the member's PKCS#8 PEM
//! key, at its next sequence numbers:
//!
//! - `--count` commissions of `max_tx_items` serials, each serial as long as AI 21 allows
//!   (20 characters): the largest valid transactions a commission can be (checked locally
//!   with the chain's own stateless checks before they are sent);
//! - one commission per `--oversized` size, with as many serials as it takes to be at least
//!   that many encoded bytes (over `max_tx_bytes`, and so over the item limit too), signed at
//!   the next unused sequence number: each must be refused at once.
//!
//! It POSTs the valid ones back to back (retrying `mempool_full`), then the oversized ones
//! (with `Expect: 100-continue`, so a refusal of the declared length is read, not lost in a
//! broken pipe), timing each answer, waits until every valid one is committed (or `--timeout-secs`
//! passes), and prints one JSON line: the limits, and per transaction its size, the POST's
//! answer and time, and its commit height and time since the first POST.

use anyhow::{bail, Context, Result};
use clap::Parser;
use custody_ledger::crypto::{public_key, signing_key_from_pem};
use custody_ledger::genesis::Genesis;
use custody_ledger::gs1::{Expiry, Gtin, Lot, Serial};
use custody_ledger::transaction::{Commission, Payload, SignedTransaction, Transaction, TxError};
use serde_json::{json, Value};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[derive(Parser)]
#[command(about = "Submits the largest valid commissions and a few over max_tx_bytes")]
struct Args {
    /// The node's HTTP API.
    #[arg(long)]
    node: String,
    /// The member's PKCS#8 PEM key (it must own the GTIN's company prefix).
    #[arg(long)]
    key: PathBuf,
    /// The GTIN to commission.
    #[arg(long)]
    gtin: String,
    /// The lot.
    #[arg(long, default_value = "BURST")]
    lot: String,
    /// The expiry (YYMMDD).
    #[arg(long, default_value = "301231")]
    expiry: String,
    /// How many valid max-size commissions.
    #[arg(long, default_value_t = 8)]
    count: u32,
    /// Encoded sizes (bytes, comma-separated) of the commissions over max_tx_bytes.
    #[arg(long, value_delimiter = ',')]
    oversized: Vec<usize>,
    /// Serial prefix (keeps runs apart; at most 12 characters of GS1 set 82).
    #[arg(long, default_value = "GB")]
    tag: String,
    /// How long to wait for the valid ones to commit.
    #[arg(long, default_value_t = 600)]
    timeout_secs: u64,
}

/// Longest AI 21 serial.
const SERIAL_LEN: usize = 20;

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// `n` distinct 20-character serials for transaction `tx`.
fn serials(tag: &str, tx: usize, n: usize) -> Result<Vec<Serial>> {
    let prefix = format!("{tag}{tx:03}");
    let width = SERIAL_LEN
        .checked_sub(prefix.len())
        .filter(|w| *w >= 7)
        .context("--tag is too long")?;
    (0..n)
        .map(|i| Serial::parse(&format!("{prefix}{i:0width$}")).context("serial"))
        .collect()
}

/// What a POST came back with.
struct Answer {
    http_status: u16,
    body: Value,
    ms: u64,
    transport: Option<String>,
}

fn post(agent: &ureq::Agent, url: &str, body: &[u8]) -> Answer {
    let t0 = Instant::now();
    let r = agent
        .post(url)
        .set("Content-Type", "application/json")
        .send_bytes(body);
    let (http_status, body, transport) = match r {
        Ok(resp) => (resp.status(), resp.into_json().unwrap_or(Value::Null), None),
        Err(ureq::Error::Status(s, resp)) => (s, resp.into_json().unwrap_or(Value::Null), None),
        Err(ureq::Error::Transport(t)) => (0, Value::Null, Some(t.to_string())),
    };
    Answer {
        http_status,
        body,
        ms: t0.elapsed().as_millis() as u64,
        transport,
    }
}

/// POSTs `body` the way a careful HTTP/1.1 client sends a large one: the head with
/// `Expect: 100-continue` first, the body only once the server asks for it (or says nothing
/// for a second). A server refusing the declared length answers at once and the body is
/// never sent, so its answer is read rather than lost in a broken pipe.
fn post_expect_continue(base: &str, path: &str, body: &[u8]) -> Answer {
    let t0 = Instant::now();
    let fail = |e: String| Answer {
        http_status: 0,
        body: Value::Null,
        ms: t0.elapsed().as_millis() as u64,
        transport: Some(e),
    };
    let host = base.trim_start_matches("http://");
    let mut s = match TcpStream::connect(host) {
        Ok(s) => s,
        Err(e) => return fail(format!("connect {host}: {e}")),
    };
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if let Err(e) = s.write_all(head.as_bytes()) {
        return fail(format!("sending the request head: {e}"));
    }
    let mut got = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    // The interim answer, the final one, or silence.
    let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
    let mut send_body = true;
    loop {
        match s.read(&mut buf) {
            Ok(0) => {
                send_body = false;
                break;
            }
            Ok(n) => {
                got.extend_from_slice(&buf[..n]);
                if let Some(end) = find(&got, b"\r\n\r\n") {
                    if got.starts_with(b"HTTP/1.1 100") {
                        got.drain(..end + 4);
                    } else {
                        send_body = false;
                    }
                    break;
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => break,
            Err(e) => return fail(format!("reading the answer: {e}")),
        }
    }
    if send_body {
        if let Err(e) = s.write_all(body) {
            return fail(format!("sending the body: {e}"));
        }
    }
    let _ = s.set_read_timeout(Some(Duration::from_secs(300)));
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if got.is_empty() => return fail(format!("reading the answer: {e}")),
            Err(_) => break,
        }
    }
    let text = String::from_utf8_lossy(&got);
    let http_status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .and_then(|(_, b)| serde_json::from_str(b.trim()).ok())
        .unwrap_or(Value::Null);
    Answer {
        http_status,
        body,
        ms: t0.elapsed().as_millis() as u64,
        transport: (http_status == 0).then(|| format!("unreadable answer: {:.200}", text)),
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn error_field(body: &Value, field: &str) -> Value {
    body.pointer(&format!("/error/{field}"))
        .cloned()
        .unwrap_or(Value::Null)
}

fn main() -> Result<()> {
    let a = Args::parse();
    let base = a.node.trim_end_matches('/').to_string();
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(5))
        .timeout(Duration::from_secs(300))
        .build();
    let genesis_text = agent
        .get(&format!("{base}/v1/genesis"))
        .call()
        .context("GET /v1/genesis")?
        .into_string()?;
    let genesis = Genesis::from_json(&genesis_text).context("parsing /v1/genesis")?;
    let key = signing_key_from_pem(
        &std::fs::read_to_string(&a.key).with_context(|| format!("reading {}", a.key.display()))?,
    )
    .context("reading the key")?;
    let me = genesis
        .member_by_key(&public_key(&key))
        .context("the key is not a genesis member's")?
        .name
        .clone();
    let member: Value = agent
        .get(&format!("{base}/v1/members/{}", me.0))
        .call()
        .context("GET /v1/members/{name}")?
        .into_json()?;
    let mut sequence = member["next_sequence"].as_u64().unwrap_or(1).max(1);
    let max_items = genesis.params.max_tx_items as usize;
    let max_bytes = genesis.params.max_tx_bytes as usize;
    let gtin = Gtin::parse(&a.gtin)?;
    let lot = Lot::parse(&a.lot)?;
    let expiry = Expiry::parse(&a.expiry)?;
    let sign = |seq: u64, serials: Vec<Serial>| -> SignedTransaction {
        Transaction {
            version: custody_ledger::transaction::TX_FORMAT_VERSION,
            chain_id: genesis.chain_id.clone(),
            signer: me.clone(),
            sequence: seq,
            event_time_ms: now_ms(),
            payload: Payload::Commission(Commission {
                gtin: gtin.clone(),
                lot: lot.clone(),
                expiry: expiry.clone(),
                serials,
                location: None,
            }),
        }
        .sign(&key)
    };

    let mut valid = Vec::new();
    for i in 0..a.count as usize {
        let stx = sign(sequence, serials(&a.tag, i, max_items)?);
        if let Err(e) = stx.check_stateless(&genesis) {
            bail!("commission {i} of {max_items} serials is not valid here: {e}");
        }
        sequence += 1;
        valid.push(stx);
    }
    let mut oversized = Vec::new();
    for (j, &target) in a.oversized.iter().enumerate() {
        if target <= max_bytes {
            bail!("--oversized {target} is not over max_tx_bytes ({max_bytes})");
        }
        // ~21 bytes a serial; add until the encoding reaches the target.
        let mut n = target / (SERIAL_LEN + 1);
        let mut stx = sign(sequence, serials(&a.tag, 900 + j, n)?);
        while stx.encoded_len() < target {
            n += (target - stx.encoded_len()) / (SERIAL_LEN + 1) + 1;
            stx = sign(sequence, serials(&a.tag, 900 + j, n)?);
        }
        match stx.check_stateless(&genesis) {
            Err(TxError::TooLarge { .. }) => {}
            other => bail!("the {target}-byte commission is not refused as too large: {other:?}"),
        }
        oversized.push(stx);
    }

    let url = format!("{base}/v1/transactions");
    let t0 = Instant::now();
    let mut valid_out = Vec::new();
    for stx in &valid {
        let body = serde_json::to_vec(stx)?;
        let mut retries = 0u32;
        let ans = loop {
            let ans = post(&agent, &url, &body);
            if error_field(&ans.body, "code") == json!("mempool_full") && retries < 600 {
                retries += 1;
                std::thread::sleep(Duration::from_millis(200));
                continue;
            }
            break ans;
        };
        valid_out.push(json!({
            "hash": stx.hash().to_hex(),
            "sequence": stx.tx.sequence,
            "items": stx.tx.payload.item_count(),
            "bytes": stx.encoded_len(),
            "json_bytes": body.len(),
            "http_status": ans.http_status,
            "post_ms": ans.ms,
            "mempool_full_retries": retries,
            "code": error_field(&ans.body, "code"),
            "message": error_field(&ans.body, "message"),
            "transport_error": ans.transport,
            "status": if ans.http_status == 202 { "pending" } else { "refused" },
        }));
    }
    let mut over_out = Vec::new();
    for stx in &oversized {
        let body = serde_json::to_vec(stx)?;
        let ans = post_expect_continue(&base, "/v1/transactions", &body);
        over_out.push(json!({
            "hash": stx.hash().to_hex(),
            "sequence": stx.tx.sequence,
            "items": stx.tx.payload.item_count(),
            "bytes": stx.encoded_len(),
            "json_bytes": body.len(),
            "http_status": ans.http_status,
            "ms": ans.ms,
            "code": error_field(&ans.body, "code"),
            "message": error_field(&ans.body, "message"),
            "transport_error": ans.transport,
        }));
    }
    let submitted_ms = t0.elapsed().as_millis() as u64;

    // Wait for every accepted one to commit.
    let deadline = t0 + Duration::from_secs(a.timeout_secs);
    for v in valid_out.iter_mut() {
        if v["status"] != "pending" {
            continue;
        }
        let hash = v["hash"].as_str().unwrap_or_default().to_string();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            let wait_ms = left.as_millis().min(5_000) as u64;
            let st: Option<Value> = agent
                .get(&format!("{base}/v1/transactions/{hash}"))
                .query("wait_ms", &wait_ms.to_string())
                .call()
                .ok()
                .and_then(|r| r.into_json().ok());
            match st.as_ref().and_then(|s| s["status"].as_str()) {
                Some("committed") => {
                    v["status"] = json!("committed");
                    v["height"] = st.as_ref().map(|s| s["height"].clone()).into();
                    v["committed_ms"] = json!(t0.elapsed().as_millis() as u64);
                    break;
                }
                Some("rejected") => {
                    v["status"] = json!("rejected");
                    v["code"] = st.as_ref().map(|s| error_field(s, "code")).into();
                    v["message"] = st.as_ref().map(|s| error_field(s, "message")).into();
                    break;
                }
                Some(_) => {}
                None => std::thread::sleep(Duration::from_millis(200)),
            }
        }
    }
    let all_committed = valid_out.iter().all(|v| v["status"] == "committed");
    println!(
        "{}",
        json!({
            "signer": me.0,
            "max_tx_items": max_items,
            "max_tx_bytes": max_bytes,
            "submitted_ms": submitted_ms,
            "all_committed": all_committed,
            "total_ms": t0.elapsed().as_millis() as u64,
            "valid": valid_out,
            "oversized": over_out,
        })
    );
    Ok(())
}
