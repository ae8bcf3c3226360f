//! The consensus threads' inbox: what peers send (consensus messages, fetched block bodies)
//! bounded in bytes, and two flags that cost nothing however often they are raised (a
//! transaction was admitted; stop). A message that does not fit is dropped and counted, never
//! queued without bound: peers re-send what liveness needs, and a node that is behind
//! catches up by block sync.

use crate::consensus_driver::wire::ConsensusMessage;
use custody_ledger::block::Block;
use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Instant;

/// Something for the thread to handle.
#[derive(Debug)]
pub(crate) enum Event {
    /// Stop.
    Shutdown,
    /// A consensus message from a peer (already decoded and authenticated).
    Message(ConsensusMessage),
    /// A block body fetched from a peer, asked for by its hash.
    Body(Block),
    /// At least one transaction was admitted since the last time this was handed out.
    TxAdmitted,
}

/// An item waiting in the queue and the bytes it is charged for.
enum Queued {
    Message(ConsensusMessage),
    Body(Block),
}

#[derive(Default)]
struct State {
    queue: VecDeque<(Queued, usize)>,
    bytes: usize,
    tx_admitted: bool,
    shutdown: bool,
    dropped: u64,
}

/// A multi-producer, single-consumer queue bounded in bytes.
pub(crate) struct Inbox {
    state: Mutex<State>,
    ready: Condvar,
    max_bytes: usize,
}

impl Inbox {
    /// An empty inbox holding at most `max_bytes` of messages at once.
    pub(crate) fn new(max_bytes: usize) -> Inbox {
        Inbox {
            state: Mutex::new(State::default()),
            ready: Condvar::new(),
            max_bytes,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a message charged `bytes`; false (and the message dropped) if it does not fit.
    pub(crate) fn push_message(&self, msg: ConsensusMessage, bytes: usize) -> bool {
        self.push(Queued::Message(msg), bytes)
    }

    /// Queues a fetched block body; false if it does not fit.
    pub(crate) fn push_body(&self, block: Block, bytes: usize) -> bool {
        self.push(Queued::Body(block), bytes)
    }

    fn push(&self, item: Queued, bytes: usize) -> bool {
        let mut s = self.lock();
        if s.shutdown || s.bytes.saturating_add(bytes) > self.max_bytes {
            s.dropped += 1;
            return false;
        }
        s.bytes += bytes;
        s.queue.push_back((item, bytes));
        drop(s);
        self.ready.notify_one();
        true
    }

    /// Notes that a transaction was admitted (coalesced: one event however many).
    pub(crate) fn tx_admitted(&self) {
        let mut s = self.lock();
        if !s.tx_admitted {
            s.tx_admitted = true;
            drop(s);
            self.ready.notify_one();
        }
    }

    /// Asks the consumer to stop; later messages are refused.
    pub(crate) fn shutdown(&self) {
        let mut s = self.lock();
        s.shutdown = true;
        s.queue.clear();
        s.bytes = 0;
        drop(s);
        self.ready.notify_all();
    }

    /// The next event, waiting until `deadline` at most (`None`: nothing came).
    pub(crate) fn next(&self, deadline: Instant) -> Option<Event> {
        let mut s = self.lock();
        loop {
            if s.shutdown {
                return Some(Event::Shutdown);
            }
            if let Some((item, bytes)) = s.queue.pop_front() {
                s.bytes -= bytes;
                return Some(match item {
                    Queued::Message(m) => Event::Message(m),
                    Queued::Body(b) => Event::Body(b),
                });
            }
            if s.tx_admitted {
                s.tx_admitted = false;
                return Some(Event::TxAdmitted);
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            s = self
                .ready
                .wait_timeout(s, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// Bytes waiting now.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        self.lock().bytes
    }

    /// Messages refused so far for want of room.
    #[cfg(test)]
    pub(crate) fn dropped(&self) -> u64 {
        self.lock().dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use custody_consensus::{Height, Round, SignedVote, Vote, VoteKind};
    use custody_ledger::crypto::Signature;
    use custody_ledger::hash::Hash32;
    use std::sync::Arc;
    use std::time::Duration;

    fn vote(h: u64) -> ConsensusMessage {
        ConsensusMessage::Vote(SignedVote {
            vote: Vote {
                height: Height(h),
                round: Round(0),
                kind: VoteKind::Prevote,
                value: Some(Hash32([1; 32])),
                validator: 0,
            },
            signature: Signature([0; 64]),
        })
    }

    #[test]
    fn bounded_in_bytes_and_drained_in_order() {
        let inbox = Inbox::new(1_000);
        assert!(inbox.push_message(vote(1), 600));
        assert!(!inbox.push_message(vote(2), 600), "over the byte bound");
        assert!(inbox.push_message(vote(3), 400));
        assert_eq!(inbox.bytes(), 1_000);
        assert_eq!(inbox.dropped(), 1);
        let soon = Instant::now() + Duration::from_millis(10);
        let heights: Vec<u64> = std::iter::from_fn(|| match inbox.next(soon) {
            Some(Event::Message(m)) => Some(m.height()),
            _ => None,
        })
        .collect();
        assert_eq!(heights, [1, 3]);
        assert_eq!(inbox.bytes(), 0);
    }

    #[test]
    fn admissions_coalesce_and_shutdown_comes_first() {
        let inbox = Inbox::new(1_000);
        for _ in 0..1_000 {
            inbox.tx_admitted();
        }
        let soon = Instant::now() + Duration::from_millis(10);
        assert!(matches!(inbox.next(soon), Some(Event::TxAdmitted)));
        assert!(inbox.next(soon).is_none(), "one event for many admissions");
        assert!(inbox.push_message(vote(1), 10));
        inbox.shutdown();
        assert!(matches!(inbox.next(soon), Some(Event::Shutdown)));
        assert!(
            !inbox.push_message(vote(2), 10),
            "nothing is queued after stop"
        );
    }

    #[test]
    fn a_waiting_consumer_wakes_on_push() {
        let inbox = Arc::new(Inbox::new(1_000));
        let producer = Arc::clone(&inbox);
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            producer.push_message(vote(9), 1)
        });
        let got = inbox.next(Instant::now() + Duration::from_secs(30));
        assert!(matches!(got, Some(Event::Message(m)) if m.height() == 9));
        assert!(t.join().unwrap());
    }
}
