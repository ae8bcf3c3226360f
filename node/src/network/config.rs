//! [`NetworkConfig`]: the node's identity, addresses, the allowed keys from the genesis file,
//! size limits and timings. Plain data: no libp2p type appears here, addresses are strings
//! parsed by [`crate::network::new`].

use custody_consensus::PublicKey;
use std::fmt;
use std::time::Duration;

/// Default largest gossip payload: 4 MiB.
pub const DEFAULT_MAX_GOSSIP_BYTES: usize = 4 * 1024 * 1024;
/// Default largest sync request: 64 KiB (requests name what they want).
pub const DEFAULT_MAX_REQUEST_BYTES: usize = 64 * 1024;
/// Default largest sync response: 16 MiB (blocks and certificates).
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// How a node takes part in the network.
///
/// Build it with [`NetworkConfig::new`] and adjust the public fields.
#[derive(Clone)]
pub struct NetworkConfig {
    /// The node's ed25519 secret key (the 32-byte seed). It is the node's libp2p identity and
    /// its member/validator key: peers know the node by the matching public key.
    pub secret_key: [u8; 32],
    /// Addresses to listen on, e.g. `/ip4/0.0.0.0/tcp/7000`; port 0 picks a free port.
    pub listen_addrs: Vec<String>,
    /// Peers to dial at start and to redial while they are disconnected, e.g.
    /// `/ip4/10.0.0.2/tcp/7000` or `/ip4/10.0.0.2/tcp/7000/p2p/<peer id>` (see
    /// [`crate::network::dial_address`]).
    pub bootstrap: Vec<String>,
    /// The ed25519 public keys allowed to connect (members and validators from the genesis
    /// file). Connections with any other key are closed right after the handshake.
    pub allowed_keys: Vec<PublicKey>,
    /// Namespaces topic and protocol names (`custody/<chain>/tx/1`); `None` gives
    /// `custody/tx/1`. Nodes of different chains never exchange gossip or sync requests.
    pub chain_id: Option<String>,
    /// Largest gossip payload accepted for publishing and for delivery.
    pub max_gossip_bytes: usize,
    /// Largest sync request sent or accepted.
    pub max_request_bytes: usize,
    /// Largest sync response sent or accepted.
    pub max_response_bytes: usize,
    /// How long an outbound sync request may wait for its response.
    pub request_timeout: Duration,
    /// How long a publish waits in the retry queue for a subscribed peer before it is
    /// dropped (with a warning).
    pub publish_retry_window: Duration,
    /// Most messages held in the publish retry queue.
    pub publish_queue_limit: usize,
    /// How often disconnected bootstrap peers are redialled.
    pub redial_interval: Duration,
    /// Gossipsub heartbeat (mesh maintenance, gossip emission, score decay happen per beat).
    pub gossip_heartbeat: Duration,
    /// Capacity of the [`crate::network::NetworkEvent`] channel. When the node does not keep
    /// up, further events are dropped (gossip is reported `Ignore`d) rather than stalling the
    /// event loop.
    pub event_buffer: usize,
    /// Most payload bytes of events waiting for the node, all lanes together (see
    /// [`crate::network::NetworkEvents`]).
    pub max_event_bytes: usize,
}

impl NetworkConfig {
    /// A configuration with the given identity and allowed keys, listening on no address,
    /// no bootstrap peers, no chain namespace, and the default limits and timings.
    pub fn new(secret_key: [u8; 32], allowed_keys: Vec<PublicKey>) -> Self {
        Self {
            secret_key,
            listen_addrs: Vec::new(),
            bootstrap: Vec::new(),
            allowed_keys,
            chain_id: None,
            max_gossip_bytes: DEFAULT_MAX_GOSSIP_BYTES,
            max_request_bytes: DEFAULT_MAX_REQUEST_BYTES,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            request_timeout: Duration::from_secs(10),
            publish_retry_window: Duration::from_secs(30),
            publish_queue_limit: 10_000,
            redial_interval: Duration::from_secs(3),
            gossip_heartbeat: Duration::from_millis(700),
            event_buffer: 4096,
            max_event_bytes: 64 * 1024 * 1024,
        }
    }
}

impl fmt::Debug for NetworkConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NetworkConfig")
            .field("secret_key", &"<redacted>")
            .field("listen_addrs", &self.listen_addrs)
            .field("bootstrap", &self.bootstrap)
            .field("allowed_keys", &self.allowed_keys.len())
            .field("chain_id", &self.chain_id)
            .field("max_gossip_bytes", &self.max_gossip_bytes)
            .field("max_request_bytes", &self.max_request_bytes)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("request_timeout", &self.request_timeout)
            .field("publish_retry_window", &self.publish_retry_window)
            .field("publish_queue_limit", &self.publish_queue_limit)
            .field("redial_interval", &self.redial_interval)
            .field("gossip_heartbeat", &self.gossip_heartbeat)
            .field("event_buffer", &self.event_buffer)
            .field("max_event_bytes", &self.max_event_bytes)
            .finish()
    }
}
