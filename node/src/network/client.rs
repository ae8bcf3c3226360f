//! [`NetworkClient`]: the cloneable handle the rest of the node uses. Each method sends a
//! command to the [`EventLoop`](super::EventLoop) and awaits its one-shot reply; nothing here
//! touches the swarm, and no libp2p type crosses it.

use super::network_error::NetworkError;
use super::network_event::{Acceptance, MessageId, RequestChannel};
use super::topics::Topic;
use custody_consensus::PublicKey;
use tokio::sync::{mpsc, oneshot};

/// A command for the event loop; each carries where to send its answer.
#[derive(Debug)]
pub(crate) enum Command {
    Publish {
        topic: Topic,
        data: Vec<u8>,
        reply: oneshot::Sender<Result<(), NetworkError>>,
    },
    Request {
        peer: PublicKey,
        data: Vec<u8>,
        reply: oneshot::Sender<Result<Vec<u8>, NetworkError>>,
    },
    Respond {
        channel: RequestChannel,
        data: Vec<u8>,
        reply: oneshot::Sender<Result<(), NetworkError>>,
    },
    Report {
        message_id: MessageId,
        acceptance: Acceptance,
    },
    ConnectedPeers {
        reply: oneshot::Sender<Vec<PublicKey>>,
    },
    Dial {
        address: String,
        reply: oneshot::Sender<Result<(), NetworkError>>,
    },
    ListenAddrs {
        reply: oneshot::Sender<Vec<String>>,
    },
    PeerScore {
        peer: PublicKey,
        reply: oneshot::Sender<Option<f64>>,
    },
    Ban {
        peer: PublicKey,
        duration: std::time::Duration,
    },
}

/// The handle to a running network. Cheap to clone; every clone talks to the same
/// [`EventLoop`](super::EventLoop). When the last clone is dropped the event loop stops.
#[derive(Debug, Clone)]
pub struct NetworkClient {
    commands: mpsc::Sender<Command>,
    /// Consensus publishes, which the event loop takes before anything else.
    priority: mpsc::Sender<Command>,
    local_key: PublicKey,
    max_gossip_bytes: usize,
}

impl NetworkClient {
    pub(crate) fn new(
        (commands, priority): (mpsc::Sender<Command>, mpsc::Sender<Command>),
        local_key: PublicKey,
        max_gossip_bytes: usize,
    ) -> Self {
        Self {
            commands,
            priority,
            local_key,
            max_gossip_bytes,
        }
    }

    /// This node's public key (its network identity).
    pub fn local_key(&self) -> PublicKey {
        self.local_key
    }

    /// Sends `command` built around a fresh reply channel and awaits the answer.
    async fn call<T>(
        &self,
        command: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, NetworkError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(command(reply))
            .await
            .map_err(|_| NetworkError::Stopped)?;
        answer.await.map_err(|_| NetworkError::Stopped)
    }

    /// Gossips `data` on `topic`, signed with the node's key.
    ///
    /// `Ok` means it was handed to at least one subscribed peer, or — while no peer is
    /// subscribed yet — queued and retried until one is (for `publish_retry_window`, after
    /// which it is dropped with a warning). Publishing bytes that are already on the network
    /// (received or published within the last two minutes) is `Ok` and sends nothing.
    ///
    /// # Errors
    /// [`NetworkError::MessageTooLarge`] over `max_gossip_bytes`,
    /// [`NetworkError::PublishQueueFull`], [`NetworkError::Publish`], [`NetworkError::Stopped`].
    pub async fn publish(&self, topic: Topic, data: Vec<u8>) -> Result<(), NetworkError> {
        if data.len() > self.max_gossip_bytes {
            return Err(NetworkError::MessageTooLarge {
                what: "gossip message",
                size: data.len(),
                max: self.max_gossip_bytes,
            });
        }
        let (reply, answer) = oneshot::channel();
        let lane = match topic {
            Topic::Consensus => &self.priority,
            Topic::Transactions => &self.commands,
        };
        lane.send(Command::Publish { topic, data, reply })
            .await
            .map_err(|_| NetworkError::Stopped)?;
        answer.await.map_err(|_| NetworkError::Stopped)?
    }

    /// Asks `peer` on the sync protocol and awaits its answer.
    ///
    /// The peer is dialled if needed, at an address learned from bootstrap or identify.
    ///
    /// # Errors
    /// [`NetworkError::PeerNotAllowed`], [`NetworkError::MessageTooLarge`],
    /// [`NetworkError::RequestFailed`] (unreachable, timed out after `request_timeout`,
    /// connection closed, response too large), [`NetworkError::Stopped`].
    pub async fn request(&self, peer: PublicKey, data: Vec<u8>) -> Result<Vec<u8>, NetworkError> {
        self.call(|reply| Command::Request { peer, data, reply })
            .await?
    }

    /// Answers an inbound [`Request`](super::NetworkEvent::Request).
    ///
    /// # Errors
    /// [`NetworkError::UnknownRequest`] if already answered or the requester gave up,
    /// [`NetworkError::MessageTooLarge`] over `max_response_bytes` (the request stays open:
    /// answer again with something smaller), [`NetworkError::Stopped`].
    pub async fn respond(
        &self,
        channel: RequestChannel,
        data: Vec<u8>,
    ) -> Result<(), NetworkError> {
        self.call(|reply| Command::Respond {
            channel,
            data,
            reply,
        })
        .await?
    }

    /// Gives the node's verdict on a [`Gossip`](super::NetworkEvent::Gossip) message: only
    /// `Accept` forwards it; `Reject` also penalises the peer that sent it.
    ///
    /// # Errors
    /// [`NetworkError::Stopped`].
    pub async fn report(
        &self,
        message_id: MessageId,
        acceptance: Acceptance,
    ) -> Result<(), NetworkError> {
        self.commands
            .send(Command::Report {
                message_id,
                acceptance,
            })
            .await
            .map_err(|_| NetworkError::Stopped)
    }

    /// The allowed peers with at least one open connection.
    ///
    /// # Errors
    /// [`NetworkError::Stopped`].
    pub async fn connected_peers(&self) -> Result<Vec<PublicKey>, NetworkError> {
        self.call(|reply| Command::ConnectedPeers { reply }).await
    }

    /// Dials `address` once (`/ip4/…/tcp/…[/p2p/<peer id>]`). `Ok` means the dial started;
    /// a [`PeerConnected`](super::NetworkEvent::PeerConnected) event tells when it
    /// succeeded. Bootstrap peers from the config are redialled automatically; this is not.
    ///
    /// # Errors
    /// [`NetworkError::InvalidAddress`], [`NetworkError::Dial`], [`NetworkError::Stopped`].
    pub async fn dial(&self, address: &str) -> Result<(), NetworkError> {
        let address = address.to_string();
        self.call(|reply| Command::Dial { address, reply }).await?
    }

    /// The addresses this node listens on, each ending in `/p2p/<peer id>` so a peer can dial
    /// it as is. Empty until the listeners are up (shortly after the event loop starts).
    ///
    /// # Errors
    /// [`NetworkError::Stopped`].
    pub async fn listen_addrs(&self) -> Result<Vec<String>, NetworkError> {
        self.call(|reply| Command::ListenAddrs { reply }).await
    }

    /// This node's gossip score of `peer` (negative after rejected messages), if it has one.
    ///
    /// # Errors
    /// [`NetworkError::Stopped`].
    pub async fn peer_score(&self, peer: PublicKey) -> Result<Option<f64>, NetworkError> {
        self.call(|reply| Command::PeerScore { peer, reply }).await
    }

    /// Disconnects `peer` and refuses its connections (and does not redial it) for
    /// `duration`: for a peer proven to misbehave, whose every message would cost us.
    ///
    /// # Errors
    /// [`NetworkError::Stopped`].
    pub async fn ban(
        &self,
        peer: PublicKey,
        duration: std::time::Duration,
    ) -> Result<(), NetworkError> {
        self.commands
            .send(Command::Ban { peer, duration })
            .await
            .map_err(|_| NetworkError::Stopped)
    }
}
