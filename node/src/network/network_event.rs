//! [`NetworkEvent`]: what the network tells the node, and the opaque handles the node hands
//! back ([`MessageId`] to judge a gossip message, [`RequestChannel`] to answer a request).
//! Peers are named by their 32-byte ed25519 public keys; no libp2p type can be reached.

use super::topics::Topic;
use custody_consensus::PublicKey;
use libp2p::gossipsub;
use libp2p::request_response::InboundRequestId;
use libp2p::PeerId;
use std::fmt;

/// Something that happened on the network.
#[derive(Debug)]
pub enum NetworkEvent {
    /// A gossip message arrived (once per content and topic, however many peers sent it).
    ///
    /// The node must [`report`](super::NetworkClient::report) a verdict for every one:
    /// only `Accept`ed messages are forwarded to other peers.
    Gossip {
        /// The topic it came on.
        topic: Topic,
        /// The payload (at most `max_gossip_bytes`).
        data: Vec<u8>,
        /// The key that signed it (its author, not necessarily the peer that forwarded it).
        source: PublicKey,
        /// Hand this back to [`report`](super::NetworkClient::report).
        message_id: MessageId,
    },
    /// A peer asks for something on the sync protocol. Answer it with
    /// [`respond`](super::NetworkClient::respond) before the requester's timeout.
    Request {
        /// The asking peer.
        from: PublicKey,
        /// The request (at most `max_request_bytes`).
        data: Vec<u8>,
        /// Hand this back to [`respond`](super::NetworkClient::respond).
        channel: RequestChannel,
    },
    /// The first connection to an allowed peer was established.
    PeerConnected(PublicKey),
    /// The last connection to a peer closed.
    PeerDisconnected(PublicKey),
}

/// The node's verdict on a gossip message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Acceptance {
    /// Valid: deliver it to the mesh.
    Accept,
    /// Invalid or forged: do not forward, and penalise the peer that sent it (its gossip
    /// score drops; repeated rejects get it ignored). Use only for messages no honest peer
    /// would send.
    Reject,
    /// Not useful (stale, duplicate, or not checkable now): do not forward, no penalty.
    Ignore,
}

impl From<Acceptance> for gossipsub::MessageAcceptance {
    fn from(a: Acceptance) -> Self {
        match a {
            Acceptance::Accept => gossipsub::MessageAcceptance::Accept,
            Acceptance::Reject => gossipsub::MessageAcceptance::Reject,
            Acceptance::Ignore => gossipsub::MessageAcceptance::Ignore,
        }
    }
}

/// Identifies one received gossip message for [`report`](super::NetworkClient::report).
///
/// Its [`content_hash`](MessageId::content_hash) is the SHA-256 of the topic name and the
/// payload: the same bytes published by two nodes are one message.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MessageId {
    pub(crate) id: gossipsub::MessageId,
    pub(crate) propagation_source: PeerId,
}

impl MessageId {
    /// The content hash the message is known by on the network.
    pub fn content_hash(&self) -> &[u8] {
        &self.id.0
    }
}

impl fmt::Debug for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageId({})", hex::encode(&self.id.0))
    }
}

/// Identifies one inbound sync request for [`respond`](super::NetworkClient::respond).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestChannel(pub(crate) InboundRequestId);

impl fmt::Debug for RequestChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RequestChannel({})", self.0)
    }
}
