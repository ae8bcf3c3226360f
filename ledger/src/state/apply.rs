//! The ledger rules: `apply(state, tx) -> changes | RuleError`.
//!
//! The caller must have run [`SignedTransaction::check_stateless`] (chain id, size, form,
//! signature) first; `apply` checks the sequence number and every rule that needs state.
//!
//! # Cost
//! A transaction's work is bounded by the identifiers it names: each named item costs a
//! read of it and its containers (at most `max_nesting`), of its containers' lot summaries
//! (at most `max_container_lots` lots) and one event. Nothing a transaction does reaches
//! the contents of a container or the units of a lot one by one: a packed unit takes its
//! custody, place and shipment from its outermost container ([`Effective`]) and its recall
//! from its lot's record. So the per-transaction and per-block item limits, counted from
//! the transactions alone ([`Payload::item_count`]), bound the work of a block.

use crate::genesis::{Genesis, Member, MemberId, Role};
use crate::gs1::{Expiry, Gtin, ItemId, Lot, Sscc};
use crate::hash::Hash32;
use crate::state::changes::{Changes, ItemChange};
use crate::state::effective::{resolve, Effective};
use crate::state::item_event::{Action, ItemEvent};
use crate::state::item_state::{
    extend_route, Contents, Hold, ItemState, LotCount, Packing, Product, Status, Transit,
};
use crate::state::records::{
    LotRecall, LotRecord, RecallRecord, Receipt, Shipment, ShipmentStatus,
};
use crate::state::rule_error::{ApplyError, RuleError, StateError};
use crate::state::view::StateView;
use crate::time::iso_date;
use crate::transaction::{
    Commission, Decommission, DecommissionReason, Move, Pack, Payload, Recall, Receive, Return,
    SetStatus, Ship, ShipmentId, SignedTransaction, StatusChange, TxError, Unpack,
};
use std::collections::{BTreeMap, BTreeSet};

/// Where a transaction is being applied: its block and its own hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockContext {
    /// Height of the block.
    pub height: u64,
    /// The block's (proposer's) time, Unix milliseconds: what every safety rule (expiry,
    /// recall, holds) reads the time from.
    pub time_ms: u64,
    /// Hash of the transaction being applied.
    pub tx_hash: Hash32,
    /// Its position in the block.
    pub tx_index: u32,
}

/// Applies one transaction to `view`, returning every change it makes, or the first rule it
/// breaks (in which case nothing changes).
pub fn apply(
    view: &impl StateView,
    genesis: &Genesis,
    stx: &SignedTransaction,
    ctx: &BlockContext,
) -> Result<Changes, ApplyError> {
    let tx = &stx.tx;
    let signer = genesis
        .member(&tx.signer)
        .ok_or_else(|| TxError::UnknownSigner(tx.signer.clone()))?;
    let expected = view.last_sequence(&tx.signer)? + 1;
    if tx.sequence != expected {
        return Err(RuleError::Sequence {
            member: tx.signer.clone(),
            expected,
            found: tx.sequence,
        }
        .into());
    }
    let params = &genesis.params;
    if tx.event_time_ms > ctx.time_ms.saturating_add(params.max_event_ahead_ms) {
        return Err(RuleError::EventTimeAhead {
            event_ms: tx.event_time_ms,
            block_ms: ctx.time_ms,
            max_ms: params.max_event_ahead_ms,
        }
        .into());
    }
    if tx.event_time_ms < ctx.time_ms.saturating_sub(params.max_event_behind_ms) {
        return Err(RuleError::EventTimeBehind {
            event_ms: tx.event_time_ms,
            block_ms: ctx.time_ms,
            max_ms: params.max_event_behind_ms,
        }
        .into());
    }
    let mut w = Work {
        view,
        genesis,
        signer,
        time_ms: tx.event_time_ms,
        ctx,
        changes: Changes::default(),
    };
    match &tx.payload {
        Payload::Commission(p) => w.commission(p)?,
        Payload::Pack(p) => w.pack(p)?,
        Payload::Unpack(p) => w.unpack(p)?,
        Payload::Ship(p) => w.ship(p)?,
        Payload::Receive(p) => w.receive(p)?,
        Payload::Move(p) => w.move_items(p)?,
        Payload::SetStatus(p) => w.set_status(p)?,
        Payload::Recall(p) => w.recall_lots(p)?,
        Payload::Decommission(p) => w.decommission(p)?,
        Payload::Return(p) => w.return_items(p)?,
    }
    w.changes.sequences.insert(tx.signer.clone(), tx.sequence);
    Ok(w.changes)
}

/// What happens to a shipped item at receipt when it is not accepted.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fate {
    Rejected,
    Missing,
}

/// The working set of one transaction: reads go through its own changes first.
struct Work<'a, V: StateView> {
    view: &'a V,
    genesis: &'a Genesis,
    signer: &'a Member,
    /// The transaction's event time (the member's claim).
    time_ms: u64,
    ctx: &'a BlockContext,
    changes: Changes,
}

type R<T> = Result<T, ApplyError>;

fn rule<T>(e: RuleError) -> R<T> {
    Err(ApplyError::Rule(e))
}

/// A container's contents as a delta: what packing `s` into one adds to it.
struct Share {
    units: u64,
    lots: Vec<LotCount>,
    held: u32,
    depth: u32,
}

impl Share {
    fn of(s: &ItemState) -> Share {
        match (&s.contents, &s.product) {
            (Some(c), _) => Share {
                units: c.units,
                lots: c.lots.clone(),
                held: c.held + u32::from(s.hold.is_some()),
                depth: c.depth,
            },
            (None, Some(p)) => Share {
                units: 1,
                lots: vec![LotCount {
                    gtin: p.gtin.clone(),
                    lot: p.lot.clone(),
                    units: 1,
                }],
                held: u32::from(s.hold.is_some()),
                depth: 0,
            },
            (None, None) => Share {
                units: 0,
                lots: vec![],
                held: u32::from(s.hold.is_some()),
                depth: 0,
            },
        }
    }
}

fn add_lots(into: &mut Vec<LotCount>, add: &[LotCount]) {
    for l in add {
        match into.binary_search_by(|x| (&x.gtin, &x.lot).cmp(&(&l.gtin, &l.lot))) {
            Ok(i) => into[i].units += l.units,
            Err(i) => into.insert(i, l.clone()),
        }
    }
}

fn remove_lots(from: &mut Vec<LotCount>, remove: &[LotCount]) {
    for l in remove {
        if let Ok(i) = from.binary_search_by(|x| (&x.gtin, &x.lot).cmp(&(&l.gtin, &l.lot))) {
            from[i].units = from[i].units.saturating_sub(l.units);
            if from[i].units == 0 {
                from.remove(i);
            }
        }
    }
}

/// Takes `share` out of a container's summary.
fn subtract(c: &mut Contents, share: &Share) {
    c.units = c.units.saturating_sub(share.units);
    remove_lots(&mut c.lots, &share.lots);
    c.held = c.held.saturating_sub(share.held);
}

fn container_id(s: &Sscc) -> ItemId {
    ItemId::Sscc(s.clone())
}

impl<V: StateView> StateView for Work<'_, V> {
    fn item(&self, id: &ItemId) -> Result<Option<ItemState>, StateError> {
        match self.changes.items.get(id) {
            Some(ch) => Ok(Some(ch.after.clone())),
            None => self.view.item(id),
        }
    }
    fn last_sequence(&self, member: &MemberId) -> Result<u64, StateError> {
        self.view.last_sequence(member)
    }
    fn shipment(&self, id: &ShipmentId) -> Result<Option<Shipment>, StateError> {
        match self.changes.shipments.get(id) {
            Some(s) => Ok(Some(s.clone())),
            None => self.view.shipment(id),
        }
    }
    fn recall(&self, recall_id: &str) -> Result<Option<RecallRecord>, StateError> {
        match self.changes.recalls.get(recall_id) {
            Some(r) => Ok(Some(r.clone())),
            None => self.view.recall(recall_id),
        }
    }
    fn lot(&self, gtin: &Gtin, lot: &Lot) -> Result<Option<LotRecord>, StateError> {
        match self.changes.lots.get(&(gtin.clone(), lot.clone())) {
            Some(r) => Ok(Some(r.clone())),
            None => self.view.lot(gtin, lot),
        }
    }
}

impl<V: StateView> Work<'_, V> {
    fn me(&self) -> &MemberId {
        &self.signer.name
    }

    /// The item's current state in this transaction, if it exists.
    fn find(&self, id: &ItemId) -> R<Option<ItemState>> {
        Ok(self.item(id)?)
    }

    /// The item's state, or `UnknownItem`.
    fn get(&self, id: &ItemId) -> R<ItemState> {
        match self.find(id)? {
            Some(s) => Ok(s),
            None => rule(RuleError::UnknownItem(id.clone())),
        }
    }

    /// The item with its containers and lot, or `UnknownItem`; its containers' latest
    /// events are part of its story, so the event time may not be earlier than theirs.
    fn effective(&self, id: &ItemId) -> R<Effective> {
        let Some(e) = resolve(self, id, self.genesis.params.max_nesting)? else {
            return rule(RuleError::UnknownItem(id.clone()));
        };
        for s in std::iter::once(&e.own).chain(&e.ancestors) {
            self.check_time(s)?;
        }
        Ok(e)
    }

    fn check_time(&self, s: &ItemState) -> R<()> {
        if self.time_ms < s.last_event_ms {
            return rule(RuleError::EventTimeBeforePrevious {
                item: s.id.clone(),
                event_ms: self.time_ms,
                previous_ms: s.last_event_ms,
            });
        }
        Ok(())
    }

    /// The lot's record in this transaction.
    fn lot_record(&self, gtin: &Gtin, lot: &Lot) -> R<Option<LotRecord>> {
        Ok(self.lot(gtin, lot)?)
    }

    /// Records the item's new state (no event: a container's summary).
    fn put(&mut self, state: ItemState) -> R<()> {
        if let Some(ch) = self.changes.items.get_mut(&state.id) {
            ch.after = state;
            return Ok(());
        }
        let before = self.view.item(&state.id)?;
        self.changes.items.insert(
            state.id.clone(),
            ItemChange {
                before,
                after: state,
            },
        );
        Ok(())
    }

    /// Appends a history event to `state` (whose fields already hold the new values) and
    /// stores it.
    fn record(&mut self, mut state: ItemState, action: Action) -> R<()> {
        self.check_time(&state)?;
        let event = ItemEvent {
            item: state.id.clone(),
            seq: state.event_count,
            prev: state.history_head,
            tx: self.ctx.tx_hash,
            height: self.ctx.height,
            tx_index: self.ctx.tx_index,
            time_ms: self.time_ms,
            actor: self.me().clone(),
            action,
            custodian: state.custodian.clone(),
            location: state.location.clone(),
            status: state.status,
            parent: state.parent.clone(),
            hold: state.hold.clone(),
        };
        state.history_head = event.hash();
        state.event_count += 1;
        state.last_event_ms = self.time_ms;
        self.changes.events.push(event);
        self.put(state)
    }

    fn require_custodian(&self, s: &ItemState) -> R<()> {
        if &s.custodian != self.me() {
            return rule(RuleError::NotCustodian {
                item: s.id.clone(),
                custodian: s.custodian.clone(),
                signer: self.me().clone(),
            });
        }
        Ok(())
    }

    /// A top-level item the signer holds, in stock (not in transit, not decommissioned).
    fn require_in_stock(&self, s: &ItemState) -> R<()> {
        self.require_top_level(s)?;
        self.require_custodian(s)?;
        require_active(s.status, s)
    }

    fn require_top_level(&self, s: &ItemState) -> R<()> {
        match &s.parent {
            Some(parent) => rule(RuleError::InsideContainer {
                item: s.id.clone(),
                parent: parent.clone(),
            }),
            None => Ok(()),
        }
    }

    fn require_my_location(&self, gln: &crate::gs1::Gln) -> R<()> {
        if !self.signer.has_gln(gln) {
            return rule(RuleError::ForeignLocation {
                gln: gln.clone(),
                member: self.me().clone(),
            });
        }
        Ok(())
    }

    /// Why an item may not be sold or shipped onward, if it may not: a hold on it or on a
    /// container it is in, its lot's recall, or (for a container) anything of that inside.
    fn restriction(&self, e: &Effective) -> R<Option<String>> {
        if let Some(h) = e.hold() {
            return Ok(Some(hold_text(h)));
        }
        if let Some(r) = e.recall() {
            return Ok(Some(format!("under recall {}", r.recall_id)));
        }
        if let Some(c) = &e.own.contents {
            if c.held > 0 {
                return Ok(Some(format!("holding {} items on hold", c.held)));
            }
            for l in &c.lots {
                if let Some(r) = self.lot_record(&l.gtin, &l.lot)?.and_then(|r| r.recall) {
                    return Ok(Some(format!(
                        "holding units of lot {} of GTIN {} under recall {}",
                        l.lot, l.gtin, r.recall_id
                    )));
                }
            }
        }
        Ok(None)
    }

    /// Has a unit of it (or it) passed its expiry, by the block's date?
    fn expired(&self, e: &Effective) -> R<Option<String>> {
        let today = iso_date(self.ctx.time_ms);
        let past = |x: &Expiry| {
            let until = x.to_iso_date();
            (today > until).then(|| format!("expired on {until}"))
        };
        if let Some(p) = &e.own.product {
            return Ok(past(&p.expiry));
        }
        if let Some(c) = &e.own.contents {
            for l in &c.lots {
                if let Some(why) = self
                    .lot_record(&l.gtin, &l.lot)?
                    .and_then(|r| past(&r.expiry))
                {
                    return Ok(Some(format!("holding units of lot {} that {why}", l.lot)));
                }
            }
        }
        Ok(None)
    }

    /// The one member owning the GTINs of everything in it (a unit: its GTIN's owner).
    fn sole_owner(&self, s: &ItemState) -> Option<&MemberId> {
        let mut owners = BTreeSet::new();
        if let Some(p) = &s.product {
            owners.insert(self.genesis.gtin_owner(&p.gtin).map(|m| &m.name));
        }
        if let Some(c) = &s.contents {
            for l in &c.lots {
                owners.insert(self.genesis.gtin_owner(&l.gtin).map(|m| &m.name));
            }
        }
        match owners.into_iter().collect::<Vec<_>>().as_slice() {
            [Some(one)] => Some(one),
            _ => None,
        }
    }

    /// May top-level `s` travel to `to`? A restricted item travels only back the way it
    /// came — to the member that passed it to its holder (for a container: only if
    /// everything in it came that way) — or to the owner of its GTINs.
    fn check_destination(&self, e: &Effective, to: &MemberId) -> R<()> {
        let Some(why) = self.restriction(e)? else {
            return Ok(());
        };
        let s = &e.own;
        let back = match &s.contents {
            Some(c) => (c.last_join as usize + 2 <= s.route.len())
                .then(|| s.came_from())
                .flatten(),
            None => s.came_from(),
        };
        if back == Some(to) || self.sole_owner(s) == Some(to) {
            return Ok(());
        }
        rule(RuleError::Restricted {
            item: s.id.clone(),
            why,
            to: to.clone(),
        })
    }

    fn commission(&mut self, c: &Commission) -> R<()> {
        if !self.signer.owns_gtin(&c.gtin) {
            return rule(RuleError::ForeignPrefix {
                id: format!("GTIN {}", c.gtin),
                signer: self.me().clone(),
                owner: self.genesis.gtin_owner(&c.gtin).map(|m| m.name.clone()),
            });
        }
        if let Some(loc) = &c.location {
            self.require_my_location(loc)?;
        }
        let today = iso_date(self.ctx.time_ms);
        if today > c.expiry.to_iso_date() {
            return rule(RuleError::ExpiredLot {
                gtin: c.gtin.clone(),
                lot: c.lot.clone(),
                expiry: c.expiry.to_iso_date(),
                today,
            });
        }
        let mut lot = match self.lot_record(&c.gtin, &c.lot)? {
            Some(l) => {
                if let Some(r) = &l.recall {
                    return rule(RuleError::LotRecalled {
                        gtin: c.gtin.clone(),
                        lot: c.lot.clone(),
                        recall_id: r.recall_id.clone(),
                    });
                }
                if l.expiry.to_iso_date() != c.expiry.to_iso_date() {
                    return rule(RuleError::LotExpiry {
                        gtin: c.gtin.clone(),
                        lot: c.lot.clone(),
                        expiry: l.expiry.to_iso_date(),
                        found: c.expiry.to_iso_date(),
                    });
                }
                l
            }
            None => LotRecord {
                gtin: c.gtin.clone(),
                lot: c.lot.clone(),
                expiry: c.expiry.clone(),
                units: 0,
                created_height: self.ctx.height,
                recall: None,
            },
        };
        for serial in &c.serials {
            let id = ItemId::Sgtin(crate::gs1::Sgtin {
                gtin: c.gtin.clone(),
                serial: serial.clone(),
            });
            if let Some(existing) = self.find(&id)? {
                return rule(RuleError::AlreadyCommissioned {
                    item: id,
                    height: existing.created_height,
                });
            }
            let state = self.new_item(
                id,
                Some(Product {
                    gtin: c.gtin.clone(),
                    lot: c.lot.clone(),
                    expiry: c.expiry.clone(),
                }),
                c.location.clone(),
            );
            self.record(state, Action::Commissioned)?;
        }
        lot.units += c.serials.len() as u64;
        self.changes
            .lots
            .insert((c.gtin.clone(), c.lot.clone()), lot);
        Ok(())
    }

    fn new_item(
        &self,
        id: ItemId,
        product: Option<Product>,
        location: Option<crate::gs1::Gln>,
    ) -> ItemState {
        let contents = matches!(id, ItemId::Sscc(_)).then(|| Contents {
            depth: 1,
            ..Contents::default()
        });
        ItemState {
            id,
            product,
            custodian: self.me().clone(),
            location,
            status: Status::Active,
            transit: None,
            hold: None,
            parent: None,
            packing: None,
            contents,
            route: vec![self.me().clone()],
            created_height: self.ctx.height,
            last_event_ms: 0,
            history_head: Hash32::ZERO,
            event_count: 0,
        }
    }

    fn pack(&mut self, p: &Pack) -> R<()> {
        let parent_id = container_id(&p.parent);
        let mut parent = match self.find(&parent_id)? {
            Some(s) => {
                // Contents read their way from a top-level container's own route.
                self.require_in_stock(&s)?;
                self.check_time(&s)?;
                s
            }
            None => {
                if !self.signer.owns_sscc(&p.parent) {
                    return rule(RuleError::ForeignPrefix {
                        id: format!("SSCC {}", p.parent),
                        signer: self.me().clone(),
                        owner: self.genesis.item_owner(&parent_id).map(|m| m.name.clone()),
                    });
                }
                let first_location = match p.children.first() {
                    Some(c) => self.get(c)?.location,
                    None => None,
                };
                let created = self.new_item(parent_id.clone(), None, first_location);
                self.record(created, Action::Commissioned)?;
                self.get(&parent_id)?
            }
        };
        let params = &self.genesis.params;
        let joined_at = parent.route.len().saturating_sub(1) as u32;
        let mut contents = parent.contents.clone().unwrap_or_default();
        for child_id in &p.children {
            if child_id == &parent_id {
                return rule(RuleError::PackingCycle {
                    child: child_id.clone(),
                    parent: p.parent.clone(),
                });
            }
            let mut child = self.get(child_id)?;
            self.require_in_stock(&child)?;
            let share = Share::of(&child);
            contents.children += 1;
            contents.units += share.units;
            contents.held += share.held;
            add_lots(&mut contents.lots, &share.lots);
            if contents.lots.len() > params.max_container_lots as usize {
                return rule(RuleError::TooManyLots {
                    container: p.parent.clone(),
                    max: params.max_container_lots,
                });
            }
            contents.depth = contents.depth.max(share.depth + 1);
            if contents.depth > params.max_nesting {
                return rule(RuleError::TooDeep {
                    container: p.parent.clone(),
                    max: params.max_nesting,
                });
            }
            child.parent = Some(p.parent.clone());
            child.packing = Some(Packing {
                joined_at,
                route_gen: contents.route_gen,
            });
            self.check_time(&child)?;
            self.record(
                child,
                Action::Packed {
                    into: p.parent.clone(),
                },
            )?;
        }
        contents.last_join = joined_at;
        parent.contents = Some(contents);
        self.record(
            parent,
            Action::Filled {
                added: p.children.len() as u32,
            },
        )
    }

    /// Takes `child` out of its container `parent` (whose containers, innermost first, are
    /// `above`): the summaries of all of them lose what it held. Returns the child as it is
    /// once out — where its outermost container is, with its hold or its containers',
    /// its route read through them — for the caller to finish and record, and the
    /// containers to store.
    fn take_out(
        &self,
        child: ItemState,
        parent: &mut ItemState,
        above: &mut [ItemState],
    ) -> ItemState {
        let share = Share::of(&child);
        let e = Effective {
            own: child,
            ancestors: std::iter::once(parent.clone())
                .chain(above.iter().cloned())
                .collect(),
            lot: None,
        };
        let route = e.route();
        let mut out = e.state();
        out.route = route.members;
        out.parent = None;
        out.packing = None;
        if let Some(c) = &mut out.contents {
            if !route.kept {
                // Its contents can no longer read their way from its route.
                c.route_gen += 1;
            }
        }
        for c in std::iter::once(&mut *parent).chain(above.iter_mut()) {
            if let Some(contents) = &mut c.contents {
                subtract(contents, &share);
            }
        }
        if let Some(c) = &mut parent.contents {
            c.children = c.children.saturating_sub(1);
        }
        out
    }

    fn unpack(&mut self, u: &Unpack) -> R<()> {
        let parent_id = container_id(&u.parent);
        let e = self.effective(&parent_id)?;
        self.require_custodian(e.top())?;
        require_active(e.status(), &e.own)?;
        let (mut parent, mut above) = (e.own, e.ancestors);
        for c in &u.children {
            let child = self.get(c)?;
            if child.parent.as_ref() != Some(&u.parent) {
                return rule(RuleError::NotInContainer {
                    item: c.clone(),
                    parent: u.parent.clone(),
                });
            }
            let out = self.take_out(child, &mut parent, &mut above);
            self.record(
                out,
                Action::Unpacked {
                    from: u.parent.clone(),
                },
            )?;
        }
        for a in above {
            self.put(a)?;
        }
        self.record(
            parent,
            Action::Emptied {
                removed: u.children.len() as u32,
            },
        )
    }

    fn ship(&mut self, p: &Ship) -> R<()> {
        if self.shipment(&p.shipment)?.is_some() {
            return rule(RuleError::ShipmentExists(p.shipment.clone()));
        }
        if self.genesis.member(&p.to).is_none() {
            return rule(RuleError::UnknownMember(p.to.clone()));
        }
        if &p.to == self.me() {
            return rule(RuleError::ShipToSelf(p.to.clone()));
        }
        let transit = Transit {
            shipment: p.shipment.clone(),
            from: self.me().clone(),
            to: p.to.clone(),
        };
        let mut units = 0u64;
        for id in &p.items {
            let e = self.effective(id)?;
            self.require_in_stock(&e.own)?;
            self.check_destination(&e, &p.to)?;
            let mut s = e.own;
            units += s.contents.as_ref().map_or(1, |c| c.units);
            s.status = Status::InTransit;
            s.transit = Some(transit.clone());
            let action = Action::Shipped {
                shipment: p.shipment.clone(),
                to: p.to.clone(),
            };
            self.record(s, action)?;
        }
        self.changes.shipments.insert(
            p.shipment.clone(),
            Shipment {
                id: p.shipment.clone(),
                from: self.me().clone(),
                to: p.to.clone(),
                items: p.items.clone(),
                outstanding: p.items.len() as u32,
                units,
                shipped_tx: self.ctx.tx_hash,
                shipped_height: self.ctx.height,
                status: ShipmentStatus::InTransit,
                receipt: None,
            },
        );
        Ok(())
    }

    /// The open shipment addressed to the signer.
    fn open_shipment_to_me(&self, id: &ShipmentId) -> R<Shipment> {
        let Some(shipment) = self.shipment(id)? else {
            return rule(RuleError::UnknownShipment(id.clone()));
        };
        if shipment.status != ShipmentStatus::InTransit {
            return rule(RuleError::ShipmentClosed(id.clone()));
        }
        if &shipment.to != self.me() {
            return rule(RuleError::NotAddressee {
                shipment: id.clone(),
                to: shipment.to.clone(),
                signer: self.me().clone(),
            });
        }
        Ok(shipment)
    }

    /// Is top-level `s` travelling in `shipment`?
    fn travels_in(s: &ItemState, shipment: &ShipmentId) -> bool {
        s.parent.is_none()
            && s.status == Status::InTransit
            && s.transit.as_ref().map(|t| &t.shipment) == Some(shipment)
    }

    fn receive(&mut self, r: &Receive) -> R<()> {
        let mut shipment = self.open_shipment_to_me(&r.shipment)?;
        if let Some(loc) = &r.location {
            self.require_my_location(loc)?;
        }
        let not_in = |id: &ItemId| {
            rule(RuleError::NotInShipment {
                item: id.clone(),
                shipment: r.shipment.clone(),
            })
        };
        let accepted: BTreeSet<&ItemId> = r.accepted.iter().collect();
        let refused: BTreeSet<&ItemId> = r.rejected.iter().chain(&r.missing).collect();
        let mut accounted = 0u32;
        // Before anything changes: nothing travelling in the shipment is unexpected.
        for id in &r.unexpected {
            if let Some(e) = resolve(self, id, self.genesis.params.max_nesting)? {
                if Self::travels_in(e.top(), &r.shipment) {
                    return rule(RuleError::NotUnexpected {
                        item: id.clone(),
                        shipment: r.shipment.clone(),
                    });
                }
            }
        }
        // Refusals first, while the containers they travel in are still the shipper's.
        // `done`: the refusals applied so far (no longer travelling, nor inside anything).
        let mut done: BTreeSet<&ItemId> = BTreeSet::new();
        for (list, fate) in [(&r.rejected, Fate::Rejected), (&r.missing, Fate::Missing)] {
            for id in list {
                let e = self.effective(id)?;
                if let Some(a) = e.ancestors.iter().find(|a| done.contains(&a.id)) {
                    return rule(RuleError::ContainerNotAccepted {
                        item: id.clone(),
                        container: a.id.clone(),
                    });
                }
                if !Self::travels_in(e.top(), &r.shipment) {
                    return not_in(id);
                }
                let (kind, what) = match fate {
                    Fate::Rejected => (StatusChange::Quarantine, "rejected"),
                    Fate::Missing => (StatusChange::Suspect, "missing"),
                };
                let hold = Hold {
                    kind,
                    reason: format!(
                        "{what} at receipt of shipment {} by {}",
                        r.shipment,
                        self.me()
                    ),
                };
                let from = e.own.parent.clone();
                let mut s = if from.is_none() {
                    accounted += 1;
                    let mut s = e.own;
                    s.status = Status::Active;
                    s.transit = None;
                    s
                } else {
                    // Taken out of a container the receipt accepts; it stays with the
                    // shipper, where the container was.
                    let top = e.top().id.clone();
                    if !accepted.contains(&top) {
                        return rule(RuleError::ContainerNotAccepted {
                            item: id.clone(),
                            container: top,
                        });
                    }
                    if let Some(a) = e.ancestors.iter().find(|a| refused.contains(&a.id)) {
                        return rule(RuleError::ContainerNotAccepted {
                            item: id.clone(),
                            container: a.id.clone(),
                        });
                    }
                    let mut above = e.ancestors;
                    let mut parent = above.remove(0);
                    let mut out = self.take_out(e.own, &mut parent, &mut above);
                    out.status = Status::Active;
                    out.transit = None;
                    for a in above {
                        self.put(a)?;
                    }
                    self.record(parent, Action::Emptied { removed: 1 })?;
                    out
                };
                s.hold = Some(hold);
                let action = match fate {
                    Fate::Rejected => Action::Rejected {
                        shipment: r.shipment.clone(),
                        from,
                    },
                    Fate::Missing => Action::Missing {
                        shipment: r.shipment.clone(),
                        from,
                    },
                };
                self.record(s, action)?;
                done.insert(id);
            }
        }
        let mut units = 0u64;
        for id in &r.accepted {
            let mut s = self.get(id)?;
            if !Self::travels_in(&s, &r.shipment) {
                return not_in(id);
            }
            self.check_time(&s)?;
            accounted += 1;
            units += s.contents.as_ref().map_or(1, |c| c.units);
            s.custodian = self.me().clone();
            s.status = Status::Active;
            s.transit = None;
            // The shipper's location means nothing at the receiver: where the goods are is
            // the put-away location, or unknown until moved.
            s.location = r.location.clone();
            self.arrive(&mut s);
            self.record(
                s,
                Action::Received {
                    shipment: r.shipment.clone(),
                },
            )?;
        }
        if accounted != shipment.outstanding {
            return rule(RuleError::ShipmentIncomplete {
                shipment: r.shipment.clone(),
                outstanding: shipment.outstanding,
                accounted,
            });
        }
        shipment.outstanding = 0;
        shipment.status = ShipmentStatus::Received;
        shipment.receipt = Some(Receipt {
            tx: self.ctx.tx_hash,
            height: self.ctx.height,
            accepted: r.accepted.len() as u32,
            units,
            rejected: r.rejected.clone(),
            missing: r.missing.clone(),
            unexpected: r.unexpected.clone(),
            location: r.location.clone(),
            note: r.note.clone(),
        });
        self.changes.shipments.insert(shipment.id.clone(), shipment);
        Ok(())
    }

    /// The signer takes custody of top-level `s`: its route reaches the signer.
    fn arrive(&self, s: &mut ItemState) {
        let cut = extend_route(&mut s.route, self.me());
        if cut {
            if let Some(c) = &mut s.contents {
                c.route_gen += 1;
            }
        }
    }

    fn move_items(&mut self, m: &Move) -> R<()> {
        self.require_my_location(&m.to)?;
        for id in &m.items {
            let e = self.effective(id)?;
            self.require_in_stock(&e.own)?;
            let mut s = e.own;
            s.location = Some(m.to.clone());
            self.record(s, Action::Moved { to: m.to.clone() })?;
        }
        Ok(())
    }

    fn set_status(&mut self, p: &SetStatus) -> R<()> {
        let regulator = self.signer.has_role(Role::Regulator);
        for id in &p.items {
            let e = self.effective(id)?;
            if !regulator {
                self.require_custodian(e.top())?;
            }
            let status = e.status();
            if status.is_decommissioned() {
                return rule(RuleError::Decommissioned {
                    item: id.clone(),
                    status,
                });
            }
            let mut s = e.own;
            let had = s.hold.is_some();
            s.hold = match p.status {
                StatusChange::Release => None,
                kind => Some(Hold {
                    kind,
                    reason: p.reason.clone(),
                }),
            };
            if had != s.hold.is_some() {
                // Its containers count the items on hold inside them.
                for mut a in e.ancestors {
                    if let Some(c) = &mut a.contents {
                        c.held = if had {
                            c.held.saturating_sub(1)
                        } else {
                            c.held + 1
                        };
                    }
                    self.put(a)?;
                }
            }
            let action = Action::StatusSet {
                change: p.status,
                reason: p.reason.clone(),
            };
            self.record(s, action)?;
        }
        Ok(())
    }

    fn recall_lots(&mut self, r: &Recall) -> R<()> {
        if !self.signer.owns_gtin(&r.gtin) && !self.signer.has_role(Role::Regulator) {
            return rule(RuleError::NotAllowed {
                member: self.me().clone(),
                action: format!("recall GTIN {}: only its owner or a regulator may", r.gtin),
            });
        }
        if StateView::recall(self, &r.recall_id)?.is_some() {
            return rule(RuleError::RecallExists(r.recall_id.clone()));
        }
        let mut affected = 0u64;
        for lot in &r.lots {
            let Some(mut rec) = self.lot_record(&r.gtin, lot)? else {
                return rule(RuleError::UnknownLot {
                    gtin: r.gtin.clone(),
                    lot: lot.clone(),
                });
            };
            if let Some(prev) = &rec.recall {
                return rule(RuleError::LotRecalled {
                    gtin: r.gtin.clone(),
                    lot: lot.clone(),
                    recall_id: prev.recall_id.clone(),
                });
            }
            affected += rec.units;
            rec.recall = Some(LotRecall {
                recall_id: r.recall_id.clone(),
                tx: self.ctx.tx_hash,
                height: self.ctx.height,
                tx_index: self.ctx.tx_index,
                by: self.me().clone(),
                time_ms: self.time_ms,
            });
            self.changes.lots.insert((r.gtin.clone(), lot.clone()), rec);
        }
        self.changes.recalls.insert(
            r.recall_id.clone(),
            RecallRecord {
                recall_id: r.recall_id.clone(),
                gtin: r.gtin.clone(),
                lots: r.lots.clone(),
                by: self.me().clone(),
                reason: r.reason.clone(),
                tx: self.ctx.tx_hash,
                height: self.ctx.height,
                affected,
            },
        );
        Ok(())
    }

    fn decommission(&mut self, d: &Decommission) -> R<()> {
        let selling = matches!(
            d.reason,
            DecommissionReason::Dispensed | DecommissionReason::Exported
        );
        for id in &d.items {
            let e = self.effective(id)?;
            self.require_in_stock(&e.own)?;
            if selling {
                let action = if d.reason == DecommissionReason::Dispensed {
                    "dispensed"
                } else {
                    "exported"
                };
                let why = match self.restriction(&e)? {
                    Some(w) => Some(w),
                    None => self.expired(&e)?,
                };
                if let Some(why) = why {
                    return rule(RuleError::NotSellable {
                        item: id.clone(),
                        why,
                        action,
                    });
                }
            }
            let mut s = e.own;
            s.status = Status::from_decommission(d.reason);
            self.record(s, Action::Decommissioned { reason: d.reason })?;
        }
        Ok(())
    }

    fn return_items(&mut self, r: &Return) -> R<()> {
        let mut shipments: BTreeMap<ShipmentId, Shipment> = BTreeMap::new();
        for id in &r.items {
            let e = self.effective(id)?;
            let top = &e.own;
            let not = |why: String| {
                rule(RuleError::NotReturnable {
                    item: id.clone(),
                    signer: self.me().clone(),
                    why,
                })
            };
            // A unit of a dispensed or travelling case comes back with its case, never
            // alone.
            self.require_top_level(top)?;
            match (&top.status, &top.transit) {
                (Status::Dispensed, _) if &top.custodian == self.me() => {}
                (Status::Dispensed, _) => {
                    return not(format!("it was dispensed by {}", top.custodian));
                }
                (Status::InTransit, Some(t)) if &t.to == self.me() => {
                    // Everything coming back must have come the signer's way before.
                    let passed = match &top.contents {
                        Some(c) => top
                            .route
                            .iter()
                            .skip(c.last_join as usize)
                            .any(|m| m == self.me()),
                        None => top.route.iter().any(|m| m == self.me()),
                    };
                    if !passed {
                        return not(format!(
                            "{} never held it (or not all it holds), so it is not a return of \
                             its sale",
                            self.me()
                        ));
                    }
                    let shipment = match shipments.remove(&t.shipment) {
                        Some(s) => s,
                        None => self.open_shipment_to_me(&t.shipment)?,
                    };
                    shipments.insert(t.shipment.clone(), shipment);
                    if let Some(s) = shipments.get_mut(&t.shipment) {
                        s.outstanding = s.outstanding.saturating_sub(1);
                    }
                }
                (status, _) => {
                    return not(format!(
                        "it is {} with {}, neither dispensed by nor shipped back to the signer",
                        status.as_str(),
                        top.custodian
                    ))
                }
            }
            let mut s = e.own;
            if s.status == Status::InTransit {
                // Back from another member: its location there means nothing here.
                s.location = None;
            }
            s.status = Status::Active;
            s.transit = None;
            s.custodian = self.me().clone();
            self.arrive(&mut s);
            s.hold = Some(Hold {
                kind: StatusChange::Quarantine,
                reason: format!("returned: {}", r.reason),
            });
            self.record(
                s,
                Action::Returned {
                    reason: r.reason.clone(),
                },
            )?;
        }
        // A return shipment whose items have all come back is closed.
        for (sid, mut shipment) in shipments {
            if shipment.outstanding == 0 {
                shipment.status = ShipmentStatus::Received;
                shipment.receipt = Some(Receipt {
                    tx: self.ctx.tx_hash,
                    height: self.ctx.height,
                    accepted: shipment.items.len() as u32,
                    units: shipment.units,
                    rejected: vec![],
                    missing: vec![],
                    unexpected: vec![],
                    location: None,
                    note: format!("returned: {}", r.reason),
                });
            }
            self.changes.shipments.insert(sid, shipment);
        }
        Ok(())
    }
}

fn require_active(status: Status, s: &ItemState) -> R<()> {
    match status {
        Status::Active => Ok(()),
        Status::InTransit => rule(RuleError::InTransit {
            item: s.id.clone(),
            shipment: s
                .transit
                .as_ref()
                .map(|t| t.shipment.clone())
                .unwrap_or_else(|| ShipmentId(String::new())),
        }),
        status => rule(RuleError::Decommissioned {
            item: s.id.clone(),
            status,
        }),
    }
}

fn hold_text(h: &Hold) -> String {
    let kind = match h.kind {
        StatusChange::Quarantine | StatusChange::Release => "quarantined",
        StatusChange::Damaged => "damaged",
        StatusChange::Suspect => "suspect",
    };
    format!("{kind} ({})", h.reason)
}
