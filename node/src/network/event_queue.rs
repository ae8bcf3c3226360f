//! The queue between the event loop and the node: two lanes — consensus gossip, and
//! everything else (transactions, sync requests, peer changes) — bounded together in bytes
//! of payload as well as in count. Consensus messages never wait behind transactions: the
//! node reads the lanes separately ([`NetworkEvents::split`]) or consensus first
//! ([`NetworkEvents::recv`]). What does not fit is handed back to the event loop, which
//! drops it (gossip is then reported `Ignore`d).

use super::network_event::NetworkEvent;
use super::topics::Topic;
use custody_consensus::PublicKey;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// Consensus messages (and bytes) one author may have waiting at once, as a fraction of
/// the lane: a validator flooding the lane fills only its part, and the others' messages
/// still get in.
pub(crate) const PER_AUTHOR_DIVISOR: usize = 8;

/// Consensus messages (count, payload bytes) waiting, by author.
type PerAuthor = Arc<Mutex<HashMap<PublicKey, (usize, usize)>>>;

/// Payload bytes an event is charged for.
fn cost(event: &NetworkEvent) -> usize {
    match event {
        NetworkEvent::Gossip { data, .. } | NetworkEvent::Request { data, .. } => data.len(),
        NetworkEvent::PeerConnected(_) | NetworkEvent::PeerDisconnected(_) => 0,
    }
}

/// An event and the bytes it holds of the budget, given back when it is handed over or
/// dropped.
struct Charged {
    event: Option<NetworkEvent>,
    bytes: usize,
    budget: Arc<AtomicUsize>,
    /// The author whose consensus-lane place this holds.
    author: Option<(PublicKey, PerAuthor)>,
}

impl Charged {
    fn into_event(mut self) -> Option<NetworkEvent> {
        self.event.take()
    }
}

impl Drop for Charged {
    fn drop(&mut self) {
        self.budget.fetch_sub(self.bytes, Ordering::AcqRel);
        if let Some((author, waiting)) = self.author.take() {
            let mut w = waiting.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((n, b)) = w.get_mut(&author) {
                *n = n.saturating_sub(1);
                *b = b.saturating_sub(self.bytes);
                if *n == 0 {
                    w.remove(&author);
                }
            }
        }
    }
}

/// The event loop's end.
pub(crate) struct EventSender {
    consensus: mpsc::Sender<Charged>,
    other: mpsc::Sender<Charged>,
    budget: Arc<AtomicUsize>,
    max_bytes: usize,
    per_author: PerAuthor,
    max_per_author: usize,
}

impl EventSender {
    /// Queues `event` without waiting; false (and the event dropped) if its lane or the
    /// byte budget is full, or the node stopped listening.
    pub(crate) fn try_send(&self, event: NetworkEvent) -> bool {
        let bytes = cost(&event);
        let used = self.budget.fetch_add(bytes, Ordering::AcqRel);
        let consensus_author = match &event {
            NetworkEvent::Gossip {
                topic: Topic::Consensus,
                source,
                ..
            } => Some(*source),
            _ => None,
        };
        let consensus = consensus_author.is_some();
        let mut charged = Charged {
            event: Some(event),
            bytes,
            budget: Arc::clone(&self.budget),
            author: None,
        };
        if used.saturating_add(bytes) > self.max_bytes {
            return false;
        }
        if let Some(author) = consensus_author {
            let mut w = self.per_author.lock().unwrap_or_else(|p| p.into_inner());
            let (n, b) = w.entry(author).or_default();
            if *n >= self.max_per_author
                || b.saturating_add(bytes) > self.max_bytes / PER_AUTHOR_DIVISOR
            {
                return false;
            }
            *n += 1;
            *b += bytes;
            drop(w);
            charged.author = Some((author, Arc::clone(&self.per_author)));
        }
        let lane = if consensus {
            &self.consensus
        } else {
            &self.other
        };
        lane.try_send(charged).is_ok()
    }
}

/// One lane of [`NetworkEvents`].
pub struct EventLane {
    rx: mpsc::Receiver<Charged>,
}

impl EventLane {
    /// The next event of this lane; `None` once the network stopped.
    pub async fn recv(&mut self) -> Option<NetworkEvent> {
        self.rx.recv().await.and_then(Charged::into_event)
    }
}

/// What the network tells the node, in two lanes (see the module comment).
pub struct NetworkEvents {
    consensus: EventLane,
    other: EventLane,
}

impl NetworkEvents {
    /// The next event, consensus gossip first; `None` once the network stopped.
    pub async fn recv(&mut self) -> Option<NetworkEvent> {
        tokio::select! {
            biased;
            Some(e) = self.consensus.recv() => Some(e),
            Some(e) = self.other.recv() => Some(e),
            else => None,
        }
    }

    /// The consensus lane and the other lane, to be read by separate tasks.
    pub fn split(self) -> (EventLane, EventLane) {
        (self.consensus, self.other)
    }
}

/// A queue holding at most `count` events per lane and `max_bytes` of payload in all, of
/// which one author's consensus messages take at most an eighth (of each).
pub(crate) fn channel(count: usize, max_bytes: usize) -> (EventSender, NetworkEvents) {
    let (ctx, crx) = mpsc::channel(count);
    let (otx, orx) = mpsc::channel(count);
    (
        EventSender {
            consensus: ctx,
            other: otx,
            budget: Arc::new(AtomicUsize::new(0)),
            max_bytes,
            per_author: Arc::default(),
            max_per_author: (count / PER_AUTHOR_DIVISOR).max(1),
        },
        NetworkEvents {
            consensus: EventLane { rx: crx },
            other: EventLane { rx: orx },
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::network_event::MessageId;

    fn gossip(topic: Topic, bytes: usize) -> NetworkEvent {
        gossip_by(topic, bytes, 1)
    }

    fn gossip_by(topic: Topic, bytes: usize, author: u8) -> NetworkEvent {
        NetworkEvent::Gossip {
            topic,
            data: vec![0; bytes],
            source: PublicKey([author; 32]),
            message_id: MessageId {
                id: libp2p::gossipsub::MessageId::new(b"m"),
                propagation_source: libp2p::PeerId::random(),
            },
        }
    }

    #[tokio::test]
    async fn bounded_in_bytes_and_consensus_first() {
        let (tx, mut rx) = channel(100, 10_000);
        assert!(tx.try_send(gossip(Topic::Transactions, 6_000)));
        assert!(
            !tx.try_send(gossip(Topic::Transactions, 6_000)),
            "over the byte budget"
        );
        assert!(tx.try_send(gossip(Topic::Consensus, 1_000)));
        match rx.recv().await {
            Some(NetworkEvent::Gossip { topic, .. }) => assert_eq!(topic, Topic::Consensus),
            other => panic!("consensus first, got {other:?}"),
        }
        match rx.recv().await {
            Some(NetworkEvent::Gossip { topic, .. }) => assert_eq!(topic, Topic::Transactions),
            other => panic!("then the transaction, got {other:?}"),
        }
        // Everything handed over: the budget is free again.
        assert!(tx.try_send(gossip(Topic::Transactions, 10_000)));
    }

    #[tokio::test]
    async fn a_full_lane_does_not_block_the_other() {
        let (tx, rx) = channel(2, 1_000_000);
        for _ in 0..2 {
            assert!(tx.try_send(gossip(Topic::Transactions, 10)));
        }
        assert!(!tx.try_send(gossip(Topic::Transactions, 10)), "lane full");
        assert!(tx.try_send(gossip(Topic::Consensus, 10)));
        let (mut consensus, _other) = rx.split();
        assert!(matches!(
            consensus.recv().await,
            Some(NetworkEvent::Gossip {
                topic: Topic::Consensus,
                ..
            })
        ));
    }

    #[tokio::test]
    async fn one_author_flooding_the_consensus_lane_leaves_room_for_the_others() {
        let (tx, rx) = channel(80, 1_000_000);
        let flood = (0..100)
            .filter(|_| tx.try_send(gossip_by(Topic::Consensus, 10, 3)))
            .count();
        assert_eq!(flood, 10, "an eighth of the lane");
        let (tx2, _rx2) = channel(80, 800);
        let big = (0..100)
            .filter(|_| tx2.try_send(gossip_by(Topic::Consensus, 40, 3)))
            .count();
        assert_eq!(big, 2, "an eighth of the bytes");
        assert!(tx.try_send(gossip_by(Topic::Consensus, 10, 1)));
        let (mut consensus, _other) = rx.split();
        consensus.recv().await;
        assert!(
            tx.try_send(gossip_by(Topic::Consensus, 10, 3)),
            "a place taken off the lane is free again"
        );
    }
}
