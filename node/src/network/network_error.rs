//! [`NetworkError`]: everything that can go wrong at the network boundary, carrying the
//! values needed to debug it. No libp2p type appears in it; libp2p errors are rendered to
//! text where they are caught.

use custody_consensus::PublicKey;

/// An error from [`crate::network::new`] or a [`crate::network::NetworkClient`] command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetworkError {
    /// The node's ed25519 secret key was rejected.
    #[error("invalid node secret key: {0}")]
    InvalidSecretKey(String),
    /// An allowed key is not a valid ed25519 public key.
    #[error("allowed key {key} is not a valid ed25519 public key: {reason}")]
    InvalidPublicKey {
        /// The offending key.
        key: PublicKey,
        /// Why it was rejected.
        reason: String,
    },
    /// A configuration value is out of range or inconsistent.
    #[error("invalid network configuration: {0}")]
    InvalidConfig(String),
    /// An address is not a valid multiaddress (`/ip4/127.0.0.1/tcp/7000[/p2p/<peer id>]`).
    #[error("invalid address {address:?}: {reason}")]
    InvalidAddress {
        /// The address as given.
        address: String,
        /// Why it was rejected.
        reason: String,
    },
    /// Could not listen on an address.
    #[error("cannot listen on {address}: {reason}")]
    Listen {
        /// The address.
        address: String,
        /// The transport's error.
        reason: String,
    },
    /// Could not start dialling an address.
    #[error("cannot dial {address}: {reason}")]
    Dial {
        /// The address.
        address: String,
        /// The swarm's error.
        reason: String,
    },
    /// A gossip message, request or response exceeds the configured limit.
    #[error("{what} of {size} bytes exceeds the limit of {max} bytes")]
    MessageTooLarge {
        /// "gossip message", "request" or "response".
        what: &'static str,
        /// Its size.
        size: usize,
        /// The configured limit.
        max: usize,
    },
    /// The publish retry queue is full (no peer has been reachable for a while).
    #[error("publish queue is full ({0} messages waiting for subscribed peers)")]
    PublishQueueFull(usize),
    /// Gossipsub refused to publish for a reason other than "no peers yet".
    #[error("publish failed: {0}")]
    Publish(String),
    /// The peer's key is not in the allowed set, so no connection to it can exist.
    #[error("peer {0} is not in the allowed set")]
    PeerNotAllowed(PublicKey),
    /// An outbound request failed (dial failure, timeout, connection closed, refused, IO).
    #[error("request to {peer} failed: {reason}")]
    RequestFailed {
        /// The peer asked.
        peer: PublicKey,
        /// What went wrong.
        reason: String,
    },
    /// A response was given for a request that is unknown, already answered, or whose
    /// requester gave up (timeout, disconnect).
    #[error("inbound request {0} is unknown, already answered or expired")]
    UnknownRequest(String),
    /// The event loop has stopped (it was dropped, or its task ended).
    #[error("the network event loop is not running")]
    Stopped,
}
