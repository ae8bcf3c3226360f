//! Network events in, in two tasks so consensus messages never wait behind transactions:
//! each gossip message is judged (`Accept` forwards it, `Reject` costs the sender score,
//! `Ignore` does neither) and handed on; sync and body requests are answered.

use crate::consensus_driver::ConsensusMessage;
use crate::network::{Acceptance, EventLane, NetworkEvent, RequestChannel, Topic};
use crate::node::{PeerAdmission, SubmitError};
use crate::peering::judge::Judgement;
use crate::peering::{block_sync, Shared};
use crate::peers::Verdict;
use crate::storage::KvBackend;
use custody_consensus::Ed25519Verifier;
use custody_ledger::encoding;
use custody_ledger::transaction::SignedTransaction;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::mpsc;

/// The consensus lane: judged and handed to the driver or follower at once.
pub(super) async fn run_consensus<B: KvBackend>(s: Arc<Shared<B>>, mut events: EventLane) {
    while let Some(ev) = events.recv().await {
        if let NetworkEvent::Gossip {
            data,
            source,
            message_id,
            ..
        } = ev
        {
            let verdict = consensus(&s, &data, source);
            report(&s, source, message_id, verdict).await;
        }
    }
}

/// Everything else: transactions, peers coming and going; requests go to their own task
/// (a peer asking in a tight loop must not hold up the transactions).
pub(super) async fn run_other<B: KvBackend>(s: Arc<Shared<B>>, mut events: EventLane) {
    let (requests, queued) = mpsc::channel(MAX_QUEUED_REQUESTS);
    tokio::spawn(run_requests(Arc::clone(&s), queued));
    while let Some(ev) = events.recv().await {
        match ev {
            NetworkEvent::Gossip {
                topic,
                data,
                source,
                message_id,
            } => {
                let verdict = match topic {
                    Topic::Transactions => transaction(&s, data).await,
                    Topic::Consensus => consensus(&s, &data, source),
                };
                report(&s, source, message_id, verdict).await;
            }
            NetworkEvent::Request {
                from,
                data,
                channel,
            } => {
                // Past the queue's room the request is not answered: the asker times out.
                if requests.try_send((from, data, channel)).is_err() {
                    tracing::debug!(peer = %from, "too many requests waiting; one dropped");
                }
            }
            NetworkEvent::PeerConnected(peer) => {
                tracing::info!(%peer, "peer connected");
                s.wake_sync.notify_one();
            }
            NetworkEvent::PeerDisconnected(peer) => tracing::info!(%peer, "peer disconnected"),
        }
    }
}

/// How long a validator proven to misbehave (flooding, oversized proposals) is
/// disconnected.
const MISBEHAVIOUR_BAN: std::time::Duration = std::time::Duration::from_secs(30);

/// Disconnects `peer` for [`MISBEHAVIOUR_BAN`].
fn ban<B: KvBackend>(s: &Shared<B>, peer: custody_consensus::PublicKey) {
    let client = s.client.clone();
    tokio::spawn(async move {
        let _ = client.ban(peer, MISBEHAVIOUR_BAN).await;
    });
}

/// Requests waiting for an answer, at most.
const MAX_QUEUED_REQUESTS: usize = 256;

/// Answers block-sync and body requests one at a time; a peer past its rate gets no
/// answer (it times out).
async fn run_requests<B: KvBackend>(
    s: Arc<Shared<B>>,
    mut queued: mpsc::Receiver<(custody_consensus::PublicKey, Vec<u8>, RequestChannel)>,
) {
    while let Some((from, data, channel)) = queued.recv().await {
        let allowed = s
            .sync_limits
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .allow(from, Instant::now());
        if !allowed {
            // Not answered: the asker waits for its timeout, which slows a tight loop down
            // far more than a quick empty answer would (libp2p fails the stream then).
            tracing::debug!(peer = %from, "request past the peer's rate; not answered");
            continue;
        }
        let shared = Arc::clone(&s);
        let bytes = match tokio::task::spawn_blocking(move || {
            block_sync::answer(&shared.node, &shared.role, &data, true)
        })
        .await
        {
            Ok(bytes) => bytes,
            Err(e) => {
                tracing::error!(error = %e, "sync answer task failed");
                continue;
            }
        };
        if let Err(e) = s.client.respond(channel, bytes).await {
            tracing::debug!(peer = %from, error = %e, "could not answer a sync request");
        }
    }
}

async fn report<B: KvBackend>(
    s: &Shared<B>,
    source: custody_consensus::PublicKey,
    message_id: crate::network::MessageId,
    verdict: Acceptance,
) {
    s.node.peers().note(
        source,
        match verdict {
            Acceptance::Accept => Verdict::Accepted,
            Acceptance::Ignore => Verdict::Ignored,
            Acceptance::Reject => Verdict::Rejected,
        },
    );
    if let Err(e) = s.client.report(message_id, verdict).await {
        tracing::debug!(error = %e, "could not report a gossip verdict");
    }
}

/// A transaction from a peer: into the mempool if it applies.
async fn transaction<B: KvBackend>(s: &Shared<B>, data: Vec<u8>) -> Acceptance {
    let Ok(tx) = encoding::decode::<SignedTransaction>(&data) else {
        return Acceptance::Reject;
    };
    let node = Arc::clone(&s.node);
    match tokio::task::spawn_blocking(move || node.admit_from_peer(tx)).await {
        // Authentic and (once the ones before it arrive) applicable: passed on.
        Ok(Ok(PeerAdmission::Admitted(_) | PeerAdmission::Held)) => Acceptance::Accept,
        Ok(Ok(PeerAdmission::TooEarly)) => Acceptance::Ignore,
        // Forged, malformed or for another chain: the sender should not have sent it.
        Ok(Err(SubmitError::Tx(_))) => Acceptance::Reject,
        // Already known, no longer valid here, or no room: not the sender's fault.
        Ok(Err(_)) | Err(_) => Acceptance::Ignore,
    }
}

/// A consensus message: [`judge`](crate::peering::judge) decides whether it is new and
/// useful, checking its signature (so forgeries are not forwarded) only if it is; the state
/// machine checks everything else.
fn consensus<B: KvBackend>(
    s: &Shared<B>,
    data: &[u8],
    source: custody_consensus::PublicKey,
) -> Acceptance {
    // A block over the chain's limit is invalid before anything else is looked at, the same
    // for every honest node: none forwards it, so only its author is penalised.
    // Its publisher (the gossip envelope's signer, whoever relayed it) made it: no honest
    // node publishes one, so the publisher is disconnected for a while too.
    let max_block = s.node.genesis().params.max_block_bytes as usize;
    if data.len() > max_block + crate::consensus_driver::PROPOSAL_ROOM {
        ban(s, source);
        return Acceptance::Reject;
    }
    let Ok(msg) = ConsensusMessage::decode_from_gossip(data) else {
        return Acceptance::Reject;
    };
    if let ConsensusMessage::Proposal { block, .. } = &msg {
        if block.encoded_len() > max_block {
            ban(s, source);
            return Acceptance::Reject;
        }
    }
    let genesis = s.node.genesis();
    let Some(set) = genesis.validator_set() else {
        return Acceptance::Ignore;
    };
    let chain = genesis.chain_id.as_str();
    let verify = |index: u16, bytes: Vec<u8>, sig: &custody_consensus::Signature| {
        set.get(index).is_some_and(|v| {
            custody_consensus::Verifier::verify(&Ed25519Verifier, &v.public_key, &bytes, sig)
        })
    };
    let authentic = || {
        let ok = match &msg {
            ConsensusMessage::Vote(v) => {
                verify(v.vote.validator, v.vote.sign_bytes(chain), &v.signature)
            }
            ConsensusMessage::Proposal { proposal, .. }
            | ConsensusMessage::ProposalHeader(proposal) => verify(
                proposal.proposal.proposer,
                proposal.proposal.sign_bytes(chain),
                &proposal.signature,
            ),
            // Never gossiped by honest nodes: the judge rejects it before asking.
            ConsensusMessage::Decided { .. } => false,
        };
        if !ok {
            tracing::warn!(peer = %source, "forged consensus message rejected");
        }
        ok
    };
    let next = match s.node.next_height() {
        Ok((next, _, _)) => next,
        // The driver meets the same storage failure and stops the node.
        Err(e) => {
            tracing::error!(error = %e, "storage failed while reading the head");
            return Acceptance::Ignore;
        }
    };
    let height = msg.height();
    // Cheap checks first (stale, too far ahead, re-sent, over its slot); the signature only
    // for what passes them.
    let judgement = s.judge.lock().unwrap_or_else(|p| p.into_inner()).judge(
        &msg,
        &set,
        next,
        Instant::now(),
        authentic,
    );
    let key = match judgement {
        Judgement::Deliver { key } => key,
        Judgement::Drop(verdict) => return verdict,
        // Not Reject: gossipsub would also penalise every peer that relayed the same
        // message while it was being judged, and honest relays must never lose score. But a
        // validator proven to flood under its own gossip identity is disconnected for a
        // while: its every message costs us a signature check before we see it.
        Judgement::Flood { proven } => {
            let author = msg.author().and_then(|a| set.get(a)).map(|v| v.public_key);
            if proven && author == Some(source) {
                ban(s, source);
            }
            return Acceptance::Ignore;
        }
    };
    if height > next {
        // A validator is ahead of us: catch up from it.
        *s.ahead_peer.lock().unwrap_or_else(|p| p.into_inner()) = Some(source);
        s.node.note_peer_height(height);
        s.wake_sync.notify_one();
    }
    if s.role.deliver(msg) {
        Acceptance::Accept
    } else {
        // No room: let a later copy through.
        s.judge
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .forget(height, &key);
        Acceptance::Ignore
    }
}
