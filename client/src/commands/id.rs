//! `custody id parse`: reads a GS1 identifier in any form (element string, raw DataMatrix
//! scan, Digital Link URI, EPC URN), validates every element, and prints its values and its
//! other forms. Needs no node.

use super::Ctx;
use crate::cli::IdCommand;
use crate::exit::{usage, Exit};
use crate::output::{self, Table};
use anyhow::Context;
use custody_ledger::genesis::Genesis;
use custody_ledger::gs1::describe;

/// Runs an `id` subcommand.
pub fn run(ctx: &Ctx, cmd: IdCommand) -> anyhow::Result<Exit> {
    match cmd {
        IdCommand::Parse {
            text,
            genesis,
            prefix,
        } => {
            let mut prefixes = prefix;
            if let Some(path) = genesis {
                let g = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))?;
                let g = Genesis::from_json(&g).map_err(|e| usage(e.to_string()))?;
                prefixes.extend(g.members.into_iter().flat_map(|m| m.company_prefixes));
            }
            let d = describe(&text, &prefixes).map_err(|e| usage(format!("{text:?}: {e}")))?;
            if ctx.json {
                output::print_json(&d);
                return Ok(Exit::Success);
            }
            let mut t = Table::new(&["AI", "title", "value"]);
            for (ai, value) in &d.elements {
                let title = d.titles.get(ai).cloned().unwrap_or_default();
                t.row(vec![ai.clone(), title, value.clone()]);
            }
            let mut out = format!(
                "{} {}\n\n{}",
                d.kind,
                d.id.as_deref().unwrap_or(""),
                t.render()
            );
            if let Some(e) = &d.expiry_date {
                out.push_str(&format!("\nexpiry date     {e}"));
            }
            out.push_str(&format!("\nelement string  {}", d.forms.element_string));
            out.push_str(&format!(
                "\nDataMatrix      {}",
                d.forms.datamatrix.replace('\u{1d}', "<GS>")
            ));
            if let Some(dl) = &d.forms.digital_link {
                out.push_str(&format!("\nDigital Link    {dl}"));
            }
            match &d.forms.epc_urn {
                Some(urn) => out.push_str(&format!("\nEPC URN         {urn}")),
                None => out.push_str(
                    "\nEPC URN         (company prefix length unknown: pass --genesis or --prefix)",
                ),
            }
            output::emit(&out);
            Ok(Exit::Success)
        }
    }
}
