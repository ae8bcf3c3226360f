//! Assembles provenance bundles from the store: at the head, the item's own state and
//! history, every case or pallet of its story (state and whole history), a unit's lot
//! record, their state-tree proofs, every transaction named with its inclusion proof,
//! and the certified headers they need. Verification lives in `custody_ledger::proof`.

use crate::storage::{KvBackend, StorageError, Store};
use custody_ledger::genesis::Genesis;
use custody_ledger::gs1::ItemId;
use custody_ledger::hash::Hash32;
use custody_ledger::merkle;
use custody_ledger::proof::{
    CertifiedHeader, ContainerProof, LotProof, ProofBundle, StateProof, TxProof, VERSION,
};
use custody_ledger::state::{ItemEvent, ItemState, LotRecord, StateKey};
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

/// An item's history as read, if it ends at `state` (a commit may have raced the reads).
fn history_of<B: KvBackend>(
    store: &Store<B>,
    state: &ItemState,
) -> Result<Option<Vec<ItemEvent>>, StorageError> {
    let h = store.history(&state.id)?;
    let head_ok = h.last().map(|e| e.hash()) == Some(state.history_head);
    Ok((h.len() == state.event_count as usize && head_ok).then_some(h))
}

/// `None` when a commit raced the reads.
fn try_bundle<B: KvBackend>(
    store: &Store<B>,
    genesis: &Genesis,
    id: &ItemId,
) -> Result<Option<ProofBundle>, StorageError> {
    let (head, state, proof) = store.state_proof(id)?;
    let height = head.map_or(0, |h| h.height);
    let Some(state) = state else {
        return Ok(Some(ProofBundle {
            version: VERSION,
            chain_id: genesis.chain_id.clone(),
            genesis_hash: genesis.hash(),
            item: id.clone(),
            headers: certified(store, [height].into_iter().filter(|h| *h > 0).collect())?,
            state: StateProof {
                height,
                state: None,
                proof,
            },
            events: vec![],
            containers: vec![],
            lot: None,
            transactions: vec![],
        }));
    };
    let Some(events) = history_of(store, &state)? else {
        return Ok(None);
    };
    let histories = store.container_histories(&events)?;
    // The containers' states and the lot, proven at the same height as the item.
    let container_ids: Vec<ItemId> = histories.keys().map(|s| ItemId::Sscc(s.clone())).collect();
    let lot_key = state
        .product
        .as_ref()
        .map(|p| (p.gtin.clone(), p.lot.clone()));
    let mut keys: Vec<StateKey<'_>> = container_ids.iter().map(StateKey::Item).collect();
    if let Some((g, l)) = &lot_key {
        keys.push(StateKey::Lot(g, l));
    }
    let (head2, mut proofs) = store.proofs(&keys)?;
    if head2.map_or(0, |h| h.height) != height {
        return Ok(None);
    }
    let lot = match &lot_key {
        Some((g, l)) => {
            let proof = proofs
                .pop()
                .ok_or_else(|| StorageError::corrupt("state tree", "a proof is missing"))?;
            let record: LotRecord = store.lot(g, l)?.ok_or_else(|| {
                StorageError::corrupt(format!("lot {l} of GTIN {g}"), "a unit names it")
            })?;
            Some(LotProof { record, proof })
        }
        None => None,
    };
    let mut containers = Vec::with_capacity(histories.len());
    for ((sscc, cevents), proof) in histories.into_iter().zip(proofs) {
        let cid = ItemId::Sscc(sscc);
        let Some(cstate) = store.item(&cid)? else {
            return Err(StorageError::corrupt(
                format!("item {cid}"),
                "a story names it",
            ));
        };
        if cstate.event_count as usize != cevents.len() {
            return Ok(None);
        }
        containers.push(ContainerProof {
            state: cstate,
            proof,
            events: cevents,
        });
    }
    if store.head()?.map_or(0, |h| h.height) != height {
        return Ok(None);
    }
    let mut named: BTreeSet<Hash32> = events.iter().map(|e| e.tx).collect();
    for c in &containers {
        named.extend(c.events.iter().map(|e| e.tx));
    }
    if let Some(r) = lot.as_ref().and_then(|l| l.record.recall.as_ref()) {
        named.insert(r.tx);
    }
    let transactions = transactions(store, named)?;
    let mut heights: BTreeSet<u64> = transactions.iter().map(|t| t.height).collect();
    heights.insert(height);
    Ok(Some(ProofBundle {
        version: VERSION,
        chain_id: genesis.chain_id.clone(),
        genesis_hash: genesis.hash(),
        item: id.clone(),
        headers: certified(store, heights)?,
        state: StateProof {
            height,
            state: Some(state),
            proof,
        },
        events,
        containers,
        lot,
        transactions,
    }))
}

/// Each transaction with its inclusion proof, in chain order.
fn transactions<B: KvBackend>(
    store: &Store<B>,
    hashes: BTreeSet<Hash32>,
) -> Result<Vec<TxProof>, StorageError> {
    let mut block_hashes: BTreeMap<u64, Vec<Hash32>> = BTreeMap::new();
    let mut out = Vec::with_capacity(hashes.len());
    for hash in hashes {
        let Some((tx, h, index)) = store.transaction(&hash)? else {
            return Err(StorageError::corrupt(
                format!("transaction {hash}"),
                "named by an event but not stored",
            ));
        };
        let block = match block_hashes.entry(h) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                let block = store
                    .block(h)?
                    .ok_or_else(|| StorageError::corrupt(format!("block {h}"), "missing"))?;
                e.insert(block.tx_hashes())
            }
        };
        let inclusion = merkle::prove(block, index).ok_or_else(|| {
            StorageError::corrupt(format!("block {h}"), format!("no transaction {index}"))
        })?;
        out.push(TxProof {
            tx,
            height: h,
            inclusion,
        });
    }
    out.sort_by_key(|t| (t.height, t.inclusion.index));
    Ok(out)
}

/// The headers at `heights` with their certificates.
fn certified<B: KvBackend>(
    store: &Store<B>,
    heights: BTreeSet<u64>,
) -> Result<Vec<CertifiedHeader>, StorageError> {
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
    Ok(headers)
}
