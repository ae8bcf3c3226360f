//! `custody ship` and `custody receive`: hand items to another member, take a shipment in.

use super::submit::submit_one;
use super::Ctx;
use crate::cli::{ReceiveArgs, ShipArgs};
use crate::exit::Exit;
use anyhow::Context;
use custody_ledger::genesis::MemberId;
use custody_ledger::gs1::ItemId;
use custody_ledger::transaction::{Payload, Receive, Ship, ShipmentId};

/// `custody ship --to MEMBER --shipment ID ITEM...`
pub fn ship(ctx: &Ctx, a: ShipArgs) -> anyhow::Result<Exit> {
    let payload = Payload::Ship(Ship {
        shipment: ShipmentId(a.shipment),
        to: MemberId(a.to),
        items: a.items,
    });
    submit_one(ctx, payload, a.wait, None)
}

/// `custody receive --shipment ID [--reject ITEM]... [--missing ITEM]... [--unexpected ITEM]...`
/// (with no discrepancies: everything shipped is accepted). The receipt names each
/// top-level item it accepts: the ones still travelling in the shipment, read from the
/// node, less those rejected or reported missing.
pub fn receive(ctx: &Ctx, a: ReceiveArgs) -> anyhow::Result<Exit> {
    let accepted = travelling(ctx, &a.shipment)?
        .into_iter()
        .filter(|id| {
            !a.reject.contains(id) && !a.missing.contains(id) && !a.unexpected.contains(id)
        })
        .collect();
    let payload = Payload::Receive(Receive {
        shipment: ShipmentId(a.shipment),
        accepted,
        rejected: a.reject,
        missing: a.missing,
        unexpected: a.unexpected,
        location: a.location,
        note: a.note,
    });
    submit_one(ctx, payload, a.wait, None)
}

/// The top-level items still travelling in a shipment.
fn travelling(ctx: &Ctx, shipment: &str) -> anyhow::Result<Vec<ItemId>> {
    let api = ctx.api()?;
    let s = api
        .shipment(shipment)
        .with_context(|| format!("reading shipment {shipment}"))?;
    let items: Vec<ItemId> = serde_json::from_value(s["items"].clone())
        .with_context(|| format!("shipment {shipment} lists no items"))?;
    let outstanding = s["outstanding"].as_u64().unwrap_or(items.len() as u64);
    if outstanding == items.len() as u64 {
        return Ok(items);
    }
    // Some came back already (taken back as a return): keep those still on their way.
    let mut out = Vec::with_capacity(outstanding as usize);
    for id in items {
        let item = api.item(&id).with_context(|| format!("reading {id}"))?;
        if item["transit"]["shipment"].as_str() == Some(shipment) {
            out.push(id);
        }
    }
    Ok(out)
}
