//! An item as the rules and every reader see it. A unit packed in a case on a pallet is
//! where the pallet is, with whoever holds the pallet, in the shipment the pallet travels
//! in, under its own hold or its containers', and under its lot's recall: none of that is
//! written into the unit when the pallet moves, so acting on a pallet costs the same
//! whatever it holds.

use crate::genesis::MemberId;
use crate::gs1::{Gln, ItemId};
use crate::state::item_state::{extend_route, Hold, ItemState, Status, Transit};
use crate::state::records::{LotRecall, LotRecord};
use crate::state::rule_error::StateError;
use crate::state::view::StateView;
use serde::Serialize;

/// An item with its containers, innermost first, and (for a unit) its lot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Effective {
    /// Its own state.
    pub own: ItemState,
    /// The containers it is packed in, innermost first (empty for a top-level item).
    pub ancestors: Vec<ItemState>,
    /// Its lot's record (units).
    pub lot: Option<LotRecord>,
}

/// The way an item came, as read through its containers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// The members, first custodian first, current custodian last.
    pub members: Vec<MemberId>,
    /// False when the item's own recorded way is not a prefix of `members` any more (it
    /// went back along it, or the way could not be read exactly and only the current
    /// custodian is known): what its own contents read their way from is then gone.
    pub kept: bool,
}

/// Reads `id` with its containers and lot. `max_nesting` bounds the walk up; a longer chain
/// (or a container that is missing) is a corrupt state.
pub fn resolve(
    view: &(impl StateView + ?Sized),
    id: &ItemId,
    max_nesting: u32,
) -> Result<Option<Effective>, StateError> {
    let Some(own) = view.item(id)? else {
        return Ok(None);
    };
    let mut ancestors: Vec<ItemState> = Vec::new();
    let mut up = own.parent.clone();
    while let Some(p) = up {
        if ancestors.len() >= max_nesting as usize {
            return Err(StateError(format!(
                "{id} is nested more than {max_nesting} containers deep"
            )));
        }
        let pid = ItemId::Sscc(p);
        let s = view
            .item(&pid)?
            .ok_or_else(|| StateError(format!("container {pid} of {id} is missing")))?;
        up = s.parent.clone();
        ancestors.push(s);
    }
    let lot = match &own.product {
        Some(p) => view.lot(&p.gtin, &p.lot)?,
        None => None,
    };
    Ok(Some(Effective {
        own,
        ancestors,
        lot,
    }))
}

impl Effective {
    /// The outermost container (the item itself when it is not packed).
    pub fn top(&self) -> &ItemState {
        self.ancestors.last().unwrap_or(&self.own)
    }

    /// Who holds it.
    pub fn custodian(&self) -> &MemberId {
        &self.top().custodian
    }

    /// Where it is.
    pub fn location(&self) -> Option<&Gln> {
        self.top().location.as_ref()
    }

    /// Its life-cycle status.
    pub fn status(&self) -> Status {
        self.top().status
    }

    /// The shipment it travels in.
    pub fn transit(&self) -> Option<&Transit> {
        self.top().transit.as_ref()
    }

    /// The hold it is under: its own, else its innermost held container's.
    pub fn hold(&self) -> Option<&Hold> {
        self.own
            .hold
            .as_ref()
            .or_else(|| self.ancestors.iter().find_map(|a| a.hold.as_ref()))
    }

    /// The recall its lot is under.
    pub fn recall(&self) -> Option<&LotRecall> {
        self.lot.as_ref().and_then(|l| l.recall.as_ref())
    }

    /// The way it came: its own up to when it was packed, then its containers' since.
    pub fn route(&self) -> Route {
        let top = self.top();
        let mut route = Route {
            members: top.route.clone(),
            kept: true,
        };
        // Down from the outermost container to the item itself.
        let mut chain: Vec<&ItemState> = self.ancestors.iter().rev().collect();
        chain.push(&self.own);
        for pair in chain.windows(2) {
            let (container, inner) = (pair[0], pair[1]);
            route = inner_route(&route, container, inner);
        }
        route
    }

    /// Its own state with what it inherits filled in: custodian, location, status and
    /// shipment from its outermost container, hold from itself or a container, route read
    /// through its containers. What readers are shown.
    pub fn state(&self) -> ItemState {
        let top = self.top();
        let mut s = self.own.clone();
        s.custodian = top.custodian.clone();
        s.location = top.location.clone();
        s.status = top.status;
        s.transit = top.transit.clone();
        s.hold = self.hold().cloned();
        s.route = self.route().members;
        s
    }

    /// What readers are shown: the inherited state, the lot's recall and the containers.
    pub fn view(&self) -> ItemView {
        ItemView {
            state: self.state(),
            recall: self.recall().map(|r| r.recall_id.clone()),
            containers: self.ancestors.iter().map(|a| a.id.to_string()).collect(),
        }
    }
}

/// The way `inner` came, given its container's way (`outer`, read the same way).
fn inner_route(outer: &Route, container: &ItemState, inner: &ItemState) -> Route {
    let holder = outer.members.last().cloned();
    let exact = match (&inner.packing, &container.contents) {
        (Some(p), Some(c)) => {
            outer.kept && p.route_gen == c.route_gen && (p.joined_at as usize) < outer.members.len()
        }
        _ => false,
    };
    if !exact {
        return Route {
            members: holder.into_iter().collect(),
            kept: false,
        };
    }
    let from = inner
        .packing
        .as_ref()
        .map_or(0, |p| p.joined_at as usize + 1);
    let mut members = inner.route.clone();
    let mut kept = true;
    for m in outer.members.iter().skip(from) {
        if extend_route(&mut members, m) {
            kept = false;
        }
    }
    Route { members, kept }
}

/// An item as the API shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ItemView {
    /// The state with what it inherits from its containers.
    #[serde(flatten)]
    pub state: ItemState,
    /// The recall its lot is under.
    pub recall: Option<String>,
    /// The containers it is packed in, innermost first.
    pub containers: Vec<String>,
}
