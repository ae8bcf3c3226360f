//! `custody recall`: recall lots of a GTIN (the manufacturer that owns it, or a regulator).

use super::submit::{now_ms, submit_one};
use super::Ctx;
use crate::cli::RecallArgs;
use crate::exit::Exit;
use custody_ledger::transaction::{Payload, Recall};

/// `custody recall --gtin GTIN --lot LOT [--lot LOT]... --reason TEXT [--id RECALL_ID]`
/// (the id defaults to `RC-<unix-ms>`; it is printed, and put in the `--json` document).
pub fn run(ctx: &Ctx, a: RecallArgs) -> anyhow::Result<Exit> {
    let recall_id = a.id.unwrap_or_else(|| format!("RC-{}", now_ms()));
    if !ctx.json {
        crate::output::emit(&format!("recall id {recall_id}"));
    }
    let payload = Payload::Recall(Recall {
        recall_id: recall_id.clone(),
        gtin: a.gtin,
        lots: a.lots,
        reason: a.reason,
    });
    submit_one(ctx, payload, a.wait, Some(recall_id))
}
