//! The follower: how a node that does not vote (a member's node, a regulator's observer)
//! keeps up. It takes decided blocks with their commit certificates (from block sync),
//! checks each certificate against the genesis validators on arrival, keeps those ahead of
//! its head within a byte budget, and commits them in height order after checking them
//! against the ledger rules. A certified block that does not apply stops it with
//! [`DriverError::Diverged`]: the node must not go on serving stale state as current.

use crate::consensus_driver::driver::DriverError;
use crate::consensus_driver::inbox::{Event, Inbox};
use crate::consensus_driver::wire::ConsensusMessage;
use crate::node::{ConsensusStatus, InvalidBlock, Node};
use crate::storage::KvBackend;
use custody_consensus::{Ed25519Verifier, Height};
use custody_ledger::block::{Block, BlockCertificate};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Limits of the follower.
#[derive(Clone, Debug)]
pub struct FollowerOptions {
    /// Most bytes of messages waiting to be handled.
    pub max_inbox_bytes: usize,
    /// Most bytes of certified blocks kept for heights above the next one.
    pub max_ahead_bytes: usize,
}

impl Default for FollowerOptions {
    fn default() -> Self {
        FollowerOptions {
            max_inbox_bytes: 64 * 1024 * 1024,
            max_ahead_bytes: 64 * 1024 * 1024,
        }
    }
}

/// Feeds the follower; cheap to clone.
#[derive(Clone)]
pub struct FollowerHandle {
    inbox: Arc<Inbox>,
}

impl FollowerHandle {
    /// Hands in a message; only decided blocks matter to a follower. False if there was no
    /// room for it.
    pub fn deliver(&self, msg: ConsensusMessage) -> bool {
        if !matches!(msg, ConsensusMessage::Decided { .. }) {
            return true;
        }
        let bytes = msg.cost_bytes();
        self.inbox.push_message(msg, bytes)
    }

    /// Asks the follower to stop.
    pub fn shutdown(&self) {
        self.inbox.shutdown();
    }
}

/// Starts the follower thread with the default limits. It stops when asked or every handle
/// is dropped, on a storage failure, or when a certified block does not apply (both
/// returned).
pub fn spawn_follower<B: KvBackend>(
    node: Arc<Node<B>>,
) -> Result<(FollowerHandle, JoinHandle<Result<(), DriverError>>), DriverError> {
    spawn_follower_with(node, FollowerOptions::default())
}

/// [`spawn_follower`] with the given limits.
pub fn spawn_follower_with<B: KvBackend>(
    node: Arc<Node<B>>,
    options: FollowerOptions,
) -> Result<(FollowerHandle, JoinHandle<Result<(), DriverError>>), DriverError> {
    let inbox = Arc::new(Inbox::new(options.max_inbox_bytes));
    let handle = FollowerHandle {
        inbox: Arc::clone(&inbox),
    };
    let thread = std::thread::Builder::new()
        .name("follower".into())
        .spawn(move || Follower::new(node, options).run(&inbox))
        .map_err(DriverError::Thread)?;
    Ok((handle, thread))
}

struct Follower<B: KvBackend> {
    node: Arc<Node<B>>,
    options: FollowerOptions,
    /// Certified blocks above the next height, with their sizes.
    ahead: BTreeMap<u64, (BlockCertificate, Block, usize)>,
    ahead_bytes: usize,
}

impl<B: KvBackend> Follower<B> {
    fn new(node: Arc<Node<B>>, options: FollowerOptions) -> Self {
        Follower {
            node,
            options,
            ahead: BTreeMap::new(),
            ahead_bytes: 0,
        }
    }

    fn run(mut self, inbox: &Arc<Inbox>) -> Result<(), DriverError> {
        loop {
            // Every handle gone: no one can feed us any more.
            if Arc::strong_count(inbox) == 1 {
                return Ok(());
            }
            match inbox.next(Instant::now() + Duration::from_millis(500)) {
                Some(Event::Shutdown) => return Ok(()),
                Some(Event::Message(ConsensusMessage::Decided { certificate, block })) => {
                    self.on_decided(certificate, block)?
                }
                Some(_) | None => {}
            }
        }
    }

    fn on_decided(
        &mut self,
        certificate: BlockCertificate,
        block: Block,
    ) -> Result<(), DriverError> {
        let (next, _, _) = self.node.next_height()?;
        let h = certificate.height.0;
        if h < next || self.ahead.contains_key(&h) {
            return Ok(());
        }
        // Checked on arrival, so only genuine blocks take room.
        let genesis = self.node.genesis();
        let Some(set) = genesis.validator_set() else {
            return Ok(());
        };
        if let Err(e) = certificate.verify_for(
            &genesis.chain_id,
            &set,
            &Ed25519Verifier,
            Height(h),
            &block.hash(),
        ) {
            tracing::warn!(height = h, error = %e, "decided block with a bad certificate: ignored");
            return Ok(());
        }
        let bytes = block.encoded_len();
        if h != next && self.ahead_bytes.saturating_add(bytes) > self.options.max_ahead_bytes {
            // Block sync brings it again once the ones before it are committed.
            tracing::debug!(height = h, "blocks ahead at their byte bound; dropped");
            return Ok(());
        }
        self.ahead_bytes += bytes;
        self.ahead.insert(h, (certificate, block, bytes));
        loop {
            let (next, _, _) = self.node.next_height()?;
            let Some((certificate, block, bytes)) = self.ahead.remove(&next) else {
                break;
            };
            self.ahead_bytes -= bytes;
            follow(&self.node, next, &certificate, &block)?;
        }
        let (next, _, _) = self.node.next_height()?;
        let stale: Vec<u64> = self.ahead.range(..next).map(|(h, _)| *h).collect();
        for h in stale {
            if let Some((_, _, bytes)) = self.ahead.remove(&h) {
                self.ahead_bytes -= bytes;
            }
        }
        Ok(())
    }
}

/// Commits one certified block (its certificate already checked).
fn follow<B: KvBackend>(
    node: &Node<B>,
    height: u64,
    certificate: &BlockCertificate,
    block: &Block,
) -> Result<(), DriverError> {
    match node.validate_certified_block(block) {
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
            tracing::error!(height, error = %e, "a certified block does not apply here; stopping");
            node.set_consensus_status(ConsensusStatus {
                height,
                round: 0,
                step: "diverged".into(),
            });
            Err(DriverError::Diverged {
                height,
                reason: e.to_string(),
            })
        }
    }
}
