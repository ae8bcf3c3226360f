//! The consensus driver's [`Gossip`]: publishes on the consensus topic.

use crate::consensus_driver::{ConsensusMessage, Gossip};
use crate::network::{NetworkClient, Topic};

/// Sends consensus messages to every peer over gossipsub.
pub struct NetworkGossip {
    client: NetworkClient,
    rt: tokio::runtime::Handle,
}

impl NetworkGossip {
    /// Publishes through `client`, on the current tokio runtime (the driver is a plain
    /// thread).
    pub fn new(client: NetworkClient) -> NetworkGossip {
        NetworkGossip {
            client,
            rt: tokio::runtime::Handle::current(),
        }
    }
}

impl Gossip for NetworkGossip {
    fn broadcast(&self, msg: &ConsensusMessage) {
        let (c, data) = (self.client.clone(), msg.encode());
        self.rt.spawn(async move {
            if let Err(e) = c.publish(Topic::Consensus, data).await {
                tracing::debug!(error = %e, "could not publish a consensus message");
            }
        });
    }
}
