//! Point-to-point requests: block sync and proposal bodies. A node that is behind (or starts from a wiped data
//! folder) asks a peer for decided blocks with their certificates from its next height on,
//! and hands them to its driver or follower, which check every certificate and block as
//! they would a gossiped one. Every node also asks a peer (in turn) once a second, so one
//! restarted behind a quiet chain, or an observer, still catches up. A validator that saw
//! a proposal without its body (or had no room for it) asks for the body. Each peer's
//! requests are rate limited.

use crate::consensus_driver::ConsensusMessage;
use crate::node::Node;
use crate::peering::{Role, Shared};
use crate::storage::KvBackend;
use custody_consensus::PublicKey;
use custody_ledger::block::{Block, BlockCertificate};
use custody_ledger::encoding;
use custody_ledger::hash::Hash32;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Most blocks one answer carries.
pub const MAX_SYNC_BLOCKS: u32 = 64;
/// Most bytes of blocks one answer carries (the network allows more).
const MAX_SYNC_BYTES: usize = 8 * 1024 * 1024;
/// How often a node asks a peer for blocks past its head.
const POLL: Duration = Duration::from_secs(1);

/// What one peer asks another, point to point.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PeerRequest {
    /// Decided blocks with their certificates (answered with a [`SyncResponse`]).
    Blocks(SyncRequest),
    /// The body of a block proposed at the current height (answered with a
    /// [`BodyResponse`]).
    Body(BodyRequest),
}

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

/// "Send me the body of block `value`, proposed at `height`" (a proposal seen without its
/// body, or a body our cache had no room for).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BodyRequest {
    /// The height it was proposed at.
    pub height: u64,
    /// Its hash.
    pub value: Hash32,
}

/// The body asked for, if the peer has it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BodyResponse {
    /// The block.
    pub block: Option<Block>,
}

/// Requests a peer may make per second, on average, and in a burst. An honest node polls
/// once a second, and a few times more while it catches up or fetches a body.
const REQUESTS_PER_SECOND: f64 = 10.0;
const REQUEST_BURST: f64 = 20.0;

/// A token bucket per peer, so a peer asking in a tight loop is not answered past its rate
/// instead of making us read and send blocks as fast as it asks.
#[derive(Default)]
pub(super) struct RateLimits {
    buckets: HashMap<PublicKey, (f64, Instant)>,
}

impl RateLimits {
    /// Whether `peer` may be answered now (and takes a token if so).
    pub(super) fn allow(&mut self, peer: PublicKey, now: Instant) -> bool {
        let (tokens, at) = self.buckets.entry(peer).or_insert((REQUEST_BURST, now));
        let refill = now.saturating_duration_since(*at).as_secs_f64() * REQUESTS_PER_SECOND;
        *tokens = (*tokens + refill).min(REQUEST_BURST);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The answer to a request: blocks, or a body. Malformed requests, and requests past the
/// peer's rate (`allowed` false), get an empty answer.
pub(super) fn answer<B: KvBackend>(
    node: &Node<B>,
    role: &Role,
    request: &[u8],
    allowed: bool,
) -> Vec<u8> {
    let head = node.store().head().ok().flatten().map_or(0, |h| h.height);
    match encoding::decode::<PeerRequest>(request) {
        Ok(PeerRequest::Blocks(req)) if allowed => encoding::encode(&blocks(node, head, &req)),
        Ok(PeerRequest::Body(req)) if allowed => encoding::encode(&BodyResponse {
            block: body(node, role, &req),
        }),
        Ok(PeerRequest::Body(_)) => encoding::encode(&BodyResponse { block: None }),
        _ => encoding::encode(&SyncResponse {
            head,
            blocks: Vec::new(),
        }),
    }
}

fn blocks<B: KvBackend>(node: &Node<B>, head: u64, req: &SyncRequest) -> SyncResponse {
    let mut out = SyncResponse {
        head,
        blocks: Vec::new(),
    };
    let mut bytes = 0;
    let last = req
        .from
        .saturating_add(u64::from(req.max.min(MAX_SYNC_BLOCKS)));
    for h in req.from.max(1)..last.min(head.saturating_add(1)) {
        let (Ok(Some(block)), Ok(Some(cert))) =
            (node.store().block(h), node.store().certificate(h))
        else {
            break;
        };
        bytes += block.encoded_len();
        if bytes > MAX_SYNC_BYTES && !out.blocks.is_empty() {
            break;
        }
        out.blocks.push((cert, block));
    }
    out
}

/// A proposed body from the driver's cache, or a committed block with that hash.
fn body<B: KvBackend>(node: &Node<B>, role: &Role, req: &BodyRequest) -> Option<Block> {
    if let Some(b) = role.proposal_body(&req.value) {
        return Some((*b).clone());
    }
    match node.store().block(req.height) {
        Ok(Some(b)) if b.hash() == req.value => Some(b),
        _ => None,
    }
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
        let req = encoding::encode(&PeerRequest::Blocks(SyncRequest {
            from: next,
            max: MAX_SYNC_BLOCKS,
        }));
        let answer = s.client.request(peer, req).await.map_err(|e| e.to_string());
        let resp = answer
            .and_then(|bytes| encoding::decode::<SyncResponse>(&bytes).map_err(|e| e.to_string()));
        let resp = match resp {
            Ok(r) => r,
            Err(e) => {
                // That peer is gone or answers nonsense: ask the others in turn next time.
                *s.ahead_peer.lock().unwrap_or_else(|p| p.into_inner()) = None;
                return Err(e);
            }
        };
        s.node.note_peer_height(resp.head.saturating_add(1));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::tests::fixtures::Fixture;
    use crate::storage::{MemKv, Store};

    fn node() -> Arc<Node<MemKv>> {
        let genesis = Fixture::new().genesis;
        let store = Arc::new(Store::in_memory(&genesis));
        Arc::new(Node::new("n".into(), Arc::new(genesis), store, 10).unwrap())
    }

    #[test]
    fn a_peer_asking_in_a_tight_loop_is_answered_at_a_bounded_rate() {
        let mut limits = RateLimits::default();
        let (a, b) = (PublicKey([1; 32]), PublicKey([2; 32]));
        let t0 = Instant::now();
        let burst = (0..1_000).filter(|_| limits.allow(a, t0)).count();
        assert_eq!(burst, REQUEST_BURST as usize);
        assert!(limits.allow(b, t0), "another peer has its own budget");
        let later = t0 + Duration::from_secs(1);
        let refilled = (0..1_000).filter(|_| limits.allow(a, later)).count();
        assert_eq!(refilled, REQUESTS_PER_SECOND as usize);
    }

    #[test]
    fn requests_at_the_ends_of_the_number_range_get_empty_answers() {
        let node = node();
        let role = Role::Follower(
            crate::consensus_driver::spawn_follower(Arc::clone(&node))
                .unwrap()
                .0,
        );
        for (from, max) in [(u64::MAX, u32::MAX), (0, u32::MAX), (u64::MAX - 1, 1)] {
            let req = encoding::encode(&PeerRequest::Blocks(SyncRequest { from, max }));
            let resp: SyncResponse = encoding::decode(&answer(&node, &role, &req, true)).unwrap();
            assert!(resp.blocks.is_empty());
        }
        let req = encoding::encode(&PeerRequest::Body(BodyRequest {
            height: u64::MAX,
            value: Hash32::ZERO,
        }));
        let resp: BodyResponse = encoding::decode(&answer(&node, &role, &req, true)).unwrap();
        assert_eq!(resp.block, None);
        // Malformed: an empty answer, no work.
        let resp: SyncResponse =
            encoding::decode(&answer(&node, &role, &[0xff, 0xff], true)).unwrap();
        assert!(resp.blocks.is_empty());
    }
}
