//! Assembles provenance bundles from the store: the item's state and state-tree proof at
//! the head, every history event with its signed transaction and inclusion proof, and the
//! certified headers they need. Verification lives in `custody_ledger::proof`.

use crate::storage::{KvBackend, StorageError, Store};
use custody_ledger::genesis::Genesis;
use custody_ledger::gs1::ItemId;
use custody_ledger::hash::Hash32;
use custody_ledger::merkle;
use custody_ledger::proof::{CertifiedHeader, EventProof, ProofBundle, StateProof, VERSION};
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};

/// How many times to re-read when a block commits while the bundle is being read.
const ATTEMPTS: usize = 5;

/// The bundle for `id` at the current head (a proof of absence for an unknown serial).
pub fn bundle<B: KvBackend>(
    store: &Store<B>,
    genesis: &Genesis,
    id: &ItemId,
) -> Result<ProofBundle, StorageError> {
    for _ in 0..ATTEMPTS {
        if let Some(b) = try_bundle(store, genesis, id)? {
            return Ok(b);
        }
    }
    Err(StorageError::Backend(format!(
        "the history of {id} kept changing while its bundle was read"
    )))
}

/// `None` when a commit raced the reads (the history does not end at the proven state).
fn try_bundle<B: KvBackend>(
    store: &Store<B>,
    genesis: &Genesis,
    id: &ItemId,
) -> Result<Option<ProofBundle>, StorageError> {
    let (head, state, proof) = store.state_proof(id)?;
    let height = head.map_or(0, |h| h.height);
    let history = match &state {
        Some(s) => {
            let h = store.history(id)?;
            let head_ok = h.last().map(|e| e.hash()) == Some(s.history_head);
            if h.len() != s.event_count as usize || !head_ok {
                return Ok(None);
            }
            h
        }
        None => Vec::new(),
    };
    let mut heights: BTreeSet<u64> = history.iter().map(|e| e.height).collect();
    if height > 0 {
        heights.insert(height);
    }
    let mut block_hashes: BTreeMap<u64, Vec<Hash32>> = BTreeMap::new();
    let mut events = Vec::with_capacity(history.len());
    for event in history {
        let Some((tx, h, index)) = store.transaction(&event.tx)? else {
            return Err(StorageError::corrupt(
                format!("transaction {}", event.tx),
                "named by an event but not stored",
            ));
        };
        let hashes = match block_hashes.entry(h) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                let block = store
                    .block(h)?
                    .ok_or_else(|| StorageError::corrupt(format!("block {h}"), "missing"))?;
                e.insert(block.tx_hashes())
            }
        };
        let inclusion = merkle::prove(hashes, index).ok_or_else(|| {
            StorageError::corrupt(format!("block {h}"), format!("no transaction {index}"))
        })?;
        events.push(EventProof {
            event,
            tx,
            inclusion,
        });
    }
    let mut headers = Vec::with_capacity(heights.len());
    for h in heights {
        let (Some(header), Some(certificate)) = (store.header(h)?, store.certificate(h)?) else {
            return Err(StorageError::corrupt(
                format!("block {h}"),
                "header or certificate missing",
            ));
        };
        headers.push(CertifiedHeader {
            header,
            certificate,
        });
    }
    Ok(Some(ProofBundle {
        version: VERSION,
        chain_id: genesis.chain_id.clone(),
        genesis_hash: genesis.hash(),
        item: id.clone(),
        headers,
        state: StateProof {
            height,
            state,
            proof,
        },
        events,
    }))
}
