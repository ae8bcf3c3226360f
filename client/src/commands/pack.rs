//! `custody pack` and `custody unpack`: put items into a case or pallet (SSCC), take them out.

use super::submit::submit_one;
use super::Ctx;
use crate::cli::{PackArgs, UnpackArgs};
use crate::exit::Exit;
use custody_ledger::transaction::{Pack, Payload, Unpack};

/// `custody pack --sscc SSCC ITEM...`
pub fn pack(ctx: &Ctx, a: PackArgs) -> anyhow::Result<Exit> {
    let payload = Payload::Pack(Pack {
        parent: a.sscc,
        children: a.items,
    });
    submit_one(ctx, payload, a.wait, None)
}

/// `custody unpack --sscc SSCC [ITEM...]` (no items: everything comes out).
pub fn unpack(ctx: &Ctx, a: UnpackArgs) -> anyhow::Result<Exit> {
    let payload = Payload::Unpack(Unpack {
        parent: a.sscc,
        children: a.items,
    });
    submit_one(ctx, payload, a.wait, None)
}
