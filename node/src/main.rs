//! `custody-node`: runs a Custody node (`run`), or a complete demo network of four
//! validators on this machine with no configuration (`dev`).

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use custody_ledger::crypto::{public_key, signing_key_from_pem};
use custody_ledger::genesis::Genesis;
use custody_node::api;
use custody_node::consensus_driver::{self, DriverOptions, SafetyWal};
use custody_node::dev;
use custody_node::network::{self, NetworkConfig};
use custody_node::node::Node;
use custody_node::peering::{self, NetworkGossip, Role};
use custody_node::storage::Store;
use ed25519_dalek::SigningKey;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser)]
#[command(name = "custody-node", version, about = "Custody ledger node")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start a demo network of four validators in this process: writes genesis and the
    /// demo members' keys on first run, then serves each validator's API (the first one's
    /// with the dashboard) on PORT, PORT+1, ….
    Dev {
        /// Data folder (genesis, keys, one chain folder per validator).
        #[arg(long, default_value = ".custody/dev")]
        data_dir: PathBuf,
        /// API port of validator 0 on 127.0.0.1; validator i uses PORT+i.
        #[arg(long, default_value_t = 8080)]
        api_port: u16,
    },
    /// Write a new network's genesis and keys (N validators `validator-i` and the demo
    /// members) into a folder, for `run` or the testnet scripts.
    Init {
        /// Folder to write genesis.json and keys/ into.
        #[arg(long)]
        data_dir: PathBuf,
        /// Number of validators.
        #[arg(long, default_value_t = 4)]
        validators: usize,
        /// Chain id.
        #[arg(long, default_value = "custody-testnet")]
        chain_id: String,
    },
    /// Run one node from a genesis file and its key: a validator if the key is one of the
    /// genesis validators', else a follower (a member's or regulator's node).
    Run {
        /// Genesis JSON.
        #[arg(long)]
        genesis: PathBuf,
        /// This node's ed25519 key (PKCS#8 PEM): its consensus and network identity.
        #[arg(long)]
        key: PathBuf,
        /// Chain data folder.
        #[arg(long)]
        data_dir: PathBuf,
        /// API listen address.
        #[arg(long, default_value = "127.0.0.1:8080")]
        api_addr: SocketAddr,
        /// Peer-to-peer listen address (a libp2p multiaddress).
        #[arg(long, default_value = "/ip4/127.0.0.1/tcp/7000")]
        p2p_listen: String,
        /// A peer to connect to (`/ip4/HOST/tcp/PORT[/p2p/ID]`); repeatable.
        #[arg(long = "peer")]
        peers: Vec<String>,
    },
}

/// Everything one node needs to start.
struct NodeSetup {
    genesis: Arc<Genesis>,
    key: SigningKey,
    data_dir: PathBuf,
    api_addr: SocketAddr,
    p2p_listen: String,
    peers: Vec<String>,
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sled=warn,libp2p=warn,libp2p_gossipsub=error".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let rt = tokio::runtime::Runtime::new().context("starting the runtime")?;
    match cli.command {
        Command::Dev { data_dir, api_port } => rt.block_on(dev_network(data_dir, api_port)),
        Command::Init {
            data_dir,
            validators,
            chain_id,
        } => {
            let g = dev::create(&data_dir, validators, &chain_id)?;
            println!(
                "wrote {} with {} validators and {} members, keys in {}",
                data_dir.join("genesis.json").display(),
                g.validators.len(),
                g.members.len(),
                data_dir.join("keys").display()
            );
            Ok(())
        }
        Command::Run {
            genesis,
            key,
            data_dir,
            api_addr,
            p2p_listen,
            peers,
        } => {
            let text = std::fs::read_to_string(&genesis)
                .with_context(|| format!("reading {}", genesis.display()))?;
            let genesis = Arc::new(Genesis::from_json(&text)?);
            let pem = std::fs::read_to_string(&key)
                .with_context(|| format!("reading {}", key.display()))?;
            let key = signing_key_from_pem(&pem)?;
            rt.block_on(async move {
                let setup = NodeSetup {
                    genesis,
                    key,
                    data_dir,
                    api_addr,
                    p2p_listen,
                    peers,
                };
                let (_client, running) = start_node(setup).await?;
                tokio::select! {
                    r = running => r,
                    _ = tokio::signal::ctrl_c() => {
                        tracing::info!("stopped");
                        Ok(())
                    }
                }
            })
        }
    }
}

/// The dev network: every genesis validator as a node in this process, connected over
/// loopback.
async fn dev_network(data_dir: PathBuf, api_port: u16) -> Result<()> {
    let genesis = Arc::new(dev::load_or_create(&data_dir)?);
    let n = genesis.validators.len();
    let mut clients = Vec::new();
    let mut runs = Vec::new();
    let mut apis = Vec::new();
    for (i, v) in genesis.validators.iter().enumerate() {
        let port = api_port
            .checked_add(i as u16)
            .context("API port out of range")?;
        let setup = NodeSetup {
            genesis: Arc::clone(&genesis),
            key: dev::validator_key(&data_dir, &v.name)?,
            data_dir: data_dir.join(format!("node-{i}")),
            api_addr: SocketAddr::from(([127, 0, 0, 1], port)),
            p2p_listen: "/ip4/127.0.0.1/tcp/0".into(),
            peers: vec![],
        };
        let (client, running) = start_node(setup).await?;
        clients.push(client);
        runs.push(running);
        apis.push(format!("http://127.0.0.1:{port}"));
    }
    // Connect every validator to every other (ports were picked by the OS).
    let mut addrs = Vec::new();
    for c in &clients {
        addrs.push(c.listen_addrs().await?);
    }
    for (i, c) in clients.iter().enumerate() {
        for (j, a) in addrs.iter().enumerate() {
            if i != j {
                for addr in a {
                    c.dial(addr).await?;
                }
            }
        }
    }
    println!("{}", dev::banner(&data_dir, &apis));
    tracing::info!(validators = n, "dev network running");
    let all = futures::future::select_all(runs);
    tokio::select! {
        (r, i, _) = all => r.with_context(|| format!("validator {i} stopped")),
        _ = tokio::signal::ctrl_c() => {
            tracing::info!("stopped");
            Ok(())
        }
    }
}

type Running = std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send>>;

/// Starts one node: storage, network, consensus (driver or follower), peering, API. Returns
/// its network client and a future that ends only if the node fails.
async fn start_node(setup: NodeSetup) -> Result<(network::NetworkClient, Running)> {
    let NodeSetup {
        genesis,
        key,
        data_dir,
        api_addr,
        p2p_listen,
        peers,
    } = setup;
    let me = public_key(&key);
    let validator = genesis.validators.iter().find(|v| v.public_key == me);
    let member = genesis.members.iter().find(|m| m.public_key == me);
    let name = match (validator, member) {
        (Some(v), _) => v.name.clone(),
        (None, Some(m)) => m.name.0.clone(),
        (None, None) => bail!("this key is neither a validator's nor a member's in the genesis"),
    };
    let store = Arc::new(
        Store::open(&data_dir.join("db"), &genesis)
            .with_context(|| format!("opening chain data in {}", data_dir.display()))?,
    );
    let node = Arc::new(Node::new(
        name.clone(),
        Arc::clone(&genesis),
        store,
        20_000,
    )?);

    let mut config = NetworkConfig::new(key.to_bytes(), peering::allowed_keys(&genesis));
    config.listen_addrs = vec![p2p_listen];
    config.bootstrap = peers;
    config.chain_id = Some(genesis.chain_id.clone());
    let (client, events, event_loop) = network::new(config).context("starting the network")?;
    tokio::spawn(event_loop.run());

    let (role, consensus) = if validator.is_some() {
        let (handle, thread) = consensus_driver::spawn(
            Arc::clone(&node),
            key,
            SafetyWal::in_dir(&data_dir),
            Arc::new(NetworkGossip::new(client.clone())),
            DriverOptions::default(),
        )
        .context("starting consensus")?;
        (Role::Validator(handle), thread)
    } else {
        let (handle, thread) =
            consensus_driver::spawn_follower(Arc::clone(&node)).context("starting the follower")?;
        (Role::Follower(handle), thread)
    };
    peering::start(Arc::clone(&node), client.clone(), events, role);

    let listener = tokio::net::TcpListener::bind(api_addr)
        .await
        .with_context(|| format!("binding the API to {api_addr}"))?;
    let height = node.store().head()?.map_or(0, |h| h.height);
    let p2p = client.listen_addrs().await?.join(" ");
    tracing::info!(node = %name, api = %api_addr, %p2p, height, "node running");
    let app = api::router(Arc::clone(&node));
    let running: Running = Box::pin(async move {
        let server = axum::serve(listener, app);
        let consensus = tokio::task::spawn_blocking(move || consensus.join());
        tokio::select! {
            r = server => r.context("API server"),
            r = consensus => match r.context("consensus task")? {
                Ok(Ok(())) => bail!("consensus stopped"),
                Ok(Err(e)) => Err(anyhow::Error::new(e).context("consensus stopped")),
                Err(_) => bail!("consensus thread panicked"),
            },
        }
    });
    Ok((client, running))
}
