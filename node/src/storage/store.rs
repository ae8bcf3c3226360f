//! The ledger store: blocks, certificates, transactions, item states, histories, records
//! and indexes over any [`KvBackend`]. One committed block is one atomic, durable write.
//!
//! This module never interprets ledger rules: it stores what the ledger computed
//! ([`Changes`]) and answers reads.

use crate::storage::head::Head;
use crate::storage::keys;
use crate::storage::kv_backend::{KvBackend, WriteBatch};
use crate::storage::mem_kv::MemKv;
use crate::storage::sled_kv::SledKv;
use crate::storage::storage_error::StorageError;
use custody_ledger::block::{Block, BlockCertificate, BlockHeader};
use custody_ledger::encoding::{decode, encode};
use custody_ledger::genesis::{Genesis, MemberId};
use custody_ledger::gs1::{Gln, Gtin, ItemId, Lot};
use custody_ledger::hash::Hash32;
use custody_ledger::smt::{Node, NodeStore, Smt, SmtError, SmtProof, SmtUpdate};
use custody_ledger::state::story::{self, StoryEntry};
use custody_ledger::state::{
    resolve, Changes, Effective, ItemEvent, ItemState, LotRecord, RecallRecord, Shipment,
    StateError, StateKey, StateView,
};
use custody_ledger::transaction::{ShipmentId, SignedTransaction};
use serde::de::DeserializeOwned;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// The storage format this build reads and writes (recorded in the `format` meta key).
///
/// 2: every record written by this release: transactions and block headers carry their
/// format versions, the state tree covers lots, shipments, recalls and sequences, packed
/// items take their place from their containers (1 was the release before). A data folder
/// of another format is refused ([`StorageError::UnsupportedFormat`]); there is no
/// migration.
pub const FORMAT_VERSION: u32 = 2;

/// How many index entries one backend call reads while counting.
const COUNT_PAGE: usize = 4096;

/// The node's ledger store over a key-value backend.
///
/// `Send + Sync`: share it with `Arc<Store<_>>`. Every read call answers from one
/// committed state (a commit never interleaves with a single call), but two calls may see
/// two different heights if a block is committed between them.
#[derive(Debug)]
pub struct Store<B: KvBackend> {
    kv: B,
    genesis_hash: Hash32,
    chain_id: String,
    /// The chain's `max_nesting`: how far up a packed item's containers are read.
    max_nesting: u32,
    /// Writers (commits) exclusive, readers shared: makes each call see whole blocks.
    commit_lock: RwLock<()>,
}

impl Store<SledKv> {
    /// Opens the store in `dir`, creating it for `genesis` if the directory is new or empty.
    ///
    /// Refuses with [`StorageError::UnsupportedFormat`] a directory written in another
    /// storage format, and with [`StorageError::GenesisMismatch`] one made for another
    /// genesis.
    pub fn open(dir: &Path, genesis: &Genesis) -> Result<Self, StorageError> {
        Store::with_backend(SledKv::open(dir)?, genesis)
    }
}

impl Store<MemKv> {
    /// A new, empty in-memory store for `genesis`.
    pub fn in_memory(genesis: &Genesis) -> Self {
        Store::with_backend(MemKv::new(), genesis)
            .expect("a fresh in-memory backend is empty and its writes cannot fail")
    }
}

impl<B: KvBackend> Store<B> {
    /// Opens a store on `kv`: records `genesis` (hash and format version) in an empty
    /// backend, or checks that a non-empty one is of this build's [`FORMAT_VERSION`] and
    /// was made for the same genesis.
    ///
    /// The format version is checked first: a data folder of another format is refused
    /// with [`StorageError::UnsupportedFormat`] whatever else it holds (another release may
    /// encode even the genesis, and so its hash, differently). Then a different genesis is
    /// [`StorageError::GenesisMismatch`]. A refusal writes nothing.
    pub fn with_backend(kv: B, genesis: &Genesis) -> Result<Self, StorageError> {
        let expected = genesis.hash();
        let store = Store {
            kv,
            genesis_hash: expected,
            chain_id: genesis.chain_id.clone(),
            max_nesting: genesis.params.max_nesting,
            commit_lock: RwLock::new(()),
        };
        let format =
            store.get_decoded::<u32>(&keys::format(), || "format version (meta)".into())?;
        match format {
            Some(found) if found != FORMAT_VERSION => {
                return Err(StorageError::UnsupportedFormat {
                    found,
                    supported: FORMAT_VERSION,
                });
            }
            Some(_) => {
                let found = store
                    .get_decoded::<Hash32>(&keys::genesis(), || "genesis hash (meta)".into())?
                    .ok_or_else(|| StorageError::corrupt("genesis hash (meta)", "missing"))?;
                if found != expected {
                    return Err(StorageError::GenesisMismatch { expected, found });
                }
            }
            None => {
                if let Some((k, _)) = store.kv.scan_prefix(&[], 1)?.into_iter().next() {
                    return Err(StorageError::corrupt(
                        "data directory",
                        format!(
                            "holds data (first key {}) but no storage format record",
                            hex::encode(k)
                        ),
                    ));
                }
                let mut b = WriteBatch::new();
                b.put(keys::genesis(), encode(&expected));
                b.put(keys::format(), encode(&FORMAT_VERSION));
                store.kv.write_batch(b)?;
            }
        }
        Ok(store)
    }

    /// The backend (for tools and tests; writing to it directly bypasses every check).
    pub fn backend(&self) -> &B {
        &self.kv
    }

    /// Hash of the genesis this store was made for.
    pub fn genesis_hash(&self) -> Hash32 {
        self.genesis_hash
    }

    /// The chain id of that genesis.
    pub fn chain_id(&self) -> &str {
        &self.chain_id
    }

    fn read(&self) -> RwLockReadGuard<'_, ()> {
        // The lock guards no data (it only orders calls), so poisoning is harmless.
        self.commit_lock.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, ()> {
        self.commit_lock.write().unwrap_or_else(|e| e.into_inner())
    }

    fn get_decoded<T: DeserializeOwned>(
        &self,
        key: &[u8],
        what: impl FnOnce() -> String,
    ) -> Result<Option<T>, StorageError> {
        match self.kv.get(key)? {
            None => Ok(None),
            Some(bytes) => decode(&bytes)
                .map(Some)
                .map_err(|e| StorageError::corrupt(what(), e)),
        }
    }

    /// The committed head, or `None` before block 1.
    pub fn head(&self) -> Result<Option<Head>, StorageError> {
        let _r = self.read();
        self.head_unlocked()
    }

    fn head_unlocked(&self) -> Result<Option<Head>, StorageError> {
        self.get_decoded(&keys::head(), || "head (meta)".into())
    }

    /// Commits one decided block: its header, transactions, certificate, the transaction
    /// index, and every state change, index update and the new head, in one atomic
    /// [`KvBackend::write_batch`]. Durable when it returns `Ok`.
    ///
    /// Refuses (writing nothing) a block that is not the head's child
    /// ([`StorageError::NotNext`], [`StorageError::WrongParent`]), or whose chain id, body
    /// or certificate (height and value) does not match it ([`StorageError::BadBlock`]).
    /// The certificate's signatures are not checked here: that is consensus's job.
    ///
    /// # Correctness
    /// `changes` must be exactly what applying `block.txs` in order to the state at the
    /// current head produced (an [`Overlay`](custody_ledger::state::Overlay) over this
    /// store): index maintenance trusts each `ItemChange::before` to be the stored state.
    pub fn commit_block(
        &self,
        block: &Block,
        cert: &BlockCertificate,
        changes: &Changes,
    ) -> Result<(), StorageError> {
        self.commit_block_with_tree(block, cert, changes, None)
    }

    /// [`commit_block`](Self::commit_block) with the state-tree update already computed by
    /// [`state_update`](Self::state_update) for the same `changes` at the current head
    /// (the consensus driver computes it while validating, off the write lock).
    ///
    /// # Correctness
    /// `tree` must come from `state_update(changes)` with no block committed since; its
    /// root is still checked against the header.
    pub fn commit_block_with_tree(
        &self,
        block: &Block,
        cert: &BlockCertificate,
        changes: &Changes,
        tree: Option<&SmtUpdate>,
    ) -> Result<(), StorageError> {
        let _w = self.write();
        let h = &block.header;
        let height = h.height;
        let (expected_height, expected_parent, root) = match self.head_unlocked()? {
            Some(head) => (head.height.saturating_add(1), head.hash, head.state_root),
            None => (1, self.genesis_hash, Smt::empty_root()),
        };
        if height != expected_height {
            return Err(StorageError::NotNext {
                expected: expected_height,
                found: height,
            });
        }
        if h.parent != expected_parent {
            return Err(StorageError::WrongParent {
                height,
                expected: expected_parent,
                found: h.parent,
            });
        }
        let bad = |detail: String| StorageError::BadBlock { height, detail };
        if h.chain_id != self.chain_id {
            return Err(bad(format!(
                "chain id {:?}, this store is for {:?}",
                h.chain_id, self.chain_id
            )));
        }
        block.check_body().map_err(|e| bad(e.to_string()))?;
        let hash = block.hash();
        if cert.height.0 != height {
            return Err(bad(format!("certificate is for height {}", cert.height)));
        }
        if cert.value != hash {
            return Err(bad(format!(
                "certificate certifies {}, the block hash is {hash}",
                cert.value
            )));
        }

        let computed;
        let tree = match tree {
            Some(t) => t,
            None => {
                computed = self.state_update_from(root, changes)?;
                &computed
            }
        };
        if tree.root != h.state_root {
            return Err(bad(format!(
                "state root {} does not match the state after its changes ({})",
                h.state_root, tree.root
            )));
        }
        let mut batch = self.block_batch(block, hash, cert, changes)?;
        // Replaced nodes go first: a node can be both replaced and re-created.
        for stale in &tree.stale_nodes {
            batch.delete(keys::smt_node(stale));
        }
        for (node_hash, node) in &tree.new_nodes {
            batch.put(keys::smt_node(node_hash), encode(node));
        }
        self.kv.write_batch(batch)
    }

    /// The root of the state tree at the head (the empty tree's before block 1).
    pub fn state_root(&self) -> Result<Hash32, StorageError> {
        Ok(self.head()?.map_or_else(Smt::empty_root, |h| h.state_root))
    }

    /// What `changes`, applied to the head's state, do to the state tree: its new root and
    /// the nodes to write. Pure read; a block's `state_root` is the returned root.
    pub fn state_update(&self, changes: &Changes) -> Result<SmtUpdate, StorageError> {
        let _r = self.read();
        let root = self
            .head_unlocked()?
            .map_or_else(Smt::empty_root, |h| h.state_root);
        self.state_update_from(root, changes)
    }

    fn state_update_from(
        &self,
        root: Hash32,
        changes: &Changes,
    ) -> Result<SmtUpdate, StorageError> {
        Smt::update(&SmtNodes(self), root, &changes.leaves())
            .map_err(|e| StorageError::corrupt("state tree", e))
    }

    /// An item's state at the head with its state-tree proof (of membership, or of absence
    /// for a serial never commissioned), all read at one height.
    pub fn state_proof(
        &self,
        id: &ItemId,
    ) -> Result<(Option<Head>, Option<ItemState>, SmtProof), StorageError> {
        let _r = self.read();
        let head = self.head_unlocked()?;
        let root = head.map_or_else(Smt::empty_root, |h| h.state_root);
        let proof = self.prove_unlocked(root, &StateKey::Item(id))?;
        let state = self.get_decoded(&keys::item(id), || format!("item {id}"))?;
        Ok((head, state, proof))
    }

    /// State-tree proofs of `keys` at the head, all read at one height.
    pub fn proofs(
        &self,
        keys: &[StateKey<'_>],
    ) -> Result<(Option<Head>, Vec<SmtProof>), StorageError> {
        let _r = self.read();
        let head = self.head_unlocked()?;
        let root = head.map_or_else(Smt::empty_root, |h| h.state_root);
        let proofs = keys
            .iter()
            .map(|k| self.prove_unlocked(root, k))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((head, proofs))
    }

    fn prove_unlocked(&self, root: Hash32, key: &StateKey<'_>) -> Result<SmtProof, StorageError> {
        Smt::prove(&SmtNodes(self), root, &key.hash())
            .map_err(|e| StorageError::corrupt("state tree", e))
    }

    fn block_batch(
        &self,
        block: &Block,
        hash: Hash32,
        cert: &BlockCertificate,
        changes: &Changes,
    ) -> Result<WriteBatch, StorageError> {
        let h = &block.header;
        let height = h.height;
        let mut b = WriteBatch::new();
        b.put(keys::header(height), encode(h));
        for (i, tx) in block.txs.iter().enumerate() {
            let index = u32::try_from(i).map_err(|_| StorageError::BadBlock {
                height,
                detail: format!("more than {} transactions", u32::MAX),
            })?;
            b.put(keys::block_tx(height, index), encode(tx));
            b.put(keys::tx_index(&tx.hash()), encode(&(height, index)));
        }
        b.put(keys::certificate(height), encode(cert));

        for (id, ch) in &changes.items {
            b.put(keys::item(id), encode(&ch.after));
            let old = match &ch.before {
                Some(s) => index_keys(s)?,
                None => BTreeSet::new(),
            };
            let new = index_keys(&ch.after)?;
            for k in old.difference(&new) {
                b.delete(k.clone());
            }
            for k in new.difference(&old) {
                b.put(k.clone(), Vec::new());
            }
        }
        for ev in &changes.events {
            b.put(keys::event(&ev.item, ev.seq)?, encode(ev));
        }
        for (id, s) in &changes.shipments {
            b.put(keys::shipment(id), encode(s));
            b.put(keys::member_shipment(&s.from, id)?, Vec::new());
            b.put(keys::member_shipment(&s.to, id)?, Vec::new());
        }
        for (rid, r) in &changes.recalls {
            b.put(keys::recall(rid), encode(r));
        }
        for ((gtin, lot), r) in &changes.lots {
            b.put(keys::lot(gtin, lot)?, encode(r));
        }
        for (member, seq) in &changes.sequences {
            b.put(keys::sequence(member), encode(seq));
        }
        let head = Head {
            height,
            hash,
            time_ms: h.time_ms,
            state_root: h.state_root,
        };
        b.put(keys::head(), encode(&head));
        Ok(b)
    }

    /// The block at `height`.
    pub fn block(&self, height: u64) -> Result<Option<Block>, StorageError> {
        let _r = self.read();
        let Some(header) = self.header_unlocked(height)? else {
            return Ok(None);
        };
        let prefix = keys::block_txs(height);
        let rows = self.kv.scan_prefix(&prefix, header.tx_count as usize)?;
        if rows.len() != header.tx_count as usize {
            return Err(StorageError::corrupt(
                format!("block {height}"),
                format!(
                    "header says {} transactions, {} are stored",
                    header.tx_count,
                    rows.len()
                ),
            ));
        }
        let mut txs = Vec::with_capacity(rows.len());
        for (i, (k, v)) in rows.into_iter().enumerate() {
            if k != keys::block_tx(height, i as u32) {
                return Err(StorageError::corrupt(
                    format!("block {height}"),
                    format!("transaction {i} is missing (found key {})", hex::encode(k)),
                ));
            }
            txs.push(decode(&v).map_err(|e| {
                StorageError::corrupt(format!("transaction {i} of block {height}"), e)
            })?);
        }
        Ok(Some(Block { header, txs }))
    }

    /// The header of the block at `height`.
    pub fn header(&self, height: u64) -> Result<Option<BlockHeader>, StorageError> {
        let _r = self.read();
        self.header_unlocked(height)
    }

    fn header_unlocked(&self, height: u64) -> Result<Option<BlockHeader>, StorageError> {
        self.get_decoded(&keys::header(height), || {
            format!("header of block {height}")
        })
    }

    /// The commit certificate of the block at `height`.
    pub fn certificate(&self, height: u64) -> Result<Option<BlockCertificate>, StorageError> {
        let _r = self.read();
        self.get_decoded(&keys::certificate(height), || {
            format!("certificate of block {height}")
        })
    }

    /// Where a committed transaction is: (block height, index in the block).
    pub fn tx_location(&self, hash: &Hash32) -> Result<Option<(u64, u32)>, StorageError> {
        let _r = self.read();
        self.tx_location_unlocked(hash)
    }

    fn tx_location_unlocked(&self, hash: &Hash32) -> Result<Option<(u64, u32)>, StorageError> {
        self.get_decoded(&keys::tx_index(hash), || {
            format!("location of transaction {hash}")
        })
    }

    /// A committed transaction with its block height and index.
    pub fn transaction(
        &self,
        hash: &Hash32,
    ) -> Result<Option<(SignedTransaction, u64, u32)>, StorageError> {
        let _r = self.read();
        let Some((height, index)) = self.tx_location_unlocked(hash)? else {
            return Ok(None);
        };
        let tx: SignedTransaction = self
            .get_decoded(&keys::block_tx(height, index), || {
                format!("transaction {index} of block {height}")
            })?
            .ok_or_else(|| {
                StorageError::corrupt(
                    format!("transaction {hash}"),
                    format!("indexed at block {height} index {index}, which is missing"),
                )
            })?;
        Ok(Some((tx, height, index)))
    }

    /// An item's state.
    pub fn item(&self, id: &ItemId) -> Result<Option<ItemState>, StorageError> {
        let _r = self.read();
        self.get_decoded(&keys::item(id), || format!("item state of {id}"))
    }

    /// An item's history, oldest event first (empty for an unknown item).
    pub fn history(&self, id: &ItemId) -> Result<Vec<ItemEvent>, StorageError> {
        self.history_page(id, None, usize::MAX)
    }

    /// Up to `limit` history events of an item with sequence numbers after `after_seq`
    /// (from the first when `None`), oldest first.
    pub fn history_page(
        &self,
        id: &ItemId,
        after_seq: Option<u32>,
        limit: usize,
    ) -> Result<Vec<ItemEvent>, StorageError> {
        let _r = self.read();
        self.history_unlocked(id, after_seq, limit)
    }

    fn history_unlocked(
        &self,
        id: &ItemId,
        after_seq: Option<u32>,
        limit: usize,
    ) -> Result<Vec<ItemEvent>, StorageError> {
        let prefix = keys::events(id)?;
        let start = after_seq.map(|s| keys::event(id, s)).transpose()?;
        let rows = self.kv.scan_prefix_from(&prefix, start.as_deref(), limit)?;
        rows.into_iter()
            .map(|(k, v)| {
                decode(&v).map_err(|e| {
                    StorageError::corrupt(
                        format!("history event of {id} (key {})", hex::encode(&k)),
                        e,
                    )
                })
            })
            .collect()
    }

    fn index_page(
        &self,
        prefix: Vec<u8>,
        after: Option<&ItemId>,
        limit: usize,
    ) -> Result<Vec<ItemId>, StorageError> {
        let _r = self.read();
        let start = after.map(|a| keys::with_item(prefix.clone(), a));
        let rows = self.kv.scan_prefix_from(&prefix, start.as_deref(), limit)?;
        rows.iter()
            .map(|(k, _)| keys::item_suffix(&prefix, k))
            .collect()
    }

    fn index_count(&self, prefix: Vec<u8>) -> Result<u64, StorageError> {
        let _r = self.read();
        let mut n = 0u64;
        let mut last: Option<Vec<u8>> = None;
        loop {
            let rows = self
                .kv
                .scan_prefix_from(&prefix, last.as_deref(), COUNT_PAGE)?;
            n += rows.len() as u64;
            if rows.len() < COUNT_PAGE {
                return Ok(n);
            }
            last = rows.into_iter().next_back().map(|(k, _)| k);
        }
    }

    /// Items `member` holds that are still in the supply chain (active or in transit, not
    /// decommissioned), in item-key order, after `after`, at most `limit`.
    pub fn items_by_custodian(
        &self,
        member: &MemberId,
        after: Option<&ItemId>,
        limit: usize,
    ) -> Result<Vec<ItemId>, StorageError> {
        self.index_page(keys::custodian_items(member)?, after, limit)
    }

    /// How many items [`items_by_custodian`](Self::items_by_custodian) would list.
    pub fn count_by_custodian(&self, member: &MemberId) -> Result<u64, StorageError> {
        self.index_count(keys::custodian_items(member)?)
    }

    /// Items stored at `gln` that are still in the supply chain, in item-key order, after
    /// `after`, at most `limit`.
    pub fn items_by_location(
        &self,
        gln: &Gln,
        after: Option<&ItemId>,
        limit: usize,
    ) -> Result<Vec<ItemId>, StorageError> {
        self.index_page(keys::location_items(gln)?, after, limit)
    }

    /// Every unit of a lot ever commissioned (whatever its status), in item-key order,
    /// after `after`, at most `limit`.
    pub fn items_by_lot(
        &self,
        gtin: &Gtin,
        lot: &Lot,
        after: Option<&ItemId>,
        limit: usize,
    ) -> Result<Vec<ItemId>, StorageError> {
        self.index_page(keys::lot_items(gtin, lot)?, after, limit)
    }

    /// A member's last sequence number (0 if none).
    pub fn last_sequence(&self, member: &MemberId) -> Result<u64, StorageError> {
        let _r = self.read();
        Ok(self
            .get_decoded(&keys::sequence(member), || {
                format!("last sequence of {member}")
            })?
            .unwrap_or(0))
    }

    /// A shipment.
    pub fn shipment(&self, id: &ShipmentId) -> Result<Option<Shipment>, StorageError> {
        let _r = self.read();
        self.get_decoded(&keys::shipment(id), || format!("shipment {id}"))
    }

    /// Shipments `member` sent or is addressed, in shipment-id order, after `after`, at
    /// most `limit`.
    pub fn shipments_of(
        &self,
        member: &MemberId,
        after: Option<&ShipmentId>,
        limit: usize,
    ) -> Result<Vec<Shipment>, StorageError> {
        let _r = self.read();
        let prefix = keys::member_shipments(member)?;
        let start = after
            .map(|a| keys::member_shipment(member, a))
            .transpose()?;
        let rows = self.kv.scan_prefix_from(&prefix, start.as_deref(), limit)?;
        let mut out = Vec::with_capacity(rows.len());
        for (k, _) in rows {
            let tail = k.get(prefix.len()..).unwrap_or_default();
            let id = std::str::from_utf8(tail)
                .map(|s| ShipmentId(s.to_string()))
                .map_err(|e| {
                    StorageError::corrupt(format!("shipment index key {}", hex::encode(&k)), e)
                })?;
            let s = self
                .get_decoded(&keys::shipment(&id), || format!("shipment {id}"))?
                .ok_or_else(|| {
                    StorageError::corrupt(
                        format!("shipment {id}"),
                        format!("indexed for {member} but missing"),
                    )
                })?;
            out.push(s);
        }
        Ok(out)
    }

    /// A recall.
    pub fn recall(&self, recall_id: &str) -> Result<Option<RecallRecord>, StorageError> {
        let _r = self.read();
        self.get_decoded(&keys::recall(recall_id), || format!("recall {recall_id}"))
    }

    /// Every unit of a lot ever commissioned, in item-key order.
    pub fn lot_items(&self, gtin: &Gtin, lot: &Lot) -> Result<Vec<ItemId>, StorageError> {
        self.items_by_lot(gtin, lot, None, usize::MAX)
    }

    /// A lot's record.
    pub fn lot(&self, gtin: &Gtin, lot: &Lot) -> Result<Option<LotRecord>, StorageError> {
        let _r = self.read();
        self.get_decoded(&keys::lot(gtin, lot)?, || {
            format!("lot {lot} of GTIN {gtin}")
        })
    }

    /// Items packed directly in `container`, in item-key order, after `after`, at most
    /// `limit`.
    pub fn contents(
        &self,
        container: &ItemId,
        after: Option<&ItemId>,
        limit: usize,
    ) -> Result<Vec<ItemId>, StorageError> {
        self.index_page(keys::container_items(container)?, after, limit)
    }

    /// An item as the rules see it: with its containers (where it is and who holds it are
    /// its outermost container's) and its lot. Read at one height.
    pub fn effective(&self, id: &ItemId) -> Result<Option<Effective>, StorageError> {
        let _r = self.read();
        resolve(&Unlocked(self), id, self.max_nesting).map_err(|e| StorageError::Backend(e.0))
    }

    /// An item's story: its own events, its containers' while it was inside them, and its
    /// lot's recall, in chain order (empty for an unknown item). Read at one height.
    pub fn story(&self, id: &ItemId) -> Result<Vec<StoryEntry>, StorageError> {
        let _r = self.read();
        let own = self.history_unlocked(id, None, usize::MAX)?;
        let containers = self.container_histories(&own)?;
        let state: Option<ItemState> =
            self.get_decoded(&keys::item(id), || format!("item {id}"))?;
        let recall = match state.as_ref().and_then(|s| s.product.as_ref()) {
            Some(p) => self
                .get_decoded::<LotRecord>(&keys::lot(&p.gtin, &p.lot)?, || {
                    format!("lot {} of GTIN {}", p.lot, p.gtin)
                })?
                .and_then(|l| l.recall),
            None => None,
        };
        story::story(&own, &containers, recall.as_ref())
            .map_err(|e| StorageError::corrupt(format!("story of {id}"), e))
    }

    /// The whole histories of every container an item with history `own` was ever in,
    /// and of theirs. Takes no lock: [`story`](Self::story) calls it under its read lock;
    /// the bundle builder instead checks afterwards that no block committed meanwhile.
    pub(crate) fn container_histories(
        &self,
        own: &[ItemEvent],
    ) -> Result<BTreeMap<custody_ledger::gs1::Sscc, Vec<ItemEvent>>, StorageError> {
        let mut out = BTreeMap::new();
        let mut todo = story::containers_of(own);
        while let Some(c) = todo.pop() {
            if out.contains_key(&c) {
                continue;
            }
            let events = self.history_unlocked(&ItemId::Sscc(c.clone()), None, usize::MAX)?;
            todo.extend(story::containers_of(&events));
            out.insert(c, events);
        }
        Ok(out)
    }

    /// Bytes the store uses on disk.
    pub fn size_on_disk(&self) -> Result<u64, StorageError> {
        self.kv.size_on_disk()
    }
}

/// The index entries an item state has: its lot (units); its container while packed;
/// otherwise, while it is in the supply chain, its custodian and location.
fn index_keys(s: &ItemState) -> Result<BTreeSet<Vec<u8>>, StorageError> {
    let mut out = BTreeSet::new();
    if let Some(p) = &s.product {
        out.insert(keys::with_item(keys::lot_items(&p.gtin, &p.lot)?, &s.id));
    }
    if let Some(parent) = &s.parent {
        let container = ItemId::Sscc(parent.clone());
        out.insert(keys::with_item(keys::container_items(&container)?, &s.id));
    } else if !s.status.is_decommissioned() {
        out.insert(keys::with_item(keys::custodian_items(&s.custodian)?, &s.id));
        if let Some(gln) = &s.location {
            out.insert(keys::with_item(keys::location_items(gln)?, &s.id));
        }
    }
    Ok(out)
}

fn state_err(e: StorageError) -> StateError {
    StateError(e.to_string())
}

/// The store's state-tree nodes, as the tree reads them (no lock: callers hold one or run
/// on the committing thread).
struct SmtNodes<'a, B: KvBackend>(&'a Store<B>);

impl<B: KvBackend> NodeStore for SmtNodes<'_, B> {
    fn get(&self, hash: &Hash32) -> Result<Option<Node>, SmtError> {
        let bytes = self
            .0
            .kv
            .get(&keys::smt_node(hash))
            .map_err(|e| SmtError::Store(e.to_string()))?;
        match bytes {
            None => Ok(None),
            Some(b) => decode(&b)
                .map(Some)
                .map_err(|e| SmtError::Store(format!("state-tree node {hash}: {e}"))),
        }
    }
}

impl<B: KvBackend> StateView for Store<B> {
    fn item(&self, id: &ItemId) -> Result<Option<ItemState>, StateError> {
        Store::item(self, id).map_err(state_err)
    }

    fn last_sequence(&self, member: &MemberId) -> Result<u64, StateError> {
        Store::last_sequence(self, member).map_err(state_err)
    }

    fn shipment(&self, id: &ShipmentId) -> Result<Option<Shipment>, StateError> {
        Store::shipment(self, id).map_err(state_err)
    }

    fn recall(&self, recall_id: &str) -> Result<Option<RecallRecord>, StateError> {
        Store::recall(self, recall_id).map_err(state_err)
    }

    fn lot(&self, gtin: &Gtin, lot: &Lot) -> Result<Option<LotRecord>, StateError> {
        Store::lot(self, gtin, lot).map_err(state_err)
    }
}

/// The store read without taking the lock (the caller holds it): one height throughout.
struct Unlocked<'a, B: KvBackend>(&'a Store<B>);

impl<B: KvBackend> StateView for Unlocked<'_, B> {
    fn item(&self, id: &ItemId) -> Result<Option<ItemState>, StateError> {
        self.0
            .get_decoded(&keys::item(id), || format!("item state of {id}"))
            .map_err(state_err)
    }

    fn last_sequence(&self, member: &MemberId) -> Result<u64, StateError> {
        Ok(self
            .0
            .get_decoded(&keys::sequence(member), || {
                format!("last sequence of {member}")
            })
            .map_err(state_err)?
            .unwrap_or(0))
    }

    fn shipment(&self, id: &ShipmentId) -> Result<Option<Shipment>, StateError> {
        self.0
            .get_decoded(&keys::shipment(id), || format!("shipment {id}"))
            .map_err(state_err)
    }

    fn recall(&self, recall_id: &str) -> Result<Option<RecallRecord>, StateError> {
        self.0
            .get_decoded(&keys::recall(recall_id), || format!("recall {recall_id}"))
            .map_err(state_err)
    }

    fn lot(&self, gtin: &Gtin, lot: &Lot) -> Result<Option<LotRecord>, StateError> {
        let key = keys::lot(gtin, lot).map_err(state_err)?;
        self.0
            .get_decoded(&key, || format!("lot {lot} of GTIN {gtin}"))
            .map_err(state_err)
    }
}
