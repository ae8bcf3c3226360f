//! Submitting transactions: load the key, find the member it belongs to, sign with the
//! member's next sequence number, POST, then wait until the node commits or rejects.
//!
//! Local checks come first (the transaction's form, the key file), so bad input fails with
//! exit 2 before the node is contacted. The key never leaves this process.

use super::Ctx;
use crate::api_client::{ApiClient, ErrorBody, MAX_WAIT_MS};
use crate::cli::WaitArgs;
use crate::exit::{usage, Exit};
use crate::output::{self, SubmitResult};
use anyhow::Context;
use custody_ledger::crypto;
use custody_ledger::genesis::{ChainParams, MemberId};
use custody_ledger::transaction::{Payload, SignedTransaction, Transaction, TX_FORMAT_VERSION};
use ed25519_dalek::SigningKey;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long a transaction may be `unknown` to the node before we give up on it.
const UNKNOWN_GRACE: Duration = Duration::from_secs(3);
/// Pause between polls when the node answers a `wait_ms` poll at once.
const POLL_PAUSE: Duration = Duration::from_millis(200);

/// Reads the `--key` PEM file. A missing option, unreadable file or bad PEM is exit 2.
pub fn load_key(ctx: &Ctx) -> anyhow::Result<SigningKey> {
    let path = ctx
        .key
        .as_ref()
        .ok_or_else(|| usage("no signing key: pass --key FILE or set CUSTODY_KEY"))?;
    let pem = std::fs::read_to_string(path)
        .map_err(|e| usage(format!("cannot read key file {}: {e}", path.display())))?;
    crypto::signing_key_from_pem(&pem).map_err(|e| usage(format!("{}: {e}", path.display())))
}

/// Now, Unix milliseconds.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Runs the ledger's form checks (non-empty lists, no duplicates, text lengths) locally, so
/// a transaction the node would refuse as `invalid` fails here with exit 2. The item limit
/// is the chain's business and left to the node.
pub fn check_form(payload: &Payload) -> anyhow::Result<()> {
    let tx = Transaction {
        version: TX_FORMAT_VERSION,
        chain_id: String::new(),
        signer: MemberId(String::new()),
        sequence: 1,
        event_time_ms: 0,
        payload: payload.clone(),
    };
    let params = ChainParams {
        max_tx_items: u32::MAX,
        ..ChainParams::default()
    };
    tx.check_form(&params)
        .map_err(|e| usage(format!("invalid {}: {e}", payload.kind())))
}

/// A signer bound to a node: its member name, the chain id and its next sequence number.
pub struct Session {
    /// The node.
    pub api: ApiClient,
    key: SigningKey,
    /// The member the key belongs to.
    pub signer: MemberId,
    chain_id: String,
    next_sequence: u64,
}

impl Session {
    /// Loads the key, asks the node for the chain id and the member whose key it is.
    pub fn open(ctx: &Ctx) -> anyhow::Result<Session> {
        let api = ctx.api()?;
        let key = load_key(ctx)?;
        let chain_id = api
            .chain_id()
            .with_context(|| format!("asking the node at {} for its chain id", api.base()))?;
        let me = crypto::public_key(&key).to_hex();
        let member = api
            .members()
            .context("looking up the members")?
            .into_iter()
            .find(|m| m.public_key.eq_ignore_ascii_case(&me))
            .ok_or_else(|| {
                usage(format!(
                    "key {me} is not a member's key on chain {chain_id} (check --key)"
                ))
            })?;
        Ok(Session {
            api,
            key,
            signer: MemberId(member.name),
            chain_id,
            next_sequence: member.next_sequence.max(1),
        })
    }

    /// Signs `payload` with the next sequence number and the current time.
    pub fn sign(&mut self, payload: Payload) -> SignedTransaction {
        let tx = Transaction {
            version: TX_FORMAT_VERSION,
            chain_id: self.chain_id.clone(),
            signer: self.signer.clone(),
            sequence: self.next_sequence,
            event_time_ms: now_ms(),
            payload,
        };
        self.next_sequence += 1;
        tx.sign(&self.key)
    }
}

/// POSTs a signed transaction. The node refusing it is a result (`rejected`, with the
/// node's code and message); an unreachable node or a server error is an error.
pub fn post(api: &ApiClient, stx: &SignedTransaction) -> anyhow::Result<SubmitResult> {
    match api.submit(stx) {
        Ok(acc) => Ok(SubmitResult {
            status: "pending".into(),
            hash: if acc.hash.is_empty() {
                stx.hash().to_hex()
            } else {
                acc.hash
            },
            height: None,
            error: None,
            recall_id: None,
        }),
        Err(e) if e.exit() == Exit::Rejected => Ok(SubmitResult {
            status: "rejected".into(),
            hash: stx.hash().to_hex(),
            height: None,
            error: e.body(),
            recall_id: None,
        }),
        Err(e) => Err(e).context("submitting the transaction"),
    }
}

/// Waits until `hash` is committed or rejected, or `timeout` passes without that
/// (then the result is still `pending`). A transaction the node keeps not knowing is
/// reported `unknown`.
pub fn wait(api: &ApiClient, hash: &str, timeout: Duration) -> anyhow::Result<SubmitResult> {
    let deadline = Instant::now() + timeout;
    let mut unknown_since: Option<Instant> = None;
    let result = |status: &str, height, error| SubmitResult {
        status: status.into(),
        hash: hash.to_string(),
        height,
        error,
        recall_id: None,
    };
    loop {
        let started = Instant::now();
        let left = deadline.saturating_duration_since(started);
        let wait_ms = (left.as_millis() as u64).min(MAX_WAIT_MS);
        let st = api
            .transaction(hash, wait_ms)
            .with_context(|| format!("waiting for transaction {hash}"))?;
        match st.status.as_str() {
            "committed" => return Ok(result("committed", st.height, None)),
            "rejected" => {
                let error = st.error.unwrap_or_else(|| ErrorBody {
                    code: "rejected".into(),
                    message: "the node gave no reason".into(),
                });
                return Ok(result("rejected", None, Some(error)));
            }
            "unknown" => {
                let since = *unknown_since.get_or_insert(started);
                if since.elapsed() >= UNKNOWN_GRACE {
                    let error = ErrorBody {
                        code: "unknown".into(),
                        message: "the node no longer knows this transaction \
                                  (dropped from its mempool?)"
                            .into(),
                    };
                    return Ok(result("unknown", None, Some(error)));
                }
            }
            _ => unknown_since = None,
        }
        if Instant::now() >= deadline {
            return Ok(result("pending", None, None));
        }
        if started.elapsed() < POLL_PAUSE {
            std::thread::sleep(POLL_PAUSE);
        }
    }
}

/// The exit code for one transaction's outcome.
pub fn exit_for(result: &SubmitResult, no_wait: bool) -> Exit {
    match result.status.as_str() {
        "committed" => Exit::Success,
        "rejected" => Exit::Rejected,
        "pending" if no_wait => Exit::Success,
        _ => Exit::Failure,
    }
}

/// Prints one transaction's outcome (JSON document, or a line for people) and returns
/// the exit code.
pub fn report(ctx: &Ctx, kind: &str, result: &SubmitResult, wait: WaitArgs) -> Exit {
    let exit = exit_for(result, wait.no_wait);
    if ctx.json {
        output::print_json(result);
    }
    let hash = &result.hash;
    match result.status.as_str() {
        "committed" if !ctx.json => output::emit(&format!(
            "committed {kind} {hash} at height {}",
            result
                .height
                .map(|h| h.to_string())
                .unwrap_or_else(|| "?".into())
        )),
        "pending" if wait.no_wait && !ctx.json => {
            output::emit(&format!("accepted {kind} {hash} (pending)"))
        }
        "pending" => eprintln!(
            "error: {kind} {hash} is still pending after {} s without commit",
            wait.timeout
        ),
        "rejected" | "unknown" => {
            let (code, message) = result
                .error
                .as_ref()
                .map(|e| (e.code.as_str(), e.message.as_str()))
                .unwrap_or(("?", ""));
            eprintln!("error: {kind} {hash} {}: {code}: {message}", result.status);
        }
        _ => {}
    }
    exit
}

/// Builds, signs, submits and (unless `--no-wait`) waits for one transaction.
pub fn submit_one(
    ctx: &Ctx,
    payload: Payload,
    wait_args: WaitArgs,
    recall_id: Option<String>,
) -> anyhow::Result<Exit> {
    check_form(&payload)?;
    let mut session = Session::open(ctx)?;
    let kind = payload.kind();
    let stx = session.sign(payload);
    let mut result = post(&session.api, &stx)?;
    if result.status == "pending" && !wait_args.no_wait {
        result = wait(
            &session.api,
            &result.hash,
            Duration::from_secs(wait_args.timeout),
        )?;
    }
    result.recall_id = recall_id;
    Ok(report(ctx, kind, &result, wait_args))
}

#[cfg(test)]
mod tests {
    use super::*;
    use custody_ledger::gs1::{Gln, ItemId};
    use custody_ledger::transaction::{Move, SetStatus, StatusChange};

    fn item(s: &str) -> ItemId {
        ItemId::parse(s).unwrap()
    }

    #[test]
    fn form_errors_are_usage_errors() {
        let a = item("(01)09506000134352(21)A1");
        let dup = Payload::Move(Move {
            items: vec![a.clone(), a.clone()],
            to: Gln::parse("0614141000005").unwrap(),
        });
        let e = check_form(&dup).unwrap_err();
        assert_eq!(crate::exit::classify(&e), Exit::Usage);
        assert!(e.to_string().contains("twice"), "{e}");
        let blank_reason = Payload::SetStatus(SetStatus {
            items: vec![a],
            status: StatusChange::Quarantine,
            reason: "  ".into(),
        });
        assert!(check_form(&blank_reason).is_err());
    }

    #[test]
    fn missing_key_is_a_usage_error() {
        let ctx = Ctx {
            node: "http://127.0.0.1:9".into(),
            key: None,
            json: false,
        };
        let e = load_key(&ctx).unwrap_err();
        assert_eq!(crate::exit::classify(&e), Exit::Usage);
        let ctx = Ctx {
            key: Some("/nonexistent/key.pem".into()),
            ..ctx
        };
        assert_eq!(
            crate::exit::classify(&load_key(&ctx).unwrap_err()),
            Exit::Usage
        );
    }

    #[test]
    fn outcome_exit_codes() {
        let r = |status: &str| SubmitResult {
            status: status.into(),
            hash: "ab".into(),
            height: None,
            error: None,
            recall_id: None,
        };
        assert_eq!(exit_for(&r("committed"), false), Exit::Success);
        assert_eq!(exit_for(&r("rejected"), false), Exit::Rejected);
        assert_eq!(exit_for(&r("pending"), true), Exit::Success);
        assert_eq!(exit_for(&r("pending"), false), Exit::Failure);
        assert_eq!(exit_for(&r("unknown"), false), Exit::Failure);
    }
}
