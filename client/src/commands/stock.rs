//! Stock handling by the custodian: `custody move`, `custody status` (holds),
//! `custody decommission` and `custody return`.

use super::submit::submit_one;
use super::Ctx;
use crate::cli::{DecommissionArgs, MoveArgs, ReturnArgs, StatusArgs};
use crate::exit::Exit;
use custody_ledger::transaction::{Decommission, Move, Payload, Return, SetStatus};

/// `custody move --to GLN ITEM...`
pub fn move_items(ctx: &Ctx, a: MoveArgs) -> anyhow::Result<Exit> {
    let payload = Payload::Move(Move {
        items: a.items,
        to: a.to,
    });
    submit_one(ctx, payload, a.wait, None)
}

/// `custody status --set quarantine|damaged|suspect|release --reason TEXT ITEM...`
pub fn set_status(ctx: &Ctx, a: StatusArgs) -> anyhow::Result<Exit> {
    let payload = Payload::SetStatus(SetStatus {
        items: a.items,
        status: a.set.into(),
        reason: a.reason,
    });
    submit_one(ctx, payload, a.wait, None)
}

/// `custody decommission --reason dispensed|destroyed|stolen|expired|exported ITEM...`
pub fn decommission(ctx: &Ctx, a: DecommissionArgs) -> anyhow::Result<Exit> {
    let payload = Payload::Decommission(Decommission {
        items: a.items,
        reason: a.reason.into(),
    });
    submit_one(ctx, payload, a.wait, None)
}

/// `custody return --reason TEXT ITEM...`
pub fn return_items(ctx: &Ctx, a: ReturnArgs) -> anyhow::Result<Exit> {
    let payload = Payload::Return(Return {
        items: a.items,
        reason: a.reason,
    });
    submit_one(ctx, payload, a.wait, None)
}
