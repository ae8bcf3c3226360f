//! The consensus driver's [`Gossip`]: publishes on the consensus topic, and fetches block
//! bodies from peers point to point.

use crate::consensus_driver::{BodySink, ConsensusMessage, Gossip};
use crate::network::{NetworkClient, Topic};
use crate::peering::block_sync::{BodyRequest, BodyResponse, PeerRequest};
use custody_consensus::PublicKey;
use custody_ledger::encoding;
use custody_ledger::hash::Hash32;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

/// Most bytes of consensus messages on their way to the network at once; past it a message
/// is dropped with a warning (the driver re-sends what liveness needs).
const MAX_IN_FLIGHT_BYTES: usize = 64 * 1024 * 1024;

/// Sends consensus messages to every peer over gossipsub.
pub struct NetworkGossip {
    client: NetworkClient,
    rt: tokio::runtime::Handle,
    /// Makes every sending distinct, so a re-sent message is not dropped as seen.
    counter: AtomicU64,
    /// Bytes handed to the network and not yet published.
    in_flight: Arc<AtomicUsize>,
}

impl NetworkGossip {
    /// Publishes through `client`, on the current tokio runtime (the driver is a plain
    /// thread).
    pub fn new(client: NetworkClient) -> NetworkGossip {
        NetworkGossip {
            client,
            rt: tokio::runtime::Handle::current(),
            counter: AtomicU64::new(0),
            in_flight: Arc::new(AtomicUsize::new(0)),
        }
    }
}

impl Gossip for NetworkGossip {
    fn broadcast(&self, msg: &ConsensusMessage) {
        let counter = self.counter.fetch_add(1, Ordering::Relaxed);
        let (c, data) = (self.client.clone(), msg.encode_for_gossip(counter));
        let len = data.len();
        if self.in_flight.fetch_add(len, Ordering::AcqRel) + len > MAX_IN_FLIGHT_BYTES {
            self.in_flight.fetch_sub(len, Ordering::AcqRel);
            tracing::warn!(
                height = msg.height(),
                bytes = len,
                "consensus messages are not leaving fast enough; one dropped"
            );
            return;
        }
        let in_flight = Arc::clone(&self.in_flight);
        let (height, round) = (msg.height(), msg.round());
        self.rt.spawn(async move {
            if let Err(e) = c.publish(Topic::Consensus, data).await {
                tracing::warn!(height, round, bytes = len, error = %e, "could not publish a consensus message");
            }
            in_flight.fetch_sub(len, Ordering::AcqRel);
        });
    }

    fn fetch_body(&self, height: u64, value: Hash32, hint: Option<PublicKey>, deliver: BodySink) {
        let c = self.client.clone();
        self.rt.spawn(async move {
            let Ok(mut peers) = c.connected_peers().await else {
                return;
            };
            // The proposer first: it surely has it.
            if let Some(h) = hint {
                if let Some(i) = peers.iter().position(|p| *p == h) {
                    peers.swap(0, i);
                }
            }
            let req = encoding::encode(&PeerRequest::Body(BodyRequest { height, value }));
            for peer in peers {
                let Ok(bytes) = c.request(peer, req.clone()).await else {
                    continue;
                };
                match encoding::decode::<BodyResponse>(&bytes) {
                    Ok(BodyResponse { block: Some(block) }) if block.hash() == value => {
                        deliver(block);
                        return;
                    }
                    Ok(_) => {}
                    Err(e) => tracing::debug!(%peer, error = %e, "malformed body answer"),
                }
            }
            tracing::debug!(height, %value, "no peer had the proposed block's body");
        });
    }
}
