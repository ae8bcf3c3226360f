//! Block sync over request-response: a node that is behind (or starts from a wiped data
//! folder) asks a peer for decided blocks with their certificates from its next height on,
//! and hands them to its driver or follower, which check every certificate and block as
//! they would a gossiped one. Every node also asks a peer (in turn) once a second, so one
//! restarted behind a quiet chain, or an observer, still catches up.

use crate::consensus_driver::ConsensusMessage;
use crate::node::Node;
use crate::peering::Shared;
use crate::storage::KvBackend;
use custody_ledger::block::{Block, BlockCertificate};
use custody_ledger::encoding;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

/// Most blocks one answer carries.
pub const MAX_SYNC_BLOCKS: u32 = 64;
/// Most bytes of blocks one answer carries (the network allows more).
const MAX_SYNC_BYTES: usize = 8 * 1024 * 1024;
/// How often a node asks a peer for blocks past its head.
const POLL: Duration = Duration::from_secs(1);

/// "Send me decided blocks from height `from`."
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRequest {
    /// First height wanted.
    pub from: u64,
    /// Most blocks wanted.
    pub max: u32,
}

/// Decided blocks, ascending from the requested height, and the peer's head.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncResponse {
    /// The answering peer's committed height.
    pub head: u64,
    /// Blocks with their certificates.
    pub blocks: Vec<(BlockCertificate, Block)>,
}

/// The answer to a sync request (an empty answer to a malformed one).
pub(super) fn answer<B: KvBackend>(node: &Node<B>, request: &[u8]) -> Vec<u8> {
    let head = node.store().head().ok().flatten().map_or(0, |h| h.height);
    let mut out = SyncResponse {
        head,
        blocks: Vec::new(),
    };
    if let Ok(req) = encoding::decode::<SyncRequest>(request) {
        let mut bytes = 0;
        let last = req
            .from
            .saturating_add(u64::from(req.max.min(MAX_SYNC_BLOCKS)));
        for h in req.from.max(1)..last.min(head + 1) {
            let (Ok(Some(block)), Ok(Some(cert))) =
                (node.store().block(h), node.store().certificate(h))
            else {
                break;
            };
            bytes += encoding::encode(&block).len();
            if bytes > MAX_SYNC_BYTES && !out.blocks.is_empty() {
                break;
            }
            out.blocks.push((cert, block));
        }
    }
    encoding::encode(&out)
}

/// Asks peers for blocks whenever we learn we are behind, and every second anyway.
pub(super) async fn run<B: KvBackend>(s: Arc<Shared<B>>) {
    loop {
        let _ = tokio::time::timeout(POLL, s.wake_sync.notified()).await;
        if let Err(e) = catch_up(&s).await {
            tracing::debug!(error = %e, "block sync attempt failed");
        }
    }
}

async fn catch_up<B: KvBackend>(s: &Shared<B>) -> Result<(), String> {
    loop {
        let (next, _, _) = s.node.next_height().map_err(|e| e.to_string())?;
        // A peer that showed us a higher height, else the connected peers in turn: a node
        // restarted a block behind an idle chain hears no messages that would tell it.
        let peer = {
            let ahead = *s.ahead_peer.lock().unwrap_or_else(|p| p.into_inner());
            match ahead {
                Some(p) => p,
                None => {
                    let peers = s
                        .client
                        .connected_peers()
                        .await
                        .map_err(|e| e.to_string())?;
                    if peers.is_empty() {
                        return Ok(());
                    }
                    let turn = s
                        .sync_turn
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    peers[turn % peers.len()]
                }
            }
        };
        let req = encoding::encode(&SyncRequest {
            from: next,
            max: MAX_SYNC_BLOCKS,
        });
        let bytes = s
            .client
            .request(peer, req)
            .await
            .map_err(|e| e.to_string())?;
        let resp: SyncResponse = encoding::decode(&bytes).map_err(|e| e.to_string())?;
        s.node.note_peer_height(resp.head + 1);
        let got = resp.blocks.len();
        if got == 0 {
            // That peer has nothing more: ask another next time.
            *s.ahead_peer.lock().unwrap_or_else(|p| p.into_inner()) = None;
            return Ok(());
        }
        let until = resp.blocks.last().map_or(next, |(c, _)| c.height.0);
        tracing::info!(%peer, from = next, to = until, "syncing blocks");
        for (certificate, block) in resp.blocks {
            s.role
                .deliver(ConsensusMessage::Decided { certificate, block });
        }
        // Let the driver or follower commit them before asking for more.
        for _ in 0..100 {
            let (now, _, _) = s.node.next_height().map_err(|e| e.to_string())?;
            if now > until {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if got < MAX_SYNC_BLOCKS as usize {
            return Ok(());
        }
    }
}
