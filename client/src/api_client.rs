//! The node's HTTP API, blocking (ureq): the only module that knows URLs and status codes.
//!
//! Every failure becomes an [`ApiError`] that says which exit code it deserves: the node's
//! JSON error body (`{"error": {"code", "message"}}`) is kept as is, so callers can show
//! the node's own words. Queries return the node's JSON untouched (`serde_json::Value`) so
//! `--json` prints exactly what the node said; the submission path uses small typed views.

use crate::exit::Exit;
use custody_ledger::gs1::{Gln, ItemId};
use custody_ledger::transaction::SignedTransaction;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::io::Read;
use std::time::Duration;

/// How long to wait for a TCP connection to the node.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long an ordinary request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The most a node holds a `wait_ms` request (the API's cap).
pub const MAX_WAIT_MS: u64 = 30_000;
/// Largest error body quoted in a message, bytes.
const MAX_QUOTED_BODY: usize = 300;
/// Largest error body read, bytes (only its start is quoted).
const MAX_ERROR_BODY: u64 = 64 * 1024;
/// Largest JSON answer read from a node, bytes. The biggest the API gives are an inventory
/// page (10,000 items), a block at the chain's limits (50,000 items over up to 2,000
/// transactions) and a page of 1,000 certified headers: a few MiB each. Past this the answer
/// is refused ([`ApiError::TooLarge`]) rather than read into memory without end.
pub const MAX_JSON_BYTES: u64 = 64 * 1024 * 1024;
/// Largest provenance bundle read, bytes (a history of hundreds of thousands of events, each
/// with its signed transaction and inclusion proof).
pub const MAX_BUNDLE_BYTES: u64 = 256 * 1024 * 1024;

/// Error codes with which the node refuses a submitted transaction (exit 3).
pub const REJECTION_CODES: &[&str] = &[
    "malformed",
    "unsupported_version",
    "wrong_chain",
    "unknown_signer",
    "bad_signature",
    "too_large",
    "invalid",
    "sequence",
    "rule",
    "duplicate",
    "payload_too_large",
];

/// A failed call to the node.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No HTTP answer at all: connection refused, DNS, timeout, TLS.
    #[error("cannot reach the node at {url}: {reason}")]
    Unreachable {
        /// The URL called.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The node answered with an error status.
    #[error("node answered {status} {code}: {message}")]
    Http {
        /// HTTP status.
        status: u16,
        /// The node's stable error code (or `http_<status>` if the body had none).
        code: String,
        /// The node's message.
        message: String,
        /// True for `POST /v1/transactions`, where a 4xx is a rejection of the transaction.
        submit: bool,
    },
    /// A success status with a body we cannot read.
    #[error("unexpected answer from the node at {url}: {reason}")]
    BadResponse {
        /// The URL called.
        url: String,
        /// What was wrong with it.
        reason: String,
    },
    /// The answer's body is longer than the client reads for it.
    #[error("the answer from {url} is over the {limit}-byte limit; refused")]
    TooLarge {
        /// The URL called.
        url: String,
        /// The limit that applied ([`MAX_JSON_BYTES`] or [`MAX_BUNDLE_BYTES`]).
        limit: u64,
    },
}

impl ApiError {
    /// The exit code this error deserves.
    pub fn exit(&self) -> Exit {
        match self {
            ApiError::Unreachable { .. }
            | ApiError::BadResponse { .. }
            | ApiError::TooLarge { .. } => Exit::Unreachable,
            ApiError::Http {
                status,
                code,
                submit,
                ..
            } => exit_for_code(*status, code, *submit),
        }
    }

    /// The node's `{code, message}` if it answered with one.
    pub fn body(&self) -> Option<ErrorBody> {
        match self {
            ApiError::Http { code, message, .. } => Some(ErrorBody {
                code: code.clone(),
                message: message.clone(),
            }),
            _ => None,
        }
    }
}

/// Maps a node error (status and code) to an exit code. `submit` is true for the answer to
/// `POST /v1/transactions`.
pub fn exit_for_code(status: u16, code: &str, submit: bool) -> Exit {
    match code {
        "not_found" => Exit::NotFound,
        // A query with an identifier the node cannot read: bad input.
        "malformed" if !submit => Exit::Usage,
        c if REJECTION_CODES.contains(&c) => Exit::Rejected,
        _ if status == 404 && !submit => Exit::NotFound,
        _ => Exit::Unreachable,
    }
}

/// The node's error object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable code.
    pub code: String,
    /// Human text.
    pub message: String,
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: ErrorBody,
}

/// One member as `GET /v1/members` lists it (only the fields the client needs).
#[derive(Clone, Debug, Deserialize)]
pub struct MemberInfo {
    /// Member name.
    pub name: String,
    /// Its public key, hex.
    pub public_key: String,
    /// The sequence its next transaction must carry (counts its pending transactions).
    pub next_sequence: u64,
}

/// The answer to `POST /v1/transactions`.
#[derive(Clone, Debug, Deserialize)]
pub struct Accepted {
    /// Transaction hash, hex.
    #[serde(default)]
    pub hash: String,
}

/// The answer to `GET /v1/transactions/{hash}`.
#[derive(Clone, Debug, Deserialize)]
pub struct TxStatus {
    /// `pending`, `committed`, `rejected` or `unknown`.
    pub status: String,
    /// Block height, once committed.
    #[serde(default)]
    pub height: Option<u64>,
    /// Why it was rejected.
    #[serde(default)]
    pub error: Option<ErrorBody>,
}

/// Which block `GET /v1/blocks/…` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockRef {
    /// The newest block.
    Latest,
    /// The block at this height.
    Height(u64),
}

/// A blocking client for one node.
pub struct ApiClient {
    base: String,
    agent: ureq::Agent,
}

impl ApiClient {
    /// A client for the node at `base` (`http://host:port`, no path needed).
    pub fn new(base: &str) -> Result<ApiClient, crate::exit::UsageError> {
        let base = base.trim().trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) || base.len() < 10 {
            return Err(crate::exit::UsageError(format!(
                "--node must be an http:// or https:// URL, got {base:?}"
            )));
        }
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(CONNECT_TIMEOUT)
            .user_agent(concat!("custody/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(ApiClient { base, agent })
    }

    /// The node's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    fn finish<T: DeserializeOwned>(
        &self,
        url: &str,
        result: Result<ureq::Response, ureq::Error>,
        submit: bool,
    ) -> Result<T, ApiError> {
        match result {
            Ok(resp) => read_json(resp, url),
            Err(ureq::Error::Status(status, resp)) => Err(http_error(status, resp, submit)),
            Err(ureq::Error::Transport(t)) => Err(ApiError::Unreachable {
                url: url.to_string(),
                reason: t.to_string(),
            }),
        }
    }

    fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        timeout: Duration,
    ) -> Result<T, ApiError> {
        let url = self.url(path);
        let mut req = self.agent.get(&url).timeout(timeout);
        for (k, v) in query {
            req = req.query(k, v);
        }
        self.finish(&url, req.call(), false)
    }

    /// `GET /v1/status`.
    pub fn status(&self) -> Result<Value, ApiError> {
        self.get("/v1/status", &[], REQUEST_TIMEOUT)
    }

    /// The chain id from `GET /v1/status`.
    pub fn chain_id(&self) -> Result<String, ApiError> {
        let status = self.status()?;
        status
            .get("chain_id")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| ApiError::BadResponse {
                url: self.url("/v1/status"),
                reason: "no chain_id in the status".into(),
            })
    }

    /// `GET /v1/members`.
    pub fn members(&self) -> Result<Vec<MemberInfo>, ApiError> {
        self.get("/v1/members", &[], REQUEST_TIMEOUT)
    }

    /// `POST /v1/transactions`.
    pub fn submit(&self, stx: &SignedTransaction) -> Result<Accepted, ApiError> {
        let url = self.url("/v1/transactions");
        let result = self
            .agent
            .post(&url)
            .timeout(REQUEST_TIMEOUT)
            .send_json(stx);
        self.finish(&url, result, true)
    }

    /// `GET /v1/transactions/{hash}?wait_ms=N` (N capped at [`MAX_WAIT_MS`]).
    pub fn transaction(&self, hash: &str, wait_ms: u64) -> Result<TxStatus, ApiError> {
        let wait_ms = wait_ms.min(MAX_WAIT_MS);
        let path = format!("/v1/transactions/{}", encode_segment(hash));
        let query = if wait_ms > 0 {
            vec![("wait_ms", wait_ms.to_string())]
        } else {
            vec![]
        };
        self.get(
            &path,
            &query,
            REQUEST_TIMEOUT + Duration::from_millis(wait_ms),
        )
    }

    /// `GET /v1/items/{id}`.
    pub fn item(&self, id: &ItemId) -> Result<Value, ApiError> {
        let path = format!("/v1/items/{}", encode_segment(&id.to_string()));
        self.get(&path, &[], REQUEST_TIMEOUT)
    }

    /// `GET /v1/items/{id}/proof`: the binary provenance bundle (at most
    /// [`MAX_BUNDLE_BYTES`]).
    pub fn proof(&self, id: &ItemId) -> Result<Vec<u8>, ApiError> {
        let url = self.url(&format!(
            "/v1/items/{}/proof",
            encode_segment(&id.to_string())
        ));
        match self.agent.get(&url).timeout(REQUEST_TIMEOUT).call() {
            Ok(resp) => read_body(resp, MAX_BUNDLE_BYTES, &url),
            Err(ureq::Error::Status(status, resp)) => Err(http_error(status, resp, false)),
            Err(ureq::Error::Transport(t)) => Err(ApiError::Unreachable {
                url,
                reason: t.to_string(),
            }),
        }
    }

    /// `GET /v1/items/{id}/contents?after=`: a page of what a container holds directly.
    pub fn contents(&self, id: &ItemId, after: Option<&ItemId>) -> Result<Value, ApiError> {
        let path = format!("/v1/items/{}/contents", encode_segment(&id.to_string()));
        let query: Vec<(&str, String)> = after
            .map(|a| vec![("after", a.to_string())])
            .unwrap_or_default();
        self.get(&path, &query, REQUEST_TIMEOUT)
    }

    /// `GET /v1/items/{id}/history`.
    pub fn history(&self, id: &ItemId) -> Result<Value, ApiError> {
        let path = format!("/v1/items/{}/history", encode_segment(&id.to_string()));
        self.get(&path, &[], REQUEST_TIMEOUT)
    }

    /// `GET /v1/shipments/{id}`.
    pub fn shipment(&self, id: &str) -> Result<Value, ApiError> {
        let path = format!("/v1/shipments/{}", encode_segment(id));
        self.get(&path, &[], REQUEST_TIMEOUT)
    }

    /// `GET /v1/blocks/{height}` or `/v1/blocks/latest`.
    pub fn block(&self, at: BlockRef) -> Result<Value, ApiError> {
        let path = match at {
            BlockRef::Latest => "/v1/blocks/latest".to_string(),
            BlockRef::Height(h) => format!("/v1/blocks/{h}"),
        };
        self.get(&path, &[], REQUEST_TIMEOUT)
    }

    /// `GET /v1/headers?from=&limit=`: certified headers for light verification.
    pub fn headers(&self, from: u64, limit: u64) -> Result<Value, ApiError> {
        self.get(
            "/v1/headers",
            &[("from", from.to_string()), ("limit", limit.to_string())],
            REQUEST_TIMEOUT,
        )
    }

    /// `GET /v1/inventory?custodian=&location=&limit=`.
    pub fn inventory(
        &self,
        custodian: Option<&str>,
        location: Option<&Gln>,
        limit: Option<u32>,
    ) -> Result<Value, ApiError> {
        let mut query = Vec::new();
        if let Some(c) = custodian {
            query.push(("custodian", c.to_string()));
        }
        if let Some(l) = location {
            query.push(("location", l.to_string()));
        }
        if let Some(n) = limit {
            query.push(("limit", n.to_string()));
        }
        self.get("/v1/inventory", &query, REQUEST_TIMEOUT)
    }
}

/// Reads a success answer's body, at most `limit` bytes: a declared `Content-Length` past
/// the limit is refused before reading, and a body that runs past it (chunked, or longer than
/// declared) is refused once `limit + 1` bytes have arrived, never read to its end.
/// (`ureq::Response::into_json` reads without a bound; `into_string` caps at 10 MB.)
pub fn read_body(resp: ureq::Response, limit: u64, url: &str) -> Result<Vec<u8>, ApiError> {
    let too_large = || ApiError::TooLarge {
        url: url.to_string(),
        limit,
    };
    let declared = resp
        .header("content-length")
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    read_capped(resp.into_reader(), limit).map_err(|e| match e {
        CappedReadError::TooLarge => too_large(),
        CappedReadError::Io(e) => ApiError::BadResponse {
            url: url.to_string(),
            reason: format!("reading the answer: {e}"),
        },
    })
}

/// Reads a success answer as JSON of type `T`, within [`MAX_JSON_BYTES`].
pub fn read_json<T: DeserializeOwned>(resp: ureq::Response, url: &str) -> Result<T, ApiError> {
    let body = read_body(resp, MAX_JSON_BYTES, url)?;
    serde_json::from_slice(&body).map_err(|e| ApiError::BadResponse {
        url: url.to_string(),
        reason: format!("not the expected JSON: {e}"),
    })
}

/// Why [`read_capped`] stopped.
#[derive(Debug)]
enum CappedReadError {
    /// More than the limit arrived.
    TooLarge,
    /// The connection failed.
    Io(std::io::Error),
}

/// Reads `reader` to its end if that is at most `limit` bytes.
fn read_capped(reader: impl Read, limit: u64) -> Result<Vec<u8>, CappedReadError> {
    let mut out = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(CappedReadError::Io)?;
    if out.len() as u64 > limit {
        return Err(CappedReadError::TooLarge);
    }
    Ok(out)
}

/// Turns an error response into an [`ApiError::Http`], keeping the node's code and message.
fn http_error(status: u16, resp: ureq::Response, submit: bool) -> ApiError {
    let mut body = String::new();
    // A body we cannot read still leaves the status to report.
    let _ = resp
        .into_reader()
        .take(MAX_ERROR_BODY)
        .read_to_string(&mut body);
    let (code, message) = parse_error_body(status, &body);
    ApiError::Http {
        status,
        code,
        message,
        submit,
    }
}

/// The `(code, message)` of an error body; `http_<status>` and the (shortened) body text
/// when it is not the API's JSON error shape.
pub fn parse_error_body(status: u16, body: &str) -> (String, String) {
    match serde_json::from_str::<ErrorEnvelope>(body) {
        Ok(env) => (env.error.code, env.error.message),
        Err(_) => {
            let mut text: String = body.trim().chars().take(MAX_QUOTED_BODY).collect();
            if text.is_empty() {
                text = "(no body)".into();
            }
            (format!("http_{status}"), text)
        }
    }
}

/// Percent-encodes one path segment: everything but `A-Z a-z 0-9 - . _ ~` (so GS1 element
/// strings with parentheses, and serials with `/`, `%`, `?` or `#`, stay one segment).
pub fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_percent_encoded() {
        assert_eq!(
            encode_segment("(01)09506000134352(21)A/1%?#"),
            "%2801%2909506000134352%2821%29A%2F1%25%3F%23"
        );
        assert_eq!(encode_segment("SHIP-1.a_b~"), "SHIP-1.a_b~");
        assert_eq!(encode_segment("a b"), "a%20b");
    }

    #[test]
    fn error_bodies_keep_the_node_code() {
        let body = r#"{"error": {"code": "rule", "message": "serial 1 exists"}}"#;
        assert_eq!(
            parse_error_body(400, body),
            ("rule".to_string(), "serial 1 exists".to_string())
        );
        let (code, msg) = parse_error_body(502, "<html>Bad gateway</html>");
        assert_eq!(code, "http_502");
        assert!(msg.contains("Bad gateway"));
        assert_eq!(parse_error_body(500, "").1, "(no body)");
    }

    #[test]
    fn exit_codes_from_api_codes() {
        for code in REJECTION_CODES {
            assert_eq!(exit_for_code(400, code, true), Exit::Rejected, "{code}");
        }
        assert_eq!(
            exit_for_code(413, "payload_too_large", true),
            Exit::Rejected
        );
        assert_eq!(exit_for_code(409, "sequence", true), Exit::Rejected);
        assert_eq!(exit_for_code(404, "not_found", false), Exit::NotFound);
        assert_eq!(exit_for_code(404, "http_404", false), Exit::NotFound);
        assert_eq!(exit_for_code(404, "http_404", true), Exit::Unreachable);
        assert_eq!(exit_for_code(400, "malformed", false), Exit::Usage);
        assert_eq!(exit_for_code(400, "malformed", true), Exit::Rejected);
        assert_eq!(exit_for_code(503, "mempool_full", true), Exit::Unreachable);
        assert_eq!(exit_for_code(500, "internal", false), Exit::Unreachable);
        assert_eq!(exit_for_code(502, "http_502", false), Exit::Unreachable);
    }

    #[test]
    fn bodies_are_read_up_to_their_limit_and_refused_past_it() {
        let exact = read_capped(&b"0123456789"[..], 10).unwrap();
        assert_eq!(exact, b"0123456789");
        assert!(matches!(
            read_capped(&b"0123456789!"[..], 10),
            Err(CappedReadError::TooLarge)
        ));
        // An endless body stops at limit + 1 bytes.
        assert!(matches!(
            read_capped(std::io::repeat(b'['), 1 << 20),
            Err(CappedReadError::TooLarge)
        ));
        let e = ApiError::TooLarge {
            url: "http://n/v1/status".into(),
            limit: MAX_JSON_BYTES,
        };
        assert_eq!(e.exit(), Exit::Unreachable);
        assert!(e.to_string().contains("67108864-byte limit"), "{e}");
    }

    #[test]
    fn transport_errors_are_unreachable() {
        let e = ApiError::Unreachable {
            url: "http://127.0.0.1:9/v1/status".into(),
            reason: "connection refused".into(),
        };
        assert_eq!(e.exit(), Exit::Unreachable);
        assert!(e.body().is_none());
    }

    #[test]
    fn node_url_is_checked() {
        assert!(ApiClient::new("127.0.0.1:8080").is_err());
        assert!(ApiClient::new("ftp://x").is_err());
        let c = ApiClient::new("http://127.0.0.1:8080/").unwrap();
        assert_eq!(c.base(), "http://127.0.0.1:8080");
    }

    #[test]
    fn tx_status_tolerates_missing_fields() {
        let s: TxStatus = serde_json::from_str(r#"{"hash":"ab","status":"pending"}"#).unwrap();
        assert_eq!(s.status, "pending");
        assert!(s.height.is_none() && s.error.is_none());
        let s: TxStatus = serde_json::from_str(
            r#"{"hash":"ab","status":"rejected","error":{"code":"rule","message":"m"}}"#,
        )
        .unwrap();
        assert_eq!(s.error.unwrap().code, "rule");
    }
}
