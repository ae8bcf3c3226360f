//! An item's story: its own events, the events of every case or pallet while it was
//! inside (what happened to a pallet happened to each unit in it), and its lot's recall,
//! in chain order. The node tells it from its store; the offline verifier tells it from a
//! proof bundle, after checking every event in it.

use crate::gs1::Sscc;
use crate::state::item_event::{Action, ItemEvent};
use crate::state::records::LotRecall;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Deepest chain of containers a story follows (far beyond any `max_nesting`: a guard).
const MAX_DEPTH: usize = 64;

/// One step of an item's story.
// Nearly every entry is an event: boxing it would cost an allocation each for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoryEntry {
    /// One of the item's own events, or (`via`) one of a container's while it was inside.
    Event {
        /// The container whose event it is; `None` for the item's own.
        via: Option<Sscc>,
        /// The event.
        event: ItemEvent,
    },
    /// Its lot was recalled.
    Recall(LotRecall),
}

impl StoryEntry {
    /// Where it sits in the chain: (height, transaction index).
    pub fn position(&self) -> (u64, u32) {
        match self {
            StoryEntry::Event { event, .. } => (event.height, event.tx_index),
            StoryEntry::Recall(r) => (r.height, r.tx_index),
        }
    }
}

/// A container the story needs whose events were not given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoryError {
    /// Its events are missing.
    #[error("the story needs the events of {0}, which were not given")]
    MissingContainer(Sscc),
    /// Containers nest deeper than any chain allows.
    #[error("containers nest more than {MAX_DEPTH} deep")]
    TooDeep,
}

type Pos = (u64, u32);

fn pos(e: &ItemEvent) -> Pos {
    (e.height, e.tx_index)
}

/// Tells the story of the item whose own events (oldest first) are `own`, from the events
/// of the containers it was ever in (each container's whole history, oldest first, for
/// the containers of its containers too) and its lot's recall.
pub fn story(
    own: &[ItemEvent],
    containers: &BTreeMap<Sscc, Vec<ItemEvent>>,
    recall: Option<&LotRecall>,
) -> Result<Vec<StoryEntry>, StoryError> {
    let mut out: Vec<StoryEntry> = own
        .iter()
        .map(|e| StoryEntry::Event {
            via: None,
            event: e.clone(),
        })
        .collect();
    walk(own, (0, 0), None, containers, 0, &mut out)?;
    if let Some(r) = recall {
        out.push(StoryEntry::Recall(r.clone()));
    }
    // Stable: within one transaction the item's own events come first.
    out.sort_by_key(|e| e.position());
    Ok(out)
}

/// The containers whose events a story of an item with these own events needs, directly
/// (its containers' containers come from their own events).
pub fn containers_of(events: &[ItemEvent]) -> Vec<Sscc> {
    let mut out: Vec<Sscc> = events
        .iter()
        .filter_map(|e| match &e.action {
            Action::Packed { into } => Some(into.clone()),
            _ => None,
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Adds the events of the containers `events`' item was in between `lo` and `hi`
/// (exclusive; `hi = None`: until now).
fn walk(
    events: &[ItemEvent],
    lo: Pos,
    hi: Option<Pos>,
    containers: &BTreeMap<Sscc, Vec<ItemEvent>>,
    depth: usize,
    out: &mut Vec<StoryEntry>,
) -> Result<(), StoryError> {
    if depth > MAX_DEPTH {
        return Err(StoryError::TooDeep);
    }
    for (k, ev) in events.iter().enumerate() {
        let Action::Packed { into } = &ev.action else {
            continue;
        };
        let start = pos(ev).max(lo);
        let end = events
            .iter()
            .skip(k + 1)
            .find(|e| e.parent.as_ref() != Some(into))
            .map(pos);
        let end = match (end, hi) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if end.is_some_and(|e| e <= start) {
            continue;
        }
        let cev = containers
            .get(into)
            .ok_or_else(|| StoryError::MissingContainer(into.clone()))?;
        let inside = |p: Pos| p > start && end.is_none_or(|e| p < e);
        for e in cev.iter().filter(|e| inside(pos(e))) {
            out.push(StoryEntry::Event {
                via: Some(into.clone()),
                event: e.clone(),
            });
        }
        walk(cev, start, end, containers, depth + 1, out)?;
    }
    Ok(())
}
