//! The consensus driver's [`Gossip`]: publishes on the consensus topic.

use crate::consensus_driver::{ConsensusMessage, Gossip};
use crate::network::{NetworkClient, Topic};
use std::sync::atomic::{AtomicU64, Ordering};

/// Sends consensus messages to every peer over gossipsub.
pub struct NetworkGossip {
    client: NetworkClient,
    rt: tokio::runtime::Handle,
    /// Makes every sending distinct, so a re-sent message is not dropped as seen.
    counter: AtomicU64,
}

impl NetworkGossip {
    /// Publishes through `client`, on the current tokio runtime (the driver is a plain
    /// thread).
    pub fn new(client: NetworkClient) -> NetworkGossip {
        NetworkGossip {
            client,
            rt: tokio::runtime::Handle::current(),
            counter: AtomicU64::new(0),
        }
    }
}

impl Gossip for NetworkGossip {
    fn broadcast(&self, msg: &ConsensusMessage) {
        let counter = self.counter.fetch_add(1, Ordering::Relaxed);
        let (c, data) = (self.client.clone(), msg.encode_for_gossip(counter));
        self.rt.spawn(async move {
            if let Err(e) = c.publish(Topic::Consensus, data).await {
                tracing::debug!(error = %e, "could not publish a consensus message");
            }
        });
    }
}
