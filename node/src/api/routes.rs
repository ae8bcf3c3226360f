//! Routes and handlers of the `/v1` API.

use crate::api::api_error::ApiError;
use crate::api::serve::is_body_timeout;
use crate::api::{dashboard, MAX_BODY_BYTES};
use crate::node::{Node, TxStatus};
use crate::storage::KvBackend;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use custody_ledger::genesis::MemberId;
use custody_ledger::gs1::{Gln, Gtin, ItemId, Lot};
use custody_ledger::hash::Hash32;
use custody_ledger::state::story::StoryEntry;
use custody_ledger::transaction::{ShipmentId, SignedTransaction};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

type AppState<B> = State<Arc<Node<B>>>;
type ApiResult = Result<Json<Value>, ApiError>;

/// Longest a client may ask to wait for a transaction's outcome.
const MAX_WAIT_MS: u64 = 30_000;
/// Most items one inventory page returns.
const MAX_PAGE: usize = 10_000;

/// The API router for `node`.
pub fn router<B: KvBackend>(node: Arc<Node<B>>) -> Router {
    Router::new()
        .route("/", get(dashboard::page))
        .route("/v1/status", get(status::<B>))
        .route("/v1/genesis", get(genesis::<B>))
        .route("/v1/members", get(members::<B>))
        .route("/v1/members/{name}", get(member::<B>))
        .route("/v1/peers", get(peers::<B>))
        .route("/v1/evidence", get(evidence::<B>))
        .route("/v1/transactions", post(submit::<B>))
        .route("/v1/transactions/{hash}", get(transaction::<B>))
        .route("/v1/items/{id}", get(item::<B>))
        .route("/v1/items/{id}/history", get(history::<B>))
        .route("/v1/items/{id}/contents", get(contents::<B>))
        .route("/v1/items/{id}/proof", get(proof::<B>))
        .route("/v1/blocks/{height}", get(block::<B>))
        .route("/v1/headers", get(headers::<B>))
        .route("/v1/shipments/{id}", get(shipment::<B>))
        .route("/v1/recalls/{id}", get(recall::<B>))
        .route("/v1/lots/{gtin}/{lot}/items", get(lot_items::<B>))
        .route("/v1/inventory", get(inventory::<B>))
        .fallback(|| async { ApiError::not_found("no such route") })
        .layer(axum::middleware::map_response(json_rejections))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(refuse_declared_oversize))
        .with_state(node)
}

fn payload_too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("request body is over {MAX_BODY_BYTES} bytes"),
    )
}

/// Answers 413 from the `Content-Length` header alone, so a client is not made to upload a
/// body that will be refused. Bodies without a declared length are still cut off at
/// [`MAX_BODY_BYTES`] while they are read.
async fn refuse_declared_oversize(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(n) if n > MAX_BODY_BYTES as u64 => payload_too_large().into_response(),
        _ => next.run(request).await,
    }
}

/// `v` as JSON; a value that cannot be rendered is this node's fault: 500, logged.
fn to_json<T: serde::Serialize>(v: &T) -> Result<Value, ApiError> {
    serde_json::to_value(v).map_err(|e| {
        tracing::error!(error = %e, "could not render an answer as JSON");
        ApiError::internal(format!("could not render the answer as JSON: {e}"))
    })
}

fn parse_item(text: &str) -> Result<ItemId, ApiError> {
    ItemId::parse(text).map_err(|e| ApiError::malformed(format!("{text:?}: {e}")))
}

async fn status<B: KvBackend>(State(node): AppState<B>) -> ApiResult {
    let head = node.store().head()?;
    let g = node.genesis();
    Ok(Json(json!({
        "chain_id": g.chain_id,
        "node": node.name(),
        "height": head.as_ref().map_or(0, |h| h.height),
        "head_hash": head.as_ref().map(|h| h.hash.to_hex()),
        "head_time_ms": head.as_ref().map(|h| h.time_ms),
        "mempool_size": node.mempool_len(),
        "genesis_hash": g.hash().to_hex(),
        "validators": g.validators.iter().map(|v| v.name.clone()).collect::<Vec<_>>(),
        "consensus": to_json(&node.consensus_status())?,
        "members": g.members.len(),
        "peers": node.peers().connected(),
        "equivocations": node.equivocation_count(),
    })))
}

/// Equivocations this node's consensus detected since it started: each names the validator
/// and carries both signed messages, so anyone holding the genesis can check it.
async fn evidence<B: KvBackend>(State(node): AppState<B>) -> ApiResult {
    let (seen, recent) = node.equivocations();
    let set = node.genesis().validator_set();
    let recent = recent
        .iter()
        .map(|e| {
            let index = e.validator();
            let name = set
                .as_ref()
                .and_then(|s| s.get(index))
                .map(|v| v.name.clone());
            Ok(json!({"validator": name, "validator_index": index, "evidence": to_json(e)?}))
        })
        .collect::<Result<Vec<Value>, ApiError>>()?;
    Ok(Json(json!({"seen": seen, "recent": recent})))
}

/// Peers this node is or was connected to, with their gossip scores and how many of their
/// messages it accepted, ignored or rejected (empty for a node without a network).
async fn peers<B: KvBackend>(State(node): AppState<B>) -> ApiResult {
    Ok(Json(to_json(&node.peers().snapshot(node.genesis()))?))
}

async fn genesis<B: KvBackend>(State(node): AppState<B>) -> ApiResult {
    Ok(Json(to_json(node.genesis())?))
}

fn member_json<B: KvBackend>(node: &Node<B>, m: &custody_ledger::genesis::Member) -> ApiResult {
    let last = node.store().last_sequence(&m.name)?;
    let next = node.next_sequence(&m.name)?;
    let mut v = to_json(m)?;
    v["last_sequence"] = json!(last);
    v["next_sequence"] = json!(next);
    Ok(Json(v))
}

async fn members<B: KvBackend>(State(node): AppState<B>) -> ApiResult {
    let mut out = Vec::new();
    for m in &node.genesis().members {
        out.push(member_json(&node, m)?.0);
    }
    Ok(Json(Value::Array(out)))
}

async fn member<B: KvBackend>(State(node): AppState<B>, Path(name): Path<String>) -> ApiResult {
    let m = node
        .genesis()
        .member(&MemberId(name.clone()))
        .ok_or_else(|| ApiError::not_found(format!("no member named {name}")))?;
    member_json(&node, m)
}

async fn submit<B: KvBackend>(
    State(node): AppState<B>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body = body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            payload_too_large()
        } else if is_body_timeout(&r) {
            ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "body_timeout",
                "the request body did not arrive in time",
            )
        } else {
            ApiError::malformed(r.body_text())
        }
    })?;
    let tx: SignedTransaction = serde_json::from_slice(&body)
        .map_err(|e| ApiError::malformed(format!("not a signed transaction: {e}")))?;
    let n = Arc::clone(&node);
    let hash = tokio::task::spawn_blocking(move || n.submit(tx))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))??;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"hash": hash.to_hex(), "status": "pending"})),
    ))
}

#[derive(Deserialize)]
struct WaitQuery {
    wait_ms: Option<u64>,
}

fn status_json(hash: &Hash32, s: &TxStatus) -> Value {
    match s {
        TxStatus::Pending => json!({"hash": hash.to_hex(), "status": "pending"}),
        TxStatus::Committed { height, index } => {
            json!({"hash": hash.to_hex(), "status": "committed", "height": height, "index": index})
        }
        TxStatus::Rejected { code, message } => json!({
            "hash": hash.to_hex(), "status": "rejected",
            "error": {"code": code, "message": message}
        }),
        TxStatus::Unknown => json!({"hash": hash.to_hex(), "status": "unknown"}),
    }
}

async fn transaction<B: KvBackend>(
    State(node): AppState<B>,
    Path(hash): Path<String>,
    Query(q): Query<WaitQuery>,
) -> ApiResult {
    let hash = Hash32::from_hex(&hash)
        .map_err(|e| ApiError::malformed(format!("transaction hash: {e}")))?;
    let deadline = tokio::time::Instant::now()
        + Duration::from_millis(q.wait_ms.unwrap_or(0).min(MAX_WAIT_MS));
    let mut commits = node.subscribe();
    loop {
        let status = node.tx_status(&hash)?;
        if status != TxStatus::Pending || tokio::time::Instant::now() >= deadline {
            let mut v = status_json(&hash, &status);
            if let TxStatus::Committed { .. } = status {
                if let Some((tx, _, _)) = node.store().transaction(&hash)? {
                    v["tx"] = to_json(&tx)?;
                }
            }
            return Ok(Json(v));
        }
        let _ = tokio::time::timeout_at(deadline, commits.changed()).await;
    }
}

async fn item<B: KvBackend>(State(node): AppState<B>, Path(id): Path<String>) -> ApiResult {
    let id = parse_item(&id)?;
    let e = node
        .store()
        .effective(&id)?
        .ok_or_else(|| ApiError::not_found(format!("{id} is unknown: never commissioned")))?;
    Ok(Json(to_json(&e.view())?))
}

/// An item's story: its own events, its containers' while it was inside, its lot's recall.
async fn history<B: KvBackend>(State(node): AppState<B>, Path(id): Path<String>) -> ApiResult {
    let id = parse_item(&id)?;
    if node.store().item(&id)?.is_none() {
        return Err(ApiError::not_found(format!(
            "{id} is unknown: never commissioned"
        )));
    }
    let events = node
        .store()
        .story(&id)?
        .iter()
        .map(story_json)
        .collect::<Result<Vec<Value>, ApiError>>()?;
    Ok(Json(json!({"item": id.to_string(), "events": events})))
}

/// One story entry as JSON: an event (with its hash and, for a container's, `via`), or the
/// lot's recall (`action: {"recalled": …}`), in one shape.
fn story_json(entry: &StoryEntry) -> Result<Value, ApiError> {
    match entry {
        StoryEntry::Event { via, event } => {
            let mut v = to_json(event)?;
            v["hash"] = json!(event.hash().to_hex());
            v["via"] = json!(via.as_ref().map(|s| s.to_string()));
            Ok(v)
        }
        StoryEntry::Recall(r) => Ok(json!({
            "height": r.height, "tx_index": r.tx_index, "tx": r.tx.to_hex(),
            "time_ms": r.time_ms, "actor": r.by,
            "action": {"recalled": {"recall_id": r.recall_id}}, "via": "lot",
        })),
    }
}

#[derive(Deserialize)]
struct PageQuery {
    after: Option<String>,
    limit: Option<usize>,
}

/// What a case or pallet holds directly, a page at a time.
async fn contents<B: KvBackend>(
    State(node): AppState<B>,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> ApiResult {
    let id = parse_item(&id)?;
    let Some(s) = node.store().item(&id)? else {
        return Err(ApiError::not_found(format!(
            "{id} is unknown: never commissioned"
        )));
    };
    let limit = q.limit.unwrap_or(1000).clamp(1, MAX_PAGE);
    let after = q.after.as_deref().map(parse_item).transpose()?;
    let ids = node.store().contents(&id, after.as_ref(), limit)?;
    let next = (ids.len() == limit).then(|| ids.last().map(|i| i.to_string()));
    Ok(Json(json!({
        "item": id.to_string(),
        "contents": to_json(&s.contents)?,
        "items": ids.iter().map(|i| i.to_string()).collect::<Vec<_>>(),
        "next_after": next.flatten(),
    })))
}

#[derive(Deserialize)]
struct ProofQuery {
    format: Option<String>,
}

/// The item's provenance bundle (a proof of absence for a serial never commissioned): the
/// binary bundle file, or `?format=json` to read it.
async fn proof<B: KvBackend>(
    State(node): AppState<B>,
    Path(id): Path<String>,
    Query(q): Query<ProofQuery>,
) -> Result<Response, ApiError> {
    let id = parse_item(&id)?;
    let n = Arc::clone(&node);
    let item = id.clone();
    let bundle = tokio::task::spawn_blocking(move || {
        crate::provenance::bundle(n.store(), n.genesis(), &item)
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))??;
    match q.format.as_deref() {
        Some("json") => Ok(Json(to_json(&bundle)?).into_response()),
        None | Some("binary") => {
            let file = format!("attachment; filename=\"{}.custody-proof\"", file_name(&id));
            Ok((
                [
                    (header::CONTENT_TYPE, "application/octet-stream".to_string()),
                    (header::CONTENT_DISPOSITION, file),
                ],
                bundle.to_bytes(),
            )
                .into_response())
        }
        Some(other) => Err(ApiError::malformed(format!(
            "format {other:?}: use binary (the default) or json"
        ))),
    }
}

/// A file-name-safe rendering of an item id.
fn file_name(id: &ItemId) -> String {
    id.to_string()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

async fn block<B: KvBackend>(State(node): AppState<B>, Path(height): Path<String>) -> ApiResult {
    let height = if height == "latest" {
        node.store().head()?.map_or(0, |h| h.height)
    } else {
        height
            .parse::<u64>()
            .map_err(|_| ApiError::malformed(format!("height {height:?} is not a number")))?
    };
    let b = node
        .store()
        .block(height)?
        .ok_or_else(|| ApiError::not_found(format!("no block at height {height}")))?;
    let cert = node.store().certificate(height)?;
    let txs = b
        .txs
        .iter()
        .map(|t| {
            let mut v = to_json(t)?;
            v["hash"] = json!(t.hash().to_hex());
            Ok(v)
        })
        .collect::<Result<Vec<Value>, ApiError>>()?;
    Ok(Json(json!({
        "hash": b.hash().to_hex(),
        "header": to_json(&b.header)?,
        "txs": txs,
        "certificate": to_json(&cert)?,
    })))
}

#[derive(Deserialize)]
struct HeadersQuery {
    from: Option<u64>,
    limit: Option<u64>,
}

/// Most headers one request returns.
const MAX_HEADERS: u64 = 1_000;

/// Certified headers from `from` (default 1), for light clients following the chain.
async fn headers<B: KvBackend>(
    State(node): AppState<B>,
    Query(q): Query<HeadersQuery>,
) -> ApiResult {
    let head = node.store().head()?.map_or(0, |h| h.height);
    let from = q.from.unwrap_or(1).max(1);
    let limit = q.limit.unwrap_or(MAX_HEADERS).clamp(1, MAX_HEADERS);
    let mut out = Vec::new();
    for h in from..=head.min(from.saturating_add(limit - 1)) {
        let (Some(header), Some(certificate)) =
            (node.store().header(h)?, node.store().certificate(h)?)
        else {
            break;
        };
        out.push(json!({"header": to_json(&header)?, "certificate": to_json(&certificate)?}));
    }
    Ok(Json(json!({"head": head, "headers": out})))
}

async fn shipment<B: KvBackend>(State(node): AppState<B>, Path(id): Path<String>) -> ApiResult {
    let s = node
        .store()
        .shipment(&ShipmentId(id.clone()))?
        .ok_or_else(|| ApiError::not_found(format!("shipment {id} is unknown")))?;
    Ok(Json(to_json(&s)?))
}

async fn recall<B: KvBackend>(State(node): AppState<B>, Path(id): Path<String>) -> ApiResult {
    let r = node
        .store()
        .recall(&id)?
        .ok_or_else(|| ApiError::not_found(format!("recall {id} is unknown")))?;
    Ok(Json(to_json(&r)?))
}

/// A lot: its record (expiry, units, recall) and a page of its units with where each is
/// and who holds it now (read through its containers).
async fn lot_items<B: KvBackend>(
    State(node): AppState<B>,
    Path((gtin, lot)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
) -> ApiResult {
    let gtin = Gtin::parse(&gtin).map_err(|e| ApiError::malformed(e.to_string()))?;
    let lot = Lot::parse(&lot).map_err(|e| ApiError::malformed(e.to_string()))?;
    let record = node
        .store()
        .lot(&gtin, &lot)?
        .ok_or_else(|| ApiError::not_found(format!("lot {lot} of GTIN {gtin} is unknown")))?;
    let limit = q.limit.unwrap_or(1000).clamp(1, MAX_PAGE);
    let after = q.after.as_deref().map(parse_item).transpose()?;
    let ids = node
        .store()
        .items_by_lot(&gtin, &lot, after.as_ref(), limit)?;
    let mut items = Vec::with_capacity(ids.len());
    for id in &ids {
        if let Some(e) = node.store().effective(id)? {
            let s = e.state();
            items.push(json!({
                "id": id.to_string(), "custodian": s.custodian, "status": s.status,
                "location": s.location, "parent": s.parent,
                "containers": e.ancestors.iter().map(|a| a.id.to_string()).collect::<Vec<_>>(),
            }));
        }
    }
    let next = (ids.len() == limit).then(|| ids.last().map(|i| i.to_string()));
    Ok(Json(json!({
        "gtin": gtin, "lot": lot, "expiry": record.expiry, "units": record.units,
        "recall": record.recall.as_ref().map(|r| &r.recall_id),
        "count": items.len(), "items": items, "next_after": next.flatten(),
    })))
}

#[derive(Deserialize)]
struct InventoryQuery {
    custodian: Option<String>,
    location: Option<String>,
    after: Option<String>,
    limit: Option<usize>,
}

async fn inventory<B: KvBackend>(
    State(node): AppState<B>,
    Query(q): Query<InventoryQuery>,
) -> ApiResult {
    let limit = q.limit.unwrap_or(1000).min(MAX_PAGE);
    let after = q.after.as_deref().map(parse_item).transpose()?;
    let ids = match (&q.custodian, &q.location) {
        (_, Some(gln)) => {
            let gln = Gln::parse(gln).map_err(|e| ApiError::malformed(e.to_string()))?;
            node.store()
                .items_by_location(&gln, after.as_ref(), limit)?
        }
        (Some(m), None) => {
            node.store()
                .items_by_custodian(&MemberId(m.clone()), after.as_ref(), limit)?
        }
        (None, None) => return Err(ApiError::malformed("give custodian=MEMBER or location=GLN")),
    };
    let mut items = Vec::with_capacity(ids.len());
    for id in &ids {
        if let Some(e) = node.store().effective(id)? {
            if q.custodian.as_ref().is_none_or(|c| c == &e.custodian().0) {
                items.push(to_json(&e.view())?);
            }
        }
    }
    let next = (ids.len() == limit).then(|| ids.last().map(|i| i.to_string()));
    Ok(Json(
        json!({"count": items.len(), "items": items, "next_after": next.flatten()}),
    ))
}

/// Turns the errors axum answers by itself before a handler runs (an undecodable path, a
/// query that does not parse, a method a route does not serve) into the API's JSON errors,
/// keeping their status and headers (such as `Allow`).
async fn json_rejections(response: Response) -> Response {
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !response.status().is_client_error() || json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let code = match parts.status {
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        _ => "malformed",
    };
    let message = if text.is_empty() {
        parts
            .status
            .canonical_reason()
            .unwrap_or("bad request")
            .to_string()
    } else {
        text
    };
    let mut out = ApiError::new(parts.status, code, message).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::ser::Error as _;

    /// A value whose serialisation fails, as a bug in a `Serialize` impl would.
    struct Unrenderable;

    impl serde::Serialize for Unrenderable {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(S::Error::custom("cannot render this"))
        }
    }

    #[tokio::test]
    async fn a_value_that_cannot_be_rendered_is_a_500_with_a_json_error() {
        let err = to_json(&Unrenderable).expect_err("rendering fails");
        let response = err.into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .expect("body");
        let v: Value = serde_json::from_slice(&body).expect("a JSON body");
        assert_eq!(v["error"]["code"], "internal");
        assert!(v["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("cannot render this")));
        // A map with non-string keys is one way real data fails to render.
        let map: std::collections::BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into();
        assert!(to_json(&map).is_err());
        assert_eq!(to_json(&42u8).ok(), Some(json!(42)));
    }
}
