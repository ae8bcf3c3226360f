//! The ledger rules: `apply(state, tx) -> changes | RuleError`.
//!
//! The caller must have run [`SignedTransaction::check_stateless`] (chain id, size, form,
//! signature) first; `apply` checks the sequence number and every rule that needs state.

use crate::genesis::{Genesis, Member, MemberId, Role};
use crate::gs1::{ItemId, Sscc};
use crate::hash::Hash32;
use crate::state::changes::{Changes, ItemChange};
use crate::state::item_event::{Action, ItemEvent};
use crate::state::item_state::{Hold, ItemState, Product, Status, Transit};
use crate::state::records::{RecallRecord, Receipt, Shipment, ShipmentStatus};
use crate::state::rule_error::{ApplyError, RuleError};
use crate::state::view::StateView;
use crate::time::iso_date;
use crate::transaction::{
    Commission, Decommission, DecommissionReason, Move, Pack, Payload, Recall, Receive, Return,
    SetStatus, Ship, SignedTransaction, StatusChange, TxError, Unpack,
};
use std::collections::{BTreeMap, BTreeSet};

/// Where a transaction is being applied: its block and its own hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockContext {
    /// Height of the block.
    pub height: u64,
    /// The block's (proposer's) time, Unix milliseconds.
    pub time_ms: u64,
    /// Hash of the transaction being applied.
    pub tx_hash: Hash32,
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
    let drift = genesis.params.max_clock_drift_ms;
    if tx.event_time_ms > ctx.time_ms.saturating_add(drift) {
        return Err(RuleError::EventTimeAhead {
            event_ms: tx.event_time_ms,
            block_ms: ctx.time_ms,
            drift_ms: drift,
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
        Payload::Recall(p) => w.recall(p)?,
        Payload::Decommission(p) => w.decommission(p)?,
        Payload::Return(p) => w.return_items(p)?,
    }
    w.changes.sequences.insert(tx.signer.clone(), tx.sequence);
    Ok(w.changes)
}

/// What happens to a shipped item at receipt.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fate {
    Accepted,
    Rejected,
    Missing,
}

/// The working set of one transaction: reads go through its own changes first.
struct Work<'a, V: StateView> {
    view: &'a V,
    genesis: &'a Genesis,
    signer: &'a Member,
    time_ms: u64,
    ctx: &'a BlockContext,
    changes: Changes,
}

type R<T> = Result<T, ApplyError>;

fn rule<T>(e: RuleError) -> R<T> {
    Err(ApplyError::Rule(e))
}

impl<V: StateView> Work<'_, V> {
    fn me(&self) -> &MemberId {
        &self.signer.name
    }

    /// The item's current state in this transaction, if it exists.
    fn find(&self, id: &ItemId) -> R<Option<ItemState>> {
        if let Some(ch) = self.changes.items.get(id) {
            return Ok(Some(ch.after.clone()));
        }
        Ok(self.view.item(id)?)
    }

    /// The item's state, or `UnknownItem`.
    fn get(&self, id: &ItemId) -> R<ItemState> {
        match self.find(id)? {
            Some(s) => Ok(s),
            None => rule(RuleError::UnknownItem(id.clone())),
        }
    }

    /// Records the item's new state.
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
    fn record(&mut self, mut state: ItemState, action: Action, via: Option<&Sscc>) -> R<()> {
        let event = ItemEvent {
            item: state.id.clone(),
            seq: state.event_count,
            prev: state.history_head,
            tx: self.ctx.tx_hash,
            height: self.ctx.height,
            time_ms: self.time_ms,
            actor: self.me().clone(),
            action,
            via: via.cloned(),
            custodian: state.custodian.clone(),
            location: state.location.clone(),
            status: state.status,
            parent: state.parent.clone(),
        };
        state.history_head = event.hash();
        state.event_count += 1;
        self.changes.events.push(event);
        self.put(state)
    }

    /// The item and everything packed in it, depth first, parents before children.
    fn subtree(&self, id: &ItemId) -> R<Vec<ItemState>> {
        let mut out = Vec::new();
        let mut stack = vec![id.clone()];
        while let Some(i) = stack.pop() {
            let s = self.get(&i)?;
            stack.extend(s.children.iter().rev().cloned());
            out.push(s);
        }
        Ok(out)
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

    /// Custodian, not in transit, not decommissioned.
    fn require_in_stock(&self, s: &ItemState) -> R<()> {
        self.require_custodian(s)?;
        self.require_active(s)
    }

    fn require_active(&self, s: &ItemState) -> R<()> {
        match s.status {
            Status::Active => Ok(()),
            Status::InTransit => rule(RuleError::InTransit {
                item: s.id.clone(),
                shipment: s
                    .transit
                    .as_ref()
                    .map(|t| t.shipment.clone())
                    .unwrap_or_else(|| crate::transaction::ShipmentId(String::new())),
            }),
            status => rule(RuleError::Decommissioned {
                item: s.id.clone(),
                status,
            }),
        }
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

    /// Why an item may not be sold or shipped onward, if it may not.
    fn restriction(&self, s: &ItemState) -> Option<String> {
        if let Some(r) = &s.recall {
            return Some(format!("under recall {r}"));
        }
        s.hold.as_ref().map(|h| {
            let kind = match h.kind {
                StatusChange::Quarantine | StatusChange::Release => "quarantined",
                StatusChange::Damaged => "damaged",
                StatusChange::Suspect => "suspect",
            };
            format!("{kind} ({})", h.reason)
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
        if let Some(recall_id) = self.view.lot_recall(&c.gtin, &c.lot)? {
            return rule(RuleError::LotRecalled {
                gtin: c.gtin.clone(),
                lot: c.lot.clone(),
                recall_id,
            });
        }
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
            self.record(state, Action::Commissioned, None)?;
        }
        Ok(())
    }

    fn new_item(
        &self,
        id: ItemId,
        product: Option<Product>,
        location: Option<crate::gs1::Gln>,
    ) -> ItemState {
        ItemState {
            id,
            product,
            custodian: self.me().clone(),
            location,
            status: Status::Active,
            transit: None,
            hold: None,
            recall: None,
            parent: None,
            children: Vec::new(),
            custody_chain: vec![self.me().clone()],
            created_height: self.ctx.height,
            history_head: Hash32::ZERO,
            event_count: 0,
        }
    }

    fn pack(&mut self, p: &Pack) -> R<()> {
        let parent_id = ItemId::Sscc(p.parent.clone());
        let mut parent = match self.find(&parent_id)? {
            Some(s) => {
                self.require_in_stock(&s)?;
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
                self.record(created, Action::Commissioned, None)?;
                self.get(&parent_id)?
            }
        };
        // Ancestors of the parent: a child container among them would make a cycle.
        let mut ancestors = BTreeSet::new();
        let mut up = parent.parent.clone();
        while let Some(a) = up {
            let id = ItemId::Sscc(a);
            up = self.get(&id)?.parent;
            ancestors.insert(id);
        }
        for child_id in &p.children {
            if child_id == &parent_id || ancestors.contains(child_id) {
                return rule(RuleError::PackingCycle {
                    child: child_id.clone(),
                    parent: p.parent.clone(),
                });
            }
            let mut child = self.get(child_id)?;
            self.require_in_stock(&child)?;
            self.require_top_level(&child)?;
            child.parent = Some(p.parent.clone());
            self.record(
                child,
                Action::Packed {
                    into: p.parent.clone(),
                },
                None,
            )?;
        }
        parent.children.extend(p.children.iter().cloned());
        self.record(
            parent,
            Action::Filled {
                added: p.children.len() as u32,
            },
            None,
        )
    }

    fn unpack(&mut self, u: &Unpack) -> R<()> {
        let parent_id = ItemId::Sscc(u.parent.clone());
        let mut parent = self.get(&parent_id)?;
        self.require_in_stock(&parent)?;
        let out: Vec<ItemId> = if u.children.is_empty() {
            parent.children.clone()
        } else {
            for c in &u.children {
                if !parent.children.contains(c) {
                    return rule(RuleError::NotInContainer {
                        item: c.clone(),
                        parent: u.parent.clone(),
                    });
                }
            }
            u.children.clone()
        };
        for c in &out {
            let mut child = self.get(c)?;
            child.parent = None;
            self.record(
                child,
                Action::Unpacked {
                    from: u.parent.clone(),
                },
                None,
            )?;
        }
        let removed: BTreeSet<&ItemId> = out.iter().collect();
        parent.children.retain(|c| !removed.contains(c));
        self.record(
            parent,
            Action::Emptied {
                removed: out.len() as u32,
            },
            None,
        )
    }

    /// May `s` travel to `to`? Restricted items only back toward the manufacturer.
    fn check_destination(&self, s: &ItemState, to: &MemberId) -> R<()> {
        if let Some(why) = self.restriction(s) {
            let owner = s
                .product
                .as_ref()
                .and_then(|p| self.genesis.gtin_owner(&p.gtin))
                .map(|m| &m.name);
            if !s.was_held_by(to) && owner != Some(to) {
                return rule(RuleError::Restricted {
                    item: s.id.clone(),
                    why,
                    to: to.clone(),
                });
            }
        }
        Ok(())
    }

    fn ship(&mut self, p: &Ship) -> R<()> {
        if self.view.shipment(&p.shipment)?.is_some() {
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
        for id in &p.items {
            let top = self.get(id)?;
            self.require_in_stock(&top)?;
            self.require_top_level(&top)?;
            let via = match id {
                ItemId::Sscc(s) => Some(s.clone()),
                ItemId::Sgtin(_) => None,
            };
            for (i, mut s) in self.subtree(id)?.into_iter().enumerate() {
                self.check_destination(&s, &p.to)?;
                s.status = Status::InTransit;
                s.transit = Some(transit.clone());
                let action = Action::Shipped {
                    shipment: p.shipment.clone(),
                    to: p.to.clone(),
                };
                self.record(s, action, if i == 0 { None } else { via.as_ref() })?;
            }
        }
        self.changes.shipments.insert(
            p.shipment.clone(),
            Shipment {
                id: p.shipment.clone(),
                from: self.me().clone(),
                to: p.to.clone(),
                items: p.items.clone(),
                shipped_tx: self.ctx.tx_hash,
                shipped_height: self.ctx.height,
                status: ShipmentStatus::InTransit,
                receipt: None,
            },
        );
        Ok(())
    }

    /// The open shipment addressed to the signer.
    fn open_shipment_to_me(&self, id: &crate::transaction::ShipmentId) -> R<Shipment> {
        let Some(shipment) = self.view.shipment(id)? else {
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

    /// Every item still travelling in `shipment`, with the container it travels in.
    fn shipped_items(&self, shipment: &Shipment) -> R<BTreeMap<ItemId, (ItemState, Option<Sscc>)>> {
        let mut out = BTreeMap::new();
        for top in &shipment.items {
            let via = match top {
                ItemId::Sscc(s) => Some(s.clone()),
                ItemId::Sgtin(_) => None,
            };
            for (i, s) in self.subtree(top)?.into_iter().enumerate() {
                if s.transit.as_ref().map(|t| &t.shipment) == Some(&shipment.id) {
                    out.insert(s.id.clone(), (s, if i == 0 { None } else { via.clone() }));
                }
            }
        }
        Ok(out)
    }

    fn receive(&mut self, r: &Receive) -> R<()> {
        let mut shipment = self.open_shipment_to_me(&r.shipment)?;
        if let Some(loc) = &r.location {
            self.require_my_location(loc)?;
        }
        let shipped = self.shipped_items(&shipment)?;
        let mut marked: BTreeMap<&ItemId, Fate> = BTreeMap::new();
        for (list, fate) in [(&r.rejected, Fate::Rejected), (&r.missing, Fate::Missing)] {
            for id in list {
                if !shipped.contains_key(id) {
                    return rule(RuleError::NotInShipment {
                        item: id.clone(),
                        shipment: r.shipment.clone(),
                    });
                }
                marked.insert(id, fate);
            }
        }
        for id in &r.unexpected {
            if shipped.contains_key(id) {
                return rule(RuleError::NotUnexpected {
                    item: id.clone(),
                    shipment: r.shipment.clone(),
                });
            }
        }
        // Parents come before their contents in `subtree` order, so a fate set on a
        // container is inherited by everything in it.
        let mut fates: BTreeMap<ItemId, Fate> = BTreeMap::new();
        let mut accepted = 0u32;
        let order: Vec<ItemId> = shipment
            .items
            .iter()
            .map(|top| self.subtree(top))
            .collect::<R<Vec<_>>>()?
            .into_iter()
            .flatten()
            .map(|s| s.id)
            .filter(|id| shipped.contains_key(id))
            .collect();
        for id in order {
            let (_, via) = &shipped[&id];
            let mut s = self.get(&id)?;
            let inherited = s
                .parent
                .as_ref()
                .and_then(|p| fates.get(&ItemId::Sscc(p.clone())).copied());
            let fate = marked
                .get(&id)
                .copied()
                .or(inherited)
                .unwrap_or(Fate::Accepted);
            fates.insert(id.clone(), fate);
            s.status = Status::Active;
            s.transit = None;
            let action = match fate {
                Fate::Accepted => {
                    accepted += 1;
                    s.custodian = self.me().clone();
                    if s.custody_chain.last() != Some(self.me()) {
                        s.custody_chain.push(self.me().clone());
                    }
                    // The shipper's location means nothing at the receiver: where the
                    // goods are is the put-away location, or unknown until moved.
                    s.location = r.location.clone();
                    Action::Received {
                        shipment: r.shipment.clone(),
                    }
                }
                Fate::Rejected | Fate::Missing => {
                    // Detached from a container that is itself accepted.
                    if let Some(p) = &s.parent {
                        let pid = ItemId::Sscc(p.clone());
                        if fates.get(&pid) == Some(&Fate::Accepted) {
                            let mut parent = self.get(&pid)?;
                            parent.children.retain(|c| c != &id);
                            self.put(parent)?;
                            s.parent = None;
                        }
                    }
                    let (kind, what, action) = if fate == Fate::Rejected {
                        (
                            StatusChange::Quarantine,
                            "rejected",
                            Action::Rejected {
                                shipment: r.shipment.clone(),
                            },
                        )
                    } else {
                        (
                            StatusChange::Suspect,
                            "missing",
                            Action::Missing {
                                shipment: r.shipment.clone(),
                            },
                        )
                    };
                    s.hold = Some(Hold {
                        kind,
                        reason: format!(
                            "{what} at receipt of shipment {} by {}",
                            r.shipment,
                            self.me()
                        ),
                    });
                    action
                }
            };
            self.record(s, action, via.as_ref())?;
        }
        shipment.status = ShipmentStatus::Received;
        shipment.receipt = Some(Receipt {
            tx: self.ctx.tx_hash,
            height: self.ctx.height,
            accepted,
            rejected: r.rejected.clone(),
            missing: r.missing.clone(),
            unexpected: r.unexpected.clone(),
            location: r.location.clone(),
            note: r.note.clone(),
        });
        self.changes.shipments.insert(shipment.id.clone(), shipment);
        Ok(())
    }

    fn move_items(&mut self, m: &Move) -> R<()> {
        self.require_my_location(&m.to)?;
        for id in &m.items {
            let top = self.get(id)?;
            self.require_in_stock(&top)?;
            self.require_top_level(&top)?;
            let via = id_container(id);
            for (i, mut s) in self.subtree(id)?.into_iter().enumerate() {
                s.location = Some(m.to.clone());
                let action = Action::Moved { to: m.to.clone() };
                self.record(s, action, if i == 0 { None } else { via.as_ref() })?;
            }
        }
        Ok(())
    }

    fn set_status(&mut self, p: &SetStatus) -> R<()> {
        let regulator = self.signer.has_role(Role::Regulator);
        for id in &p.items {
            let top = self.get(id)?;
            if !regulator {
                self.require_custodian(&top)?;
            }
            if top.status.is_decommissioned() {
                return rule(RuleError::Decommissioned {
                    item: top.id.clone(),
                    status: top.status,
                });
            }
            let via = id_container(id);
            for (i, mut s) in self.subtree(id)?.into_iter().enumerate() {
                s.hold = match p.status {
                    StatusChange::Release => None,
                    kind => Some(Hold {
                        kind,
                        reason: p.reason.clone(),
                    }),
                };
                let action = Action::StatusSet {
                    change: p.status,
                    reason: p.reason.clone(),
                };
                self.record(s, action, if i == 0 { None } else { via.as_ref() })?;
            }
        }
        Ok(())
    }

    fn recall(&mut self, r: &Recall) -> R<()> {
        if !self.signer.owns_gtin(&r.gtin) && !self.signer.has_role(Role::Regulator) {
            return rule(RuleError::NotAllowed {
                member: self.me().clone(),
                action: format!("recall GTIN {}: only its owner or a regulator may", r.gtin),
            });
        }
        if self.view.recall(&r.recall_id)?.is_some() {
            return rule(RuleError::RecallExists(r.recall_id.clone()));
        }
        let mut affected = 0u32;
        for lot in &r.lots {
            if let Some(recall_id) = self.view.lot_recall(&r.gtin, lot)? {
                return rule(RuleError::LotRecalled {
                    gtin: r.gtin.clone(),
                    lot: lot.clone(),
                    recall_id,
                });
            }
            for id in self.view.lot_items(&r.gtin, lot)? {
                let mut s = self.get(&id)?;
                s.recall = Some(r.recall_id.clone());
                affected += 1;
                let action = Action::Recalled {
                    recall_id: r.recall_id.clone(),
                };
                self.record(s, action, None)?;
            }
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
        let today = iso_date(self.time_ms);
        for id in &d.items {
            let top = self.get(id)?;
            self.require_in_stock(&top)?;
            self.require_top_level(&top)?;
            let via = id_container(id);
            for (i, mut s) in self.subtree(id)?.into_iter().enumerate() {
                if selling {
                    let action = if d.reason == DecommissionReason::Dispensed {
                        "dispensed"
                    } else {
                        "exported"
                    };
                    let expired = s.product.as_ref().and_then(|p| {
                        let until = p.expiry.to_iso_date();
                        (today > until).then(|| format!("expired on {until}"))
                    });
                    if let Some(why) = self.restriction(&s).or(expired) {
                        return rule(RuleError::NotSellable {
                            item: s.id.clone(),
                            why,
                            action,
                        });
                    }
                }
                s.status = Status::from_decommission(d.reason);
                let action = Action::Decommissioned { reason: d.reason };
                self.record(s, action, if i == 0 { None } else { via.as_ref() })?;
            }
        }
        Ok(())
    }

    fn return_items(&mut self, r: &Return) -> R<()> {
        let mut touched_shipments = BTreeSet::new();
        for id in &r.items {
            let top = self.get(id)?;
            let not = |why: String| {
                rule(RuleError::NotReturnable {
                    item: id.clone(),
                    signer: self.me().clone(),
                    why,
                })
            };
            match (&top.status, &top.transit) {
                (Status::Dispensed, _) if &top.custodian == self.me() => {
                    // A unit of a dispensed case comes back with its case, never alone (it
                    // would be active inside a dispensed container).
                    self.require_top_level(&top)?;
                }
                (Status::Dispensed, _) => {
                    return not(format!("it was dispensed by {}", top.custodian));
                }
                (Status::InTransit, Some(t)) if &t.to == self.me() => {
                    // Everything coming back, contents included, must have been the
                    // signer's before.
                    for s in self.subtree(id)? {
                        if !s.was_held_by(self.me()) {
                            return rule(RuleError::NotReturnable {
                                item: s.id.clone(),
                                signer: self.me().clone(),
                                why: format!(
                                    "{} never held it, so it is not a return of its sale",
                                    self.me()
                                ),
                            });
                        }
                    }
                    let shipment = self.open_shipment_to_me(&t.shipment)?;
                    if !shipment.items.contains(id) {
                        return not(format!(
                            "it travels inside a container of shipment {}: return the container",
                            t.shipment
                        ));
                    }
                    touched_shipments.insert(t.shipment.clone());
                }
                (status, _) => {
                    return not(format!(
                        "it is {} with {}, neither dispensed by nor shipped back to the signer",
                        status.as_str(),
                        top.custodian
                    ))
                }
            }
            let via = id_container(id);
            for (i, mut s) in self.subtree(id)?.into_iter().enumerate() {
                if s.status == Status::InTransit {
                    // Back from another member: its location there means nothing here.
                    s.location = None;
                }
                s.status = Status::Active;
                s.transit = None;
                s.custodian = self.me().clone();
                if s.custody_chain.last() != Some(self.me()) {
                    s.custody_chain.push(self.me().clone());
                }
                s.hold = Some(Hold {
                    kind: StatusChange::Quarantine,
                    reason: format!("returned: {}", r.reason),
                });
                let action = Action::Returned {
                    reason: r.reason.clone(),
                };
                self.record(s, action, if i == 0 { None } else { via.as_ref() })?;
            }
        }
        // A return shipment whose items have all come back is closed.
        for sid in touched_shipments {
            let Some(mut shipment) = self.view.shipment(&sid)? else {
                continue;
            };
            let mut open = false;
            for top in &shipment.items {
                open |= self.get(top)?.transit.is_some_and(|t| t.shipment == sid);
            }
            if !open {
                // Like a receive's, the count includes the contents of containers.
                let mut accepted = 0u32;
                for top in &shipment.items {
                    accepted += self.subtree(top)?.len() as u32;
                }
                shipment.status = ShipmentStatus::Received;
                shipment.receipt = Some(Receipt {
                    tx: self.ctx.tx_hash,
                    height: self.ctx.height,
                    accepted,
                    rejected: vec![],
                    missing: vec![],
                    unexpected: vec![],
                    location: None,
                    note: format!("returned: {}", r.reason),
                });
                self.changes.shipments.insert(sid, shipment);
            }
        }
        Ok(())
    }
}

/// The container an event reaches contents through, when `id` is one.
fn id_container(id: &ItemId) -> Option<Sscc> {
    match id {
        ItemId::Sscc(s) => Some(s.clone()),
        ItemId::Sgtin(_) => None,
    }
}
