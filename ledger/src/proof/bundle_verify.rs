//! Offline verification of a provenance bundle with nothing but the genesis file: the
//! certificates against the genesis validators, the state proof, every event's signed
//! transaction and its inclusion proof, the item's hash chain, that the first event is a
//! commission by the owner of the GTIN's company prefix, and that replaying the events
//! gives the proven state. The first check that fails is named.

use crate::genesis::{Genesis, MemberId};
use crate::gs1::{ItemId, Sscc};
use crate::hash::Hash32;
use crate::merkle;
use crate::proof::bundle::{BundleFormatError, EventProof, ProofBundle};
use crate::smt::Smt;
use crate::state::{Action, ItemEvent, ItemState, Product};
use crate::transaction::{Payload, StatusChange};
use serde::Serialize;

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
    /// The state proof.
    #[error("state proof: {0}")]
    State(String),
    /// The item's hash chain of events.
    #[error("history: {0}")]
    History(String),
    /// An event's transaction: hash, signature, inclusion, or what it says.
    #[error("event {seq}: {reason}")]
    Event {
        /// The event's position.
        seq: u32,
        /// What is wrong.
        reason: String,
    },
    /// The first event is not a commission by the prefix owner.
    #[error("origin: {0}")]
    Origin(String),
    /// Replaying the events does not give the proven state.
    #[error("replay: {0}")]
    Replay(String),
}

/// What a valid bundle proves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Provenance {
    /// The item.
    pub item: ItemId,
    /// The height the state is proven at.
    pub height: u64,
    /// Its state there; `None`: it was never commissioned.
    pub state: Option<ItemState>,
    /// Its history, oldest first: who did what, when, and the custodian, location and
    /// status after each step.
    pub story: Vec<ItemEvent>,
}

/// Reads and verifies a bundle file.
pub fn verify_bundle_bytes(genesis: &Genesis, bytes: &[u8]) -> Result<Provenance, BundleError> {
    verify_bundle(genesis, &ProofBundle::from_bytes(bytes)?)
}

/// Verifies a bundle against `genesis` (see the module documentation).
pub fn verify_bundle(genesis: &Genesis, b: &ProofBundle) -> Result<Provenance, BundleError> {
    check_chain(genesis, b)?;
    check_headers(genesis, b)?;
    let state = check_state(b)?;
    let Some(state) = state else {
        if !b.events.is_empty() {
            return Err(BundleError::State(
                "the item is proven absent, yet the bundle carries events".into(),
            ));
        }
        return Ok(Provenance {
            item: b.item.clone(),
            height: b.state.height,
            state: None,
            story: vec![],
        });
    };
    check_history(b, state)?;
    for e in &b.events {
        check_event(genesis, b, e).map_err(|reason| BundleError::Event {
            seq: e.event.seq,
            reason,
        })?;
    }
    check_origin(genesis, b)?;
    replay(b, state)?;
    Ok(Provenance {
        item: b.item.clone(),
        height: b.state.height,
        state: Some(state.clone()),
        story: b.events.iter().map(|e| e.event.clone()).collect(),
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

fn check_state(b: &ProofBundle) -> Result<Option<&ItemState>, BundleError> {
    let sp = &b.state;
    let header = b.header(sp.height).ok_or_else(|| {
        BundleError::State(format!("no certified header at height {}", sp.height))
    })?;
    let proven = sp
        .proof
        .verify(&header.header.state_root, &Smt::item_key(&b.item))
        .map_err(|e| BundleError::State(e.to_string()))?;
    match (proven, &sp.state) {
        (Some(leaf), Some(state)) => {
            if state.id != b.item {
                return Err(BundleError::State(format!(
                    "the state is of {}, the bundle is for {}",
                    state.id, b.item
                )));
            }
            if state.leaf_hash() != leaf {
                return Err(BundleError::State(
                    "the item's state is not the one the state root holds".into(),
                ));
            }
            Ok(Some(state))
        }
        (None, None) => Ok(None),
        (Some(_), None) => Err(BundleError::State(
            "the state root holds the item, but the bundle claims it was never commissioned".into(),
        )),
        (None, Some(_)) => Err(BundleError::State(
            "the state root does not hold the item the bundle describes".into(),
        )),
    }
}

fn check_history(b: &ProofBundle, state: &ItemState) -> Result<(), BundleError> {
    let bad = |m: String| Err(BundleError::History(m));
    if b.events.len() != state.event_count as usize {
        return bad(format!(
            "{} events, the state says {}",
            b.events.len(),
            state.event_count
        ));
    }
    let mut prev = Hash32::ZERO;
    let mut height = 0;
    for (i, e) in b.events.iter().enumerate() {
        let ev = &e.event;
        if ev.item != b.item {
            return bad(format!("event {i} is of another item, {}", ev.item));
        }
        if ev.seq as usize != i {
            return bad(format!("event {i} says it is number {}", ev.seq));
        }
        if ev.prev != prev {
            return bad(format!("event {i} does not follow the event before it"));
        }
        if ev.height < height || ev.height > b.state.height {
            return bad(format!("event {i} is at height {} out of order", ev.height));
        }
        height = ev.height;
        prev = ev.hash();
    }
    if prev != state.history_head {
        return bad("the last event is not the state's history head".into());
    }
    Ok(())
}

/// Everything an event's transaction must show.
fn check_event(genesis: &Genesis, b: &ProofBundle, e: &EventProof) -> Result<(), String> {
    let ev = &e.event;
    let hash = e.tx.hash();
    if hash != ev.tx {
        return Err(format!(
            "its transaction is {hash}, the event names {}",
            ev.tx
        ));
    }
    let header = &b
        .header(ev.height)
        .ok_or_else(|| format!("no certified header at height {}", ev.height))?
        .header;
    if e.inclusion.leaf_count != header.tx_count
        || !merkle::verify(&header.tx_root, &hash, &e.inclusion)
    {
        return Err(format!("transaction is not in block {}", ev.height));
    }
    e.tx.check_stateless(genesis)
        .map_err(|err| err.to_string())?;
    let tx = &e.tx.tx;
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

/// Does `payload` name this event's item (directly or through the container it went via)
/// and say what the event says?
fn explains(payload: &Payload, ev: &ItemEvent) -> bool {
    let item = &ev.item;
    let via = ev.via.as_ref().map(|s| ItemId::Sscc(s.clone()));
    let named =
        |items: &[ItemId]| items.contains(item) || via.as_ref().is_some_and(|v| items.contains(v));
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
            &u.parent == from && (u.children.is_empty() || u.children.contains(item))
        }
        (Action::Emptied { .. }, Payload::Unpack(u)) => is(&u.parent),
        (Action::Shipped { shipment, to }, Payload::Ship(s)) => {
            &s.shipment == shipment && &s.to == to && named(&s.items)
        }
        (Action::Received { shipment }, Payload::Receive(r))
        | (Action::Rejected { shipment }, Payload::Receive(r))
        | (Action::Missing { shipment }, Payload::Receive(r)) => &r.shipment == shipment,
        (Action::Moved { to }, Payload::Move(m)) => &m.to == to && named(&m.items),
        (Action::StatusSet { change, reason }, Payload::SetStatus(s)) => {
            &s.status == change && &s.reason == reason && named(&s.items)
        }
        (Action::Recalled { recall_id }, Payload::Recall(r)) => {
            &r.recall_id == recall_id && item.gtin() == Some(&r.gtin)
        }
        (Action::Decommissioned { reason }, Payload::Decommission(d)) => {
            &d.reason == reason && named(&d.items)
        }
        (Action::Returned { reason }, Payload::Return(r)) => &r.reason == reason && named(&r.items),
        _ => false,
    }
}

fn check_origin(genesis: &Genesis, b: &ProofBundle) -> Result<(), BundleError> {
    let first = b
        .events
        .first()
        .ok_or_else(|| BundleError::Origin("the item has no events".into()))?;
    if first.event.action != Action::Commissioned {
        return Err(BundleError::Origin(format!(
            "the first event is {:?}, not a commission",
            first.event.action
        )));
    }
    let owner = genesis.item_owner(&b.item).map(|m| &m.name);
    if owner != Some(&first.event.actor) {
        return Err(BundleError::Origin(format!(
            "commissioned by {}, but the company prefix belongs to {}",
            first.event.actor,
            owner.map_or("no member", |o| o.0.as_str())
        )));
    }
    Ok(())
}

/// Replays the events and compares with the proven state.
fn replay(b: &ProofBundle, state: &ItemState) -> Result<(), BundleError> {
    let mut chain: Vec<MemberId> = Vec::new();
    let mut recall = None;
    let mut hold: Option<StatusChange> = None;
    let mut product = None;
    for e in &b.events {
        let ev = &e.event;
        if chain.last() != Some(&ev.custodian) {
            chain.push(ev.custodian.clone());
        }
        match &ev.action {
            Action::Recalled { recall_id } => recall = Some(recall_id.clone()),
            Action::StatusSet { change, .. } => {
                hold = (*change != StatusChange::Release).then_some(*change)
            }
            Action::Rejected { .. } | Action::Returned { .. } => {
                hold = Some(StatusChange::Quarantine)
            }
            Action::Missing { .. } => hold = Some(StatusChange::Suspect),
            Action::Commissioned => {
                if let Payload::Commission(c) = &e.tx.tx.payload {
                    product = Some(Product {
                        gtin: c.gtin.clone(),
                        lot: c.lot.clone(),
                        expiry: c.expiry.clone(),
                    });
                }
            }
            _ => {}
        }
    }
    let last = b
        .events
        .last()
        .map(|e| &e.event)
        .ok_or_else(|| BundleError::Replay("no events to replay".into()))?;
    let differs = |what: &str| {
        Err(BundleError::Replay(format!(
            "replayed {what} differs from the proven state"
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
    if chain != state.custody_chain {
        return differs("custody chain");
    }
    if recall != state.recall {
        return differs("recall");
    }
    if hold != state.hold.as_ref().map(|h| h.kind) {
        return differs("hold");
    }
    if product != state.product {
        return differs("product (GTIN, lot, expiry)");
    }
    Ok(())
}
