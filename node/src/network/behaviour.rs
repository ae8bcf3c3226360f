//! [`Behaviour`]: the composed libp2p protocols a node speaks, and their configuration.
//!
//! Order matters: `allowed` and `limits` come first, so an unlisted peer or a connection over
//! the limits is refused before any other protocol sets up state for it.

use super::codec::SyncCodec;
use super::config::NetworkConfig;
use super::network_error::NetworkError;
use super::topics::TopicNames;
use libp2p::allow_block_list::{self, AllowedPeers};
use libp2p::connection_limits::{self, ConnectionLimits};
use libp2p::gossipsub::{
    self, IdentityTransform, MessageAuthenticity, PeerScoreParams, PeerScoreThresholds,
    TopicScoreParams, ValidationMode, WhitelistSubscriptionFilter,
};
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::NetworkBehaviour;
use libp2p::{identify, identity, ping, PeerId};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// Room for the gossipsub envelope (topic, source key, sequence number, signature, protobuf
/// framing) on top of the largest payload.
pub(crate) const GOSSIP_ENVELOPE_BYTES: usize = 16 * 1024;

/// Most simultaneous connections to one peer (a dial from each side may cross).
const MAX_ESTABLISHED_PER_PEER: u32 = 2;
/// Most inbound connections still handshaking: caps the cost strangers can impose, since an
/// unlisted key is only known (and refused) after the noise handshake.
const MAX_PENDING_INCOMING: u32 = 16;

/// Everything a node speaks, composed.
#[derive(NetworkBehaviour)]
pub(crate) struct Behaviour {
    /// Only keys from the genesis file may hold a connection.
    pub(crate) allowed: allow_block_list::Behaviour<AllowedPeers>,
    /// Caps connections per peer and half-open inbound ones.
    pub(crate) limits: connection_limits::Behaviour,
    /// Transactions and consensus messages.
    pub(crate) gossipsub: gossipsub::Behaviour<IdentityTransform, WhitelistSubscriptionFilter>,
    /// Block sync: opaque request, opaque response.
    pub(crate) sync: request_response::Behaviour<SyncCodec>,
    /// Learns peers' listen addresses (so requests and redials can reach them).
    pub(crate) identify: identify::Behaviour,
    /// Liveness: a dead connection is noticed and closed.
    pub(crate) ping: ping::Behaviour,
}

impl Behaviour {
    /// Builds the behaviour for `key`, allowing exactly `allowed`.
    pub(crate) fn new(
        key: &identity::Keypair,
        config: &NetworkConfig,
        topics: &TopicNames,
        allowed: impl IntoIterator<Item = PeerId>,
    ) -> Result<Self, NetworkError> {
        let mut allow = allow_block_list::Behaviour::<AllowedPeers>::default();
        for peer in allowed {
            allow.allow_peer(peer);
        }

        let limits = connection_limits::Behaviour::new(
            ConnectionLimits::default()
                .with_max_established_per_peer(Some(MAX_ESTABLISHED_PER_PEER))
                .with_max_pending_incoming(Some(MAX_PENDING_INCOMING)),
        );

        let mut gossipsub = gossipsub::Behaviour::new_with_subscription_filter(
            MessageAuthenticity::Signed(key.clone()),
            gossipsub_config(config)?,
            WhitelistSubscriptionFilter(topics.hashes().collect()),
        )
        .map_err(|e| NetworkError::InvalidConfig(format!("gossipsub: {e}")))?;
        let (params, thresholds) = peer_scoring(topics);
        gossipsub
            .with_peer_score(params, thresholds)
            .map_err(|e| NetworkError::InvalidConfig(format!("gossipsub scoring: {e}")))?;

        let sync = request_response::Behaviour::with_codec(
            SyncCodec {
                max_request_bytes: config.max_request_bytes,
                max_response_bytes: config.max_response_bytes,
            },
            [(topics.sync_protocol(), ProtocolSupport::Full)],
            request_response::Config::default().with_request_timeout(config.request_timeout),
        );

        let identify = identify::Behaviour::new(
            identify::Config::new(topics.identify_version(), key.public())
                .with_agent_version(format!("custody-node/{}", env!("CARGO_PKG_VERSION"))),
        );

        Ok(Self {
            allowed: allow,
            limits,
            gossipsub,
            sync,
            identify,
            ping: ping::Behaviour::default(),
        })
    }
}

/// The message id: SHA-256 of the topic and the payload, so one transaction gossiped by two
/// nodes is one message (the default, source + sequence number, would make it two).
pub(crate) fn content_message_id(message: &gossipsub::Message) -> gossipsub::MessageId {
    let mut hasher = Sha256::new();
    hasher.update(message.topic.as_str().as_bytes());
    hasher.update([0u8]);
    hasher.update(&message.data);
    gossipsub::MessageId::new(&hasher.finalize())
}

/// Gossipsub for a small permissioned network: signed messages checked strictly, delivered
/// only after the node's verdict, a mesh that fits four peers, frames as large as our limit.
fn gossipsub_config(config: &NetworkConfig) -> Result<gossipsub::Config, NetworkError> {
    gossipsub::ConfigBuilder::default()
        .validation_mode(ValidationMode::Strict)
        .validate_messages()
        .message_id_fn(content_message_id)
        .mesh_n(3)
        .mesh_n_low(2)
        .mesh_n_high(4)
        .mesh_outbound_min(1)
        .gossip_lazy(3)
        .max_transmit_size(
            config
                .max_gossip_bytes
                .saturating_add(GOSSIP_ENVELOPE_BYTES),
        )
        .heartbeat_initial_delay(Duration::from_millis(100))
        .heartbeat_interval(config.gossip_heartbeat)
        .duplicate_cache_time(Duration::from_secs(120))
        .build()
        .map_err(|e| NetworkError::InvalidConfig(format!("gossipsub: {e}")))
}

/// Simple scoring: a rejected message costs its sender `10 × rejects²` (decaying by 10% a
/// second), so one reject puts it at the gossip threshold, two below it and three past the
/// graylist threshold (-80), after which its messages are ignored. Delivering first and time
/// in the mesh earn a little. Mesh-delivery-rate penalties are off (a quiet chain delivers
/// few messages), and so is the IP colocation penalty (test networks share one IP).
fn peer_scoring(topics: &TopicNames) -> (PeerScoreParams, PeerScoreThresholds) {
    let mut params = PeerScoreParams {
        ip_colocation_factor_weight: 0.0,
        ..PeerScoreParams::default()
    };
    for hash in topics.hashes() {
        params.topics.insert(
            hash,
            TopicScoreParams {
                topic_weight: 1.0,
                time_in_mesh_weight: 0.01,
                time_in_mesh_quantum: Duration::from_secs(1),
                time_in_mesh_cap: 100.0,
                first_message_deliveries_weight: 0.5,
                first_message_deliveries_decay: 0.9,
                first_message_deliveries_cap: 20.0,
                mesh_message_deliveries_weight: 0.0,
                mesh_failure_penalty_weight: 0.0,
                invalid_message_deliveries_weight: -10.0,
                invalid_message_deliveries_decay: 0.9,
                ..TopicScoreParams::default()
            },
        );
    }
    (params, PeerScoreThresholds::default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::topics::Topic;

    #[test]
    fn message_id_depends_on_topic_and_content_only() {
        let names = TopicNames::new(Some("t")).unwrap();
        let msg = |topic: Topic, data: &[u8], seq: u64| gossipsub::Message {
            source: Some(PeerId::random()),
            data: data.to_vec(),
            sequence_number: Some(seq),
            topic: names.topic(topic).hash(),
        };
        let a = content_message_id(&msg(Topic::Transactions, b"tx", 1));
        let b = content_message_id(&msg(Topic::Transactions, b"tx", 2));
        let c = content_message_id(&msg(Topic::Consensus, b"tx", 1));
        let d = content_message_id(&msg(Topic::Transactions, b"ty", 1));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }

    #[test]
    fn scoring_and_gossip_configs_are_valid() {
        let names = TopicNames::new(None).unwrap();
        let (params, thresholds) = peer_scoring(&names);
        params.validate().unwrap();
        thresholds.validate().unwrap();
        let cfg = NetworkConfig::new([1; 32], Vec::new());
        let g = gossipsub_config(&cfg).unwrap();
        assert!(g.max_transmit_size() > cfg.max_gossip_bytes);
    }
}
