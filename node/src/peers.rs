//! [`PeerBook`]: what this node knows of its peers, for operators — who is connected, their
//! gossip score, and how many of their messages were accepted, ignored or rejected. Plain
//! data, filled in by `peering` (the network's view) and read by the API and dashboard.

use custody_consensus::PublicKey;
use custody_ledger::genesis::Genesis;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Most peers (message authors included) the book keeps.
pub const MAX_PEERS_KEPT: usize = 1_024;

/// How this node judged one gossip message from a peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Valid: passed on.
    Accepted,
    /// Not the sender's fault (a duplicate, no room): dropped without penalty.
    Ignored,
    /// Malformed or forged: dropped and the sender penalised.
    Rejected,
}

/// One peer as an operator sees it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PeerInfo {
    /// Its ed25519 key (hex): its libp2p identity and its genesis key.
    pub public_key: String,
    /// Its validator or member name in the genesis file, if it has one.
    pub name: Option<String>,
    /// True if it is a validator.
    pub validator: bool,
    /// True while a connection to it is open.
    pub connected: bool,
    /// Its gossipsub score as this node computes it (negative after rejected messages;
    /// below -80 its messages are ignored). `None` while it is not connected.
    pub score: Option<f64>,
    /// Gossip messages it authored that this node accepted.
    pub accepted: u64,
    /// Gossip messages it authored that this node ignored.
    pub ignored: u64,
    /// Gossip messages it authored that this node rejected as malformed or forged.
    pub rejected: u64,
}

#[derive(Default)]
struct Entry {
    connected: bool,
    score: Option<f64>,
    accepted: u64,
    ignored: u64,
    rejected: u64,
}

/// Every peer this node has been connected to or heard from since it started.
#[derive(Default)]
pub struct PeerBook {
    peers: Mutex<BTreeMap<PublicKey, Entry>>,
}

impl PeerBook {
    /// Counts a gossip message authored by `peer`. Authors past [`MAX_PEERS_KEPT`] are not
    /// counted (a peer may relay messages signed by keys made up on the spot).
    pub fn note(&self, peer: PublicKey, verdict: Verdict) {
        let mut peers = self.peers.lock().unwrap_or_else(|p| p.into_inner());
        if peers.len() >= MAX_PEERS_KEPT && !peers.contains_key(&peer) {
            return;
        }
        let e = peers.entry(peer).or_default();
        match verdict {
            Verdict::Accepted => e.accepted += 1,
            Verdict::Ignored => e.ignored += 1,
            Verdict::Rejected => e.rejected += 1,
        }
    }

    /// Replaces the set of connected peers and their scores.
    pub fn set_connected(&self, connected: &[(PublicKey, Option<f64>)]) {
        let mut peers = self.peers.lock().unwrap_or_else(|p| p.into_inner());
        for e in peers.values_mut() {
            e.connected = false;
            e.score = None;
        }
        for (key, score) in connected {
            let e = peers.entry(*key).or_default();
            e.connected = true;
            e.score = *score;
        }
    }

    /// Every known peer, named from `genesis`, in key order.
    pub fn snapshot(&self, genesis: &Genesis) -> Vec<PeerInfo> {
        let peers = self.peers.lock().unwrap_or_else(|p| p.into_inner());
        peers
            .iter()
            .map(|(key, e)| {
                let validator = genesis.validators.iter().find(|v| &v.public_key == key);
                let name = validator
                    .map(|v| v.name.clone())
                    .or_else(|| genesis.member_by_key(key).map(|m| m.name.0.clone()));
                PeerInfo {
                    public_key: key.to_hex(),
                    name,
                    validator: validator.is_some(),
                    connected: e.connected,
                    score: e.score,
                    accepted: e.accepted,
                    ignored: e.ignored,
                    rejected: e.rejected,
                }
            })
            .collect()
    }

    /// How many peers are connected now.
    pub fn connected(&self) -> usize {
        let peers = self.peers.lock().unwrap_or_else(|p| p.into_inner());
        peers.values().filter(|e| e.connected).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use custody_ledger::genesis::Genesis;

    fn genesis() -> Genesis {
        let dir = tempfile::tempdir().unwrap();
        crate::dev::create(dir.path(), 4, "peers-test").unwrap()
    }

    #[test]
    fn verdicts_are_counted_per_author_and_names_come_from_genesis() {
        let g = genesis();
        let book = PeerBook::default();
        let v0 = g.validators[0].public_key;
        let m = g.members[0].public_key;
        book.set_connected(&[(v0, Some(0.5))]);
        book.note(v0, Verdict::Accepted);
        book.note(m, Verdict::Rejected);
        book.note(m, Verdict::Rejected);
        book.note(m, Verdict::Ignored);
        let s = book.snapshot(&g);
        let v = s.iter().find(|p| p.public_key == v0.to_hex()).unwrap();
        assert_eq!(v.name.as_deref(), Some(g.validators[0].name.as_str()));
        assert!(v.validator && v.connected);
        assert_eq!((v.score, v.accepted, v.rejected), (Some(0.5), 1, 0));
        let p = s.iter().find(|p| p.public_key == m.to_hex()).unwrap();
        assert_eq!(p.name.as_deref(), Some(g.members[0].name.0.as_str()));
        assert!(!p.validator && !p.connected);
        assert_eq!(
            (p.score, p.accepted, p.ignored, p.rejected),
            (None, 0, 1, 2)
        );
        assert_eq!(book.connected(), 1);

        // A peer that goes away stays listed, disconnected, with its counts.
        book.set_connected(&[]);
        let s = book.snapshot(&g);
        assert!(s.iter().all(|p| !p.connected && p.score.is_none()));
        assert_eq!(book.connected(), 0);
    }

    #[test]
    fn bounded() {
        let book = PeerBook::default();
        for i in 0..MAX_PEERS_KEPT + 10 {
            let mut key = [0u8; 32];
            key[..8].copy_from_slice(&(i as u64).to_le_bytes());
            book.note(PublicKey(key), Verdict::Rejected);
        }
        assert_eq!(book.snapshot(&genesis()).len(), MAX_PEERS_KEPT);
    }

    #[test]
    fn an_unknown_key_has_no_name() {
        let book = PeerBook::default();
        book.note(PublicKey([7; 32]), Verdict::Rejected);
        let s = book.snapshot(&genesis());
        assert_eq!(s[0].name, None);
        assert!(!s[0].validator);
    }
}
