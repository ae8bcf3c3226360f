//! Output: plain-text tables for people, JSON documents for scripts.
//!
//! With `--json` every command prints exactly one JSON document on stdout; the shapes of
//! the documents the client makes itself ([`SubmitResult`], [`CommissionResult`]) are a
//! contract. Tables render the node's JSON defensively: a missing field shows as `-`.

use crate::api_client::ErrorBody;
use custody_ledger::transaction::SignedTransaction;
use serde::Serialize;
use serde_json::{json, Value};
use std::io::Write;

/// The outcome of one submitted transaction, as `--json` prints it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SubmitResult {
    /// `committed`, `rejected` or `pending` (`unknown` if the node forgot it).
    pub status: String,
    /// Transaction hash, hex.
    pub hash: String,
    /// Block height, when committed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u64>,
    /// Why it was rejected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
    /// The recall id (`custody recall` only, as it may be generated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recall_id: Option<String>,
}

/// One transaction of a commission run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CommissionTx {
    /// Its outcome.
    #[serde(flatten)]
    pub result: SubmitResult,
    /// Serials it carries.
    pub serials: usize,
}

/// The outcome of `custody commission`, as `--json` prints it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CommissionResult {
    /// `committed` if every transaction was, `rejected` if any was, else `pending`.
    pub status: String,
    /// Serials commissioned (committed; with `--no-wait`: accepted into the mempool).
    pub serials: usize,
    /// Each transaction, in sequence order.
    pub transactions: Vec<CommissionTx>,
}

/// Writes `text` to stdout. A closed pipe (`custody history … | head`) is not an error
/// worth a panic, so write errors are ignored.
pub fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    if !text.ends_with('\n') {
        let _ = out.write_all(b"\n");
    }
    let _ = out.flush();
}

/// Prints one JSON document on stdout.
pub fn print_json<T: Serialize>(value: &T) {
    match serde_json::to_string_pretty(value) {
        Ok(s) => emit(&s),
        // Serializing our own types or a parsed Value cannot fail; say so if it ever does.
        Err(e) => eprintln!("error: cannot print JSON: {e}"),
    }
}

/// The `--json` document for a failed command.
pub fn error_document(code: &str, message: &str) -> Value {
    json!({"error": {"code": code, "message": message}})
}

/// A plain-text table with a header row.
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers.
    pub fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (missing cells are blank, extra cells are dropped).
    pub fn row(&mut self, cells: Vec<String>) {
        let mut cells = cells;
        cells.resize(self.headers.len(), String::new());
        self.rows.push(cells);
    }

    /// Renders with two spaces between columns; the last column is not padded.
    pub fn render(&self) -> String {
        let n = self.headers.len();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for r in &self.rows {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut s = String::new();
            for (i, c) in cells.iter().enumerate() {
                if i + 1 == n {
                    s.push_str(c);
                } else {
                    s.push_str(&format!("{c:<w$}  ", w = widths[i]));
                }
            }
            s.trim_end().to_string()
        };
        let mut out = line(
            &self
                .headers
                .iter()
                .map(|h| h.to_uppercase())
                .collect::<Vec<_>>(),
        );
        out.push('\n');
        for r in &self.rows {
            out.push_str(&line(r));
            out.push('\n');
        }
        out
    }
}

/// Renders `key  value` lines, keys aligned.
pub fn key_values(pairs: &[(&str, String)]) -> String {
    let w = pairs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    pairs
        .iter()
        .map(|(k, v)| format!("{k:<w$}  {v}\n"))
        .collect()
}

/// A JSON value as a table cell: strings bare, null as `-`, the rest compact JSON.
pub fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "-".into(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(other) => other.to_string(),
    }
}

/// `v[key]` as a cell.
pub fn field(v: &Value, key: &str) -> String {
    cell(v.get(key))
}

/// Unix milliseconds as `YYYY-MM-DD HH:MM:SS` UTC (`-` when absent).
pub fn time_ms(v: Option<&Value>) -> String {
    match v.and_then(Value::as_u64) {
        Some(ms) => format_time_ms(ms),
        None => "-".into(),
    }
}

/// Unix milliseconds as `YYYY-MM-DD HH:MM:SS` UTC.
pub fn format_time_ms(ms: u64) -> String {
    let secs = (ms % 86_400_000) / 1000;
    format!(
        "{} {:02}:{:02}:{:02}",
        custody_ledger::time::iso_date(ms),
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// An item event's action: `commissioned`, `shipped shipment=S1 to=distributor`, …
pub fn action_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::Object(m)) if m.len() == 1 => {
            let (name, inner) = m.iter().next().expect("map has one entry");
            match inner {
                Value::Object(fields) if !fields.is_empty() => {
                    let args: Vec<String> = fields
                        .iter()
                        .map(|(k, v)| format!("{k}={}", cell(Some(v))))
                        .collect();
                    format!("{name} {}", args.join(" "))
                }
                Value::Object(_) | Value::Null => name.clone(),
                other => format!("{name} {}", cell(Some(other))),
            }
        }
        other => cell(other),
    }
}

fn product_text(p: Option<&Value>) -> String {
    match p {
        Some(p @ Value::Object(_)) => format!(
            "GTIN {}  lot {}  expiry {}",
            field(p, "gtin"),
            field(p, "lot"),
            field(p, "expiry")
        ),
        other => cell(other),
    }
}

fn hold_text(h: Option<&Value>) -> String {
    match h {
        Some(h @ Value::Object(_)) => format!("{}: {}", field(h, "kind"), field(h, "reason")),
        other => cell(other),
    }
}

fn len_of(v: Option<&Value>) -> String {
    v.and_then(Value::as_array)
        .map(|a| a.len().to_string())
        .unwrap_or_else(|| "-".into())
}

/// The `custody show` table for an item's state.
pub fn item_table(item: &Value) -> String {
    let mut rows = vec![
        ("id", field(item, "id")),
        ("product", product_text(item.get("product"))),
        ("custodian", field(item, "custodian")),
        ("status", field(item, "status")),
        ("location", field(item, "location")),
    ];
    if let Some(t @ Value::Object(_)) = item.get("transit") {
        rows.push((
            "transit",
            format!(
                "shipment {}  {} -> {}",
                field(t, "shipment"),
                field(t, "from"),
                field(t, "to")
            ),
        ));
    }
    rows.extend([
        ("hold", hold_text(item.get("hold"))),
        ("recall", field(item, "recall")),
        ("parent", field(item, "parent")),
    ]);
    if let Some(c @ Value::Object(_)) = item.get("contents") {
        rows.push((
            "contents",
            format!(
                "{} items, {} units",
                field(c, "children"),
                field(c, "units")
            ),
        ));
    }
    rows.push(("events", field(item, "event_count")));
    key_values(&rows)
}

/// The `custody history` table.
pub fn history_table(history: &Value) -> String {
    let mut t = Table::new(&[
        "seq",
        "height",
        "time",
        "actor",
        "action",
        "custodian",
        "location",
        "status",
        "via",
    ]);
    let empty = Vec::new();
    let events = history
        .get("events")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    for e in events {
        t.row(vec![
            field(e, "seq"),
            field(e, "height"),
            time_ms(e.get("time_ms")),
            field(e, "actor"),
            action_text(e.get("action")),
            field(e, "custodian"),
            field(e, "location"),
            field(e, "status"),
            field(e, "via"),
        ]);
    }
    format!("{}\n{}", field(history, "item"), t.render())
}

/// The `custody inventory` table.
pub fn inventory_table(inv: &Value) -> String {
    let mut t = Table::new(&[
        "id",
        "gtin",
        "lot",
        "custodian",
        "location",
        "status",
        "hold",
    ]);
    let empty = Vec::new();
    let items = inv.get("items").and_then(Value::as_array).unwrap_or(&empty);
    for i in items {
        let p = i.get("product");
        t.row(vec![
            field(i, "id"),
            p.map(|p| field(p, "gtin")).unwrap_or_else(|| "-".into()),
            p.map(|p| field(p, "lot")).unwrap_or_else(|| "-".into()),
            field(i, "custodian"),
            field(i, "location"),
            field(i, "status"),
            i.get("hold")
                .and_then(|h| h.get("kind"))
                .map(|k| cell(Some(k)))
                .unwrap_or_else(|| "-".into()),
        ]);
    }
    format!("{}{} items\n", t.render(), items.len())
}

/// The `custody shipment` view.
pub fn shipment_view(s: &Value) -> String {
    let mut rows = vec![
        ("id", field(s, "id")),
        ("from", field(s, "from")),
        ("to", field(s, "to")),
        ("status", field(s, "status")),
        (
            "shipped",
            format!(
                "height {}  tx {}",
                field(s, "shipped_height"),
                field(s, "shipped_tx")
            ),
        ),
        ("items", len_of(s.get("items"))),
    ];
    if let Some(r @ Value::Object(_)) = s.get("receipt") {
        rows.extend([
            (
                "received",
                format!("height {}  tx {}", field(r, "height"), field(r, "tx")),
            ),
            ("accepted", field(r, "accepted")),
            ("rejected", len_of(r.get("rejected"))),
            ("missing", len_of(r.get("missing"))),
            ("unexpected", len_of(r.get("unexpected"))),
            ("put away at", field(r, "location")),
            ("note", field(r, "note")),
        ]);
    }
    let mut out = key_values(&rows);
    for (label, list) in [
        ("shipped items", s.get("items")),
        ("rejected", s.get("receipt").and_then(|r| r.get("rejected"))),
        ("missing", s.get("receipt").and_then(|r| r.get("missing"))),
        (
            "unexpected",
            s.get("receipt").and_then(|r| r.get("unexpected")),
        ),
    ] {
        if let Some(a) = list.and_then(Value::as_array).filter(|a| !a.is_empty()) {
            out.push_str(&format!("\n{label}:\n"));
            for i in a {
                out.push_str(&format!("  {}\n", cell(Some(i))));
            }
        }
    }
    out
}

/// The `custody block` view: header, certificate, then one line per transaction.
pub fn block_view(b: &Value) -> String {
    let h = b.get("header").unwrap_or(&Value::Null);
    let cert = b.get("certificate").unwrap_or(&Value::Null);
    let mut out = key_values(&[
        ("height", field(h, "height")),
        ("hash", field(b, "hash")),
        ("parent", field(h, "parent")),
        ("time", time_ms(h.get("time_ms"))),
        ("proposer", field(h, "proposer")),
        ("tx_root", field(h, "tx_root")),
        ("txs", field(h, "tx_count")),
        (
            "certificate",
            format!(
                "round {}, {} signatures",
                field(cert, "round"),
                len_of(cert.get("signatures"))
            ),
        ),
    ]);
    let empty = Vec::new();
    let txs = b.get("txs").and_then(Value::as_array).unwrap_or(&empty);
    if !txs.is_empty() {
        let mut t = Table::new(&["#", "hash", "signer", "seq", "kind", "items"]);
        for (i, tx) in txs.iter().enumerate() {
            let mut cells = vec![i.to_string()];
            match serde_json::from_value::<SignedTransaction>(tx.clone()) {
                Ok(stx) => cells.extend([
                    stx.hash().to_hex(),
                    stx.tx.signer.to_string(),
                    stx.tx.sequence.to_string(),
                    stx.tx.payload.kind().to_string(),
                    stx.tx.payload.item_count().to_string(),
                ]),
                Err(_) => {
                    let inner = tx.get("tx").unwrap_or(&Value::Null);
                    let kind = inner
                        .get("payload")
                        .and_then(Value::as_object)
                        .and_then(|m| m.keys().next().cloned())
                        .unwrap_or_else(|| "-".into());
                    cells.extend([
                        "-".into(),
                        field(inner, "signer"),
                        field(inner, "sequence"),
                        kind,
                        "-".into(),
                    ]);
                }
            }
            t.row(cells);
        }
        out.push('\n');
        out.push_str(&t.render());
    }
    out
}

/// The `custody node-status` view.
pub fn node_status_view(s: &Value) -> String {
    let validators = s
        .get("validators")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|v| cell(Some(v)))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_else(|| "-".into());
    key_values(&[
        ("chain", field(s, "chain_id")),
        ("height", field(s, "height")),
        ("head", field(s, "head_hash")),
        ("head time", time_ms(s.get("head_time_ms"))),
        ("mempool", field(s, "mempool_size")),
        ("genesis", field(s, "genesis_hash")),
        ("validators", validators),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn submit_result_json_shape() {
        let committed = SubmitResult {
            status: "committed".into(),
            hash: "ab".into(),
            height: Some(7),
            error: None,
            recall_id: None,
        };
        assert_eq!(
            serde_json::to_value(&committed).unwrap(),
            json!({"status": "committed", "hash": "ab", "height": 7})
        );
        let rejected = SubmitResult {
            status: "rejected".into(),
            hash: "cd".into(),
            height: None,
            error: Some(ErrorBody {
                code: "rule".into(),
                message: "no".into(),
            }),
            recall_id: None,
        };
        assert_eq!(
            serde_json::to_value(&rejected).unwrap(),
            json!({"status": "rejected", "hash": "cd", "error": {"code": "rule", "message": "no"}})
        );
    }

    #[test]
    fn commission_result_json_shape() {
        let r = CommissionResult {
            status: "committed".into(),
            serials: 3,
            transactions: vec![CommissionTx {
                result: SubmitResult {
                    status: "committed".into(),
                    hash: "ab".into(),
                    height: Some(2),
                    error: None,
                    recall_id: None,
                },
                serials: 3,
            }],
        };
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"status": "committed", "serials": 3, "transactions": [
                {"status": "committed", "hash": "ab", "height": 2, "serials": 3}
            ]})
        );
    }

    #[test]
    fn error_document_shape() {
        assert_eq!(
            error_document("not_found", "no item"),
            json!({"error": {"code": "not_found", "message": "no item"}})
        );
    }

    #[test]
    fn table_aligns_columns() {
        let mut t = Table::new(&["a", "bb"]);
        t.row(vec!["xxx".into(), "y".into()]);
        t.row(vec!["z".into()]);
        assert_eq!(t.render(), "A    BB\nxxx  y\nz\n");
    }

    #[test]
    fn actions_render_compactly() {
        assert_eq!(action_text(Some(&json!("commissioned"))), "commissioned");
        assert_eq!(
            action_text(Some(&json!({"shipped": {"shipment": "S1", "to": "dist"}}))),
            "shipped shipment=S1 to=dist"
        );
        assert_eq!(action_text(None), "-");
    }

    #[test]
    fn times_are_utc() {
        assert_eq!(format_time_ms(0), "1970-01-01 00:00:00");
        assert_eq!(format_time_ms(1_798_761_599_999), "2026-12-31 23:59:59");
    }

    #[test]
    fn item_table_tolerates_missing_fields() {
        let t = item_table(&json!({"id": "(00)106141412345678908", "status": "active",
            "hold": {"kind": "quarantine", "reason": "check"},
            "contents": {"children": 2, "units": 20}}));
        assert!(t.contains("quarantine: check"));
        assert!(t.contains("2 items, 20 units"), "{t}");
        assert!(t.contains("recall     -"));
    }
}
