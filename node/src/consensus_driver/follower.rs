//! The follower: how a node that does not vote (a member's node, a regulator's observer)
//! keeps up. It takes decided blocks with their commit certificates (from block sync or
//! gossip), checks each certificate against the genesis validators and the block against
//! the ledger rules, and commits them in height order.

use crate::consensus_driver::driver::DriverError;
use crate::consensus_driver::wire::ConsensusMessage;
use crate::node::{ConsensusStatus, InvalidBlock, Node};
use crate::storage::KvBackend;
use custody_consensus::{Ed25519Verifier, Height};
use custody_ledger::block::{Block, BlockCertificate};
use std::collections::BTreeMap;
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;

/// Most decided blocks kept for heights above the next one.
const MAX_AHEAD: usize = 1_024;

/// Feeds the follower; cheap to clone.
#[derive(Clone)]
pub struct FollowerHandle {
    tx: mpsc::Sender<Box<ConsensusMessage>>,
}

impl FollowerHandle {
    /// Hands in a message; only decided blocks matter to a follower.
    pub fn deliver(&self, msg: ConsensusMessage) {
        let _ = self.tx.send(Box::new(msg));
    }
}

/// Starts the follower thread. It stops when every handle is dropped, or on a storage
/// failure (returned).
pub fn spawn_follower<B: KvBackend>(
    node: Arc<Node<B>>,
) -> Result<(FollowerHandle, JoinHandle<Result<(), DriverError>>), DriverError> {
    let (tx, rx) = mpsc::channel::<Box<ConsensusMessage>>();
    let thread = std::thread::Builder::new()
        .name("follower".into())
        .spawn(move || {
            let mut ahead: BTreeMap<u64, (BlockCertificate, Block)> = BTreeMap::new();
            while let Ok(msg) = rx.recv() {
                let ConsensusMessage::Decided { certificate, block } = *msg else {
                    continue;
                };
                let (next, _, _) = node.next_height()?;
                let h = certificate.height.0;
                if h < next {
                    continue;
                }
                if ahead.len() < MAX_AHEAD || h == next {
                    ahead.insert(h, (certificate, block));
                }
                loop {
                    let (next, _, _) = node.next_height()?;
                    let Some((certificate, block)) = ahead.remove(&next) else {
                        break;
                    };
                    follow(&node, next, &certificate, &block)?;
                }
                let (next, _, _) = node.next_height()?;
                ahead.retain(|h, _| *h >= next);
            }
            Ok(())
        })
        .map_err(DriverError::Thread)?;
    Ok((FollowerHandle { tx }, thread))
}

/// Checks and commits one decided block; a bad one is logged and skipped.
fn follow<B: KvBackend>(
    node: &Node<B>,
    height: u64,
    certificate: &BlockCertificate,
    block: &Block,
) -> Result<(), DriverError> {
    let genesis = node.genesis();
    let Some(set) = genesis.validator_set() else {
        return Ok(());
    };
    if let Err(e) = certificate.verify_for(
        &genesis.chain_id,
        &set,
        &Ed25519Verifier,
        Height(height),
        &block.hash(),
    ) {
        tracing::warn!(height, error = %e, "decided block with a bad certificate: ignored");
        return Ok(());
    }
    match node.validate_block(block) {
        Ok(outcome) => {
            let c = node.commit(block, certificate, &outcome)?;
            node.set_consensus_status(ConsensusStatus {
                height: c.height + 1,
                round: 0,
                step: "following".into(),
            });
            tracing::info!(
                height = c.height,
                txs = c.txs,
                events = c.events,
                "block followed"
            );
            Ok(())
        }
        Err(InvalidBlock::Storage(e)) => Err(e.into()),
        Err(e) => {
            tracing::error!(height, error = %e, "a certified block does not apply here");
            Ok(())
        }
    }
}
