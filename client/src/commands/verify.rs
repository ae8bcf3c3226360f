//! Verification against the genesis file alone. `custody verify chain` is a light client:
//! it fetches block headers with their commit certificates from a node and checks that they
//! form one certified chain from genesis. `custody proof` downloads an item's provenance
//! bundle; `custody verify bundle` checks one with no node and no network at all.

use super::Ctx;
use crate::cli::VerifyCommand;
use crate::exit::{usage, Exit, VerificationError};
use crate::output;
use anyhow::Context;
use custody_ledger::genesis::Genesis;
use custody_ledger::gs1::ItemId;
use custody_ledger::proof::{
    verify_bundle_bytes, verify_header_chain, CertifiedHeader, Provenance,
};
use custody_ledger::state::story::StoryEntry;
use serde_json::json;
use std::path::Path;

/// Headers fetched per request.
const PAGE: u64 = 500;

/// Runs a `verify` subcommand.
pub fn run(ctx: &Ctx, cmd: VerifyCommand) -> anyhow::Result<Exit> {
    match cmd {
        VerifyCommand::Chain { genesis } => chain(ctx, &read_genesis(&genesis)?),
        VerifyCommand::Bundle { file, genesis } => bundle(ctx, &file, &read_genesis(&genesis)?),
    }
}

fn read_genesis(path: &Path) -> anyhow::Result<Genesis> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| usage(format!("reading {}: {e}", path.display())))?;
    Genesis::from_json(&text).map_err(|e| usage(format!("{}: {e}", path.display())))
}

/// `custody proof ITEM -o FILE`.
pub fn download(ctx: &Ctx, item: &ItemId, out: &Path) -> anyhow::Result<Exit> {
    let bytes = ctx
        .api()?
        .proof(item)
        .with_context(|| format!("fetching the provenance bundle of {item}"))?;
    std::fs::write(out, &bytes).with_context(|| format!("writing {}", out.display()))?;
    if ctx.json {
        output::print_json(
            &json!({"item": item.to_string(), "file": out.display().to_string(), "bytes": bytes.len()}),
        );
    } else {
        output::emit(&format!(
            "wrote the provenance bundle of {item} to {} ({} bytes)\nverify it offline: custody verify bundle {} --genesis GENESIS",
            out.display(),
            bytes.len(),
            out.display()
        ));
    }
    Ok(Exit::Success)
}

/// `custody verify bundle FILE --genesis GENESIS`.
fn bundle(ctx: &Ctx, file: &Path, genesis: &Genesis) -> anyhow::Result<Exit> {
    // No bundle is larger than the CLI fetches one: a bigger file is refused before it is
    // read (by its size, then by what reading it gives, should it grow meanwhile).
    let reading = |e: std::io::Error| usage(format!("reading {}: {e}", file.display()));
    let limit = crate::api_client::MAX_BUNDLE_BYTES;
    let f = std::fs::File::open(file).map_err(reading)?;
    let size = f.metadata().map_err(reading)?.len();
    let mut bytes = Vec::new();
    if size <= limit {
        std::io::Read::read_to_end(&mut std::io::Read::take(f, limit + 1), &mut bytes)
            .map_err(reading)?;
    }
    if size > limit || bytes.len() as u64 > limit {
        return Err(VerificationError(format!(
            "{} is over {limit} bytes: no bundle is that large",
            file.display()
        ))
        .into());
    }
    let p = verify_bundle_bytes(genesis, &bytes).map_err(|e| VerificationError(e.to_string()))?;
    if ctx.json {
        output::print_json(&json!({"verified": true, "provenance": p}));
    } else {
        output::emit(&story(&p, genesis));
    }
    Ok(Exit::Success)
}

/// The item's story as a person reads it.
fn story(p: &Provenance, genesis: &Genesis) -> String {
    let mut out = match &p.state {
        None => {
            return format!(
                "VERIFIED: {} was never commissioned on chain {} (proven absent at height {}).\nA pack carrying it is not genuine.",
                p.item, genesis.chain_id, p.height
            )
        }
        Some(s) => {
            let product = s.product.as_ref().map_or("case or pallet".to_string(), |pr| {
                format!("GTIN {} lot {} expiry {}", pr.gtin, pr.lot, pr.expiry.to_iso_date())
            });
            let mut head = format!(
                "VERIFIED: {} ({product}) on chain {}, proven at height {}.\nNow: {} with {}",
                p.item,
                genesis.chain_id,
                p.height,
                s.status.as_str(),
                s.custodian
            );
            if let Some(l) = &s.location {
                head.push_str(&format!(" at {l}"));
            }
            if let Some(c) = p.containers.first() {
                head.push_str(&format!(", packed in {c}"));
            }
            if let Some(r) = &p.recall {
                head.push_str(&format!("; UNDER RECALL {r}"));
            }
            if let Some(h) = &s.hold {
                head.push_str(&format!("; on hold ({:?}: {})", h.kind, h.reason));
            }
            let way: Vec<&str> = s.route.iter().map(|m| m.0.as_str()).collect();
            head.push_str(&format!("\nThe way it came: {}\n\n", way.join(" → ")));
            head
        }
    };
    let mut t = output::Table::new(&[
        "HEIGHT",
        "TIME",
        "ACTOR",
        "WHAT",
        "CUSTODIAN",
        "LOCATION",
        "STATUS",
        "VIA",
    ]);
    for entry in &p.story {
        match entry {
            StoryEntry::Event { via, event: l } => {
                let action = serde_json::to_value(&l.action).unwrap_or_default();
                t.row(vec![
                    l.height.to_string(),
                    output::format_time_ms(l.time_ms),
                    l.actor.to_string(),
                    output::action_text(Some(&action)),
                    l.custodian.to_string(),
                    l.location.as_ref().map_or("-".into(), |g| g.to_string()),
                    l.status.as_str().to_string(),
                    via.as_ref().map_or("-".into(), |v| v.to_string()),
                ]);
            }
            StoryEntry::Recall(r) => {
                t.row(vec![
                    r.height.to_string(),
                    output::format_time_ms(r.time_ms),
                    r.by.to_string(),
                    format!("lot recalled ({})", r.recall_id),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "lot".into(),
                ]);
            }
        }
    }
    out.push_str(&t.render());
    out
}

fn chain(ctx: &Ctx, genesis: &Genesis) -> anyhow::Result<Exit> {
    let api = ctx.api()?;
    let (mut parent, mut height, mut time) = (genesis.hash(), 0u64, genesis.genesis_time_ms);
    // Until the node has no more (or, with a header certified at u64::MAX, none can follow).
    while let Some(from) = height.checked_add(1) {
        let page = api
            .headers(from, PAGE)
            .with_context(|| format!("fetching headers from height {from}"))?;
        let headers: Vec<CertifiedHeader> = serde_json::from_value(page["headers"].clone())
            .map_err(|e| VerificationError(format!("headers are malformed: {e}")))?;
        if headers.is_empty() {
            break;
        }
        // Height 1's time is only checked against later blocks (genesis time is advisory).
        let parent_time = if height == 0 { 0 } else { time };
        parent = verify_header_chain(genesis, parent, height, parent_time, &headers)
            .map_err(|e| VerificationError(e.to_string()))?;
        let last = &headers[headers.len() - 1].header;
        height = last.height;
        time = last.time_ms;
    }
    if ctx.json {
        output::print_json(&json!({
            "verified": true, "chain_id": genesis.chain_id, "height": height,
            "head_hash": parent.to_hex(), "head_time_ms": time,
        }));
    } else {
        output::emit(&format!(
            "chain {}: {height} block headers verified from genesis, each certified by a quorum of the {} genesis validators\nhead {parent} at {}",
            genesis.chain_id,
            genesis.validators.len(),
            output::format_time_ms(time)
        ));
    }
    Ok(Exit::Success)
}
