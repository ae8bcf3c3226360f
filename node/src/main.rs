//! `custody-node`: runs a Custody node (`run`), or a complete demo chain with no
//! configuration (`dev`).

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use custody_ledger::crypto::signing_key_from_pem;
use custody_ledger::genesis::Genesis;
use custody_node::api;
use custody_node::consensus_driver::{self, DriverOptions, NoPeers, SafetyWal};
use custody_node::dev;
use custody_node::node::Node;
use custody_node::storage::Store;
use ed25519_dalek::SigningKey;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Parser)]
#[command(name = "custody-node", version, about = "Custody ledger node")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start a demo chain: writes genesis and demo member keys on first run, then serves the
    /// API and dashboard.
    Dev {
        /// Data folder (genesis, keys, chain data).
        #[arg(long, default_value = ".custody/dev")]
        data_dir: PathBuf,
        /// API port on 127.0.0.1.
        #[arg(long, default_value_t = 8080)]
        api_port: u16,
    },
    /// Run a node from a genesis file and a validator key.
    Run {
        /// Genesis JSON.
        #[arg(long)]
        genesis: PathBuf,
        /// This node's ed25519 key (PKCS#8 PEM).
        #[arg(long)]
        key: PathBuf,
        /// Chain data folder.
        #[arg(long)]
        data_dir: PathBuf,
        /// API listen address.
        #[arg(long, default_value = "127.0.0.1:8080")]
        api_addr: SocketAddr,
    },
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sled=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let rt = tokio::runtime::Runtime::new().context("starting the runtime")?;
    match cli.command {
        Command::Dev { data_dir, api_port } => {
            let genesis = dev::load_or_create(&data_dir)?;
            let key = dev::validator_key(&data_dir, dev::DEV_VALIDATORS[0])?;
            let addr = SocketAddr::from(([127, 0, 0, 1], api_port));
            let banner = dev::banner(&data_dir, &format!("http://{addr}"));
            rt.block_on(serve(
                dev::DEV_VALIDATORS[0].to_string(),
                genesis,
                key,
                &data_dir.join("node-0"),
                addr,
                Some(banner),
            ))
        }
        Command::Run {
            genesis,
            key,
            data_dir,
            api_addr,
        } => {
            let text = std::fs::read_to_string(&genesis)
                .with_context(|| format!("reading {}", genesis.display()))?;
            let genesis = Genesis::from_json(&text)?;
            let pem = std::fs::read_to_string(&key)
                .with_context(|| format!("reading {}", key.display()))?;
            let key = signing_key_from_pem(&pem)?;
            let name = genesis
                .validators
                .iter()
                .find(|v| v.public_key.0 == key.verifying_key().to_bytes())
                .map(|v| v.name.clone())
                .context("this key is not one of the genesis validators")?;
            rt.block_on(serve(name, genesis, key, &data_dir, api_addr, None))
        }
    }
}

async fn serve(
    name: String,
    genesis: Genesis,
    key: SigningKey,
    data_dir: &Path,
    addr: SocketAddr,
    banner: Option<String>,
) -> Result<()> {
    let genesis = Arc::new(genesis);
    let store = Arc::new(
        Store::open(data_dir, &genesis)
            .with_context(|| format!("opening chain data in {}", data_dir.display()))?,
    );
    let node = Arc::new(Node::new(name, genesis, store, 20_000)?);
    let (driver, driver_thread) = consensus_driver::spawn(
        Arc::clone(&node),
        key,
        SafetyWal::in_dir(data_dir),
        Arc::new(NoPeers),
        DriverOptions::default(),
    )
    .context("starting consensus")?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding the API to {addr}"))?;
    let height = node.store().head()?.map_or(0, |h| h.height);
    tracing::info!(%addr, height, node = node.name(), "API listening");
    if let Some(b) = banner {
        println!("{b}");
    }
    let app = api::router(Arc::clone(&node));
    let server = axum::serve(listener, app).with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    });
    let consensus = tokio::task::spawn_blocking(move || driver_thread.join());
    tokio::select! {
        r = server => {
            driver.shutdown();
            r.context("API server")?;
        }
        r = consensus => {
            // The driver only stops on its own when storage or the safety record failed.
            match r.context("consensus task")? {
                Ok(Ok(())) => anyhow::bail!("consensus stopped"),
                Ok(Err(e)) => return Err(anyhow::Error::new(e).context("consensus stopped")),
                Err(_) => anyhow::bail!("consensus thread panicked"),
            }
        }
    }
    tracing::info!("stopped");
    Ok(())
}
