//! [`EventLoop`]: owns the libp2p `Swarm` and `select!`s over swarm events, client commands
//! and a housekeeping tick (publish retries, bootstrap redials). It is the only place that
//! drives the swarm; the node spawns [`EventLoop::run`] on tokio and talks to it through
//! [`NetworkClient`](super::NetworkClient).
//!
//! It must never block on the node: events are handed over with `try_send`, and what does
//! not fit is dropped (gossip is then reported `Ignore`d so the swarm forgets it).

use super::behaviour::{Behaviour, BehaviourEvent};
use super::client::Command;
use super::event_queue::EventSender;
use super::network_error::NetworkError;
use super::network_event::{Acceptance, MessageId, NetworkEvent, RequestChannel};
use super::topics::{Topic, TopicNames};
use custody_consensus::PublicKey;
use libp2p::gossipsub::{self, PublishError};
use libp2p::multiaddr::Protocol;
use libp2p::request_response::{self, InboundRequestId, OutboundRequestId, ResponseChannel};
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::swarm::{ConnectionId, DialError, SwarmEvent};
use libp2p::{identify, Multiaddr, PeerId, Swarm};
use std::collections::{HashMap, VecDeque};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, MissedTickBehavior};

/// How often the publish retry queue is looked at.
const RETRY_TICK: Duration = Duration::from_millis(100);

/// Where the answer to an outbound sync request goes.
type ResponseReply = oneshot::Sender<Result<Vec<u8>, NetworkError>>;

/// A publish waiting for a subscribed peer.
struct QueuedPublish {
    topic: Topic,
    data: Vec<u8>,
    deadline: Instant,
}

/// A configured peer address, redialled while its peer is not connected.
struct BootstrapPeer {
    /// The address without any `/p2p` suffix.
    address: Multiaddr,
    /// Its peer, from the `/p2p` suffix or learned from the first successful dial.
    peer: Option<PeerId>,
    /// A dial to an address without a known peer that has not finished yet.
    pending_dial: Option<ConnectionId>,
    /// The address turned out to be our own.
    is_self: bool,
}

/// Limits and timings the loop needs at run time.
pub(crate) struct LoopSettings {
    pub(crate) max_gossip_bytes: usize,
    pub(crate) max_request_bytes: usize,
    pub(crate) max_response_bytes: usize,
    pub(crate) publish_retry_window: Duration,
    pub(crate) publish_queue_limit: usize,
    pub(crate) redial_interval: Duration,
}

/// The network's engine. Spawn [`EventLoop::run`] on tokio; it returns when every
/// [`NetworkClient`](super::NetworkClient) clone has been dropped.
pub struct EventLoop {
    swarm: Swarm<Behaviour>,
    commands: mpsc::Receiver<Command>,
    /// Consensus publishes: handled before other commands.
    priority: mpsc::Receiver<Command>,
    events: EventSender,
    topics: TopicNames,
    /// The allowed peers and their keys, both ways.
    keys: HashMap<PeerId, PublicKey>,
    peers: HashMap<PublicKey, PeerId>,
    settings: LoopSettings,
    bootstrap: Vec<BootstrapPeer>,
    outbound: HashMap<OutboundRequestId, (PublicKey, ResponseReply)>,
    inbound: HashMap<InboundRequestId, ResponseChannel<Vec<u8>>>,
    publish_queue: VecDeque<QueuedPublish>,
    /// Peers refused until the given instant.
    banned: HashMap<PeerId, Instant>,
}

impl std::fmt::Debug for EventLoop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventLoop")
            .field("local_peer", self.swarm.local_peer_id())
            .field("bootstrap", &self.bootstrap.len())
            .field("queued_publishes", &self.publish_queue.len())
            .finish_non_exhaustive()
    }
}

/// The next command: a consensus publish before anything else waiting. (Swarm events and
/// commands still take turns: were commands to wait for a quiet swarm, verdicts and sync
/// answers would stall under load.) `None` once the clients are gone.
async fn next_command(
    priority: &mut mpsc::Receiver<Command>,
    commands: &mut mpsc::Receiver<Command>,
) -> Option<Command> {
    tokio::select! {
        biased;
        Some(c) = priority.recv() => Some(c),
        c = commands.recv() => c,
    }
}

/// `address` without a trailing `/p2p/<peer id>`, and that peer id.
pub(crate) fn split_peer(mut address: Multiaddr) -> (Multiaddr, Option<PeerId>) {
    match address.iter().last() {
        Some(Protocol::P2p(peer)) => {
            address.pop();
            (address, Some(peer))
        }
        _ => (address, None),
    }
}

impl EventLoop {
    pub(crate) fn new(
        swarm: Swarm<Behaviour>,
        (commands, priority): (mpsc::Receiver<Command>, mpsc::Receiver<Command>),
        events: EventSender,
        topics: TopicNames,
        keys: HashMap<PeerId, PublicKey>,
        settings: LoopSettings,
        bootstrap: Vec<Multiaddr>,
    ) -> Self {
        let mut swarm = swarm;
        let bootstrap = bootstrap
            .into_iter()
            .map(|a| {
                let (address, peer) = split_peer(a);
                if let Some(peer) = peer {
                    // So a sync request can dial it too.
                    swarm.add_peer_address(peer, address.clone());
                }
                BootstrapPeer {
                    is_self: peer.as_ref() == Some(swarm.local_peer_id()),
                    address,
                    peer,
                    pending_dial: None,
                }
            })
            .collect();
        Self {
            swarm,
            commands,
            priority,
            events,
            topics,
            peers: keys.iter().map(|(p, k)| (*k, *p)).collect(),
            keys,
            settings,
            bootstrap,
            outbound: HashMap::new(),
            inbound: HashMap::new(),
            publish_queue: VecDeque::new(),
            banned: HashMap::new(),
        }
    }

    /// Whether `peer` is banned now (forgetting bans that ran out).
    fn is_banned(&mut self, peer: &PeerId) -> bool {
        match self.banned.get(peer) {
            Some(until) if *until > Instant::now() => true,
            Some(_) => {
                self.banned.remove(peer);
                false
            }
            None => false,
        }
    }

    /// Runs the network until every client handle is dropped.
    pub async fn run(mut self) {
        let mut retry = tokio::time::interval(RETRY_TICK);
        retry.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut redial = tokio::time::interval(self.settings.redial_interval);
        redial.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                event = futures::StreamExt::select_next_some(&mut self.swarm) => {
                    self.on_swarm_event(event);
                }
                command = next_command(&mut self.priority, &mut self.commands) => match command {
                    Some(command) => self.on_command(command),
                    None => break,
                },
                _ = retry.tick(), if !self.publish_queue.is_empty() => self.flush_publish_queue(),
                _ = redial.tick() => self.redial(),
            }
        }
        tracing::debug!(peer = %self.swarm.local_peer_id(), "network event loop stopped");
    }

    // ---- commands -------------------------------------------------------------------------

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Publish { topic, data, reply } => {
                let _ = reply.send(self.publish(topic, data));
            }
            Command::Request { peer, data, reply } => self.request(peer, data, reply),
            Command::Respond {
                channel,
                data,
                reply,
            } => {
                let _ = reply.send(self.respond(channel, data));
            }
            Command::Report {
                message_id,
                acceptance,
            } => self.report(&message_id, acceptance),
            Command::ConnectedPeers { reply } => {
                let peers = self
                    .swarm
                    .connected_peers()
                    .filter_map(|p| self.keys.get(p).copied())
                    .collect();
                let _ = reply.send(peers);
            }
            Command::Dial { address, reply } => {
                let _ = reply.send(self.dial(&address));
            }
            Command::ListenAddrs { reply } => {
                let local = *self.swarm.local_peer_id();
                let addrs = self
                    .swarm
                    .listeners()
                    .map(|a| a.clone().with(Protocol::P2p(local)).to_string())
                    .collect();
                let _ = reply.send(addrs);
            }
            Command::Ban { peer, duration } => {
                if let Some(id) = self.peer_id_of(&peer) {
                    tracing::warn!(%peer, ?duration, "peer banned");
                    self.banned.insert(id, Instant::now() + duration);
                    let _ = self.swarm.disconnect_peer_id(id);
                }
            }
            Command::PeerScore { peer, reply } => {
                let score = self
                    .peer_id_of(&peer)
                    .and_then(|p| self.swarm.behaviour().gossipsub.peer_score(&p));
                let _ = reply.send(score);
            }
        }
    }

    fn peer_id_of(&self, key: &PublicKey) -> Option<PeerId> {
        self.peers.get(key).copied()
    }

    fn publish(&mut self, topic: Topic, data: Vec<u8>) -> Result<(), NetworkError> {
        let max = self.settings.max_gossip_bytes;
        if data.len() > max {
            return Err(NetworkError::MessageTooLarge {
                what: "gossip message",
                size: data.len(),
                max,
            });
        }
        // Keep per-topic order: behind anything already waiting on this topic.
        if self.publish_queue.iter().any(|q| q.topic == topic) {
            return self.enqueue(topic, data);
        }
        match self.try_publish(topic, data.clone()) {
            Ok(()) => Ok(()),
            Err(PublishError::NoPeersSubscribedToTopic | PublishError::AllQueuesFull(_)) => {
                self.enqueue(topic, data)
            }
            Err(PublishError::MessageTooLarge) => Err(NetworkError::MessageTooLarge {
                what: "gossip message",
                size: data.len(),
                max,
            }),
            Err(e) => Err(NetworkError::Publish(e.to_string())),
        }
    }

    /// Publishes now; bytes already on the network count as published.
    fn try_publish(&mut self, topic: Topic, data: Vec<u8>) -> Result<(), PublishError> {
        let hash = self.topics.topic(topic).hash();
        match self.swarm.behaviour_mut().gossipsub.publish(hash, data) {
            Ok(_) | Err(PublishError::Duplicate) => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn enqueue(&mut self, topic: Topic, data: Vec<u8>) -> Result<(), NetworkError> {
        if self.publish_queue.len() >= self.settings.publish_queue_limit {
            return Err(NetworkError::PublishQueueFull(self.publish_queue.len()));
        }
        tracing::debug!(
            ?topic,
            bytes = data.len(),
            "no subscribed peer yet; publish queued"
        );
        self.publish_queue.push_back(QueuedPublish {
            topic,
            data,
            deadline: Instant::now() + self.settings.publish_retry_window,
        });
        Ok(())
    }

    /// Retries queued publishes in order, on topics that now have a subscribed peer; drops
    /// those past their deadline.
    fn flush_publish_queue(&mut self) {
        let now = Instant::now();
        let ready: Vec<Topic> = Topic::ALL
            .into_iter()
            .filter(|t| self.has_subscriber(*t))
            .collect();
        let mut blocked: Vec<Topic> = Vec::new();
        let mut keep = VecDeque::with_capacity(self.publish_queue.len());
        while let Some(q) = self.publish_queue.pop_front() {
            if now >= q.deadline {
                tracing::warn!(
                    topic = ?q.topic,
                    bytes = q.data.len(),
                    "no peer subscribed within the retry window; publish dropped"
                );
                continue;
            }
            if !ready.contains(&q.topic) || blocked.contains(&q.topic) {
                keep.push_back(q);
                continue;
            }
            match self.try_publish(q.topic, q.data.clone()) {
                Ok(()) => {}
                Err(PublishError::NoPeersSubscribedToTopic | PublishError::AllQueuesFull(_)) => {
                    blocked.push(q.topic);
                    keep.push_back(q);
                }
                Err(e) => {
                    tracing::warn!(topic = ?q.topic, error = %e, "queued publish failed; dropped");
                }
            }
        }
        self.publish_queue = keep;
    }

    fn has_subscriber(&self, topic: Topic) -> bool {
        let hash = self.topics.topic(topic).hash();
        self.swarm
            .behaviour()
            .gossipsub
            .all_peers()
            .any(|(_, topics)| topics.contains(&&hash))
    }

    fn request(&mut self, peer: PublicKey, data: Vec<u8>, reply: ResponseReply) {
        let Some(peer_id) = self.peer_id_of(&peer) else {
            let _ = reply.send(Err(NetworkError::PeerNotAllowed(peer)));
            return;
        };
        if data.len() > self.settings.max_request_bytes {
            let _ = reply.send(Err(NetworkError::MessageTooLarge {
                what: "request",
                size: data.len(),
                max: self.settings.max_request_bytes,
            }));
            return;
        }
        let id = self.swarm.behaviour_mut().sync.send_request(&peer_id, data);
        self.outbound.insert(id, (peer, reply));
    }

    fn respond(&mut self, channel: RequestChannel, data: Vec<u8>) -> Result<(), NetworkError> {
        if data.len() > self.settings.max_response_bytes {
            return Err(NetworkError::MessageTooLarge {
                what: "response",
                size: data.len(),
                max: self.settings.max_response_bytes,
            });
        }
        let unknown = || NetworkError::UnknownRequest(channel.0.to_string());
        let response_channel = self.inbound.remove(&channel.0).ok_or_else(unknown)?;
        self.swarm
            .behaviour_mut()
            .sync
            .send_response(response_channel, data)
            .map_err(|_| unknown())
    }

    fn report(&mut self, message_id: &MessageId, acceptance: Acceptance) {
        self.swarm
            .behaviour_mut()
            .gossipsub
            .report_message_validation_result(
                &message_id.id,
                &message_id.propagation_source,
                acceptance.into(),
            );
    }

    fn dial(&mut self, address: &str) -> Result<(), NetworkError> {
        let addr: Multiaddr = address.parse().map_err(|e| NetworkError::InvalidAddress {
            address: address.to_string(),
            reason: format!("{e}"),
        })?;
        self.swarm.dial(addr).map_err(|e| NetworkError::Dial {
            address: address.to_string(),
            reason: e.to_string(),
        })
    }

    /// Dials every bootstrap peer that is not connected (and not being dialled).
    fn redial(&mut self) {
        for i in 0..self.bootstrap.len() {
            let entry = &self.bootstrap[i];
            if entry.is_self || entry.pending_dial.is_some() {
                continue;
            }
            if entry
                .peer
                .is_some_and(|p| self.banned.get(&p).is_some_and(|t| *t > Instant::now()))
            {
                continue;
            }
            let entry = &self.bootstrap[i];
            let opts = match entry.peer {
                Some(peer) if self.swarm.is_connected(&peer) => continue,
                Some(peer) => DialOpts::peer_id(peer)
                    .addresses(vec![entry.address.clone()])
                    .condition(PeerCondition::DisconnectedAndNotDialing)
                    .build(),
                None => DialOpts::unknown_peer_id()
                    .address(entry.address.clone())
                    .build(),
            };
            let connection = opts.connection_id();
            let address = entry.address.clone();
            match self.swarm.dial(opts) {
                Ok(()) => {
                    if self.bootstrap[i].peer.is_none() {
                        self.bootstrap[i].pending_dial = Some(connection);
                    }
                }
                Err(DialError::DialPeerConditionFalse(_)) => {}
                Err(e) => tracing::debug!(%address, error = %e, "bootstrap dial refused"),
            }
        }
    }

    // ---- swarm events ---------------------------------------------------------------------

    fn emit(&self, event: NetworkEvent) -> bool {
        let what = match &event {
            NetworkEvent::Gossip { topic, data, .. } => {
                format!("{topic:?} gossip of {} bytes", data.len())
            }
            NetworkEvent::Request { data, .. } => format!("request of {} bytes", data.len()),
            e => format!("{e:?}"),
        };
        let sent = self.events.try_send(event);
        if !sent {
            tracing::warn!(event = %what, "node is not keeping up with network events; dropped");
        }
        sent
    }

    fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(event)) => self.on_gossip(event),
            SwarmEvent::Behaviour(BehaviourEvent::Sync(event)) => self.on_sync(event),
            SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received {
                peer_id,
                info,
                ..
            })) if self.keys.contains_key(&peer_id) => {
                for address in info.listen_addrs {
                    self.swarm.add_peer_address(peer_id, address);
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Allowed(never)) => match never {},
            SwarmEvent::Behaviour(BehaviourEvent::Limits(never)) => match never {},
            SwarmEvent::Behaviour(_) => {}
            SwarmEvent::ConnectionEstablished {
                peer_id,
                connection_id,
                num_established,
                ..
            } => {
                if self.is_banned(&peer_id) {
                    self.swarm.close_connection(connection_id);
                    return;
                }
                for entry in &mut self.bootstrap {
                    if entry.pending_dial == Some(connection_id) {
                        entry.pending_dial = None;
                        entry.peer = Some(peer_id);
                        self.swarm.add_peer_address(peer_id, entry.address.clone());
                    }
                }
                if num_established.get() == 1 {
                    if let Some(key) = self.keys.get(&peer_id).copied() {
                        tracing::debug!(peer = %key, "peer connected");
                        self.emit(NetworkEvent::PeerConnected(key));
                    }
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established: 0,
                ..
            } => {
                if let Some(key) = self.keys.get(&peer_id).copied() {
                    tracing::debug!(peer = %key, "peer disconnected");
                    self.emit(NetworkEvent::PeerDisconnected(key));
                }
            }
            SwarmEvent::OutgoingConnectionError {
                connection_id,
                peer_id,
                error,
            } => {
                for entry in &mut self.bootstrap {
                    if entry.pending_dial == Some(connection_id) {
                        entry.pending_dial = None;
                        if matches!(error, DialError::LocalPeerId { .. }) {
                            entry.is_self = true;
                        }
                    }
                }
                tracing::debug!(?peer_id, error = %error, "outgoing connection failed");
            }
            SwarmEvent::IncomingConnectionError {
                send_back_addr,
                error,
                ..
            } => {
                tracing::debug!(%send_back_addr, error = %error, "incoming connection refused");
            }
            SwarmEvent::NewListenAddr { address, .. } => {
                tracing::info!(%address, "listening");
            }
            _ => {}
        }
    }

    fn on_gossip(&mut self, event: gossipsub::Event) {
        let gossipsub::Event::Message {
            propagation_source,
            message_id,
            message,
        } = event
        else {
            if let gossipsub::Event::Subscribed { .. } = event {
                if !self.publish_queue.is_empty() {
                    self.flush_publish_queue();
                }
            }
            return;
        };
        let id = MessageId {
            id: message_id,
            propagation_source,
        };
        let topic = self.topics.classify(&message.topic);
        let source = message.source.and_then(|p| self.keys.get(&p).copied());
        let too_large = message.data.len() > self.settings.max_gossip_bytes;
        let (Some(topic), Some(source), false) = (topic, source, too_large) else {
            tracing::warn!(
                from = %propagation_source,
                author = ?message.source,
                bytes = message.data.len(),
                "gossip from an unlisted author, on a foreign topic, or oversized; rejected"
            );
            self.report(&id, Acceptance::Reject);
            return;
        };
        let event = NetworkEvent::Gossip {
            topic,
            data: message.data,
            source,
            message_id: id.clone(),
        };
        if !self.emit(event) {
            self.report(&id, Acceptance::Ignore);
        }
    }

    fn on_sync(&mut self, event: request_response::Event<Vec<u8>, Vec<u8>>) {
        match event {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request {
                    request_id,
                    request,
                    channel,
                } => {
                    // An unlisted peer cannot be connected; dropping the channel fails it.
                    let Some(from) = self.keys.get(&peer).copied() else {
                        return;
                    };
                    self.inbound.insert(request_id, channel);
                    let event = NetworkEvent::Request {
                        from,
                        data: request,
                        channel: RequestChannel(request_id),
                    };
                    if !self.emit(event) {
                        self.inbound.remove(&request_id);
                    }
                }
                request_response::Message::Response {
                    request_id,
                    response,
                } => {
                    if let Some((_, reply)) = self.outbound.remove(&request_id) {
                        let _ = reply.send(Ok(response));
                    }
                }
            },
            request_response::Event::OutboundFailure {
                request_id, error, ..
            } => {
                if let Some((peer, reply)) = self.outbound.remove(&request_id) {
                    let _ = reply.send(Err(NetworkError::RequestFailed {
                        peer,
                        reason: error.to_string(),
                    }));
                }
            }
            request_response::Event::InboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                self.inbound.remove(&request_id);
                tracing::debug!(%peer, error = %error, "inbound sync request failed");
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }
}
