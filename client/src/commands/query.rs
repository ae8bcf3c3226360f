//! Read-only commands: `show`, `history`, `shipment`, `block`, `node-status`, `inventory`.
//! With `--json` they print the node's JSON as it came; otherwise a table.

use super::Ctx;
use crate::cli::{BlockArg, InventoryArgs, ItemArg, ShipmentArg};
use crate::exit::Exit;
use crate::output;
use anyhow::Context;
use serde_json::Value;

fn print(ctx: &Ctx, value: &Value, table: fn(&Value) -> String) -> Exit {
    if ctx.json {
        output::print_json(value);
    } else {
        output::emit(&table(value));
    }
    Exit::Success
}

/// `custody show ITEM`
pub fn show(ctx: &Ctx, a: ItemArg) -> anyhow::Result<Exit> {
    let v = ctx
        .api()?
        .item(&a.item)
        .with_context(|| format!("item {}", a.item))?;
    Ok(print(ctx, &v, output::item_table))
}

/// `custody history ITEM`
pub fn history(ctx: &Ctx, a: ItemArg) -> anyhow::Result<Exit> {
    let v = ctx
        .api()?
        .history(&a.item)
        .with_context(|| format!("history of item {}", a.item))?;
    Ok(print(ctx, &v, output::history_table))
}

/// `custody shipment ID`
pub fn shipment(ctx: &Ctx, a: ShipmentArg) -> anyhow::Result<Exit> {
    let v = ctx
        .api()?
        .shipment(&a.id)
        .with_context(|| format!("shipment {}", a.id))?;
    Ok(print(ctx, &v, output::shipment_view))
}

/// `custody block [HEIGHT|latest]`
pub fn block(ctx: &Ctx, a: BlockArg) -> anyhow::Result<Exit> {
    let v = ctx.api()?.block(a.at).context("block")?;
    Ok(print(ctx, &v, output::block_view))
}

/// `custody node-status`
pub fn node_status(ctx: &Ctx) -> anyhow::Result<Exit> {
    let v = ctx.api()?.status().context("node status")?;
    Ok(print(ctx, &v, output::node_status_view))
}

/// `custody inventory [--custodian M] [--location GLN] [--limit N]`
pub fn inventory(ctx: &Ctx, a: InventoryArgs) -> anyhow::Result<Exit> {
    let v = ctx
        .api()?
        .inventory(a.custodian.as_deref(), a.location.as_ref(), a.limit)
        .context("inventory")?;
    Ok(print(ctx, &v, output::inventory_table))
}
