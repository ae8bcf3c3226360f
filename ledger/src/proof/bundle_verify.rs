//! Offline verification of a provenance bundle with nothing but the genesis file: the
//! certificates against the genesis validators; the state proofs of the item, of every
//! case or pallet its story passes through and of its lot, all at one height; every
//! transaction's signature and inclusion proof; each hash chain of events; that each
//! event is what its transaction says; that the first event of each item is a commission
//! by the owner of its company prefix; that each chain ends in its proven state; and the
//! lot's recall, if any. The first check that fails is named.

use crate::genesis::Genesis;
use crate::gs1::{ItemId, Sscc};
use crate::hash::Hash32;
use crate::merkle;
use crate::proof::bundle::{BundleFormatError, ContainerProof, ProofBundle, TxProof};
use crate::smt::SmtProof;
use crate::state::story::{self, StoryEntry};
use crate::state::{Action, Effective, ItemEvent, ItemState, LotRecord, Product, StateKey};
use crate::transaction::Payload;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// The first check a bundle failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    /// Not a readable bundle.
    #[error("format: {0}")]
    Format(#[from] BundleFormatError),
    /// For another chain or genesis.
    #[error("chain: {0}")]
    Chain(String),
    /// A header or its certificate.
    #[error("certificate: {0}")]
    Certificate(String),
    /// A state proof (the item's, a container's or the lot's).
    #[error("state proof: {0}")]
    State(String),
    /// A transaction: inclusion, signature, or one the bundle should not carry.
    #[error("transaction: {0}")]
    Transaction(String),
    /// A hash chain of events.
    #[error("history: {0}")]
    History(String),
    /// An event and the transaction it names.
    #[error("event {seq} of {item}: {reason}")]
    Event {
        /// The item whose event it is.
        item: ItemId,
        /// The event's position.
        seq: u32,
        /// What is wrong.
        reason: String,
    },
    /// A first event is not a commission by the prefix owner.
    #[error("origin: {0}")]
    Origin(String),
    /// A chain's last event does not give its proven state.
    #[error("replay: {0}")]
    Replay(String),
    /// The containers of the story, or the lot, are not the ones the events need.
    #[error("story: {0}")]
    Story(String),
}

/// What a valid bundle proves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Provenance {
    /// The item.
    pub item: ItemId,
    /// The height the state is proven at.
    pub height: u64,
    /// Its state there, with what it inherits from its containers (custodian, location,
    /// status, shipment, hold); `None`: it was never commissioned.
    pub state: Option<ItemState>,
    /// The recall its lot is under.
    pub recall: Option<String>,
    /// The containers it is packed in, innermost first.
    pub containers: Vec<ItemId>,
    /// Its story, oldest first: its own events, its containers' while it was inside, and
    /// its lot's recall.
    pub story: Vec<StoryEntry>,
}

/// Reads and verifies a bundle file.
pub fn verify_bundle_bytes(genesis: &Genesis, bytes: &[u8]) -> Result<Provenance, BundleError> {
    verify_bundle(genesis, &ProofBundle::from_bytes(bytes)?)
}

/// Verifies a bundle against `genesis` (see the module documentation).
pub fn verify_bundle(genesis: &Genesis, b: &ProofBundle) -> Result<Provenance, BundleError> {
    check_chain(genesis, b)?;
    check_headers(genesis, b)?;
    let root = state_root(b)?;
    let state = check_leaf(
        &root,
        StateKey::Item(&b.item),
        b.state.state.as_ref().map(|s| s.leaf_hash()),
        &b.state.proof,
    )
    .map(|()| b.state.state.as_ref())?;
    let Some(state) = state else {
        if !b.events.is_empty()
            || !b.containers.is_empty()
            || b.lot.is_some()
            || !b.transactions.is_empty()
        {
            return Err(BundleError::State(
                "the item is proven absent, yet the bundle carries its story".into(),
            ));
        }
        return Ok(Provenance {
            item: b.item.clone(),
            height: b.state.height,
            state: None,
            recall: None,
            containers: vec![],
            story: vec![],
        });
    };
    if state.id != b.item {
        return Err(BundleError::State(format!(
            "the state is of {}, the bundle is for {}",
            state.id, b.item
        )));
    }
    let txs = check_transactions(genesis, b)?;
    let mut used: BTreeSet<Hash32> = BTreeSet::new();
    check_item(
        genesis,
        &b.item,
        state,
        &b.events,
        &txs,
        b.state.height,
        &mut used,
    )?;
    let containers = check_containers(genesis, b, &root, &txs, &mut used)?;
    let lot = check_lot(b, state, &root, &txs, &mut used)?;
    if let Some(extra) = txs.keys().find(|h| !used.contains(h)) {
        return Err(BundleError::Transaction(format!(
            "{extra} is not named by any event of the story"
        )));
    }
    let by_sscc: BTreeMap<Sscc, Vec<ItemEvent>> = containers
        .iter()
        .map(|(s, c)| (s.clone(), c.events.clone()))
        .collect();
    let recall = lot.as_ref().and_then(|l| l.recall.clone());
    let story = story::story(&b.events, &by_sscc, recall.as_ref())
        .map_err(|e| BundleError::Story(e.to_string()))?;
    let mut ancestors = Vec::new();
    let mut up = state.parent.clone();
    while let Some(p) = up {
        let c = containers.get(&p).ok_or_else(|| {
            BundleError::Story(format!("the bundle lacks {p}, which holds the item"))
        })?;
        if ancestors.len() > genesis.params.max_nesting as usize {
            return Err(BundleError::Story("containers nest too deep".into()));
        }
        up = c.state.parent.clone();
        ancestors.push(c.state.clone());
    }
    let effective = Effective {
        own: state.clone(),
        ancestors,
        lot,
    };
    Ok(Provenance {
        item: b.item.clone(),
        height: b.state.height,
        state: Some(effective.state()),
        recall: effective.recall().map(|r| r.recall_id.clone()),
        containers: effective.ancestors.iter().map(|a| a.id.clone()).collect(),
        story,
    })
}

fn check_chain(genesis: &Genesis, b: &ProofBundle) -> Result<(), BundleError> {
    if b.chain_id != genesis.chain_id {
        return Err(BundleError::Chain(format!(
            "bundle is for chain {:?}, the genesis is {:?}",
            b.chain_id, genesis.chain_id
        )));
    }
    if b.genesis_hash != genesis.hash() {
        return Err(BundleError::Chain(
            "bundle names another genesis than the one given".into(),
        ));
    }
    Ok(())
}

fn check_headers(genesis: &Genesis, b: &ProofBundle) -> Result<(), BundleError> {
    let set = genesis
        .validator_set()
        .ok_or_else(|| BundleError::Certificate("the genesis has no validator set".into()))?;
    let mut last = 0;
    for ch in &b.headers {
        let h = &ch.header;
        if h.height <= last {
            return Err(BundleError::Certificate(format!(
                "headers are not in ascending order at height {}",
                h.height
            )));
        }
        last = h.height;
        if h.chain_id != genesis.chain_id {
            return Err(BundleError::Certificate(format!(
                "header {} is for chain {:?}",
                h.height, h.chain_id
            )));
        }
        ch.verify(genesis, &set)
            .map_err(|e| BundleError::Certificate(format!("header {}: {e}", h.height)))?;
    }
    Ok(())
}

fn state_root(b: &ProofBundle) -> Result<Hash32, BundleError> {
    let header = b.header(b.state.height).ok_or_else(|| {
        BundleError::State(format!("no certified header at height {}", b.state.height))
    })?;
    Ok(header.header.state_root)
}

/// Checks that `proof` shows `key` holding `value` (`None`: absent) under `root`.
fn check_leaf(
    root: &Hash32,
    key: StateKey<'_>,
    value: Option<Hash32>,
    proof: &SmtProof,
) -> Result<(), BundleError> {
    let proven = proof
        .verify(root, &key.hash())
        .map_err(|e| BundleError::State(format!("{key:?}: {e}")))?;
    match (proven, value) {
        (Some(leaf), Some(v)) if leaf == v => Ok(()),
        (Some(_), Some(_)) => Err(BundleError::State(format!(
            "{key:?}: the record is not the one the state root holds"
        ))),
        (None, None) => Ok(()),
        (Some(_), None) => Err(BundleError::State(format!(
            "{key:?}: the state root holds it, but the bundle claims it does not exist"
        ))),
        (None, Some(_)) => Err(BundleError::State(format!(
            "{key:?}: the state root does not hold the record the bundle describes"
        ))),
    }
}

/// The bundle's transactions by hash, each in its certified block and validly signed.
fn check_transactions<'b>(
    genesis: &Genesis,
    b: &'b ProofBundle,
) -> Result<BTreeMap<Hash32, &'b TxProof>, BundleError> {
    let bad = |m: String| Err(BundleError::Transaction(m));
    let mut out = BTreeMap::new();
    let mut last: Option<(u64, u32)> = None;
    for t in &b.transactions {
        let at = (t.height, t.inclusion.index);
        if last.is_some_and(|l| at <= l) {
            return bad(format!(
                "transactions are not in chain order at block {} position {}",
                at.0, at.1
            ));
        }
        last = Some(at);
        let hash = t.tx.hash();
        let header = &b
            .header(t.height)
            .ok_or_else(|| {
                BundleError::Transaction(format!("no certified header at height {}", t.height))
            })?
            .header;
        if t.inclusion.leaf_count != header.tx_count
            || !merkle::verify(&header.tx_root, &hash, &t.inclusion)
        {
            return bad(format!("{hash} is not in block {}", t.height));
        }
        t.tx.check_stateless(genesis)
            .map_err(|e| BundleError::Transaction(format!("{hash}: {e}")))?;
        out.insert(hash, t);
    }
    Ok(out)
}

/// Checks one item's chain of events against its proven state: the hash chain, each
/// event against its transaction, the origin and the last event's fields.
fn check_item(
    genesis: &Genesis,
    id: &ItemId,
    state: &ItemState,
    events: &[ItemEvent],
    txs: &BTreeMap<Hash32, &TxProof>,
    height: u64,
    used: &mut BTreeSet<Hash32>,
) -> Result<(), BundleError> {
    check_history(id, state, events, height)?;
    for ev in events {
        check_event(txs, ev).map_err(|reason| BundleError::Event {
            item: id.clone(),
            seq: ev.seq,
            reason,
        })?;
        used.insert(ev.tx);
        if ev.seq == 0 {
            check_origin(genesis, id, ev)?;
        }
    }
    replay(id, state, events, txs)
}

fn check_history(
    id: &ItemId,
    state: &ItemState,
    events: &[ItemEvent],
    height: u64,
) -> Result<(), BundleError> {
    let bad = |m: String| Err(BundleError::History(format!("{id}: {m}")));
    if events.len() != state.event_count as usize {
        return bad(format!(
            "{} events, the state says {}",
            events.len(),
            state.event_count
        ));
    }
    let mut prev = Hash32::ZERO;
    let mut at = (0u64, 0u32);
    for (i, ev) in events.iter().enumerate() {
        if &ev.item != id {
            return bad(format!("event {i} is of another item, {}", ev.item));
        }
        if ev.seq as usize != i {
            return bad(format!("event {i} says it is number {}", ev.seq));
        }
        if ev.prev != prev {
            return bad(format!("event {i} does not follow the event before it"));
        }
        if (ev.height, ev.tx_index) < at || ev.height > height {
            return bad(format!("event {i} is at height {} out of order", ev.height));
        }
        at = (ev.height, ev.tx_index);
        prev = ev.hash();
    }
    if prev != state.history_head {
        return bad("the last event is not the state's history head".into());
    }
    Ok(())
}

/// Everything an event's transaction must show.
fn check_event(txs: &BTreeMap<Hash32, &TxProof>, ev: &ItemEvent) -> Result<(), String> {
    let t = txs
        .get(&ev.tx)
        .ok_or_else(|| format!("the bundle lacks its transaction {}", ev.tx))?;
    if t.height != ev.height || t.inclusion.index != ev.tx_index {
        return Err(format!(
            "the event says block {} position {}, its transaction is at {} position {}",
            ev.height, ev.tx_index, t.height, t.inclusion.index
        ));
    }
    let tx = &t.tx.tx;
    if tx.signer != ev.actor {
        return Err(format!(
            "signed by {}, the event says {}",
            tx.signer, ev.actor
        ));
    }
    if tx.event_time_ms != ev.time_ms {
        return Err("the event time is not the transaction's".into());
    }
    if !explains(&tx.payload, ev) {
        return Err(format!(
            "a {} transaction does not explain {:?}",
            tx.payload.kind(),
            ev.action
        ));
    }
    Ok(())
}

/// Does `payload` name this event's item and say what the event says?
fn explains(payload: &Payload, ev: &ItemEvent) -> bool {
    let item = &ev.item;
    let is = |sscc: &Sscc| matches!(item, ItemId::Sscc(s) if s == sscc);
    match (&ev.action, payload) {
        (Action::Commissioned, Payload::Commission(c)) => match item {
            ItemId::Sgtin(s) => s.gtin == c.gtin && c.serials.contains(&s.serial),
            ItemId::Sscc(_) => false,
        },
        (Action::Commissioned, Payload::Pack(p)) => is(&p.parent),
        (Action::Packed { into }, Payload::Pack(p)) => {
            &p.parent == into && p.children.contains(item)
        }
        (Action::Filled { added }, Payload::Pack(p)) => {
            is(&p.parent) && p.children.len() == *added as usize
        }
        (Action::Unpacked { from }, Payload::Unpack(u)) => {
            &u.parent == from && u.children.contains(item)
        }
        (Action::Emptied { removed }, Payload::Unpack(u)) => {
            is(&u.parent) && u.children.len() == *removed as usize
        }
        // A container an item refused at receipt was taken out of.
        (Action::Emptied { removed: 1 }, Payload::Receive(_)) => true,
        (Action::Shipped { shipment, to }, Payload::Ship(s)) => {
            &s.shipment == shipment && &s.to == to && s.items.contains(item)
        }
        (Action::Received { shipment }, Payload::Receive(r)) => {
            &r.shipment == shipment && r.accepted.contains(item)
        }
        (Action::Rejected { shipment, .. }, Payload::Receive(r)) => {
            &r.shipment == shipment && r.rejected.contains(item)
        }
        (Action::Missing { shipment, .. }, Payload::Receive(r)) => {
            &r.shipment == shipment && r.missing.contains(item)
        }
        (Action::Moved { to }, Payload::Move(m)) => &m.to == to && m.items.contains(item),
        (Action::StatusSet { change, reason }, Payload::SetStatus(s)) => {
            &s.status == change && &s.reason == reason && s.items.contains(item)
        }
        (Action::Decommissioned { reason }, Payload::Decommission(d)) => {
            &d.reason == reason && d.items.contains(item)
        }
        (Action::Returned { reason }, Payload::Return(r)) => {
            &r.reason == reason && r.items.contains(item)
        }
        _ => false,
    }
}

fn check_origin(genesis: &Genesis, id: &ItemId, first: &ItemEvent) -> Result<(), BundleError> {
    if first.action != Action::Commissioned {
        return Err(BundleError::Origin(format!(
            "the first event of {id} is {:?}, not a commission",
            first.action
        )));
    }
    let owner = genesis.item_owner(id).map(|m| &m.name);
    if owner != Some(&first.actor) {
        return Err(BundleError::Origin(format!(
            "{id} was commissioned by {}, but the company prefix belongs to {}",
            first.actor,
            owner.map_or("no member", |o| o.0.as_str())
        )));
    }
    Ok(())
}

/// The last event's fields and the commission's product are the proven state's.
fn replay(
    id: &ItemId,
    state: &ItemState,
    events: &[ItemEvent],
    txs: &BTreeMap<Hash32, &TxProof>,
) -> Result<(), BundleError> {
    let last = events
        .last()
        .ok_or_else(|| BundleError::Replay(format!("{id} has no events")))?;
    let differs = |what: &str| {
        Err(BundleError::Replay(format!(
            "{id}: the last event's {what} differs from the proven state"
        )))
    };
    if last.custodian != state.custodian {
        return differs("custodian");
    }
    if last.location != state.location {
        return differs("location");
    }
    if last.status != state.status {
        return differs("status");
    }
    if last.parent != state.parent {
        return differs("container");
    }
    if last.hold != state.hold {
        return differs("hold");
    }
    let product = match events.first().and_then(|e| txs.get(&e.tx)) {
        Some(t) => match &t.tx.tx.payload {
            Payload::Commission(c) => Some(Product {
                gtin: c.gtin.clone(),
                lot: c.lot.clone(),
                expiry: c.expiry.clone(),
            }),
            _ => None,
        },
        None => None,
    };
    if product != state.product {
        return differs("product (GTIN, lot, expiry)");
    }
    Ok(())
}

/// The containers of the story: exactly those the events name (at any depth), each proven
/// at the bundle's height with its whole history checked.
fn check_containers<'b>(
    genesis: &Genesis,
    b: &'b ProofBundle,
    root: &Hash32,
    txs: &BTreeMap<Hash32, &TxProof>,
    used: &mut BTreeSet<Hash32>,
) -> Result<BTreeMap<Sscc, &'b ContainerProof>, BundleError> {
    let mut given: BTreeMap<Sscc, &ContainerProof> = BTreeMap::new();
    let mut last: Option<&ItemId> = None;
    for c in &b.containers {
        let ItemId::Sscc(sscc) = &c.state.id else {
            return Err(BundleError::Story(format!(
                "{} is given as a container, but it is not an SSCC",
                c.state.id
            )));
        };
        if last.is_some_and(|l| l >= &c.state.id) {
            return Err(BundleError::Story(
                "containers are not in ascending order".into(),
            ));
        }
        last = Some(&c.state.id);
        given.insert(sscc.clone(), c);
    }
    let mut needed: BTreeSet<Sscc> = BTreeSet::new();
    let mut todo = story::containers_of(&b.events);
    while let Some(s) = todo.pop() {
        if !needed.insert(s.clone()) {
            continue;
        }
        let c = given
            .get(&s)
            .ok_or_else(|| BundleError::Story(format!("the bundle lacks the history of {s}")))?;
        todo.extend(story::containers_of(&c.events));
    }
    if let Some(extra) = given.keys().find(|s| !needed.contains(*s)) {
        return Err(BundleError::Story(format!(
            "{extra} is not a container of the item's story"
        )));
    }
    for c in given.values() {
        let id = &c.state.id;
        check_leaf(
            root,
            StateKey::Item(id),
            Some(c.state.leaf_hash()),
            &c.proof,
        )?;
        check_item(genesis, id, &c.state, &c.events, txs, b.state.height, used)?;
    }
    Ok(given)
}

/// A unit's lot record, proven at the bundle's height, with its recall transaction.
fn check_lot(
    b: &ProofBundle,
    state: &ItemState,
    root: &Hash32,
    txs: &BTreeMap<Hash32, &TxProof>,
    used: &mut BTreeSet<Hash32>,
) -> Result<Option<LotRecord>, BundleError> {
    let bad = |m: String| Err(BundleError::Story(m));
    let (Some(p), Some(l)) = (&state.product, &b.lot) else {
        return match (&state.product, &b.lot) {
            (Some(_), None) => bad("the bundle lacks the unit's lot".into()),
            (None, Some(_)) => bad("a container has no lot".into()),
            _ => Ok(None),
        };
    };
    let r = &l.record;
    if r.gtin != p.gtin || r.lot != p.lot {
        return bad(format!(
            "the lot given is {} of {}, the unit's is {} of {}",
            r.lot, r.gtin, p.lot, p.gtin
        ));
    }
    check_leaf(
        root,
        StateKey::Lot(&r.gtin, &r.lot),
        Some(r.leaf_hash()),
        &l.proof,
    )?;
    if r.expiry != p.expiry {
        return bad("the lot's expiry is not the unit's".into());
    }
    if let Some(rc) = &r.recall {
        let t = txs
            .get(&rc.tx)
            .ok_or_else(|| BundleError::Story("the bundle lacks the recall transaction".into()))?;
        let tx = &t.tx.tx;
        let named = match &tx.payload {
            Payload::Recall(x) => {
                x.recall_id == rc.recall_id && x.gtin == r.gtin && x.lots.contains(&r.lot)
            }
            _ => false,
        };
        if !named
            || t.height != rc.height
            || t.inclusion.index != rc.tx_index
            || tx.signer != rc.by
            || tx.event_time_ms != rc.time_ms
        {
            return bad(format!(
                "transaction {} is not the recall {} of the lot",
                rc.tx, rc.recall_id
            ));
        }
        used.insert(rc.tx);
    }
    Ok(Some(r.clone()))
}
