//! `custody verify chain`: a light client. It trusts only the genesis file it is given,
//! fetches block headers with their commit certificates from a node, and checks that they
//! form one certified chain from genesis.

use super::Ctx;
use crate::cli::VerifyCommand;
use crate::exit::{usage, Exit, VerificationError};
use crate::output;
use anyhow::Context;
use custody_ledger::genesis::Genesis;
use custody_ledger::proof::{verify_header_chain, CertifiedHeader};
use serde_json::json;

/// Headers fetched per request.
const PAGE: u64 = 500;

/// Runs a `verify` subcommand.
pub fn run(ctx: &Ctx, cmd: VerifyCommand) -> anyhow::Result<Exit> {
    match cmd {
        VerifyCommand::Chain { genesis } => {
            let text = std::fs::read_to_string(&genesis)
                .map_err(|e| usage(format!("reading {}: {e}", genesis.display())))?;
            let genesis = Genesis::from_json(&text).map_err(|e| usage(e.to_string()))?;
            chain(ctx, &genesis)
        }
    }
}

fn chain(ctx: &Ctx, genesis: &Genesis) -> anyhow::Result<Exit> {
    let api = ctx.api()?;
    let (mut parent, mut height, mut time) = (genesis.hash(), 0u64, genesis.genesis_time_ms);
    loop {
        let page = api
            .headers(height + 1, PAGE)
            .with_context(|| format!("fetching headers from height {}", height + 1))?;
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
