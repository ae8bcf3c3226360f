//! `custody ship` and `custody receive`: hand items to another member, take a shipment in.

use super::submit::submit_one;
use super::Ctx;
use crate::cli::{ReceiveArgs, ShipArgs};
use crate::exit::Exit;
use custody_ledger::genesis::MemberId;
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
/// (with no discrepancies: everything shipped is accepted).
pub fn receive(ctx: &Ctx, a: ReceiveArgs) -> anyhow::Result<Exit> {
    let payload = Payload::Receive(Receive {
        shipment: ShipmentId(a.shipment),
        rejected: a.reject,
        missing: a.missing,
        unexpected: a.unexpected,
        location: a.location,
        note: a.note,
    });
    submit_one(ctx, payload, a.wait, None)
}
