//! `custody pack` and `custody unpack`: put items into a case or pallet (SSCC), take them out.

use super::submit::submit_one;
use super::Ctx;
use crate::cli::{PackArgs, UnpackArgs};
use crate::exit::Exit;
use anyhow::Context;
use custody_ledger::gs1::ItemId;
use custody_ledger::transaction::{Pack, Payload, Unpack};

/// `custody pack --sscc SSCC ITEM...`
pub fn pack(ctx: &Ctx, a: PackArgs) -> anyhow::Result<Exit> {
    let payload = Payload::Pack(Pack {
        parent: a.sscc,
        children: a.items,
    });
    submit_one(ctx, payload, a.wait, None)
}

/// `custody unpack --sscc SSCC [ITEM...]` (no items: everything comes out; the contents
/// are read from the node, since the transaction names each item it takes out).
pub fn unpack(ctx: &Ctx, a: UnpackArgs) -> anyhow::Result<Exit> {
    let children = if a.items.is_empty() {
        contents(ctx, &ItemId::Sscc(a.sscc.clone()))?
    } else {
        a.items
    };
    let payload = Payload::Unpack(Unpack {
        parent: a.sscc,
        children,
    });
    submit_one(ctx, payload, a.wait, None)
}

/// Everything packed directly in `container`, read from the node a page at a time.
fn contents(ctx: &Ctx, container: &ItemId) -> anyhow::Result<Vec<ItemId>> {
    let api = ctx.api()?;
    let mut out: Vec<ItemId> = Vec::new();
    let mut after: Option<ItemId> = None;
    loop {
        let page = api
            .contents(container, after.as_ref())
            .with_context(|| format!("reading what {container} holds"))?;
        let items: Vec<ItemId> = serde_json::from_value(page["items"].clone())
            .with_context(|| format!("the node's list of what {container} holds"))?;
        out.extend(items);
        match page["next_after"].as_str() {
            Some(next) => after = Some(ItemId::parse(next).context("the node's page cursor")?),
            None => break,
        }
    }
    if out.is_empty() {
        anyhow::bail!("{container} holds nothing to unpack");
    }
    Ok(out)
}
