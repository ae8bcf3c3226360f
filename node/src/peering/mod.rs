//! Wires the network handle to the rest of the node (the only module besides `network/`
//! that knows peers exist): gossip out (consensus messages, locally submitted
//! transactions), gossip in (transactions to the mempool, consensus messages to the driver
//! or follower, each judged so that peers sending junk lose score), and block sync for a
//! node that is behind or whose data folder was wiped.

mod block_sync;
mod inbound;
pub mod judge;
mod network_gossip;

pub use block_sync::{
    BodyRequest, BodyResponse, PeerRequest, SyncRequest, SyncResponse, MAX_SYNC_BLOCKS,
};
pub use network_gossip::NetworkGossip;

use crate::consensus_driver::{ConsensusMessage, DriverHandle, FollowerHandle};
use crate::network::{NetworkClient, NetworkEvents, Topic};
use crate::node::Node;
use crate::storage::KvBackend;
use custody_consensus::PublicKey;
use custody_ledger::encoding;
use custody_ledger::genesis::Genesis;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, Notify};

/// The keys that may connect: every validator's and every member's in `genesis`, sorted.
pub fn allowed_keys(genesis: &Genesis) -> Vec<PublicKey> {
    let mut keys: Vec<_> = genesis
        .validators
        .iter()
        .map(|v| v.public_key)
        .chain(genesis.members.iter().map(|m| m.public_key))
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// Where consensus messages from peers go.
#[derive(Clone)]
pub enum Role {
    /// A validator's consensus driver.
    Validator(DriverHandle),
    /// A non-voting node's follower.
    Follower(FollowerHandle),
}

impl Role {
    /// Hands a message on; false if there was no room for it.
    fn deliver(&self, msg: ConsensusMessage) -> bool {
        match self {
            Role::Validator(d) => d.deliver(msg),
            Role::Follower(f) => f.deliver(msg),
        }
    }

    /// A proposed block body this node holds for the current height (validators only).
    fn proposal_body(
        &self,
        value: &custody_ledger::hash::Hash32,
    ) -> Option<Arc<custody_ledger::block::Block>> {
        match self {
            Role::Validator(d) => d.proposal_body(value),
            Role::Follower(_) => None,
        }
    }
}

/// State shared by the inbound loop and the syncer.
struct Shared<B: KvBackend> {
    node: Arc<Node<B>>,
    client: NetworkClient,
    role: Role,
    /// The peer that last showed us the highest height.
    ahead_peer: Mutex<Option<PublicKey>>,
    wake_sync: Notify,
    /// Which connected peer the next sync poll asks.
    sync_turn: std::sync::atomic::AtomicUsize,
    /// What of the consensus gossip is handed on.
    judge: Mutex<judge::ConsensusJudge>,
    /// How often each peer may ask us for blocks.
    sync_limits: Mutex<block_sync::RateLimits>,
}

/// Starts the peering tasks on the current tokio runtime: locally submitted transactions
/// are gossiped, network events are handled, and the node syncs blocks when behind.
pub fn start<B: KvBackend>(
    node: Arc<Node<B>>,
    client: NetworkClient,
    events: NetworkEvents,
    role: Role,
) {
    // One task publishes them in admission order (one task per transaction would let a
    // signer's n+1 overtake its n on the way out). Bounded in bytes: past the bound a
    // transaction is not gossiped (it stays in the mempool, and reaches a block when this
    // node proposes).
    let (outbox, mut to_publish) = mpsc::unbounded_channel::<Vec<u8>>();
    let queued = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&queued);
    node.on_local_tx(Box::new(move |tx| {
        let data = encoding::encode(tx);
        let len = data.len();
        if counted.fetch_add(len, Ordering::AcqRel) + len > MAX_OUTBOX_BYTES {
            counted.fetch_sub(len, Ordering::AcqRel);
            tracing::warn!(bytes = len, "transaction outbox full; not gossiped");
            return;
        }
        if outbox.send(data).is_err() {
            counted.fetch_sub(len, Ordering::AcqRel);
        }
    }));
    let publisher = client.clone();
    tokio::spawn(async move {
        while let Some(data) = to_publish.recv().await {
            let len = data.len();
            if let Err(e) = publisher.publish(Topic::Transactions, data).await {
                tracing::warn!(error = %e, "could not gossip a transaction");
            }
            queued.fetch_sub(len, Ordering::AcqRel);
        }
    });
    let shared = Arc::new(Shared {
        node,
        client,
        role,
        ahead_peer: Mutex::new(None),
        wake_sync: Notify::new(),
        sync_turn: std::sync::atomic::AtomicUsize::new(0),
        judge: Mutex::new(judge::ConsensusJudge::new()),
        sync_limits: Mutex::new(block_sync::RateLimits::default()),
    });
    // Consensus messages are read by their own task: they never wait behind transactions.
    let (consensus, other) = events.split();
    tokio::spawn(inbound::run_consensus(Arc::clone(&shared), consensus));
    tokio::spawn(inbound::run_other(Arc::clone(&shared), other));
    tokio::spawn(watch_peers(Arc::clone(&shared)));
    tokio::spawn(block_sync::run(shared));
}

/// Most bytes of local transactions waiting to be gossiped.
const MAX_OUTBOX_BYTES: usize = 32 * 1024 * 1024;

/// How often the node's peer book is refreshed from the network (connections, scores).
const PEER_REFRESH: std::time::Duration = std::time::Duration::from_secs(1);

/// Keeps the node's [`crate::peers::PeerBook`] up to date with who is connected and their
/// gossip scores, until the network stops.
async fn watch_peers<B: KvBackend>(s: Arc<Shared<B>>) {
    let mut tick = tokio::time::interval(PEER_REFRESH);
    loop {
        tick.tick().await;
        let Ok(peers) = s.client.connected_peers().await else {
            return;
        };
        let mut connected = Vec::with_capacity(peers.len());
        for peer in peers {
            let score = s.client.peer_score(peer).await.ok().flatten();
            connected.push((peer, score));
        }
        s.node.peers().set_connected(&connected);
    }
}
