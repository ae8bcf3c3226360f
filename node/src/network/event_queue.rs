//! The queue between the event loop and the node: two lanes — consensus gossip, and
//! everything else (transactions, sync requests, peer changes) — bounded together in bytes
//! of payload as well as in count. Consensus messages never wait behind transactions: the
//! node reads the lanes separately ([`NetworkEvents::split`]) or consensus first
//! ([`NetworkEvents::recv`]). What does not fit is handed back to the event loop, which
//! drops it (gossip is then reported `Ignore`d).

use super::network_event::NetworkEvent;
use super::topics::Topic;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;

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
}

impl Charged {
    fn into_event(mut self) -> Option<NetworkEvent> {
        self.event.take()
    }
}

impl Drop for Charged {
    fn drop(&mut self) {
        self.budget.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

/// The event loop's end.
pub(crate) struct EventSender {
    consensus: mpsc::Sender<Charged>,
    other: mpsc::Sender<Charged>,
    budget: Arc<AtomicUsize>,
    max_bytes: usize,
}

impl EventSender {
    /// Queues `event` without waiting; false (and the event dropped) if its lane or the
    /// byte budget is full, or the node stopped listening.
    pub(crate) fn try_send(&self, event: NetworkEvent) -> bool {
        let bytes = cost(&event);
        let used = self.budget.fetch_add(bytes, Ordering::AcqRel);
        let consensus = matches!(
            event,
            NetworkEvent::Gossip {
                topic: Topic::Consensus,
                ..
            }
        );
        let charged = Charged {
            event: Some(event),
            bytes,
            budget: Arc::clone(&self.budget),
        };
        if used.saturating_add(bytes) > self.max_bytes {
            return false;
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

/// A queue holding at most `count` events per lane and `max_bytes` of payload in all.
pub(crate) fn channel(count: usize, max_bytes: usize) -> (EventSender, NetworkEvents) {
    let (ctx, crx) = mpsc::channel(count);
    let (otx, orx) = mpsc::channel(count);
    (
        EventSender {
            consensus: ctx,
            other: otx,
            budget: Arc::new(AtomicUsize::new(0)),
            max_bytes,
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
    use custody_consensus::PublicKey;

    fn gossip(topic: Topic, bytes: usize) -> NetworkEvent {
        NetworkEvent::Gossip {
            topic,
            data: vec![0; bytes],
            source: PublicKey([1; 32]),
            message_id: MessageId {
                id: libp2p::gossipsub::MessageId::new(b"m"),
                propagation_source: libp2p::PeerId::random(),
            },
        }
    }

    #[tokio::test]
    async fn bounded_in_bytes_and_consensus_first() {
        let (tx, mut rx) = channel(100, 1_000);
        assert!(tx.try_send(gossip(Topic::Transactions, 600)));
        assert!(
            !tx.try_send(gossip(Topic::Transactions, 600)),
            "over the byte budget"
        );
        assert!(tx.try_send(gossip(Topic::Consensus, 300)));
        match rx.recv().await {
            Some(NetworkEvent::Gossip { topic, .. }) => assert_eq!(topic, Topic::Consensus),
            other => panic!("consensus first, got {other:?}"),
        }
        match rx.recv().await {
            Some(NetworkEvent::Gossip { topic, .. }) => assert_eq!(topic, Topic::Transactions),
            other => panic!("then the transaction, got {other:?}"),
        }
        // Everything handed over: the budget is free again.
        assert!(tx.try_send(gossip(Topic::Transactions, 1_000)));
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
}
