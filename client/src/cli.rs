//! The `custody` command line (clap derive): global options, subcommands and their
//! arguments. GS1 values are parsed here through [`crate::items`], so a bad identifier is a
//! clap usage error (exit 2) before anything else happens.

use crate::api_client::BlockRef;
use crate::exit::EXIT_CODES_HELP;
use crate::items::{self, SerialList};
use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};
use custody_ledger::gs1::{Expiry, Gln, Gtin, ItemId, Lot, Sscc};
use custody_ledger::transaction::{DecommissionReason, StatusChange};
use std::path::PathBuf;

/// The Custody CLI: sign custody transactions for serialised pharmaceutical items and query
/// a node. Items are accepted in any GS1 form: element string `(01)…(21)…`, raw DataMatrix
/// data, Digital Link URL or EPC URN.
#[derive(Parser, Debug)]
#[command(name = "custody", version, after_help = EXIT_CODES_HELP)]
pub struct Cli {
    /// The node's HTTP API. Repeatable for `bench` (round-robin); other commands use the
    /// last one given.
    #[arg(
        long,
        global = true,
        env = "CUSTODY_NODE",
        default_value = "http://127.0.0.1:8080",
        value_name = "URL",
        action = clap::ArgAction::Append
    )]
    pub node: Vec<String>,

    /// Your signing key: an ed25519 PKCS#8 PEM file (never leaves this machine).
    #[arg(long, global = true, env = "CUSTODY_KEY", value_name = "FILE")]
    pub key: Option<PathBuf>,

    /// Print exactly one JSON document on stdout instead of tables.
    #[arg(long, global = true)]
    pub json: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Generate a signing key, or show the public key of --key.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Inspect GS1 identifiers (needs no node).
    #[command(subcommand)]
    Id(IdCommand),
    /// Download an item's provenance bundle (proof of its state and whole history, or that
    /// it was never commissioned) into a file anyone can verify offline.
    Proof {
        /// The item, in any GS1 form.
        #[arg(value_name = "ITEM", value_parser = items::parse_item)]
        item: ItemId,
        /// Where to write the bundle.
        #[arg(short = 'o', long = "out", value_name = "FILE")]
        out: PathBuf,
    },
    /// Verify what a node says against the genesis file alone.
    #[command(subcommand)]
    Verify(VerifyCommand),
    /// Commission new serials of one GTIN, lot and expiry.
    Commission(CommissionArgs),
    /// Pack items into a case or pallet (SSCC).
    Pack(PackArgs),
    /// Take items out of a case or pallet (all of them if none is named).
    Unpack(UnpackArgs),
    /// Ship items to another member.
    Ship(ShipArgs),
    /// Receive a shipment addressed to you (with no options: accept everything).
    Receive(ReceiveArgs),
    /// Move items to another of your locations.
    Move(MoveArgs),
    /// Quarantine, mark damaged or suspect, or release items.
    Status(StatusArgs),
    /// Recall lots of a GTIN (manufacturer or regulator).
    Recall(RecallArgs),
    /// Take items out of the supply chain.
    Decommission(DecommissionArgs),
    /// Take back returned items.
    Return(ReturnArgs),
    /// Show an item's current state.
    Show(ItemArg),
    /// Show an item's history.
    History(ItemArg),
    /// Show a shipment.
    Shipment(ShipmentArg),
    /// Show a block.
    Block(BlockArg),
    /// Show the node's status.
    NodeStatus,
    /// List items by custodian and/or location.
    Inventory(InventoryArgs),
    /// Load generator: commission fresh serials as fast as the network commits them for a
    /// while, then print committed transactions per second and commit latency.
    Bench(crate::commands::bench::BenchArgs),
}

/// `custody keys …`.
#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Generate a new ed25519 key into a PKCS#8 PEM file and print its public key.
    Generate {
        /// Where to write the key.
        #[arg(short = 'o', long = "out", value_name = "FILE")]
        out: PathBuf,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Print the public key (hex) of --key.
    Show,
}

/// `custody verify …`.
#[derive(Subcommand, Debug)]
pub enum VerifyCommand {
    /// Fetch every block header with its commit certificate from --node and check the
    /// certificate chain from genesis (a light client: no state, no trust in the node).
    Chain {
        /// The genesis file you trust (the node's copy is not used).
        #[arg(long, value_name = "FILE")]
        genesis: PathBuf,
    },
    /// Verify a provenance bundle offline (no node, no network) and tell the item's story.
    Bundle {
        /// The bundle file (from `custody proof`).
        file: PathBuf,
        /// The genesis file you trust.
        #[arg(long, value_name = "FILE")]
        genesis: PathBuf,
    },
}

/// `custody id …`.
#[derive(Subcommand, Debug)]
pub enum IdCommand {
    /// Parse a GS1 identifier in any form and print its elements and other forms.
    Parse {
        /// Element string `(01)…(21)…`, raw scan data (`]d2…`), a Digital Link URI or an
        /// EPC URN.
        text: String,
        /// Read company prefixes from this genesis (to render EPC URNs).
        #[arg(long, value_name = "FILE")]
        genesis: Option<PathBuf>,
        /// A known GS1 company prefix (repeatable), to render EPC URNs.
        #[arg(long)]
        prefix: Vec<String>,
    },
}

/// Options of every command that submits a transaction.
#[derive(Args, Debug, Clone, Copy)]
pub struct WaitArgs {
    /// Return as soon as the node accepts the transaction into its mempool.
    #[arg(long)]
    pub no_wait: bool,
    /// Give up waiting for commit after this many seconds without progress.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub timeout: u64,
}

/// `custody commission`.
#[derive(Args, Debug)]
#[command(group(ArgGroup::new("serial_source").required(true).args(["serials", "serials_file"])))]
pub struct CommissionArgs {
    /// The product's GTIN (must carry your company prefix).
    #[arg(long, value_parser = items::parse_gtin)]
    pub gtin: Gtin,
    /// Lot / batch number.
    #[arg(long, value_parser = items::parse_lot)]
    pub lot: Lot,
    /// Expiry date.
    #[arg(long, value_name = "YYMMDD", value_parser = items::parse_expiry)]
    pub expiry: Expiry,
    /// Serials: an inclusive numeric range `0001..0100` (padding kept) or a list `S1,S2,…`.
    #[arg(long, value_name = "A..B|S1,S2,…", value_parser = items::parse_serials)]
    pub serials: Option<SerialList>,
    /// Read serials from a file, one per line (`#` comments and blank lines skipped).
    #[arg(long, value_name = "FILE")]
    pub serials_file: Option<PathBuf>,
    /// Where they were made (one of your GLNs).
    #[arg(long, value_name = "GLN", value_parser = items::parse_gln)]
    pub location: Option<Gln>,
    /// Serials per transaction.
    #[arg(long, value_name = "N", default_value_t = 1000,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub batch: u32,
    #[command(flatten)]
    pub wait: WaitArgs,
}

/// `custody pack`.
#[derive(Args, Debug)]
pub struct PackArgs {
    /// The case or pallet.
    #[arg(long, value_parser = items::parse_sscc)]
    pub sscc: Sscc,
    /// Items to put in.
    #[arg(value_name = "ITEM", required = true, value_parser = items::parse_item)]
    pub items: Vec<ItemId>,
    #[command(flatten)]
    pub wait: WaitArgs,
}

/// `custody unpack`.
#[derive(Args, Debug)]
pub struct UnpackArgs {
    /// The case or pallet.
    #[arg(long, value_parser = items::parse_sscc)]
    pub sscc: Sscc,
    /// Items to take out (all if none).
    #[arg(value_name = "ITEM", value_parser = items::parse_item)]
    pub items: Vec<ItemId>,
    #[command(flatten)]
    pub wait: WaitArgs,
}

/// `custody ship`.
#[derive(Args, Debug)]
pub struct ShipArgs {
    /// The addressee (member name).
    #[arg(long, value_name = "MEMBER")]
    pub to: String,
    /// A new shipment id (e.g. your dispatch advice number).
    #[arg(long, value_name = "ID")]
    pub shipment: String,
    /// Top-level items (a case or pallet carries its contents).
    #[arg(value_name = "ITEM", required = true, value_parser = items::parse_item)]
    pub items: Vec<ItemId>,
    #[command(flatten)]
    pub wait: WaitArgs,
}

/// `custody receive`.
#[derive(Args, Debug)]
pub struct ReceiveArgs {
    /// The shipment id.
    #[arg(long, value_name = "ID")]
    pub shipment: String,
    /// A shipped item refused at the dock (repeatable).
    #[arg(long = "reject", value_name = "ITEM", value_parser = items::parse_item)]
    pub reject: Vec<ItemId>,
    /// A shipped item that did not arrive (repeatable).
    #[arg(long = "missing", value_name = "ITEM", value_parser = items::parse_item)]
    pub missing: Vec<ItemId>,
    /// An item that arrived without being shipped (repeatable).
    #[arg(long = "unexpected", value_name = "ITEM", value_parser = items::parse_item)]
    pub unexpected: Vec<ItemId>,
    /// Where the accepted goods are put (one of your GLNs).
    #[arg(long, value_name = "GLN", value_parser = items::parse_gln)]
    pub location: Option<Gln>,
    /// Free text for the receiving record.
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub note: String,
    #[command(flatten)]
    pub wait: WaitArgs,
}

/// `custody move`.
#[derive(Args, Debug)]
pub struct MoveArgs {
    /// The destination (one of your GLNs).
    #[arg(long, value_name = "GLN", value_parser = items::parse_gln)]
    pub to: Gln,
    /// Items to move.
    #[arg(value_name = "ITEM", required = true, value_parser = items::parse_item)]
    pub items: Vec<ItemId>,
    #[command(flatten)]
    pub wait: WaitArgs,
}

/// A hold change, as typed on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StatusArg {
    /// Hold pending investigation.
    Quarantine,
    /// Damaged.
    Damaged,
    /// Suspected counterfeit or diverted.
    Suspect,
    /// Clear a hold.
    Release,
}

impl From<StatusArg> for StatusChange {
    fn from(s: StatusArg) -> Self {
        match s {
            StatusArg::Quarantine => StatusChange::Quarantine,
            StatusArg::Damaged => StatusChange::Damaged,
            StatusArg::Suspect => StatusChange::Suspect,
            StatusArg::Release => StatusChange::Release,
        }
    }
}

/// `custody status`.
#[derive(Args, Debug)]
pub struct StatusArgs {
    /// The change.
    #[arg(long = "set", value_enum)]
    pub set: StatusArg,
    /// Why.
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// Items.
    #[arg(value_name = "ITEM", required = true, value_parser = items::parse_item)]
    pub items: Vec<ItemId>,
    #[command(flatten)]
    pub wait: WaitArgs,
}

/// `custody recall`.
#[derive(Args, Debug)]
pub struct RecallArgs {
    /// The product.
    #[arg(long, value_parser = items::parse_gtin)]
    pub gtin: Gtin,
    /// A lot to recall (repeatable).
    #[arg(long = "lot", value_name = "LOT", required = true, value_parser = items::parse_lot)]
    pub lots: Vec<Lot>,
    /// Why.
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// The recall id (default: RC-<unix-ms>).
    #[arg(long, value_name = "RECALL_ID")]
    pub id: Option<String>,
    #[command(flatten)]
    pub wait: WaitArgs,
}

/// Why items leave the supply chain, as typed on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DecommissionArg {
    /// Handed to a patient.
    Dispensed,
    /// Destroyed.
    Destroyed,
    /// Reported stolen.
    Stolen,
    /// Expired.
    Expired,
    /// Exported.
    Exported,
}

impl From<DecommissionArg> for DecommissionReason {
    fn from(d: DecommissionArg) -> Self {
        match d {
            DecommissionArg::Dispensed => DecommissionReason::Dispensed,
            DecommissionArg::Destroyed => DecommissionReason::Destroyed,
            DecommissionArg::Stolen => DecommissionReason::Stolen,
            DecommissionArg::Expired => DecommissionReason::Expired,
            DecommissionArg::Exported => DecommissionReason::Exported,
        }
    }
}

/// `custody decommission`.
#[derive(Args, Debug)]
pub struct DecommissionArgs {
    /// Why.
    #[arg(long, value_enum)]
    pub reason: DecommissionArg,
    /// Items.
    #[arg(value_name = "ITEM", required = true, value_parser = items::parse_item)]
    pub items: Vec<ItemId>,
    #[command(flatten)]
    pub wait: WaitArgs,
}

/// `custody return`.
#[derive(Args, Debug)]
pub struct ReturnArgs {
    /// Why.
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// Items coming back.
    #[arg(value_name = "ITEM", required = true, value_parser = items::parse_item)]
    pub items: Vec<ItemId>,
    #[command(flatten)]
    pub wait: WaitArgs,
}

/// One item argument (`show`, `history`).
#[derive(Args, Debug)]
pub struct ItemArg {
    /// The item, in any GS1 form.
    #[arg(value_name = "ITEM", value_parser = items::parse_item)]
    pub item: ItemId,
}

/// `custody shipment`.
#[derive(Args, Debug)]
pub struct ShipmentArg {
    /// The shipment id.
    #[arg(value_name = "ID")]
    pub id: String,
}

/// `custody block`.
#[derive(Args, Debug)]
pub struct BlockArg {
    /// A height, or `latest`.
    #[arg(value_name = "HEIGHT|latest", default_value = "latest", value_parser = parse_block_ref)]
    pub at: BlockRef,
}

/// `custody inventory`.
#[derive(Args, Debug)]
pub struct InventoryArgs {
    /// Only items held by this member.
    #[arg(long, value_name = "MEMBER")]
    pub custodian: Option<String>,
    /// Only items at this location.
    #[arg(long, value_name = "GLN", value_parser = items::parse_gln)]
    pub location: Option<Gln>,
    /// At most this many items.
    #[arg(long, value_name = "N")]
    pub limit: Option<u32>,
}

/// Parses `latest` or a block height.
pub fn parse_block_ref(s: &str) -> Result<BlockRef, String> {
    if s.eq_ignore_ascii_case("latest") {
        return Ok(BlockRef::Latest);
    }
    s.parse::<u64>()
        .map(BlockRef::Height)
        .map_err(|_| format!("expected a block height or `latest`, got {s:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_options_go_anywhere() {
        let c = Cli::try_parse_from([
            "custody",
            "show",
            "(01)09506000134352(21)A1",
            "--json",
            "--node",
            "http://n:1",
        ])
        .unwrap();
        assert!(c.json);
        assert_eq!(c.node, vec!["http://n:1".to_string()]);
        assert!(matches!(c.command, Command::Show(_)));
    }

    #[test]
    fn bad_items_are_usage_errors() {
        let e = Cli::try_parse_from(["custody", "move", "--to", "0614141000005", "nonsense"])
            .unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("not a GS1 item identifier"), "{e}");
    }

    #[test]
    fn commission_needs_one_serial_source() {
        let base = [
            "custody",
            "commission",
            "--gtin",
            "09506000134352",
            "--lot",
            "L1",
            "--expiry",
            "261231",
        ];
        assert!(Cli::try_parse_from(base).is_err());
        let mut both = base.to_vec();
        both.extend(["--serials", "1..2", "--serials-file", "f"]);
        assert!(Cli::try_parse_from(both).is_err());
        let mut ok = base.to_vec();
        ok.extend(["--serials", "0001..0010", "--batch", "3"]);
        let c = Cli::try_parse_from(ok).unwrap();
        let Command::Commission(a) = c.command else {
            panic!("not commission")
        };
        assert_eq!(a.serials.unwrap().0.len(), 10);
        assert_eq!(a.batch, 3);
        let mut zero = base.to_vec();
        zero.extend(["--serials", "1..2", "--batch", "0"]);
        assert!(Cli::try_parse_from(zero).is_err());
        let mut reversed = base.to_vec();
        reversed.extend(["--serials", "9..1"]);
        let e = Cli::try_parse_from(reversed).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("reversed"));
    }

    #[test]
    fn receive_repeats_options() {
        let c = Cli::try_parse_from([
            "custody",
            "receive",
            "--shipment",
            "S1",
            "--reject",
            "(01)09506000134352(21)A1",
            "--reject",
            "(01)09506000134352(21)A2",
            "--missing",
            "(01)09506000134352(21)A3",
        ])
        .unwrap();
        let Command::Receive(r) = c.command else {
            panic!("not receive")
        };
        assert_eq!(r.reject.len(), 2);
        assert_eq!(r.missing.len(), 1);
        assert!(r.unexpected.is_empty());
        assert_eq!(r.note, "");
    }

    #[test]
    fn bench_takes_several_nodes() {
        let c = Cli::try_parse_from([
            "custody",
            "bench",
            "--node",
            "http://a:1",
            "--node",
            "http://b:2",
            "--gtin",
            "10614141000019",
            "--duration",
            "5",
        ])
        .unwrap();
        assert_eq!(c.node.len(), 2);
        let Command::Bench(b) = c.command else {
            panic!("not bench")
        };
        assert_eq!(b.duration, 5);
        assert_eq!(b.concurrency, 32);
        assert_eq!(b.serials_per_tx, 1);
        let c = Cli::try_parse_from(["custody", "node-status"]).unwrap();
        assert_eq!(c.node, vec!["http://127.0.0.1:8080".to_string()]);
    }

    #[test]
    fn block_refs() {
        assert_eq!(parse_block_ref("latest"), Ok(BlockRef::Latest));
        assert_eq!(parse_block_ref("12"), Ok(BlockRef::Height(12)));
        assert!(parse_block_ref("-1").is_err());
    }

    #[test]
    fn help_documents_exit_codes() {
        let help = Cli::command().render_help().to_string();
        assert!(help.contains("Exit codes"), "{help}");
    }
}
