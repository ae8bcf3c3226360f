//! `custody-node`: runs a Custody node (`run`), or a complete demo network of four
//! validators on this machine with no configuration (`dev`).
//!
//! Both stop cleanly on SIGINT or SIGTERM: the API stops accepting and closes its
//! connections, each consensus driver (or follower) is told to stop and joined, the chain
//! data is flushed, and the process exits 0 (1 if a part failed or would not stop).
//!
//! Exit status 3: the node stopped because a block certified by 2f+1 validators does not
//! apply to its state (see `DriverError::Diverged`); it never goes on serving stale state
//! as current.

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use custody_ledger::crypto::{public_key, signing_key_from_pem};
use custody_ledger::genesis::Genesis;
use custody_node::api::{self, ServeConfig};
use custody_node::consensus_driver::{self, DriverError, DriverHandle, DriverOptions, SafetyWal};
use custody_node::dev;
use custody_node::network::{self, NetworkConfig};
use custody_node::node::Node;
use custody_node::peering::{self, NetworkGossip, Role};
use custody_node::storage::{SledKv, Store};
use ed25519_dalek::SigningKey;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// How long the tasks left after the API has stopped (network, peering) get to end.
const RUNTIME_STOP: Duration = Duration::from_secs(2);
/// How long the consensus threads get to stop, once asked.
const CONSENSUS_STOP: Duration = Duration::from_secs(4);

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
        #[command(flatten)]
        api_limits: ApiLimits,
    },
}

/// The API server's limits (`run`; `dev` uses the defaults).
#[derive(clap::Args)]
struct ApiLimits {
    /// Most API connections open at once; more are answered 503 and closed.
    #[arg(long, default_value_t = ServeConfig::DEFAULT_MAX_CONNECTIONS)]
    api_max_connections: usize,
    /// Most API connections open at once from one IP address.
    #[arg(long, default_value_t = ServeConfig::DEFAULT_MAX_CONNECTIONS_PER_IP)]
    api_max_connections_per_ip: usize,
    /// Longest wait for a request's headers, ms, from when the server is ready for the
    /// request: also how long a keep-alive connection may stay idle. Long polls
    /// (`?wait_ms=`) are not under it.
    #[arg(long, default_value_t = ServeConfig::DEFAULT_HEADER_TIMEOUT_MS)]
    api_header_timeout_ms: u64,
    /// Longest time a request body may take to arrive, ms (then 408).
    #[arg(long, default_value_t = ServeConfig::DEFAULT_BODY_TIMEOUT_MS)]
    api_body_timeout_ms: u64,
}

impl ApiLimits {
    fn config(&self) -> Result<ServeConfig> {
        if self.api_max_connections == 0 || self.api_max_connections_per_ip == 0 {
            bail!("the API connection limits must be at least 1");
        }
        if self.api_header_timeout_ms == 0 || self.api_body_timeout_ms == 0 {
            bail!("the API timeouts must be at least 1 ms");
        }
        Ok(ServeConfig {
            header_timeout: Duration::from_millis(self.api_header_timeout_ms),
            body_timeout: Duration::from_millis(self.api_body_timeout_ms),
            max_connections: self.api_max_connections,
            max_connections_per_ip: self.api_max_connections_per_ip,
        })
    }
}

/// Everything one node needs to start.
struct NodeSetup {
    genesis: Arc<Genesis>,
    key: SigningKey,
    data_dir: PathBuf,
    api_addr: SocketAddr,
    api: ServeConfig,
    p2p_listen: String,
    peers: Vec<String>,
}

/// Exit status when the node stopped because its state diverges from the chain's (a block
/// certified by 2f+1 validators does not apply here): restarting it will not help; its data
/// folder must be checked, or rebuilt from peers.
const EXIT_DIVERGED: u8 = 3;

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e:?}");
            let diverged = e.chain().any(|c| {
                matches!(
                    c.downcast_ref::<DriverError>(),
                    Some(DriverError::Diverged { .. })
                )
            });
            std::process::ExitCode::from(if diverged { EXIT_DIVERGED } else { 1 })
        }
    }
}

fn run() -> Result<()> {
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
        Command::Dev { data_dir, api_port } => {
            let ran = rt.block_on(dev_network(data_dir, api_port));
            finish(rt, ran)
        }
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
            api_limits,
        } => {
            let api = api_limits.config()?;
            let text = std::fs::read_to_string(&genesis)
                .with_context(|| format!("reading {}", genesis.display()))?;
            let genesis = Arc::new(Genesis::from_json(&text)?);
            let pem = std::fs::read_to_string(&key)
                .with_context(|| format!("reading {}", key.display()))?;
            let key = signing_key_from_pem(&pem)?;
            let ran = rt.block_on(async move {
                let mut signals = StopSignals::install()?;
                let setup = NodeSetup {
                    genesis,
                    key,
                    data_dir,
                    api_addr,
                    api,
                    p2p_listen,
                    peers,
                };
                let node = start_node(setup).await?;
                Ok(run_until_stopped(vec![node], &mut signals).await)
            });
            finish(rt, ran)
        }
    }
}

/// The dev network: every genesis validator as a node in this process, connected over
/// loopback.
async fn dev_network(data_dir: PathBuf, api_port: u16) -> Result<Stopped> {
    let mut signals = StopSignals::install()?;
    let genesis = Arc::new(dev::load_or_create(&data_dir)?);
    let n = genesis.validators.len();
    let mut nodes = Vec::new();
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
            api: ServeConfig::default(),
            p2p_listen: "/ip4/127.0.0.1/tcp/0".into(),
            peers: vec![],
        };
        nodes.push(start_node(setup).await?);
        apis.push(format!("http://127.0.0.1:{port}"));
    }
    // Connect every validator to every other (ports were picked by the OS).
    let mut addrs = Vec::new();
    for node in &nodes {
        addrs.push(node.client.listen_addrs().await?);
    }
    for (i, node) in nodes.iter().enumerate() {
        for (j, a) in addrs.iter().enumerate() {
            if i != j {
                for addr in a {
                    node.client.dial(addr).await?;
                }
            }
        }
    }
    println!("{}", dev::banner(&data_dir, &apis));
    tracing::info!(validators = n, "dev network running");
    Ok(run_until_stopped(nodes, &mut signals).await)
}

/// SIGINT and SIGTERM, listened for from start-up on (so neither kills the process
/// uncleanly while nodes are starting).
struct StopSignals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn install() -> Result<StopSignals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(StopSignals {
                interrupt: signal(SignalKind::interrupt()).context("listening for SIGINT")?,
                terminate: signal(SignalKind::terminate()).context("listening for SIGTERM")?,
            })
        }
        #[cfg(not(unix))]
        Ok(StopSignals {})
    }

    /// Waits for a stop signal; returns its name.
    async fn recv(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.interrupt.recv() => "SIGINT",
                _ = self.terminate.recv() => "SIGTERM",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        }
    }
}

/// What a consensus thread gives back when joined.
type ConsensusExit = std::thread::Result<Result<(), DriverError>>;

/// One started node, with what it takes to watch it and to stop it.
struct RunningNode {
    name: String,
    client: network::NetworkClient,
    store: Arc<Store<SledKv>>,
    /// The validator's driver (a follower stops when the peering tasks holding its
    /// handles are dropped with the runtime).
    driver: Option<DriverHandle>,
    /// Asks the API server to stop.
    api_stop: Option<oneshot::Sender<()>>,
    /// The API server; `None` once it has ended.
    api: Option<tokio::task::JoinHandle<()>>,
    /// The consensus thread's result, sent when it ends; `None` once received.
    consensus: Option<oneshot::Receiver<ConsensusExit>>,
}

/// Why a node ended on its own.
enum Failure {
    /// The API server stopped unasked.
    Api,
    /// The consensus thread returned an error. (Kept apart from the other endings: some
    /// errors, such as a divergence from the network, may get exit codes of their own.)
    ConsensusErr(DriverError),
    /// The consensus thread returned without being asked to.
    ConsensusEnded,
    /// The consensus thread panicked.
    ConsensusPanicked,
}

impl RunningNode {
    /// Waits until some part of this node ends on its own.
    async fn failure(&mut self) -> Failure {
        let api = async {
            match self.api.as_mut() {
                Some(api) => {
                    let _ = api.await;
                    self.api = None;
                }
                None => std::future::pending().await,
            }
        };
        let consensus = async {
            match self.consensus.as_mut() {
                Some(rx) => {
                    let r = rx.await;
                    self.consensus = None;
                    r
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = api => Failure::Api,
            r = consensus => match r {
                Ok(Ok(Ok(()))) => Failure::ConsensusEnded,
                Ok(Ok(Err(e))) => Failure::ConsensusErr(e),
                Ok(Err(_)) | Err(_) => Failure::ConsensusPanicked,
            },
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Api => f.write_str("the API server stopped"),
            Failure::ConsensusErr(e) => write!(f, "consensus stopped: {e}"),
            Failure::ConsensusEnded => f.write_str("consensus stopped"),
            Failure::ConsensusPanicked => f.write_str("the consensus thread panicked"),
        }
    }
}

/// The first node that failed, and how.
struct NodeFailure {
    node: String,
    failure: Failure,
}

impl NodeFailure {
    /// The error the process exits with.
    fn into_error(self) -> anyhow::Error {
        let e = match self.failure {
            // A consensus error keeps its type (and its own arm), so that errors such as a
            // divergence from the network can be mapped to exit codes of their own.
            Failure::ConsensusErr(e) => anyhow::Error::new(e).context("consensus stopped"),
            other => anyhow::anyhow!("{other}"),
        };
        e.context(format!("node {}", self.node))
    }
}

/// How the nodes' run ended, and what is left to stop outside the runtime.
struct Stopped {
    /// `None` after a stop signal; else the first failure.
    failure: Option<NodeFailure>,
    nodes: Vec<RunningNode>,
}

/// Runs `nodes` until a stop signal or the first failure, then stops every API server and
/// asks every consensus driver to stop.
async fn run_until_stopped(mut nodes: Vec<RunningNode>, signals: &mut StopSignals) -> Stopped {
    let failure = {
        let watched = nodes.iter_mut().map(|n| Box::pin(n.failure()));
        let first = futures::future::select_all(watched);
        tokio::select! {
            signal = signals.recv() => {
                tracing::info!(signal, "stopping");
                None
            }
            (failure, i, _) = first => Some((i, failure)),
        }
    };
    let failure = failure.map(|(i, failure)| {
        let node = nodes[i].name.clone();
        tracing::error!(%node, %failure, "stopping after a failure");
        NodeFailure { node, failure }
    });
    for node in &mut nodes {
        if let Some(stop) = node.api_stop.take() {
            let _ = stop.send(());
        }
        if let Some(driver) = &node.driver {
            driver.shutdown();
        }
    }
    for node in &mut nodes {
        if let Some(api) = node.api.take() {
            let limit = api::serve::SHUTDOWN_GRACE + Duration::from_secs(1);
            if tokio::time::timeout(limit, api).await.is_err() {
                tracing::warn!(node = %node.name, "API server did not stop in time");
            }
        }
    }
    tracing::info!("API closed");
    Stopped {
        failure,
        nodes: std::mem::take(&mut nodes),
    }
}

/// Finishes a stop outside the runtime: shuts the runtime down (its tasks, network and
/// peering, hold the followers' handles), joins the consensus threads, flushes the chain
/// data. Exits 0 only after a stop signal with every part stopped in time.
fn finish(rt: tokio::runtime::Runtime, ran: Result<Stopped>) -> Result<()> {
    let stopped = match ran {
        Ok(s) => s,
        Err(e) => {
            rt.shutdown_timeout(RUNTIME_STOP);
            return Err(e);
        }
    };
    rt.shutdown_timeout(RUNTIME_STOP);
    let deadline = Instant::now() + CONSENSUS_STOP;
    let mut trouble = Vec::new();
    for mut node in stopped.nodes {
        if let Some(mut rx) = node.consensus.take() {
            let joined = loop {
                match rx.try_recv() {
                    Ok(r) => break Some(r),
                    // The watcher thread cannot end without sending; treat it as a panic.
                    Err(oneshot::error::TryRecvError::Closed) => break Some(Err(Box::new(()))),
                    Err(oneshot::error::TryRecvError::Empty) if Instant::now() >= deadline => {
                        break None
                    }
                    Err(oneshot::error::TryRecvError::Empty) => {
                        std::thread::sleep(Duration::from_millis(10))
                    }
                }
            };
            match joined {
                Some(Ok(Ok(()))) => {}
                // A consensus error while stopping: its own path, as while running.
                Some(Ok(Err(e))) => {
                    trouble.push(anyhow::Error::new(e).context(format!("{}: consensus", node.name)))
                }
                Some(Err(_)) => trouble.push(anyhow::anyhow!("{}: consensus panicked", node.name)),
                None => trouble.push(anyhow::anyhow!(
                    "{}: consensus did not stop within {CONSENSUS_STOP:?}",
                    node.name
                )),
            }
        }
        if let Err(e) = node.store.backend().flush() {
            trouble.push(anyhow::Error::new(e).context(format!("{}: flushing", node.name)));
        }
    }
    if let Some(failure) = stopped.failure {
        for t in &trouble {
            tracing::error!(error = format!("{t:#}"), "while stopping");
        }
        return Err(failure.into_error());
    }
    if let Some(first) = trouble.into_iter().next() {
        return Err(first.context("stopping"));
    }
    tracing::info!("stopped");
    Ok(())
}

/// Starts one node: storage, network, consensus (driver or follower), peering, API.
async fn start_node(setup: NodeSetup) -> Result<RunningNode> {
    let NodeSetup {
        genesis,
        key,
        data_dir,
        api_addr,
        api,
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
        Arc::clone(&store),
        20_000,
    )?);

    let mut config = NetworkConfig::new(key.to_bytes(), peering::allowed_keys(&genesis));
    config.listen_addrs = vec![p2p_listen];
    config.bootstrap = peers;
    config.chain_id = Some(genesis.chain_id.clone());
    // A proposal carries its block: the largest valid block must fit one gossip frame.
    let proposal_bytes = genesis.params.max_block_bytes as usize + consensus_driver::PROPOSAL_ROOM;
    if proposal_bytes > config.max_gossip_bytes {
        bail!(
            "the genesis allows blocks of {} bytes, but a proposal must fit the network's {}-byte gossip frame",
            genesis.params.max_block_bytes,
            config.max_gossip_bytes
        );
    }
    let (client, events, event_loop) = network::new(config).context("starting the network")?;
    tokio::spawn(event_loop.run());

    let (role, driver, thread) = if validator.is_some() {
        let (handle, thread) = consensus_driver::spawn(
            Arc::clone(&node),
            key,
            SafetyWal::in_dir(&data_dir),
            Arc::new(NetworkGossip::new(client.clone())),
            DriverOptions::default(),
        )
        .context("starting consensus")?;
        (Role::Validator(handle.clone()), Some(handle), thread)
    } else {
        let (handle, thread) =
            consensus_driver::spawn_follower(Arc::clone(&node)).context("starting the follower")?;
        (Role::Follower(handle), None, thread)
    };
    // A plain thread joins the consensus thread, so that nothing in the runtime waits on
    // it: the result arrives on a channel, while running and when stopping alike.
    let (consensus_tx, consensus_rx) = oneshot::channel();
    std::thread::Builder::new()
        .name(format!("{name}-join"))
        .spawn(move || {
            let _ = consensus_tx.send(thread.join());
        })
        .context("starting the consensus watcher")?;
    peering::start(Arc::clone(&node), client.clone(), events, role);

    let listener = tokio::net::TcpListener::bind(api_addr)
        .await
        .with_context(|| format!("binding the API to {api_addr}"))?;
    let height = node.store().head()?.map_or(0, |h| h.height);
    let p2p = client.listen_addrs().await?.join(" ");
    tracing::info!(node = %name, api = %api_addr, %p2p, height, "node running");
    let app = api::router(Arc::clone(&node));
    let (api_stop, stop_rx) = oneshot::channel::<()>();
    let server = tokio::spawn(api::serve(listener, app, api, async move {
        let _ = stop_rx.await;
    }));
    Ok(RunningNode {
        name,
        client,
        store,
        driver,
        api_stop: Some(api_stop),
        api: Some(server),
        consensus: Some(consensus_rx),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn run_limits(extra: &[&str]) -> Result<ServeConfig> {
        let base = [
            "custody-node",
            "run",
            "--genesis",
            "g",
            "--key",
            "k",
            "--data-dir",
            "d",
        ];
        let cli = Cli::try_parse_from(base.iter().chain(extra))?;
        match cli.command {
            Command::Run { api_limits, .. } => api_limits.config(),
            _ => bail!("not run"),
        }
    }

    #[test]
    fn api_limit_flags_default_and_parse() -> Result<()> {
        Cli::command().debug_assert();
        assert_eq!(run_limits(&[])?, ServeConfig::default());
        let c = run_limits(&[
            "--api-max-connections",
            "10",
            "--api-max-connections-per-ip",
            "3",
            "--api-header-timeout-ms",
            "500",
            "--api-body-timeout-ms",
            "700",
        ])?;
        assert_eq!(
            c,
            ServeConfig {
                header_timeout: Duration::from_millis(500),
                body_timeout: Duration::from_millis(700),
                max_connections: 10,
                max_connections_per_ip: 3,
            }
        );
        assert!(run_limits(&["--api-max-connections", "0"]).is_err());
        assert!(run_limits(&["--api-body-timeout-ms", "0"]).is_err());
        Ok(())
    }
}
