//! The peer-to-peer network: the only module that names libp2p.
//!
//! TCP with noise and yamux; gossipsub carries transactions and consensus messages,
//! request-response carries block sync, identify and ping keep the connections honest. Only
//! peers whose ed25519 keys are in the allowed set (the genesis file's members and
//! validators) keep a connection; a node's network identity *is* its member/validator key.
//!
//! Shape (after rust-libp2p's `examples/file-sharing`): [`new`] returns a cloneable
//! [`NetworkClient`] (commands with one-shot replies), the [`NetworkEvents`] (two lanes bounded in
//! bytes: consensus gossip never waits behind transactions), and an
//! [`EventLoop`] that owns the swarm; the node spawns [`EventLoop::run`].
//!
//! ```no_run
//! # async fn demo(seed: [u8; 32], genesis_keys: Vec<custody_consensus::PublicKey>) {
//! use custody_node::network::{self, Acceptance, NetworkConfig, NetworkEvent, Topic};
//! let mut config = NetworkConfig::new(seed, genesis_keys);
//! config.listen_addrs = vec!["/ip4/0.0.0.0/tcp/7000".into()];
//! let (client, mut events, event_loop) = network::new(config).expect("valid config");
//! tokio::spawn(event_loop.run());
//! client.publish(Topic::Transactions, b"signed tx".to_vec()).await.expect("queued");
//! while let Some(event) = events.recv().await {
//!     if let NetworkEvent::Gossip { message_id, .. } = event {
//!         client.report(message_id, Acceptance::Accept).await.expect("running");
//!     }
//! }
//! # }
//! ```
//!
//! What this module must never do: interpret payloads (the node validates them and reports a
//! verdict), block on the node (events that do not fit the channel are dropped), or let a
//! peer outside the allowed set exchange anything.
//!
//! Known limits: addresses are IP multiaddresses (`/ip4`, `/ip6`; no `/dns4` — the `dns`
//! transport is not built in); a peer that sends a gossip frame over our transmit limit
//! (only a misconfigured or hostile one: publishers check the payload limit first) loses
//! its own gossip stream to us until it reconnects; the mesh parameters (3 / 2 / 4) suit
//! networks of a handful to a few dozen nodes.

mod behaviour;
mod client;
mod codec;
mod config;
mod event_loop;
mod event_queue;
mod network_error;
mod network_event;
mod topics;

#[cfg(test)]
mod tests;

pub use client::NetworkClient;
pub use config::{
    NetworkConfig, DEFAULT_MAX_GOSSIP_BYTES, DEFAULT_MAX_REQUEST_BYTES, DEFAULT_MAX_RESPONSE_BYTES,
};
pub use event_loop::EventLoop;
pub use event_queue::{EventLane, NetworkEvents};
pub use network_error::NetworkError;
pub use network_event::{Acceptance, MessageId, NetworkEvent, RequestChannel};
pub use topics::Topic;

use behaviour::Behaviour;
use custody_consensus::PublicKey;
use event_loop::LoopSettings;
use libp2p::multiaddr::Protocol;
use libp2p::{identity, noise, tcp, yamux, Multiaddr, PeerId};
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::mpsc;
use topics::TopicNames;

/// Capacity of the command channel from the clients to the event loop.
const COMMAND_BUFFER: usize = 1024;

/// Builds the network: the client handle, the event stream and the event loop to spawn.
/// Listening starts here (so a bad or busy address fails now); bootstrap peers are dialled
/// once the loop runs, and redialled while disconnected.
///
/// # Errors
/// An invalid secret key, allowed key, address or chain id, an inconsistent limit, or an
/// address that cannot be listened on.
pub fn new(
    config: NetworkConfig,
) -> Result<(NetworkClient, NetworkEvents, EventLoop), NetworkError> {
    check_limits(&config)?;
    let topics = TopicNames::new(config.chain_id.as_deref())?;

    let mut secret = config.secret_key;
    let keypair = identity::Keypair::ed25519_from_bytes(&mut secret)
        .map_err(|e| NetworkError::InvalidSecretKey(e.to_string()))?;
    let local_key = PublicKey(
        keypair
            .public()
            .try_into_ed25519()
            .map_err(|e| NetworkError::InvalidSecretKey(e.to_string()))?
            .to_bytes(),
    );

    let mut keys = HashMap::with_capacity(config.allowed_keys.len());
    for key in &config.allowed_keys {
        keys.insert(peer_id(key)?, *key);
    }

    let listen = parse_addrs(&config.listen_addrs)?;
    let bootstrap = parse_addrs(&config.bootstrap)?;

    let behaviour = Behaviour::new(&keypair, &config, &topics, keys.keys().copied())?;
    let mut swarm = libp2p::SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| NetworkError::InvalidConfig(format!("noise: {e}")))?
        .with_behaviour(|_| behaviour)
        .map_err(|e| NetworkError::InvalidConfig(format!("behaviour: {e}")))?
        // Connections between validators are meant to stay up however quiet the chain is.
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(u64::MAX)))
        .build();

    for topic in Topic::ALL {
        swarm
            .behaviour_mut()
            .gossipsub
            .subscribe(topics.topic(topic))
            .map_err(|e| NetworkError::InvalidConfig(format!("subscribe: {e}")))?;
    }
    for (address, text) in listen.into_iter().zip(&config.listen_addrs) {
        swarm.listen_on(address).map_err(|e| NetworkError::Listen {
            address: text.clone(),
            reason: e.to_string(),
        })?;
    }

    let (command_tx, command_rx) = mpsc::channel(COMMAND_BUFFER);
    let (priority_tx, priority_rx) = mpsc::channel(COMMAND_BUFFER);
    let (event_tx, event_rx) = event_queue::channel(config.event_buffer, config.max_event_bytes);
    let client = NetworkClient::new(
        (command_tx, priority_tx),
        local_key,
        config.max_gossip_bytes,
    );
    let settings = LoopSettings {
        max_gossip_bytes: config.max_gossip_bytes,
        max_request_bytes: config.max_request_bytes,
        max_response_bytes: config.max_response_bytes,
        publish_retry_window: config.publish_retry_window,
        publish_queue_limit: config.publish_queue_limit,
        redial_interval: config.redial_interval,
    };
    let event_loop = EventLoop::new(
        swarm,
        (command_rx, priority_rx),
        event_tx,
        topics,
        keys,
        settings,
        bootstrap,
    );
    Ok((client, event_rx, event_loop))
}

/// The address at which a node with `key` can be dialled with its identity checked:
/// `host_address` (`/ip4/10.0.0.2/tcp/7000`) followed by `/p2p/<peer id of key>`.
///
/// # Errors
/// [`NetworkError::InvalidAddress`] or [`NetworkError::InvalidPublicKey`].
pub fn dial_address(host_address: &str, key: &PublicKey) -> Result<String, NetworkError> {
    let address: Multiaddr = parse_addr(host_address)?;
    let (address, _) = event_loop::split_peer(address);
    Ok(address.with(Protocol::P2p(peer_id(key)?)).to_string())
}

/// The libp2p peer id of an ed25519 public key.
fn peer_id(key: &PublicKey) -> Result<PeerId, NetworkError> {
    let public = identity::ed25519::PublicKey::try_from_bytes(key.as_bytes()).map_err(|e| {
        NetworkError::InvalidPublicKey {
            key: *key,
            reason: e.to_string(),
        }
    })?;
    Ok(identity::PublicKey::from(public).to_peer_id())
}

fn parse_addr(address: &str) -> Result<Multiaddr, NetworkError> {
    address.parse().map_err(|e| NetworkError::InvalidAddress {
        address: address.to_string(),
        reason: format!("{e}"),
    })
}

fn parse_addrs(addresses: &[String]) -> Result<Vec<Multiaddr>, NetworkError> {
    addresses.iter().map(|a| parse_addr(a)).collect()
}

fn check_limits(config: &NetworkConfig) -> Result<(), NetworkError> {
    let checks = [
        (
            config.max_gossip_bytes >= 1,
            "max_gossip_bytes must be at least 1",
        ),
        (
            config.max_request_bytes >= 1,
            "max_request_bytes must be at least 1",
        ),
        (
            config.max_response_bytes >= 1,
            "max_response_bytes must be at least 1",
        ),
        (config.event_buffer >= 1, "event_buffer must be at least 1"),
        (
            config.max_event_bytes / event_queue::PER_AUTHOR_DIVISOR >= config.max_gossip_bytes,
            "max_event_bytes must hold one largest gossip message per author share (8 of them)",
        ),
        (
            config.publish_queue_limit >= 1,
            "publish_queue_limit must be at least 1",
        ),
        (
            !config.redial_interval.is_zero(),
            "redial_interval must be positive",
        ),
        (
            !config.gossip_heartbeat.is_zero(),
            "gossip_heartbeat must be positive",
        ),
        (
            !config.request_timeout.is_zero(),
            "request_timeout must be positive",
        ),
    ];
    match checks.into_iter().find(|(ok, _)| !ok) {
        Some((_, why)) => Err(NetworkError::InvalidConfig(why.to_string())),
        None => Ok(()),
    }
}
