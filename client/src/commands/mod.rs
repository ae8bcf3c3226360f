//! One module per command group. Each command gets a [`Ctx`] (global options) and returns
//! the exit code it wants, or an error that [`crate::exit::classify`] maps to one.

pub mod bench;
pub mod commission;
pub mod id;
pub mod keys;
pub mod pack;
pub mod query;
pub mod recall;
pub mod ship;
pub mod stock;
pub mod submit;
pub mod verify;

use crate::api_client::ApiClient;
use crate::cli::{Cli, Command};
use crate::exit::Exit;
use std::path::PathBuf;

/// The global options every command sees.
pub struct Ctx {
    /// `--node`.
    pub node: String,
    /// `--key`.
    pub key: Option<PathBuf>,
    /// `--json`.
    pub json: bool,
}

impl Ctx {
    /// A client for `--node` (a bad URL is a usage error).
    pub fn api(&self) -> anyhow::Result<ApiClient> {
        Ok(ApiClient::new(&self.node)?)
    }
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<Exit> {
    let nodes = cli.node;
    let ctx = Ctx {
        node: nodes.last().cloned().unwrap_or_default(),
        key: cli.key,
        json: cli.json,
    };
    match cli.command {
        Command::Keys(k) => keys::run(&ctx, k),
        Command::Id(c) => id::run(&ctx, c),
        Command::Verify(c) => verify::run(&ctx, c),
        Command::Proof { item, out } => verify::download(&ctx, &item, &out),
        Command::Commission(a) => commission::run(&ctx, a),
        Command::Pack(a) => pack::pack(&ctx, a),
        Command::Unpack(a) => pack::unpack(&ctx, a),
        Command::Ship(a) => ship::ship(&ctx, a),
        Command::Receive(a) => ship::receive(&ctx, a),
        Command::Move(a) => stock::move_items(&ctx, a),
        Command::Status(a) => stock::set_status(&ctx, a),
        Command::Recall(a) => recall::run(&ctx, a),
        Command::Decommission(a) => stock::decommission(&ctx, a),
        Command::Return(a) => stock::return_items(&ctx, a),
        Command::Show(a) => query::show(&ctx, a),
        Command::History(a) => query::history(&ctx, a),
        Command::Shipment(a) => query::shipment(&ctx, a),
        Command::Block(a) => query::block(&ctx, a),
        Command::NodeStatus => query::node_status(&ctx),
        Command::Inventory(a) => query::inventory(&ctx, a),
        Command::Bench(a) => bench::run(&ctx, &nodes, a),
    }
}
