//! `custody commission`: new serials of one GTIN, lot and expiry, split into transactions
//! of `--batch` serials. All batches are submitted first (increasing sequence numbers; the
//! node's `next_sequence` counts pending ones), then waited for, with a progress bar.
//!
//! A full mempool is waited out (with back-off, up to `--timeout`); submission stops at the
//! first batch the node refuses; what was already submitted is
//! still waited for and reported, so the output always says which serials made it.

use super::submit::{check_form, post, wait, Session};
use super::Ctx;
use crate::api_client::{ApiClient, ApiError};
use crate::cli::CommissionArgs;
use crate::exit::{classify, usage, Exit};
use crate::items::{self, SerialList};
use crate::output::{self, CommissionResult, CommissionTx, SubmitResult, Table};
use custody_ledger::transaction::SignedTransaction;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// A progress bar on stderr, or a hidden one for `--json` and when stderr is no terminal.
fn progress_bar(json: bool, len: usize) -> ProgressBar {
    if json || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len as u64);
    if let Ok(style) =
        ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} serials ({eta})")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// POSTs `stx`; while the node's mempool is full (503 `mempool_full`), backs off and
/// tries again, for at most `timeout`: a long run fills the mempool faster than blocks
/// drain it.
fn post_when_room(
    api: &ApiClient,
    stx: &SignedTransaction,
    timeout: Duration,
) -> anyhow::Result<SubmitResult> {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(250);
    loop {
        match post(api, stx) {
            Err(e) if is_mempool_full(&e) && Instant::now() + pause < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_secs(4));
            }
            other => return other,
        }
    }
}

fn is_mempool_full(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        matches!(c.downcast_ref::<ApiError>(),
            Some(ApiError::Http { code, .. }) if code == "mempool_full")
    })
}

/// The overall status and exit code of a run.
pub fn summarize(txs: &[CommissionTx], no_wait: bool, all_submitted: bool) -> (String, Exit) {
    let any = |s: &str| txs.iter().any(|t| t.result.status == s);
    let all = |s: &str| !txs.is_empty() && txs.iter().all(|t| t.result.status == s);
    if any("rejected") {
        ("rejected".into(), Exit::Rejected)
    } else if all("committed") && all_submitted {
        ("committed".into(), Exit::Success)
    } else if all("pending") && no_wait && all_submitted {
        ("pending".into(), Exit::Success)
    } else if any("unknown") {
        ("unknown".into(), Exit::Failure)
    } else {
        ("pending".into(), Exit::Failure)
    }
}

/// Serials that made it: committed ones, or with `--no-wait` the ones accepted.
pub fn serials_done(txs: &[CommissionTx], no_wait: bool) -> usize {
    txs.iter()
        .filter(|t| t.result.status == "committed" || (no_wait && t.result.status == "pending"))
        .map(|t| t.serials)
        .sum()
}

/// Runs `custody commission`.
pub fn run(ctx: &Ctx, a: CommissionArgs) -> anyhow::Result<Exit> {
    let serials = match (a.serials, &a.serials_file) {
        (Some(SerialList(v)), _) => v,
        (None, Some(path)) => items::read_serials_file(path)?,
        (None, None) => return Err(usage("give --serials or --serials-file")),
    };
    let total = serials.len();
    let payloads: Vec<_> = items::batches(serials, a.batch as usize)
        .into_iter()
        .map(|batch| {
            custody_ledger::transaction::Payload::Commission(
                custody_ledger::transaction::Commission {
                    gtin: a.gtin.clone(),
                    lot: a.lot.clone(),
                    expiry: a.expiry.clone(),
                    serials: batch,
                    location: a.location.clone(),
                },
            )
        })
        .collect();
    for p in &payloads {
        check_form(p)?;
    }
    let batch_count = payloads.len();
    let mut session = Session::open(ctx)?;

    let timeout = Duration::from_secs(a.wait.timeout);
    let bar = progress_bar(ctx.json, total);
    bar.set_message("submitting");
    let mut txs: Vec<CommissionTx> = Vec::with_capacity(batch_count);
    let mut failure: Option<anyhow::Error> = None;
    for payload in payloads {
        let n = payload.item_count();
        let stx = session.sign(payload);
        match post_when_room(&session.api, &stx, timeout) {
            Ok(result) => {
                let refused = result.status == "rejected";
                txs.push(CommissionTx { result, serials: n });
                bar.inc(n as u64);
                if refused {
                    break;
                }
            }
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    let all_submitted = txs.len() == batch_count;

    if !a.wait.no_wait {
        bar.reset();
        bar.set_message("committing");
        for t in txs.iter_mut().filter(|t| t.result.status == "pending") {
            match wait(&session.api, &t.result.hash, timeout) {
                Ok(result) => {
                    if result.status == "committed" {
                        bar.inc(t.serials as u64);
                    }
                    t.result = result;
                }
                Err(e) => {
                    failure.get_or_insert(e);
                    break;
                }
            }
        }
    }
    bar.finish_and_clear();

    if txs.is_empty() {
        if let Some(e) = failure {
            return Err(e);
        }
    }
    let (status, mut exit) = summarize(&txs, a.wait.no_wait, all_submitted);
    let done = serials_done(&txs, a.wait.no_wait);
    let submitted: usize = txs.iter().map(|t| t.serials).sum();
    let doc = CommissionResult {
        status,
        serials: done,
        transactions: txs,
    };
    if ctx.json {
        output::print_json(&doc);
    } else {
        let verb = if a.wait.no_wait {
            "submitted"
        } else {
            "commissioned"
        };
        let mut t = Table::new(&["hash", "serials", "status", "height"]);
        for tx in &doc.transactions {
            t.row(vec![
                tx.result.hash.clone(),
                tx.serials.to_string(),
                tx.result.status.clone(),
                tx.result
                    .height
                    .map(|h| h.to_string())
                    .unwrap_or_else(|| "-".into()),
            ]);
        }
        output::emit(&format!(
            "{verb} {done} of {total} serials of GTIN {} lot {} in {} of {batch_count} transactions\n{}",
            a.gtin,
            a.lot,
            doc.transactions.len(),
            t.render()
        ));
    }
    for tx in &doc.transactions {
        if let Some(e) = &tx.result.error {
            eprintln!(
                "error: commission {} {}: {}: {}",
                tx.result.hash, tx.result.status, e.code, e.message
            );
        }
    }
    if submitted < total {
        eprintln!(
            "error: stopped early: {} serials were not submitted",
            total - submitted
        );
    }
    if let Some(e) = failure {
        eprintln!("error: {e:#}");
        exit = classify(&e);
    } else if doc.status == "pending" && !a.wait.no_wait {
        eprintln!(
            "error: not every transaction was committed within {} s",
            a.wait.timeout
        );
    }
    Ok(exit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tx(status: &str, serials: usize) -> CommissionTx {
        CommissionTx {
            result: SubmitResult {
                status: status.into(),
                hash: "ab".into(),
                height: None,
                error: None,
                recall_id: None,
            },
            serials,
        }
    }

    #[test]
    fn summary_of_a_run() {
        let ok = [tx("committed", 1000), tx("committed", 500)];
        assert_eq!(
            summarize(&ok, false, true),
            ("committed".into(), Exit::Success)
        );
        assert_eq!(serials_done(&ok, false), 1500);
        let bad = [tx("committed", 1000), tx("rejected", 500)];
        assert_eq!(
            summarize(&bad, false, true),
            ("rejected".into(), Exit::Rejected)
        );
        assert_eq!(serials_done(&bad, false), 1000);
        let queued = [tx("pending", 10), tx("pending", 5)];
        assert_eq!(
            summarize(&queued, true, true),
            ("pending".into(), Exit::Success)
        );
        assert_eq!(serials_done(&queued, true), 15);
        assert_eq!(summarize(&queued, false, true).1, Exit::Failure);
        let partial = [tx("committed", 10)];
        assert_eq!(summarize(&partial, false, false).1, Exit::Failure);
    }
}
