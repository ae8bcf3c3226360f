//! How the driver reaches the other validators. The network module implements this; a
//! one-validator chain has no one to tell.

use crate::consensus_driver::wire::ConsensusMessage;
use custody_consensus::PublicKey;
use custody_ledger::block::Block;
use custody_ledger::hash::Hash32;
use std::sync::Arc;

/// Where a fetched block body goes (the driver's inbox).
pub type BodySink = Arc<dyn Fn(Block) + Send + Sync>;

/// Sends consensus messages to the other validators (best effort: the driver re-sends what
/// liveness needs).
pub trait Gossip: Send + Sync {
    /// Sends `msg` to every other validator.
    fn broadcast(&self, msg: &ConsensusMessage);

    /// Asks peers, point to point, for the body of block `value` proposed at `height`
    /// (first `hint`, its proposer, if connected) and hands what comes back to `deliver`.
    /// Best effort: the driver asks again while it still needs it, and checks the body's hash.
    fn fetch_body(&self, height: u64, value: Hash32, hint: Option<PublicKey>, deliver: BodySink) {
        let _ = (height, value, hint, deliver);
    }
}

/// No peers: a chain of one validator.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoPeers;

impl Gossip for NoPeers {
    fn broadcast(&self, _msg: &ConsensusMessage) {}
}
