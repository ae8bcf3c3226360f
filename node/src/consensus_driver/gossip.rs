//! How the driver reaches the other validators. The network module implements this; a
//! one-validator chain has no one to tell.

use crate::consensus_driver::wire::ConsensusMessage;

/// Sends consensus messages to the other validators (best effort: the driver re-sends what
/// liveness needs).
pub trait Gossip: Send + Sync {
    /// Sends `msg` to every other validator.
    fn broadcast(&self, msg: &ConsensusMessage);
}

/// No peers: a chain of one validator.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoPeers;

impl Gossip for NoPeers {
    fn broadcast(&self, _msg: &ConsensusMessage) {}
}
