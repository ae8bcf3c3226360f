//! `custody`: the Custody command-line client. It holds the user's ed25519 key (the key
//! never leaves this process), builds and signs custody transactions, and talks to a node's
//! HTTP API. It must never link an async runtime: HTTP is blocking (ureq).
//!
//! Exit codes are a contract (see [`exit::EXIT_CODES_HELP`]): errors carry their class
//! through `anyhow` chains and [`exit::classify`] turns them into the code.

mod api_client;
mod cli;
mod commands;
mod exit;
mod items;
mod output;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // clap exits by itself: 0 for --help/--version, 2 for usage errors.
    let cli = cli::Cli::parse();
    let json = cli.json;
    match commands::run(cli) {
        Ok(code) => code.into(),
        Err(e) => {
            let code = exit::classify(&e);
            eprintln!("error: {e:#}");
            if json {
                output::print_json(&output::error_document(
                    &exit::error_code(&e),
                    &format!("{e:#}"),
                ));
            }
            code.into()
        }
    }
}
