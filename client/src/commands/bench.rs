//! `custody bench`: a load generator. It commissions fresh serials as fast as the network
//! takes them, with at most `--concurrency` transactions in flight (submitted, not yet seen
//! committed), for `--duration` seconds, then waits (bounded) for what is in flight and
//! prints the committed transactions per second and the commit latency percentiles
//! (submission → commit seen by a `wait_ms` long poll).
//!
//! One signer pipelines: sequence numbers are tracked locally (starting from the node's
//! `next_sequence`, which counts pending transactions). A node only admits consecutive
//! sequences, so submissions stick to one node at a time and move on to the next of the
//! `--node`s (round-robin) every `--switch-every` transactions, once that node's
//! `next_sequence` shows it has seen all of ours through gossip; an unreachable node or a
//! sequence refusal moves on at once and re-reads the sequence there. The run is bounded
//! in time (duration + drain timeout) and optionally in count (`--max-txs`).

use super::submit::{load_key, now_ms, post};
use super::Ctx;
use crate::api_client::{ApiClient, ApiError};
use crate::exit::{usage, Exit};
use crate::items;
use crate::output;
use anyhow::Context;
use clap::Args;
use custody_ledger::crypto;
use custody_ledger::genesis::MemberId;
use custody_ledger::gs1::{Expiry, Gtin, Lot, Serial};
use custody_ledger::transaction::{Commission, Payload, Transaction, TX_FORMAT_VERSION};
use ed25519_dalek::SigningKey;
use serde::Serialize;
use serde_json::Value;
use std::io::Write;
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// `custody bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// The product's GTIN (must carry the signer's company prefix).
    #[arg(long, value_parser = items::parse_gtin)]
    pub gtin: Gtin,
    /// How long to submit, seconds (then in-flight transactions are waited for).
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub duration: u64,
    /// Most transactions in flight (submitted, commit not yet seen).
    #[arg(long, value_name = "K", default_value_t = 32,
          value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub concurrency: u32,
    /// Fresh serials per commission transaction.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub serials_per_tx: u32,
    /// Stop after submitting this many transactions (default: only the duration bounds it).
    #[arg(long, value_name = "N")]
    pub max_txs: Option<u64>,
    /// Lot of the commissioned serials.
    #[arg(long, default_value = "BENCH", value_parser = items::parse_lot)]
    pub lot: Lot,
    /// Expiry of the commissioned serials.
    #[arg(long, value_name = "YYMMDD", default_value = "301231", value_parser = items::parse_expiry)]
    pub expiry: Expiry,
    /// After the duration, wait at most this long for in-flight transactions, seconds.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub drain_timeout: u64,
    /// Move submissions to the next --node after this many transactions.
    #[arg(long, value_name = "N", default_value_t = 200,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub switch_every: u64,
    /// Append one JSON line per committed transaction (hash, height, latency, node) here.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
}

/// Nearest-rank percentile of ascending `sorted` values: the smallest value with at least
/// `p` percent of the values at or below it. `None` for no values.
pub fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let p = p.clamp(0.0, 100.0);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Commit latency summary, milliseconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Latency {
    /// Committed transactions measured.
    pub count: usize,
    /// Median.
    pub p50_ms: u64,
    /// 99th percentile.
    pub p99_ms: u64,
    /// Slowest.
    pub max_ms: u64,
}

/// Summarises latencies (any order).
pub fn summarize(mut ms: Vec<u64>) -> Option<Latency> {
    ms.sort_unstable();
    Some(Latency {
        count: ms.len(),
        p50_ms: percentile(&ms, 50.0)?,
        p99_ms: percentile(&ms, 99.0)?,
        max_ms: *ms.last()?,
    })
}

/// The `--json` document.
#[derive(Debug, Serialize)]
struct Report {
    nodes: Vec<String>,
    signer: String,
    concurrency: u32,
    serials_per_tx: u32,
    duration_s: u64,
    elapsed_s: f64,
    submitted: u64,
    committed: u64,
    rejected: u64,
    lost: u64,
    pending_at_end: u64,
    resyncs: u64,
    node_switches: u64,
    committed_tx_per_s: f64,
    committed_serials_per_s: f64,
    latency: Option<Latency>,
    first_height: Option<u64>,
    last_height: Option<u64>,
    rejections: Vec<String>,
}

/// One submitted transaction for a waiter.
struct Job {
    hash: String,
    node: usize,
    submitted: Instant,
}

/// What became of one transaction.
enum Outcome {
    Committed { height: u64, latency: Duration },
    Rejected(String),
    Lost,
    Pending,
}

#[derive(Default)]
struct Shared {
    in_flight: usize,
    latencies_ms: Vec<u64>,
    committed: u64,
    rejected: u64,
    lost: u64,
    pending: u64,
    first_height: Option<u64>,
    last_height: Option<u64>,
    last_commit: Option<Instant>,
    rejections: Vec<String>,
}

/// How long a transaction may stay `unknown` on every node before it counts as lost.
const UNKNOWN_GRACE: Duration = Duration::from_secs(10);
/// Longest single `wait_ms` poll (short enough to notice the drain deadline).
const POLL_MS: u64 = 5_000;

/// `GET /v1/members/{name}` → `next_sequence`.
fn next_sequence(agent: &ureq::Agent, node: &str, member: &str) -> anyhow::Result<u64> {
    let url = format!("{node}/v1/members/{member}");
    let resp = agent
        .get(&url)
        .timeout(Duration::from_secs(5))
        .call()
        .with_context(|| format!("GET {url}"))?;
    let v: Value = crate::api_client::read_json(resp, &url)?;
    v.get("next_sequence")
        .and_then(Value::as_u64)
        .with_context(|| format!("GET {url}: no next_sequence"))
}

fn is_code(e: &anyhow::Error, want: &str) -> bool {
    e.chain().any(|c| {
        matches!(c.downcast_ref::<ApiError>(),
            Some(ApiError::Http { code, .. }) if code == want)
    })
}

/// Waits for one transaction: long polls on the node it went to; an unreachable node or
/// one that does not know it makes the next node be asked.
fn await_commit(apis: &[ApiClient], job: &Job, hard_deadline: Instant) -> Outcome {
    let mut node = job.node;
    let mut unknown_since: Option<Instant> = None;
    loop {
        let now = Instant::now();
        if now >= hard_deadline {
            return Outcome::Pending;
        }
        let wait_ms = (hard_deadline - now).as_millis().min(u128::from(POLL_MS)) as u64;
        match apis[node].transaction(&job.hash, wait_ms) {
            Ok(st) => match st.status.as_str() {
                "committed" => {
                    return Outcome::Committed {
                        height: st.height.unwrap_or(0),
                        latency: job.submitted.elapsed(),
                    }
                }
                "rejected" => {
                    return Outcome::Rejected(
                        st.error
                            .map(|e| format!("{}: {}", e.code, e.message))
                            .unwrap_or_else(|| "rejected".into()),
                    )
                }
                "unknown" => {
                    let since = *unknown_since.get_or_insert(now);
                    if since.elapsed() >= UNKNOWN_GRACE {
                        return Outcome::Lost;
                    }
                    node = (node + 1) % apis.len();
                    std::thread::sleep(Duration::from_millis(100));
                }
                _ => unknown_since = None,
            },
            Err(_) => {
                node = (node + 1) % apis.len();
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
}

/// Runs `custody bench`.
pub fn run(ctx: &Ctx, nodes: &[String], a: BenchArgs) -> anyhow::Result<Exit> {
    if nodes.is_empty() {
        return Err(usage("give at least one --node"));
    }
    let key: SigningKey = load_key(ctx)?;
    let apis: Vec<ApiClient> = nodes
        .iter()
        .map(|n| ApiClient::new(n))
        .collect::<Result<_, _>>()?;
    let apis = Arc::new(apis);
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(3))
        .build();

    // Chain id and signer from the first node that answers.
    let me = crypto::public_key(&key).to_hex();
    let mut cur = 0usize;
    let (chain_id, signer) = {
        let mut found = None;
        let mut last_err = None;
        for (i, api) in apis.iter().enumerate() {
            let r = api.chain_id().and_then(|c| api.members().map(|m| (c, m)));
            match r {
                Ok((c, members)) => {
                    let m = members
                        .into_iter()
                        .find(|m| m.public_key.eq_ignore_ascii_case(&me))
                        .ok_or_else(|| usage(format!("key {me} is not a member's key on {c}")))?;
                    found = Some((c, m.name));
                    cur = i;
                    break;
                }
                Err(e) => last_err = Some(e),
            }
        }
        match (found, last_err) {
            (Some(f), _) => f,
            (None, Some(e)) => return Err(e).context("no --node answered"),
            (None, None) => return Err(usage("give at least one --node")),
        }
    };
    let mut seq = next_sequence(&agent, apis[cur].base(), &signer)?.max(1);

    let mut record = match &a.record {
        Some(p) => Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .with_context(|| format!("opening {}", p.display()))?,
        ),
        None => None,
    };

    let start = Instant::now();
    let submit_deadline = start + Duration::from_secs(a.duration);
    let hard_deadline = submit_deadline + Duration::from_secs(a.drain_timeout);
    let shared = Arc::new((Mutex::new(Shared::default()), Condvar::new()));
    let (tx_jobs, rx_jobs) = mpsc::channel::<Job>();
    let rx_jobs = Arc::new(Mutex::new(rx_jobs));
    let (tx_rec, rx_rec) = mpsc::channel::<String>();

    let mut waiters = Vec::new();
    for _ in 0..a.concurrency {
        let apis = Arc::clone(&apis);
        let rx = Arc::clone(&rx_jobs);
        let shared = Arc::clone(&shared);
        let tx_rec = tx_rec.clone();
        waiters.push(std::thread::spawn(move || loop {
            let job = {
                let Ok(guard) = rx.lock() else { return };
                match guard.recv() {
                    Ok(j) => j,
                    Err(_) => return,
                }
            };
            let outcome = await_commit(&apis, &job, hard_deadline);
            let (lock, cvar) = &*shared;
            let Ok(mut s) = lock.lock() else { return };
            s.in_flight = s.in_flight.saturating_sub(1);
            match outcome {
                Outcome::Committed { height, latency } => {
                    s.committed += 1;
                    s.latencies_ms.push(latency.as_millis() as u64);
                    s.first_height = Some(s.first_height.map_or(height, |h| h.min(height)));
                    s.last_height = Some(s.last_height.map_or(height, |h| h.max(height)));
                    s.last_commit = Some(Instant::now());
                    let _ = tx_rec.send(
                        serde_json::json!({
                            "hash": job.hash,
                            "height": height,
                            "latency_ms": latency.as_millis() as u64,
                            "node": apis[job.node].base(),
                        })
                        .to_string(),
                    );
                }
                Outcome::Rejected(why) => {
                    s.rejected += 1;
                    if s.rejections.len() < 10 {
                        s.rejections.push(why);
                    }
                }
                Outcome::Lost => s.lost += 1,
                Outcome::Pending => s.pending += 1,
            }
            cvar.notify_all();
        }));
    }
    drop(tx_rec);

    let gtin = a.gtin.clone();
    let tag = base36(now_ms());
    let mut counter: u64 = 0;
    let mut submitted: u64 = 0;
    let mut resyncs: u64 = 0;
    let mut switches: u64 = 0;
    let mut on_this_node: u64 = 0;
    let mut fatal: Option<anyhow::Error> = None;
    let max_txs = a.max_txs.unwrap_or(u64::MAX);

    while Instant::now() < submit_deadline && submitted < max_txs {
        // Room in the window?
        {
            let (lock, cvar) = &*shared;
            let mut s = lock.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
            while s.in_flight >= a.concurrency as usize {
                let left = submit_deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                s = cvar
                    .wait_timeout(s, left.min(Duration::from_millis(200)))
                    .map_err(|_| anyhow::anyhow!("poisoned"))?
                    .0;
            }
            if s.in_flight >= a.concurrency as usize {
                break;
            }
        }
        // Round-robin: move on once the next node has seen all our transactions.
        if apis.len() > 1 && on_this_node >= a.switch_every {
            let next = (cur + 1) % apis.len();
            if let Ok(ns) = next_sequence(&agent, apis[next].base(), &signer) {
                if ns >= seq {
                    cur = next;
                    seq = ns;
                    on_this_node = 0;
                    switches += 1;
                }
            }
        }
        let serials: Vec<Serial> = (0..a.serials_per_tx)
            .map(|_| {
                counter += 1;
                Serial::parse(&format!("{tag}{counter}"))
            })
            .collect::<Result<_, _>>()
            .map_err(|e| usage(format!("serial: {e}")))?;
        let payload = Payload::Commission(Commission {
            gtin: gtin.clone(),
            lot: a.lot.clone(),
            expiry: a.expiry.clone(),
            serials,
            location: None,
        });
        let stx = Transaction {
            version: TX_FORMAT_VERSION,
            chain_id: chain_id.clone(),
            signer: MemberId(signer.clone()),
            sequence: seq,
            event_time_ms: now_ms(),
            payload,
        }
        .sign(&key);
        let submitted_at = Instant::now();
        match post(&apis[cur], &stx) {
            Ok(r) if r.status == "pending" => {
                seq += 1;
                submitted += 1;
                on_this_node += 1;
                let (lock, _) = &*shared;
                if let Ok(mut s) = lock.lock() {
                    s.in_flight += 1;
                }
                if tx_jobs
                    .send(Job {
                        hash: r.hash,
                        node: cur,
                        submitted: submitted_at,
                    })
                    .is_err()
                {
                    break;
                }
            }
            Ok(r) => {
                // Refused: a sequence mismatch (e.g. the node lost our pending ones in a
                // restart) is resynchronised; anything else is a real refusal.
                let code = r.error.as_ref().map(|e| e.code.clone()).unwrap_or_default();
                if code == "sequence" || code == "duplicate" {
                    resyncs += 1;
                    if let Ok(ns) = next_sequence(&agent, apis[cur].base(), &signer) {
                        seq = ns;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                } else {
                    let why = r
                        .error
                        .map(|e| format!("{}: {}", e.code, e.message))
                        .unwrap_or_else(|| "rejected".into());
                    fatal = Some(anyhow::anyhow!("the node refused a transaction: {why}"));
                    break;
                }
            }
            Err(e) if is_code(&e, "mempool_full") => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(_) => {
                // Unreachable (killed?): next node, and its view of our sequence.
                cur = (cur + 1) % apis.len();
                on_this_node = 0;
                switches += 1;
                resyncs += 1;
                match next_sequence(&agent, apis[cur].base(), &signer) {
                    Ok(ns) => seq = ns,
                    Err(_) => std::thread::sleep(Duration::from_millis(200)),
                }
            }
        }
        // Write commit records as they come.
        if let Some(f) = record.as_mut() {
            for line in rx_rec.try_iter() {
                let _ = writeln!(f, "{line}");
            }
        }
    }
    drop(tx_jobs);
    for w in waiters {
        let _ = w.join();
    }
    if let Some(f) = record.as_mut() {
        for line in rx_rec.try_iter() {
            let _ = writeln!(f, "{line}");
        }
        let _ = f.flush();
    }

    let (lock, _) = &*shared;
    let s = lock.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
    let end = s.last_commit.unwrap_or_else(Instant::now);
    let elapsed = end.saturating_duration_since(start).as_secs_f64().max(1e-3);
    let report = Report {
        nodes: apis.iter().map(|a| a.base().to_string()).collect(),
        signer: signer.clone(),
        concurrency: a.concurrency,
        serials_per_tx: a.serials_per_tx,
        duration_s: a.duration,
        elapsed_s: round2(elapsed),
        submitted,
        committed: s.committed,
        rejected: s.rejected,
        lost: s.lost,
        pending_at_end: s.pending,
        resyncs,
        node_switches: switches,
        committed_tx_per_s: round2(s.committed as f64 / elapsed),
        committed_serials_per_s: round2(
            (s.committed * u64::from(a.serials_per_tx)) as f64 / elapsed,
        ),
        latency: summarize(s.latencies_ms.clone()),
        first_height: s.first_height,
        last_height: s.last_height,
        rejections: s.rejections.clone(),
    };
    if ctx.json {
        output::print_json(&report);
    } else {
        let lat = match &report.latency {
            Some(l) => format!(
                "commit latency p50 {} ms, p99 {} ms, max {} ms (n={})",
                l.p50_ms, l.p99_ms, l.max_ms, l.count
            ),
            None => "commit latency: nothing committed".into(),
        };
        output::emit(&format!(
            "bench: {} node(s), signer {}, concurrency {}, {} serial(s)/tx, {} s\n\
             submitted {}, committed {}, rejected {}, lost {}, still pending {} \
             (resyncs {}, node switches {})\n\
             committed {:.2} tx/s ({:.2} serials/s) over {:.2} s, heights {}..{}\n{}",
            report.nodes.len(),
            report.signer,
            report.concurrency,
            report.serials_per_tx,
            report.duration_s,
            report.submitted,
            report.committed,
            report.rejected,
            report.lost,
            report.pending_at_end,
            report.resyncs,
            report.node_switches,
            report.committed_tx_per_s,
            report.committed_serials_per_s,
            report.elapsed_s,
            fmt_opt(report.first_height),
            fmt_opt(report.last_height),
            lat
        ));
        for r in &report.rejections {
            eprintln!("error: rejected: {r}");
        }
    }
    if let Some(e) = fatal {
        eprintln!("error: {e:#}");
        return Ok(Exit::Rejected);
    }
    Ok(if report.committed > 0 && report.rejected == 0 {
        Exit::Success
    } else {
        Exit::Failure
    })
}

fn fmt_opt(v: Option<u64>) -> String {
    v.map_or_else(|| "-".into(), |h| h.to_string())
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// `n` in base 36 (upper case): a short run tag that keeps serials of runs apart.
pub fn base36(mut n: u64) -> String {
    const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[7], 50.0), Some(7));
        assert_eq!(percentile(&[7], 99.0), Some(7));
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), Some(50));
        assert_eq!(percentile(&v, 99.0), Some(99));
        assert_eq!(percentile(&v, 100.0), Some(100));
        assert_eq!(percentile(&v, 0.0), Some(1));
        let v = [10, 20, 30, 40];
        assert_eq!(percentile(&v, 50.0), Some(20));
        assert_eq!(percentile(&v, 51.0), Some(30));
        assert_eq!(percentile(&v, 99.0), Some(40));
        let v: Vec<u64> = (1..=1000).collect();
        assert_eq!(percentile(&v, 99.0), Some(990));
    }

    #[test]
    fn summary_sorts_first() {
        let s = summarize(vec![30, 10, 20, 1000]).unwrap();
        assert_eq!(
            s,
            Latency {
                count: 4,
                p50_ms: 20,
                p99_ms: 1000,
                max_ms: 1000
            }
        );
        assert!(summarize(vec![]).is_none());
    }

    #[test]
    fn run_tags_make_valid_serials() {
        assert_eq!(base36(0), "0");
        assert_eq!(base36(35), "Z");
        assert_eq!(base36(36), "10");
        let tag = base36(now_ms());
        assert!(tag.len() <= 9, "{tag}");
        assert!(Serial::parse(&format!("{tag}{}", u64::from(u32::MAX))).is_ok());
    }
}
