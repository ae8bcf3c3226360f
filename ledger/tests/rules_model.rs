//! Property test: random operations by random members over a small universe of serials,
//! lots and SSCCs (so conflicts are frequent), applied both to a simple reference model and
//! through the ledger rules, with block times that move on and event times that sometimes
//! run ahead, lag or go far back.
//!
//! The ledger keeps summaries so that a transaction's work is bounded by what it names: a
//! packed unit is not written when its pallet moves, a recall marks lot records, containers
//! carry counts of their contents, routes are read through containers. The model keeps none
//! of that: it walks its containers for an item's custodian, place, status, shipment and hold,
//! reads a unit's recall from its lot, recounts a container's contents from the contents
//! index it keeps, and carries every item's route as a stack, cut back when it returns to a
//! member on it, updated for everything inside a container each time the container changes
//! hands. After every step the two agree on accept/reject; on every item's effective
//! custodian, location, status, shipment, hold, recall, route, parent, containers, event count
//! and latest event time; on every container's summary (children, units, lots, held, depth);
//! on lots, shipments and recalls. A rejection changes nothing; an accepted transaction
//! changes and writes events only for what it names and their containers; and the ledger
//! state keeps its invariants (hash-linked histories ending at the head, parent/contents
//! agreement, summaries equal to recounts, routes ending at the custodian).
//!
//! Half the random sequences are calm (every step plausible and on time) so that goods
//! travel far; directed scenarios at the end take the shapes random sequences reach too
//! rarely (routes lost in a cut, refusals deep inside accepted containers, the limits, the
//! route rule for containers), through the same checks. Seeds are fixed: every run is the
//! same (`MODEL_TRACE=1` prints each step).

use custody_consensus::Validator;
use custody_ledger::crypto::{public_key, Signature};
use custody_ledger::genesis::{ChainParams, Genesis, Member, MemberId, Role};
use custody_ledger::gs1::{check_digit, Expiry, Gln, Gtin, ItemId, Lot, Serial, Sgtin, Sscc};
use custody_ledger::hash::Hash32;
use custody_ledger::state::{
    resolve, Action, ApplyError, BlockContext, Changes, Hold, ItemEvent, ItemState, LotRecord,
    Overlay, RecallRecord, RuleError, Shipment, ShipmentStatus, StateError, StateView, Status,
};
use custody_ledger::transaction::{
    Commission, Decommission, DecommissionReason, Move, Pack, Payload, Recall, Receive, Return,
    SetStatus, Ship, ShipmentId, SignedTransaction, StatusChange, Transaction, Unpack,
    TX_FORMAT_VERSION,
};
use ed25519_dalek::SigningKey;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::collections::{BTreeMap, BTreeSet};

// ---------------------------------------------------------------------------------------
// The universe

const MEMBERS: [&str; 4] = ["manufacturer", "distributor", "pharmacy", "regulator"];
const MANUFACTURER: usize = 0;
const DISTRIBUTOR: usize = 1;
const REGULATOR: usize = 3;
/// The products: GTIN (without its check digit), the member owning its prefix, and how many
/// serials the universe has of it. Units are items `0..UNITS`, the first product's first.
const PRODUCTS: [(&str, usize, usize); 2] = [
    ("1061414100001", MANUFACTURER, 5),
    ("1061414200001", DISTRIBUTOR, 3),
];
const UNITS: usize = 8;
/// SSCCs: items `UNITS..ITEMS`, the first half the manufacturer's, the rest the distributor's.
const SSCCS_EACH: usize = 3;
const ITEMS: usize = UNITS + 2 * SSCCS_EACH;
const SHIPMENTS: usize = 12;
const RECALLS: usize = 3;
/// 2023-11-14 22:13:20 UTC.
const T0: u64 = 1_700_000_000_000;
const DAY_MS: u64 = 86_400_000;
const MAX_AHEAD_MS: u64 = 10_000;
const MAX_BEHIND_MS: u64 = 7 * DAY_MS;
/// Small limits, so that the universe reaches them.
const MAX_NESTING: u32 = 3;
const MAX_LOTS: u32 = 2;
/// Each product's lots with the expiry they are normally commissioned with: some expire
/// while a sequence runs (its block time moves on by days).
const LOTS: [&[(&str, &str)]; 2] = [
    &[("L1", "301231"), ("L2", "231117"), ("L3", "231120")],
    &[("L1", "301231"), ("L2", "231116")],
];
/// Expiries a commission sometimes states instead: another date (refused for an existing
/// lot), and one already passed.
const ODD_EXPIRIES: [&str; 2] = ["291130", "231113"];
/// How far the block time moves on before a step (weight, ms); 0: the same block.
const BLOCK_STEPS: [(u32, u64); 5] = [
    (2, 0),
    (4, 60_000),
    (3, 1_800_000),
    (2, 4 * 3_600_000),
    (1, DAY_MS),
];
/// The event time's offset from the block time (weight, ms).
const EVENT_OFFSETS: [(u32, i64); 6] = [
    (70, 0),
    (8, -3_600_000),
    (6, 5_000),
    (2, 11_000),
    (3, -6 * DAY_MS as i64),
    (2, -8 * DAY_MS as i64),
];

fn weight_total<T>(table: &[(u32, T)]) -> u32 {
    table.iter().map(|(w, _)| w).sum()
}

fn weighted<T: Copy>(table: &[(u32, T)], k: u32) -> T {
    let mut k = k % weight_total(table);
    for &(w, v) in table {
        if k < w {
            return v;
        }
        k -= w;
    }
    unreachable!("k is below the total weight")
}

fn with_check_digit(body: &str) -> String {
    format!("{body}{}", check_digit(body))
}

fn gtin(g: usize) -> Gtin {
    Gtin::parse(&with_check_digit(PRODUCTS[g].0)).expect("valid GTIN")
}

fn lot(g: usize, l: usize) -> Lot {
    Lot::parse(LOTS[g][l].0).expect("valid lot")
}

/// A unit's product and serial number.
fn product_of(i: usize) -> (usize, usize) {
    assert!(i < UNITS);
    if i < PRODUCTS[0].2 {
        (0, i + 1)
    } else {
        (1, i - PRODUCTS[0].2 + 1)
    }
}

fn unit_index(g: usize, serial: usize) -> usize {
    let first = if g == 0 { 0 } else { PRODUCTS[0].2 };
    first + serial - 1
}

fn is_unit(i: usize) -> bool {
    i < UNITS
}

fn item_id(i: usize) -> ItemId {
    if is_unit(i) {
        let (g, serial) = product_of(i);
        ItemId::Sgtin(Sgtin {
            gtin: gtin(g),
            serial: Serial::parse(&serial.to_string()).expect("valid serial"),
        })
    } else {
        ItemId::Sscc(sscc(i))
    }
}

fn sscc(i: usize) -> Sscc {
    assert!((UNITS..ITEMS).contains(&i));
    let prefix = if sscc_owner(i) == MANUFACTURER {
        "0614141"
    } else {
        "0614142"
    };
    Sscc::parse(&with_check_digit(&format!("1{prefix}{:09}", i))).expect("valid SSCC")
}

/// The member owning an SSCC's prefix.
fn sscc_owner(i: usize) -> usize {
    if i < UNITS + SSCCS_EACH {
        MANUFACTURER
    } else {
        DISTRIBUTOR
    }
}

fn gln_of(member: usize) -> Gln {
    let g = ["061414100000", "061414200000", "061414300000"][member];
    Gln::parse(&with_check_digit(g)).expect("valid GLN")
}

fn shipment_id(s: usize) -> ShipmentId {
    ShipmentId(format!("S{s}"))
}

fn recall_id(r: usize) -> String {
    format!("R{r}")
}

fn member(m: usize) -> MemberId {
    MemberId::from(MEMBERS[m])
}

/// Days since 1970-01-01 of a YYMMDD expiry (20YY; the universe's days are never `00`).
fn expiry_day(text: &str) -> u64 {
    let n = |r: std::ops::Range<usize>| text[r].parse::<i64>().expect("digits");
    let (y, m, d) = (2000 + n(0..2), n(2..4), n(4..6));
    // H. Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) as u64
}

fn keys() -> Vec<SigningKey> {
    (1..=5u8)
        .map(|i| SigningKey::from_bytes(&[i; 32]))
        .collect()
}

fn genesis(keys: &[SigningKey]) -> Genesis {
    let member = |i: usize, role: Role, prefixes: &[&str], glns: Vec<Gln>| Member {
        name: MemberId::from(MEMBERS[i]),
        public_key: public_key(&keys[i]),
        roles: vec![role],
        company_prefixes: prefixes.iter().map(|p| p.to_string()).collect(),
        glns,
    };
    let g = Genesis {
        chain_id: "model-chain".into(),
        genesis_time_ms: 0,
        validators: vec![Validator {
            name: "v0".into(),
            public_key: public_key(&keys[4]),
        }],
        members: vec![
            member(0, Role::Manufacturer, &["0614141"], vec![gln_of(0)]),
            member(1, Role::Distributor, &["0614142"], vec![gln_of(1)]),
            member(2, Role::Dispenser, &[], vec![gln_of(2)]),
            member(3, Role::Regulator, &[], vec![]),
        ],
        params: ChainParams {
            max_event_ahead_ms: MAX_AHEAD_MS,
            max_event_behind_ms: MAX_BEHIND_MS,
            max_nesting: MAX_NESTING,
            max_container_lots: MAX_LOTS,
            ..ChainParams::default()
        },
    };
    g.validate().expect("valid genesis");
    g
}

// ---------------------------------------------------------------------------------------
// Operations

#[derive(Clone, Debug)]
enum Op {
    Commission {
        who: usize,
        gtin: usize,
        lot: usize,
        /// An expiry from `ODD_EXPIRIES` instead of the lot's own.
        odd: Option<usize>,
        serials: Vec<usize>,
        location: Option<usize>,
    },
    Pack {
        who: usize,
        parent: usize,
        children: Vec<usize>,
    },
    Unpack {
        who: usize,
        parent: usize,
        children: Vec<usize>,
    },
    Ship {
        who: usize,
        shipment: usize,
        to: usize,
        items: Vec<usize>,
    },
    Receive {
        who: usize,
        shipment: usize,
        accepted: Vec<usize>,
        rejected: Vec<usize>,
        missing: Vec<usize>,
        unexpected: Vec<usize>,
        location: Option<usize>,
    },
    Move {
        who: usize,
        items: Vec<usize>,
        gln_of: usize,
    },
    Decommission {
        who: usize,
        items: Vec<usize>,
        reason: DecommissionReason,
    },
    SetStatus {
        who: usize,
        items: Vec<usize>,
        change: StatusChange,
    },
    Recall {
        who: usize,
        recall: usize,
        gtin: usize,
        lots: Vec<usize>,
    },
    Return {
        who: usize,
        items: Vec<usize>,
    },
}

impl Op {
    fn kind(&self) -> &'static str {
        match self {
            Op::Commission { .. } => "commission",
            Op::Pack { .. } => "pack",
            Op::Unpack { .. } => "unpack",
            Op::Ship { .. } => "ship",
            Op::Receive { .. } => "receive",
            Op::Move { .. } => "move",
            Op::Decommission { .. } => "decommission",
            Op::SetStatus { .. } => "set_status",
            Op::Recall { .. } => "recall",
            Op::Return { .. } => "return",
        }
    }

    fn who(&self) -> usize {
        match self {
            Op::Commission { who, .. }
            | Op::Pack { who, .. }
            | Op::Unpack { who, .. }
            | Op::Ship { who, .. }
            | Op::Receive { who, .. }
            | Op::Move { who, .. }
            | Op::Decommission { who, .. }
            | Op::SetStatus { who, .. }
            | Op::Recall { who, .. }
            | Op::Return { who, .. } => *who,
        }
    }

    /// The items the transaction names (that it may act on: not the unexpected ones).
    fn named(&self) -> Vec<usize> {
        match self {
            Op::Commission { gtin, serials, .. } => {
                serials.iter().map(|&s| unit_index(*gtin, s)).collect()
            }
            Op::Pack {
                parent, children, ..
            }
            | Op::Unpack {
                parent, children, ..
            } => std::iter::once(*parent)
                .chain(children.iter().copied())
                .collect(),
            Op::Receive {
                accepted,
                rejected,
                missing,
                ..
            } => accepted
                .iter()
                .chain(rejected)
                .chain(missing)
                .copied()
                .collect(),
            Op::Ship { items, .. }
            | Op::Move { items, .. }
            | Op::Decommission { items, .. }
            | Op::SetStatus { items, .. }
            | Op::Return { items, .. } => items.clone(),
            Op::Recall { .. } => vec![],
        }
    }

    /// The lot records the transaction may change.
    fn named_lots(&self) -> Vec<(Gtin, Lot)> {
        match self {
            Op::Commission {
                gtin: g, lot: l, ..
            } => vec![(gtin(*g), lot(*g, *l))],
            Op::Recall { gtin: g, lots, .. } => {
                lots.iter().map(|&l| (gtin(*g), lot(*g, l))).collect()
            }
            _ => vec![],
        }
    }

    fn payload(&self) -> Payload {
        let ids = |v: &[usize]| v.iter().map(|&i| item_id(i)).collect::<Vec<_>>();
        match self {
            Op::Commission {
                gtin: g,
                lot: l,
                odd,
                serials,
                location,
                ..
            } => Payload::Commission(Commission {
                gtin: gtin(*g),
                lot: lot(*g, *l),
                expiry: Expiry::parse(match odd {
                    Some(k) => ODD_EXPIRIES[*k],
                    None => LOTS[*g][*l].1,
                })
                .expect("expiry"),
                serials: serials
                    .iter()
                    .map(|s| Serial::parse(&s.to_string()).expect("serial"))
                    .collect(),
                location: location.map(gln_of),
            }),
            Op::Pack {
                parent, children, ..
            } => Payload::Pack(Pack {
                parent: sscc(*parent),
                children: ids(children),
            }),
            Op::Unpack {
                parent, children, ..
            } => Payload::Unpack(Unpack {
                parent: sscc(*parent),
                children: ids(children),
            }),
            Op::Ship {
                shipment,
                to,
                items,
                ..
            } => Payload::Ship(Ship {
                shipment: shipment_id(*shipment),
                to: member(*to),
                items: ids(items),
            }),
            Op::Receive {
                shipment,
                accepted,
                rejected,
                missing,
                unexpected,
                location,
                ..
            } => Payload::Receive(Receive {
                shipment: shipment_id(*shipment),
                accepted: ids(accepted),
                rejected: ids(rejected),
                missing: ids(missing),
                unexpected: ids(unexpected),
                location: location.map(gln_of),
                note: String::new(),
            }),
            Op::Move {
                items, gln_of: g, ..
            } => Payload::Move(Move {
                items: ids(items),
                to: gln_of(*g),
            }),
            Op::Decommission { items, reason, .. } => Payload::Decommission(Decommission {
                items: ids(items),
                reason: *reason,
            }),
            Op::SetStatus { items, change, .. } => Payload::SetStatus(SetStatus {
                items: ids(items),
                status: *change,
                reason: "model".into(),
            }),
            Op::Recall {
                recall,
                gtin: g,
                lots,
                ..
            } => Payload::Recall(Recall {
                recall_id: recall_id(*recall),
                gtin: gtin(*g),
                lots: lots.iter().map(|&l| lot(*g, l)).collect(),
                reason: "model".into(),
            }),
            Op::Return { items, .. } => Payload::Return(Return {
                items: ids(items),
                reason: "model".into(),
            }),
        }
    }
}

/// A random operation before it meets the state: `resolve` turns it into an [`Op`]. Most
/// (`natural`) operations are signed by the member that could plausibly do them and name
/// items it could plausibly act on, so sequences make progress; the rest are arbitrary, and
/// lists may be empty or hold duplicates (the model refuses those as the form check does).
/// `block` and `offset` pick how the block time moves on and the event time's offset.
#[derive(Clone, Debug)]
struct Raw {
    kind: usize,
    natural: bool,
    who: usize,
    a: usize,
    b: usize,
    c: usize,
    list: Vec<usize>,
    extra: Vec<usize>,
    flag: bool,
    block: u32,
    offset: u32,
}

fn raw_strategy() -> impl Strategy<Value = Raw> {
    let kind = prop_oneof![
        3 => Just(0usize), // commission
        3 => Just(1),      // pack
        2 => Just(2),      // unpack
        4 => Just(3),      // ship
        4 => Just(4),      // receive
        1 => Just(5),      // move
        2 => Just(6),      // decommission
        1 => Just(7),      // set status
        1 => Just(8),      // recall
        2 => Just(9),      // return
    ];
    let list = prop_oneof![
        9 => proptest::collection::vec(0..ITEMS, 1..3),
        1 => proptest::collection::vec(0..ITEMS, 0..4),
    ];
    let extra = prop_oneof![
        5 => Just(vec![]),
        1 => proptest::collection::vec(0..ITEMS, 1..2),
    ];
    (
        (kind, proptest::bool::weighted(0.85), 0..MEMBERS.len()),
        (0..64usize, 0..64usize, 0..60usize),
        (list, extra, proptest::bool::weighted(0.3)),
        (
            0..weight_total(&BLOCK_STEPS),
            0..weight_total(&EVENT_OFFSETS),
        ),
    )
        .prop_map(
            |((kind, natural, who), (a, b, c), (list, extra, flag), (block, offset))| Raw {
                kind,
                natural,
                who,
                a,
                b,
                c,
                list,
                extra,
                flag,
                block,
                offset,
            },
        )
}

/// Sequences of `len` raw operations; half of them calm: every step natural and on time,
/// so that goods travel far (packed, shipped, sent back, unpacked) and the rare paths are
/// taken; the others rough.
fn sequence_strategy(len: std::ops::Range<usize>) -> impl Strategy<Value = Vec<Raw>> {
    (
        proptest::bool::ANY,
        proptest::collection::vec(raw_strategy(), len),
    )
        .prop_map(|(calm, mut raws)| {
            if calm {
                for r in &mut raws {
                    r.natural = true;
                    r.offset = 0;
                }
            }
            raws
        })
}

/// Picks from `candidates` by the random indices `list` (deduplicated); falls back to `list`.
fn pick(candidates: &[usize], list: &[usize]) -> Vec<usize> {
    if candidates.is_empty() {
        return list.iter().map(|i| i % ITEMS).collect();
    }
    let mut out: Vec<usize> = Vec::new();
    for &k in list {
        let c = candidates[k % candidates.len()];
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

impl Raw {
    fn resolve(&self, m: &Model) -> Op {
        let n = self.natural;
        let (who, list) = (self.who, self.list.clone());
        // A natural operation starts from an item that exists.
        let existing: Vec<usize> = m.items.keys().copied().collect();
        let k = list.first().copied().unwrap_or(0);
        let first = match existing.len() {
            len if n && len > 0 => existing[k % len],
            _ => k % ITEMS,
        };
        let custodian_of = |i: usize| m.items.contains_key(&i).then(|| m.custodian(i));
        // The holder of something in stock, while there is any.
        let in_stock: Vec<usize> = m.usable_by_anyone();
        let holder = match in_stock.len() {
            len if n && len > 0 && !self.c.is_multiple_of(4) => m.custodian(in_stock[k % len]),
            _ if n => custodian_of(first).unwrap_or(who),
            _ => who,
        };
        let holders_items = if n {
            match m.usable(holder) {
                usable if usable.is_empty() => pick(&existing, &list),
                usable => pick(&usable, &list),
            }
        } else {
            list.clone()
        };
        let one = |v: &[usize]| (!v.is_empty()).then(|| v[self.b % v.len()]);
        // Little to act on yet: a natural step commissions; nothing to receive: it ships;
        // nothing to unpack: it packs.
        let open_shipments = m.shipments.values().any(|sh| sh.open);
        let full = m.children.values().any(|c| !c.is_empty());
        let kind = match self.kind {
            _ if n && existing.len() < 3 => 0,
            2 if n && !full => 1,
            4 if n && !open_shipments => 3,
            kind => kind,
        };
        match kind {
            0 => {
                let g = self.a % PRODUCTS.len();
                let who = if n { PRODUCTS[g].1 } else { who };
                Op::Commission {
                    who,
                    gtin: g,
                    lot: self.b % LOTS[g].len(),
                    odd: match self.c % 12 {
                        0 => Some(0),
                        1 => Some(1),
                        _ => None,
                    },
                    serials: if n {
                        // Serials not commissioned yet, while there are any.
                        let fresh: Vec<usize> = (1..=PRODUCTS[g].2)
                            .filter(|&s| !m.items.contains_key(&unit_index(g, s)))
                            .collect();
                        if fresh.is_empty() {
                            list.iter().map(|k| k % PRODUCTS[g].2 + 1).collect()
                        } else {
                            pick(&fresh, &list)
                        }
                    } else {
                        list.iter().map(|k| k % PRODUCTS[g].2 + 1).collect()
                    },
                    location: match (n, self.c % 4) {
                        (true, 2) => Some(who.min(2)),
                        (false, 2) => Some(self.b % 3),
                        _ => None,
                    },
                }
            }
            1 => {
                // Sometimes into a container that is itself packed.
                let nested: Vec<usize> = m
                    .items
                    .iter()
                    .filter(|(&i, s)| !is_unit(i) && s.parent.is_some())
                    .map(|(&i, _)| i)
                    .collect();
                // Mostly a container in stock or a new one.
                let open: Vec<usize> = (UNITS..ITEMS)
                    .filter(|i| {
                        m.items
                            .get(i)
                            .is_none_or(|s| s.parent.is_none() && s.status == MStatus::Active)
                    })
                    .collect();
                let parent = match one(&nested) {
                    Some(p) if n && self.c.is_multiple_of(5) => p,
                    _ if n && !open.is_empty() && self.c % 5 != 1 => open[self.a % open.len()],
                    _ => UNITS + self.a % (ITEMS - UNITS),
                };
                let who = match (n, custodian_of(parent)) {
                    (true, Some(c)) => c,
                    (true, None) if self.c % 8 == 1 => custodian_of(first).unwrap_or(who),
                    (true, None) => sscc_owner(parent),
                    (false, _) => who,
                };
                let children = if n {
                    let c: Vec<usize> =
                        m.usable(who).into_iter().filter(|&i| i != parent).collect();
                    // Sometimes containers only, so that containers nest.
                    let boxes: Vec<usize> = c.iter().copied().filter(|&i| !is_unit(i)).collect();
                    match (c.is_empty(), boxes.is_empty()) {
                        (true, _) => pick(&existing, &list),
                        (false, false) if self.c.is_multiple_of(3) => pick(&boxes, &list),
                        (false, _) => pick(&c, &list),
                    }
                } else {
                    list
                };
                Op::Pack {
                    who,
                    parent,
                    children,
                }
            }
            2 => {
                let full: Vec<usize> = m
                    .children
                    .iter()
                    .filter(|(_, c)| !c.is_empty())
                    .map(|(&p, _)| p)
                    .collect();
                match one(&full) {
                    Some(parent) if n => {
                        let mut children = pick(m.children_of(parent), &list);
                        if self.c.is_multiple_of(6) && !children.contains(&first) {
                            children.push(first);
                        }
                        Op::Unpack {
                            who: if self.c % 7 == 1 {
                                who
                            } else {
                                m.custodian(parent)
                            },
                            parent,
                            children,
                        }
                    }
                    _ => Op::Unpack {
                        who,
                        parent: UNITS + self.a % (ITEMS - UNITS),
                        children: list,
                    },
                }
            }
            3 => {
                let shipment = match (0..SHIPMENTS).find(|k| !m.shipments.contains_key(k)) {
                    Some(k) if n => k,
                    _ => self.a % SHIPMENTS,
                };
                // Sometimes a filled container back to a member it came from.
                let travelled: Vec<usize> = m
                    .usable(holder)
                    .into_iter()
                    .filter(|&i| !m.children_of(i).is_empty() && m.item(i).route.len() >= 2)
                    .collect();
                if let (true, 0, Some(x)) = (n, self.c % 3, one(&travelled)) {
                    let route = &m.item(x).route;
                    return Op::Ship {
                        who: holder,
                        shipment,
                        to: route[self.a % (route.len() - 1)],
                        items: vec![x],
                    };
                }
                Op::Ship {
                    who: holder,
                    shipment,
                    // Mostly down the supply chain, sometimes back up it or anywhere.
                    to: match (n, self.b % 6) {
                        (true, 0..=2) => [DISTRIBUTOR, 2, DISTRIBUTOR, MANUFACTURER][holder],
                        (true, 3 | 4) => {
                            [DISTRIBUTOR, MANUFACTURER, DISTRIBUTOR, MANUFACTURER][holder]
                        }
                        _ => self.b % MEMBERS.len(),
                    },
                    // Often containers, so that what is inside travels.
                    items: match holders_items.iter().copied().find(|&i| !is_unit(i)) {
                        Some(c) if n && self.c.is_multiple_of(2) => vec![c],
                        _ => holders_items,
                    },
                }
            }
            4 => {
                let open: Vec<usize> = m
                    .shipments
                    .iter()
                    .filter(|(_, sh)| sh.open)
                    .map(|(&k, _)| k)
                    .collect();
                match open.get(self.a % open.len().max(1)) {
                    Some(&k) if n => {
                        let sh = &m.shipments[&k];
                        let tops: Vec<usize> = sh
                            .items
                            .iter()
                            .copied()
                            .filter(|&t| m.travels_in(t, k))
                            .collect();
                        let nested: Vec<usize> = tops.iter().flat_map(|&t| m.inside(t)).collect();
                        let mut accepted = tops.clone();
                        let (mut rejected, mut missing) = (vec![], vec![]);
                        match self.c % 10 {
                            4 | 5 => {
                                if let Some(t) = one(&tops) {
                                    accepted.retain(|&x| x != t);
                                    if self.c % 10 == 4 {
                                        rejected.push(t);
                                    } else {
                                        missing.push(t);
                                    }
                                }
                            }
                            6 => rejected.extend(one(&nested)),
                            7 => missing.extend(one(&nested)),
                            8 => {
                                // Incomplete: one travelling item not accounted for.
                                if let Some(t) = one(&tops) {
                                    accepted.retain(|&x| x != t);
                                }
                            }
                            9 => {
                                // An item and a container it travels in both refused.
                                if let Some(x) = one(&nested) {
                                    let above = m.ancestors(x);
                                    let outer = above[self.a % above.len()];
                                    accepted.retain(|&t| t != outer);
                                    if self.flag {
                                        rejected.push(x);
                                        missing.push(outer);
                                    } else {
                                        rejected.push(outer);
                                        missing.push(x);
                                    }
                                }
                            }
                            _ => {}
                        }
                        Op::Receive {
                            who: sh.to,
                            shipment: k,
                            accepted,
                            rejected,
                            missing,
                            unexpected: self.extra.clone(),
                            location: self.c.is_multiple_of(3).then(|| sh.to.min(2)),
                        }
                    }
                    _ => Op::Receive {
                        who,
                        shipment: self.a % SHIPMENTS,
                        accepted: list,
                        rejected: self.extra.clone(),
                        missing: vec![],
                        unexpected: vec![],
                        location: None,
                    },
                }
            }
            5 => Op::Move {
                who: holder,
                items: holders_items,
                gln_of: if n && !self.c.is_multiple_of(8) {
                    holder.min(2)
                } else {
                    self.b % 3
                },
            },
            6 => Op::Decommission {
                who: holder,
                items: holders_items,
                reason: match self.c % 6 {
                    0..=2 => DecommissionReason::Dispensed,
                    3 => DecommissionReason::Destroyed,
                    4 => DecommissionReason::Exported,
                    _ => DecommissionReason::Stolen,
                },
            },
            7 => {
                // Anything the holder has (packed or travelling too), or anything at all
                // for the regulator.
                // A release mostly frees what is on hold.
                let change = match self.c % 10 {
                    0..=4 => StatusChange::Release,
                    5 | 6 => StatusChange::Quarantine,
                    7 | 8 => StatusChange::Damaged,
                    _ => StatusChange::Suspect,
                };
                let mut held: Vec<usize> = m
                    .items
                    .keys()
                    .copied()
                    .filter(|&i| {
                        m.custodian(i) == holder && !matches!(m.status(i), MStatus::Gone(_))
                    })
                    .collect();
                if change == StatusChange::Release && !self.c.is_multiple_of(10) {
                    let on_hold: Vec<usize> = held
                        .iter()
                        .copied()
                        .filter(|&i| m.item(i).hold.is_some())
                        .collect();
                    if !on_hold.is_empty() {
                        held = on_hold;
                    }
                }
                Op::SetStatus {
                    who: if n && self.b % 4 == 3 {
                        REGULATOR
                    } else {
                        holder
                    },
                    items: match (n, held.is_empty()) {
                        (true, false) => pick(&held, &list),
                        (true, true) => pick(&existing, &list),
                        (false, _) => list,
                    },
                    change,
                }
            }
            8 => {
                let g = self.a % PRODUCTS.len();
                let count = LOTS[g].len();
                let live: Vec<usize> = (0..count)
                    .filter(|&l| m.lots.get(&(g, l)).is_some_and(|r| r.recall.is_none()))
                    .collect();
                let lots = if !n {
                    list.iter().map(|k| k % count).collect()
                } else if live.is_empty() || self.c.is_multiple_of(2) {
                    vec![self.b % count]
                } else {
                    vec![live[self.b % live.len()]]
                };
                let recall = match (0..RECALLS).find(|r| !m.recalls.contains_key(r)) {
                    Some(r) if n => r,
                    _ => self.b % RECALLS,
                };
                Op::Recall {
                    who: match (n, self.c % 3) {
                        (true, 2) => REGULATOR,
                        (true, _) => PRODUCTS[g].1,
                        (false, _) => who,
                    },
                    recall,
                    gtin: g,
                    lots,
                }
            }
            _ => {
                // Dispensed items back to their pharmacy, or tops of an open shipment.
                let mut back: Vec<(usize, usize)> = m
                    .items
                    .iter()
                    .filter(|(_, s)| {
                        s.parent.is_none()
                            && s.status == MStatus::Gone(DecommissionReason::Dispensed)
                    })
                    .map(|(&i, s)| (i, s.custodian))
                    .collect();
                for (&k, sh) in &m.shipments {
                    back.extend(
                        sh.items
                            .iter()
                            .filter(|&&t| m.travels_in(t, k))
                            .map(|&t| (t, sh.to)),
                    );
                }
                match back.get(self.a % back.len().max(1)) {
                    Some(&(i, who)) if n => Op::Return {
                        who,
                        items: vec![i],
                    },
                    _ if n => Op::Return {
                        who,
                        items: pick(&existing, &list),
                    },
                    _ => Op::Return { who, items: list },
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// The reference model

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MStatus {
    Active,
    Travelling,
    Gone(DecommissionReason),
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct MItem {
    /// A unit's product and lot.
    lot: Option<(usize, usize)>,
    /// Its own custody: for a packed item, what it was when packed (what counts is its
    /// outermost container's: see `Model::custodian` and the like).
    custodian: usize,
    location: Option<usize>,
    status: MStatus,
    /// The shipment it travels in.
    transit: Option<usize>,
    /// Its own hold.
    hold: Option<Hold>,
    parent: Option<usize>,
    /// The way it came: first custodian to current one, a stack cut back when it returns
    /// to a member on it. Kept up to date for everything inside a container when the
    /// container changes hands.
    route: Vec<usize>,
    /// False once the ledger can no longer read its way through its containers: the way of
    /// a container it is in was cut back (it went back to a member on it) while it was
    /// inside. The ledger then knows only the current custodian, until it is taken out.
    route_known: bool,
    /// Containers: the position in `route` of the member that last packed something in.
    last_join: usize,
    /// Containers: the deepest nesting it ever held (the ledger's bound never decreases).
    depth_mark: u32,
    last_event_ms: u64,
    events: u32,
}

impl MItem {
    fn new(who: usize, lot: Option<(usize, usize)>, location: Option<usize>) -> MItem {
        MItem {
            lot,
            custodian: who,
            location,
            status: MStatus::Active,
            transit: None,
            hold: None,
            parent: None,
            route: vec![who],
            route_known: true,
            last_join: 0,
            depth_mark: 1,
            last_event_ms: 0,
            events: 0,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct MLot {
    expiry: &'static str,
    units: u64,
    recall: Option<usize>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct MShipment {
    from: usize,
    to: usize,
    items: Vec<usize>,
    outstanding: u32,
    units: u64,
    open: bool,
    /// Accepted top-level items and units, once received.
    receipt: Option<(u32, u64)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct MRecall {
    gtin: usize,
    lots: Vec<usize>,
    affected: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Model {
    items: BTreeMap<usize, MItem>,
    /// The contents index: what is packed directly in each container, in packing order.
    children: BTreeMap<usize, Vec<usize>>,
    lots: BTreeMap<(usize, usize), MLot>,
    shipments: BTreeMap<usize, MShipment>,
    recalls: BTreeMap<usize, MRecall>,
    /// How often accepted steps took some paths worth exercising.
    seen: BTreeMap<&'static str, usize>,
}

type Refused = &'static str;

fn distinct(v: &[usize]) -> bool {
    v.iter().collect::<BTreeSet<_>>().len() == v.len()
}

fn check(ok: bool, why: Refused) -> Result<(), Refused> {
    if ok {
        Ok(())
    } else {
        Err(why)
    }
}

/// The way after a move to `to`: back to a member on it cuts it back there. True if cut.
fn go_to(route: &mut Vec<usize>, to: usize) -> bool {
    match route.iter().position(|&m| m == to) {
        Some(k) => {
            let cut = k + 1 < route.len();
            route.truncate(k + 1);
            cut
        }
        None => {
            route.push(to);
            false
        }
    }
}

impl Model {
    fn get(&self, i: usize) -> Result<&MItem, Refused> {
        self.items.get(&i).ok_or("unknown item")
    }

    fn item(&self, i: usize) -> &MItem {
        &self.items[&i]
    }

    fn item_mut(&mut self, i: usize) -> &mut MItem {
        self.items.get_mut(&i).expect("checked before")
    }

    fn see(&mut self, what: &'static str) {
        *self.seen.entry(what).or_default() += 1;
    }

    fn children_of(&self, c: usize) -> &[usize] {
        self.children.get(&c).map_or(&[], |v| v.as_slice())
    }

    /// The containers `i` is in, innermost first.
    fn ancestors(&self, i: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut p = self.items.get(&i).and_then(|s| s.parent);
        while let Some(a) = p {
            out.push(a);
            p = self.item(a).parent;
        }
        out
    }

    fn top(&self, i: usize) -> usize {
        self.ancestors(i).last().copied().unwrap_or(i)
    }

    /// `i` and everything inside it, walking the contents index.
    fn subtree(&self, i: usize) -> Vec<usize> {
        let mut out = vec![i];
        let mut k = 0;
        while k < out.len() {
            out.extend(self.children_of(out[k]).iter().copied());
            k += 1;
        }
        out
    }

    /// Everything inside `i`, at any depth.
    fn inside(&self, i: usize) -> Vec<usize> {
        self.subtree(i).split_off(1)
    }

    // What an item is, read the simple way: from its outermost container, its containers,
    // its lot.

    fn custodian(&self, i: usize) -> usize {
        self.item(self.top(i)).custodian
    }

    fn location(&self, i: usize) -> Option<usize> {
        self.item(self.top(i)).location
    }

    fn status(&self, i: usize) -> MStatus {
        self.item(self.top(i)).status
    }

    fn transit(&self, i: usize) -> Option<usize> {
        self.item(self.top(i)).transit
    }

    /// Its own hold, else the innermost held container's.
    fn hold(&self, i: usize) -> Option<&Hold> {
        std::iter::once(i)
            .chain(self.ancestors(i))
            .find_map(|x| self.item(x).hold.as_ref())
    }

    fn recall(&self, i: usize) -> Option<usize> {
        self.item(i).lot.and_then(|l| self.lots[&l].recall)
    }

    /// The way it came as the ledger can tell it.
    fn route(&self, i: usize) -> Vec<usize> {
        let s = self.item(i);
        if s.route_known {
            s.route.clone()
        } else {
            vec![self.custodian(i)]
        }
    }

    fn units(&self, i: usize) -> u64 {
        self.subtree(i).into_iter().filter(|&x| is_unit(x)).count() as u64
    }

    /// The units inside a container by lot.
    fn lot_counts(&self, c: usize) -> BTreeMap<(usize, usize), u64> {
        let mut out = BTreeMap::new();
        for x in self.inside(c) {
            if let Some(l) = self.item(x).lot {
                *out.entry(l).or_default() += 1;
            }
        }
        out
    }

    /// Items inside a container, at any depth, with a hold of their own.
    fn held(&self, c: usize) -> u32 {
        self.inside(c)
            .into_iter()
            .filter(|&x| self.item(x).hold.is_some())
            .count() as u32
    }

    /// Levels of containers in it, itself included.
    fn depth(&self, c: usize) -> u32 {
        1 + self
            .children_of(c)
            .iter()
            .filter(|&&x| !is_unit(x))
            .map(|&x| self.depth(x))
            .max()
            .unwrap_or(0)
    }

    fn travels_in(&self, i: usize, shipment: usize) -> bool {
        let s = self.item(i);
        s.parent.is_none() && s.status == MStatus::Travelling && s.transit == Some(shipment)
    }

    /// Active, unpacked items.
    fn usable_by_anyone(&self) -> Vec<usize> {
        self.items
            .iter()
            .filter(|(_, s)| s.status == MStatus::Active && s.parent.is_none())
            .map(|(&i, _)| i)
            .collect()
    }

    /// Active, unpacked items of `who`.
    fn usable(&self, who: usize) -> Vec<usize> {
        self.items
            .iter()
            .filter(|(_, s)| {
                s.custodian == who && s.status == MStatus::Active && s.parent.is_none()
            })
            .map(|(&i, _)| i)
            .collect()
    }

    /// The event time may not be earlier than the latest event of the item or of a
    /// container it is in.
    fn touch(&self, i: usize, t: u64) -> Result<(), Refused> {
        for x in std::iter::once(i).chain(self.ancestors(i)) {
            check(
                self.item(x).last_event_ms <= t,
                "event time before previous",
            )?;
        }
        Ok(())
    }

    fn event(&mut self, i: usize, t: u64) {
        let s = self.item_mut(i);
        s.last_event_ms = t;
        s.events += 1;
    }

    /// Held by `who`, active, not packed in anything.
    fn in_stock(&self, who: usize, i: usize) -> Result<(), Refused> {
        let s = self.get(i)?;
        check(s.parent.is_none(), "inside a container")?;
        check(s.custodian == who, "not the custodian")?;
        check(s.status == MStatus::Active, "not in stock")
    }

    /// Anything in it (or it) on hold of its own, or of a recalled lot.
    fn restricted(&self, i: usize) -> bool {
        self.subtree(i)
            .into_iter()
            .any(|x| self.item(x).hold.is_some() || self.recall(x).is_some())
    }

    /// Any unit in it (or it) past its lot's expiry on block day `today`.
    fn expired(&self, i: usize, today: u64) -> bool {
        self.subtree(i).into_iter().any(|x| {
            self.item(x)
                .lot
                .is_some_and(|l| today > expiry_day(self.lots[&l].expiry))
        })
    }

    /// May top-level `i` go to `to`? A restricted item only back to the member that passed
    /// it to its holder (a container: only if nothing was packed into it since) or to the
    /// one owner of all its products.
    fn may_go(&mut self, i: usize, to: usize) -> bool {
        if !self.restricted(i) {
            return true;
        }
        let s = self.item(i);
        let len = s.route.len();
        let back = (len >= 2 && (is_unit(i) || s.last_join + 2 <= len)).then(|| s.route[len - 2]);
        let owners: BTreeSet<usize> = self
            .subtree(i)
            .into_iter()
            .filter_map(|x| self.item(x).lot.map(|(g, _)| PRODUCTS[g].1))
            .collect();
        let sole = (owners.len() == 1)
            .then(|| owners.first().copied())
            .flatten();
        if back == Some(to) {
            self.see("restricted shipped back");
            true
        } else if sole == Some(to) {
            self.see("restricted shipped to its owner");
            true
        } else {
            false
        }
    }

    /// Top-level `i` passes to `to` with everything inside: every route goes to `to`; what
    /// is inside an item whose route is cut can no longer be read through it.
    fn transfer(&mut self, i: usize, to: usize) {
        for y in self.subtree(i) {
            if go_to(&mut self.item_mut(y).route, to) {
                self.see("route cut");
                for z in self.inside(y) {
                    if self.item(z).route_known {
                        self.see("route lost");
                    }
                    self.item_mut(z).route_known = false;
                }
            }
        }
    }

    /// Takes nested `i` out of its container: it is then what it was inside (custody,
    /// place, status, hold, route).
    fn take_out(&mut self, i: usize) {
        let (custodian, location, status) = (self.custodian(i), self.location(i), self.status(i));
        let hold = self.hold(i).cloned();
        let known = self.item(i).route_known;
        let p = self.item(i).parent.expect("nested");
        self.children
            .get_mut(&p)
            .expect("index")
            .retain(|&c| c != i);
        let s = self.item_mut(i);
        s.parent = None;
        s.custodian = custodian;
        s.location = location;
        s.status = status;
        s.transit = None;
        s.hold = hold;
        if !known {
            s.route = vec![custodian];
            s.route_known = true;
            self.see("unknown route taken out");
            for z in self.inside(i) {
                self.item_mut(z).route_known = false;
            }
        }
    }

    /// Applies `op` to a copy; the copy replaces `self` only if every rule holds.
    fn step(&mut self, op: &Op, block_ms: u64, time_ms: u64) -> Result<(), Refused> {
        let mut next = self.clone();
        next.apply(op, block_ms, time_ms)?;
        *self = next;
        Ok(())
    }

    fn apply(&mut self, op: &Op, block_ms: u64, t: u64) -> Result<(), Refused> {
        check(t <= block_ms + MAX_AHEAD_MS, "event time ahead")?;
        check(t + MAX_BEHIND_MS >= block_ms, "event time behind")?;
        let today = block_ms / DAY_MS;
        match op {
            Op::Commission {
                who,
                gtin: g,
                lot: l,
                odd,
                serials,
                location,
            } => {
                let (who, g, l) = (*who, *g, *l);
                check(!serials.is_empty() && distinct(serials), "form")?;
                check(PRODUCTS[g].1 == who, "foreign GTIN")?;
                if let Some(loc) = location {
                    check(*loc == who, "foreign location")?;
                }
                let expiry = match odd {
                    Some(k) => ODD_EXPIRIES[*k],
                    None => LOTS[g][l].1,
                };
                check(today <= expiry_day(expiry), "expired lot")?;
                if let Some(record) = self.lots.get(&(g, l)) {
                    check(record.recall.is_none(), "lot recalled")?;
                    check(record.expiry == expiry, "another expiry")?;
                }
                for &serial in serials {
                    let u = unit_index(g, serial);
                    check(!self.items.contains_key(&u), "already commissioned")?;
                    self.items
                        .insert(u, MItem::new(who, Some((g, l)), *location));
                    self.event(u, t);
                }
                self.lots
                    .entry((g, l))
                    .or_insert(MLot {
                        expiry,
                        units: 0,
                        recall: None,
                    })
                    .units += serials.len() as u64;
                Ok(())
            }
            Op::Pack {
                who,
                parent,
                children,
            } => {
                let (p, who) = (*parent, *who);
                check(!children.is_empty() && distinct(children), "form")?;
                if self.items.contains_key(&p) {
                    self.in_stock(who, p)?;
                    self.touch(p, t)?;
                } else {
                    check(sscc_owner(p) == who, "foreign SSCC")?;
                    // A new container is where its first child is.
                    let location = self.get(children[0])?.location;
                    self.items.insert(p, MItem::new(who, None, location));
                    self.event(p, t);
                }
                for &c in children {
                    check(c != p, "packing cycle")?;
                    self.in_stock(who, c)?;
                    self.touch(c, t)?;
                }
                let mut mark = self.item(p).depth_mark;
                for &c in children {
                    mark = mark.max(if is_unit(c) {
                        1
                    } else {
                        self.item(c).depth_mark + 1
                    });
                    self.item_mut(c).parent = Some(p);
                    self.children.entry(p).or_default().push(c);
                    self.event(c, t);
                }
                check(
                    self.lot_counts(p).len() <= MAX_LOTS as usize,
                    "too many lots",
                )?;
                check(mark <= MAX_NESTING, "too deep")?;
                if children.iter().any(|&c| !is_unit(c)) {
                    self.see("packed a container");
                }
                if self.depth(p) == MAX_NESTING {
                    self.see("nested as deep as allowed");
                }
                let s = self.item_mut(p);
                s.depth_mark = mark;
                s.last_join = s.route.len() - 1;
                self.event(p, t);
                Ok(())
            }
            Op::Unpack {
                who,
                parent,
                children,
            } => {
                let p = *parent;
                check(!children.is_empty() && distinct(children), "form")?;
                self.get(p)?;
                self.touch(p, t)?;
                check(self.custodian(p) == *who, "not the custodian")?;
                check(self.status(p) == MStatus::Active, "not in stock")?;
                for &c in children {
                    check(self.get(c)?.parent == Some(p), "not in the container")?;
                    self.touch(c, t)?;
                }
                if self.item(p).parent.is_some() {
                    self.see("unpacked a nested container");
                }
                for &c in children {
                    self.take_out(c);
                    self.event(c, t);
                }
                self.event(p, t);
                Ok(())
            }
            Op::Ship {
                who,
                shipment,
                to,
                items,
            } => {
                check(!items.is_empty() && distinct(items), "form")?;
                check(!self.shipments.contains_key(shipment), "shipment exists")?;
                check(to != who, "ship to self")?;
                for &i in items {
                    self.get(i)?;
                    self.touch(i, t)?;
                    self.in_stock(*who, i)?;
                    check(self.may_go(i, *to), "restricted")?;
                }
                let mut units = 0;
                for &i in items {
                    units += self.units(i);
                    let s = self.item_mut(i);
                    s.status = MStatus::Travelling;
                    s.transit = Some(*shipment);
                    self.event(i, t);
                }
                self.shipments.insert(
                    *shipment,
                    MShipment {
                        from: *who,
                        to: *to,
                        items: items.clone(),
                        outstanding: items.len() as u32,
                        units,
                        open: true,
                        receipt: None,
                    },
                );
                Ok(())
            }
            Op::Receive {
                who,
                shipment: k,
                accepted,
                rejected,
                missing,
                unexpected,
                location,
            } => {
                let (who, k) = (*who, *k);
                let all: Vec<usize> = accepted
                    .iter()
                    .chain(rejected)
                    .chain(missing)
                    .chain(unexpected)
                    .copied()
                    .collect();
                check(distinct(&all), "form")?;
                let sh = self.shipments.get(&k).ok_or("unknown shipment")?.clone();
                check(sh.open, "shipment closed")?;
                check(sh.to == who, "not the addressee")?;
                if let Some(g) = location {
                    check(*g == who, "foreign location")?;
                }
                for &u in unexpected {
                    if self.items.contains_key(&u) {
                        check(!self.travels_in(self.top(u), k), "not unexpected")?;
                    }
                }
                let refused: BTreeSet<usize> = rejected.iter().chain(missing).copied().collect();
                let mut accounted = 0u32;
                for &r in rejected.iter().chain(missing) {
                    self.get(r)?;
                    self.touch(r, t)?;
                    check(self.travels_in(self.top(r), k), "not in the shipment")?;
                    if self.item(r).parent.is_none() {
                        accounted += 1;
                    } else {
                        check(accepted.contains(&self.top(r)), "container not accepted")?;
                        check(
                            !self.ancestors(r).iter().any(|a| refused.contains(a)),
                            "container refused",
                        )?;
                    }
                }
                for &a in accepted {
                    self.get(a)?;
                    check(self.travels_in(a, k), "not in the shipment")?;
                    self.touch(a, t)?;
                    accounted += 1;
                }
                check(accounted == sh.outstanding, "shipment incomplete")?;
                // Refusals first, where the shipper still holds what they travel in.
                for (list, kind, what) in [
                    (rejected, StatusChange::Quarantine, "rejected"),
                    (missing, StatusChange::Suspect, "missing"),
                ] {
                    for &r in list {
                        if let Some(p) = self.item(r).parent {
                            self.see("refused from inside an accepted container");
                            self.take_out(r);
                            self.event(p, t);
                        }
                        let s = self.item_mut(r);
                        s.status = MStatus::Active;
                        s.transit = None;
                        s.hold = Some(Hold {
                            kind,
                            reason: format!(
                                "{what} at receipt of shipment {} by {}",
                                shipment_id(k),
                                MEMBERS[who]
                            ),
                        });
                        self.event(r, t);
                    }
                }
                let mut units = 0;
                for &a in accepted {
                    units += self.units(a);
                    let s = self.item_mut(a);
                    s.custodian = who;
                    s.status = MStatus::Active;
                    s.transit = None;
                    s.location = *location;
                    self.transfer(a, who);
                    self.event(a, t);
                }
                let sh = self.shipments.get_mut(&k).expect("exists");
                sh.outstanding = 0;
                sh.open = false;
                sh.receipt = Some((accepted.len() as u32, units));
                Ok(())
            }
            Op::Move { who, items, gln_of } => {
                check(!items.is_empty() && distinct(items), "form")?;
                check(gln_of == who, "foreign location")?;
                for &i in items {
                    self.get(i)?;
                    self.touch(i, t)?;
                    self.in_stock(*who, i)?;
                }
                for &i in items {
                    self.item_mut(i).location = Some(*gln_of);
                    self.event(i, t);
                }
                Ok(())
            }
            Op::Decommission { who, items, reason } => {
                check(!items.is_empty() && distinct(items), "form")?;
                let selling = matches!(
                    reason,
                    DecommissionReason::Dispensed | DecommissionReason::Exported
                );
                for &i in items {
                    self.get(i)?;
                    self.touch(i, t)?;
                    self.in_stock(*who, i)?;
                    if selling {
                        check(!self.restricted(i), "restricted: not sellable")?;
                        check(!self.expired(i, today), "expired: not sellable")?;
                    }
                }
                for &i in items {
                    self.item_mut(i).status = MStatus::Gone(*reason);
                    self.event(i, t);
                }
                Ok(())
            }
            Op::SetStatus { who, items, change } => {
                check(!items.is_empty() && distinct(items), "form")?;
                for &i in items {
                    self.get(i)?;
                    self.touch(i, t)?;
                    check(
                        *who == REGULATOR || self.custodian(i) == *who,
                        "not allowed",
                    )?;
                    check(
                        !matches!(self.status(i), MStatus::Gone(_)),
                        "decommissioned",
                    )?;
                }
                for &i in items {
                    if self.item(i).parent.is_some() {
                        self.see("status set inside a container");
                    }
                    self.item_mut(i).hold = match change {
                        StatusChange::Release => None,
                        kind => Some(Hold {
                            kind: *kind,
                            reason: "model".into(),
                        }),
                    };
                    self.event(i, t);
                }
                Ok(())
            }
            Op::Recall {
                who,
                recall,
                gtin: g,
                lots,
            } => {
                check(!lots.is_empty() && distinct(lots), "form")?;
                check(PRODUCTS[*g].1 == *who || *who == REGULATOR, "not allowed")?;
                check(!self.recalls.contains_key(recall), "recall exists")?;
                let mut affected = 0;
                for &l in lots {
                    let record = self.lots.get_mut(&(*g, l)).ok_or("unknown lot")?;
                    check(record.recall.is_none(), "lot recalled")?;
                    record.recall = Some(*recall);
                    affected += record.units;
                }
                self.recalls.insert(
                    *recall,
                    MRecall {
                        gtin: *g,
                        lots: lots.clone(),
                        affected,
                    },
                );
                Ok(())
            }
            Op::Return { who, items } => {
                let who = *who;
                check(!items.is_empty() && distinct(items), "form")?;
                for &i in items {
                    self.get(i)?;
                    self.touch(i, t)?;
                    let s = self.item(i);
                    check(s.parent.is_none(), "inside a container")?;
                    match s.status {
                        MStatus::Gone(DecommissionReason::Dispensed) => {
                            check(s.custodian == who, "dispensed by another")?;
                        }
                        MStatus::Travelling => {
                            let sh = &self.shipments[&s.transit.expect("travelling")];
                            check(sh.to == who, "not shipped to the signer")?;
                            // Everything in it has come the signer's way since last packed.
                            let since = if is_unit(i) { 0 } else { s.last_join };
                            check(
                                s.route.iter().skip(since).any(|&m| m == who),
                                "never held by the signer",
                            )?;
                        }
                        _ => return Err("not returnable"),
                    }
                }
                let mut touched = BTreeSet::new();
                for &i in items {
                    if let Some(k) = self.item(i).transit {
                        self.item_mut(i).location = None;
                        self.shipments.get_mut(&k).expect("exists").outstanding -= 1;
                        touched.insert(k);
                    }
                    let s = self.item_mut(i);
                    s.status = MStatus::Active;
                    s.transit = None;
                    s.custodian = who;
                    s.hold = Some(Hold {
                        kind: StatusChange::Quarantine,
                        reason: "returned: model".into(),
                    });
                    self.transfer(i, who);
                    self.event(i, t);
                }
                for k in touched {
                    let sh = self.shipments.get_mut(&k).expect("exists");
                    if sh.outstanding == 0 {
                        sh.open = false;
                        sh.receipt = Some((sh.items.len() as u32, sh.units));
                    }
                }
                Ok(())
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// The ledger side: a state in maps

#[derive(Clone, Default, PartialEq, Eq, Debug)]
struct Store {
    items: BTreeMap<ItemId, ItemState>,
    sequences: BTreeMap<MemberId, u64>,
    shipments: BTreeMap<ShipmentId, Shipment>,
    recalls: BTreeMap<String, RecallRecord>,
    lots: BTreeMap<(Gtin, Lot), LotRecord>,
    events: Vec<ItemEvent>,
    /// `events[k].hash()`, computed once.
    hashes: Vec<Hash32>,
}

impl StateView for Store {
    fn item(&self, id: &ItemId) -> Result<Option<ItemState>, StateError> {
        Ok(self.items.get(id).cloned())
    }
    fn last_sequence(&self, m: &MemberId) -> Result<u64, StateError> {
        Ok(self.sequences.get(m).copied().unwrap_or(0))
    }
    fn shipment(&self, id: &ShipmentId) -> Result<Option<Shipment>, StateError> {
        Ok(self.shipments.get(id).cloned())
    }
    fn recall(&self, id: &str) -> Result<Option<RecallRecord>, StateError> {
        Ok(self.recalls.get(id).cloned())
    }
    fn lot(&self, gtin: &Gtin, lot: &Lot) -> Result<Option<LotRecord>, StateError> {
        Ok(self.lots.get(&(gtin.clone(), lot.clone())).cloned())
    }
}

fn fail(e: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

/// Recounts a container from the items whose parent it is (the ledger's own links, walked
/// down): its units, units by lot, items inside with a hold of their own, and depth.
fn add_up(
    kids: &BTreeMap<&ItemId, Vec<&ItemState>>,
    c: &ItemId,
) -> (u64, BTreeMap<(Gtin, Lot), u64>, u32, u32) {
    let (mut units, mut lots, mut held, mut depth) = (0, BTreeMap::new(), 0, 1);
    for k in kids.get(c).into_iter().flatten() {
        held += u32::from(k.hold.is_some());
        match &k.product {
            Some(p) => {
                units += 1;
                *lots.entry((p.gtin.clone(), p.lot.clone())).or_default() += 1;
            }
            None => {
                let (u, l, h, d) = add_up(kids, &k.id);
                units += u;
                for (key, n) in l {
                    *lots.entry(key).or_default() += n;
                }
                held += h;
                depth = depth.max(d + 1);
            }
        }
    }
    (units, lots, held, depth)
}

impl Store {
    fn commit(&mut self, ch: Changes) {
        for (id, c) in ch.items {
            self.items.insert(id, c.after);
        }
        self.hashes.extend(ch.events.iter().map(ItemEvent::hash));
        self.events.extend(ch.events);
        self.shipments.extend(ch.shipments);
        self.recalls.extend(ch.recalls);
        self.lots.extend(ch.lots);
        self.sequences.extend(ch.sequences);
    }

    /// Invariants that hold after every transaction, read from the ledger state alone.
    fn check_invariants(&self) -> Result<(), TestCaseError> {
        // Histories: commissioned once, first; a hash chain ending at the head; the latest
        // event states the item's own state.
        let mut by_item: BTreeMap<&ItemId, Vec<(&ItemEvent, Hash32)>> = BTreeMap::new();
        for (e, h) in self.events.iter().zip(&self.hashes) {
            prop_assert!(self.items.contains_key(&e.item), "event of unknown item");
            by_item.entry(&e.item).or_default().push((e, *h));
        }
        for (id, s) in &self.items {
            let events = by_item.get(id).cloned().unwrap_or_default();
            let commissions = events
                .iter()
                .filter(|(e, _)| e.action == Action::Commissioned)
                .count();
            prop_assert_eq!(commissions, 1, "{} commissioned {} times", id, commissions);
            prop_assert_eq!(&events[0].0.action, &Action::Commissioned);
            prop_assert_eq!(events.len(), s.event_count as usize, "{}", id);
            let mut prev = Hash32::ZERO;
            for (k, (e, hash)) in events.iter().enumerate() {
                prop_assert_eq!(e.seq as usize, k, "{}", id);
                prop_assert_eq!(e.prev, prev, "{}: event {} prev", id, k);
                prev = *hash;
            }
            prop_assert_eq!(s.history_head, prev, "{}: head", id);
            let in_order = events.windows(2).all(|w| w[0].0.time_ms <= w[1].0.time_ms);
            prop_assert!(in_order, "{}: event times go back", id);
            let (last, _) = events.last().expect("non-empty");
            prop_assert_eq!(&last.custodian, &s.custodian, "{}", id);
            prop_assert_eq!(&last.location, &s.location, "{}", id);
            prop_assert_eq!(last.status, s.status, "{}", id);
            prop_assert_eq!(&last.parent, &s.parent, "{}", id);
            prop_assert_eq!(&last.hold, &s.hold, "{}", id);
            prop_assert_eq!(last.time_ms, s.last_event_ms, "{}", id);
        }
        // Parent and contents agree; summaries equal what the contents add up to.
        let mut kids: BTreeMap<&ItemId, Vec<&ItemState>> = BTreeMap::new();
        let mut parent_ids = Vec::new();
        for s in self.items.values() {
            prop_assert_eq!(s.is_container(), s.product.is_none(), "{}", s.id);
            prop_assert_eq!(s.is_container(), s.contents.is_some(), "{}", s.id);
            prop_assert_eq!(s.parent.is_some(), s.packing.is_some(), "{}", s.id);
            if let Some(p) = &s.parent {
                parent_ids.push((ItemId::Sscc(p.clone()), &s.id));
            }
        }
        for (p, child) in &parent_ids {
            let parent = self.items.get_key_value(p);
            prop_assert!(parent.is_some(), "{} is in missing {}", child, p);
            let (key, _) = parent.expect("checked");
            kids.entry(key).or_default().push(&self.items[*child]);
        }
        for (id, s) in &self.items {
            if let Some(c) = &s.contents {
                let inside = kids.get(id).map_or(0, Vec::len);
                prop_assert_eq!(c.children as usize, inside, "{}: children", id);
                let (units, lots, held, depth) = add_up(&kids, id);
                prop_assert_eq!(c.units, units, "{}: units", id);
                let summary: BTreeMap<(Gtin, Lot), u64> = c
                    .lots
                    .iter()
                    .map(|l| ((l.gtin.clone(), l.lot.clone()), l.units))
                    .collect();
                prop_assert_eq!(&summary, &lots, "{}: lots", id);
                let sorted = c
                    .lots
                    .windows(2)
                    .all(|w| (&w[0].gtin, &w[0].lot) < (&w[1].gtin, &w[1].lot));
                prop_assert!(sorted, "{}: lots not sorted", id);
                prop_assert!(c.lots.iter().all(|l| l.units > 0), "{}: empty lot", id);
                prop_assert_eq!(c.held, held, "{}: held", id);
                prop_assert!(depth <= c.depth, "{}: depth {} > {}", id, depth, c.depth);
                prop_assert!(c.depth <= MAX_NESTING, "{}: depth {}", id, c.depth);
            }
            // Read through its containers, its way ends with whoever holds it.
            let e = resolve(self, id, MAX_NESTING)
                .map_err(fail)?
                .expect("exists");
            let route = e.route().members;
            prop_assert_eq!(
                route.last(),
                Some(e.custodian()),
                "{}: route {:?}",
                id,
                route
            );
            let once: BTreeSet<&MemberId> = route.iter().collect();
            prop_assert_eq!(once.len(), route.len(), "{}: route {:?}", id, route);
            if s.parent.is_none() {
                prop_assert_eq!(s.route.last(), Some(&s.custodian), "{}", id);
                prop_assert_eq!(s.status == Status::InTransit, s.transit.is_some(), "{}", id);
                prop_assert_eq!(&e.state(), s, "{}: a top-level item is what it says", id);
            }
        }
        // Lots count their units; a recall marks its lots.
        for ((gtin, lot), r) in &self.lots {
            let units: Vec<_> = self
                .items
                .values()
                .filter_map(|s| s.product.as_ref())
                .filter(|p| &p.gtin == gtin && &p.lot == lot)
                .collect();
            prop_assert_eq!(r.units, units.len() as u64, "lot {} {}", gtin, lot);
            let one_expiry = units.iter().all(|p| p.expiry == r.expiry);
            prop_assert!(
                one_expiry,
                "lot {} {} has units of another expiry",
                gtin,
                lot
            );
        }
        for r in self.recalls.values() {
            for lot in &r.lots {
                let marked = self.lots[&(r.gtin.clone(), lot.clone())]
                    .recall
                    .as_ref()
                    .map(|x| x.recall_id.clone());
                prop_assert_eq!(marked, Some(r.recall_id.clone()));
            }
        }
        // A shipment is open while something still travels in it.
        for (id, sh) in &self.shipments {
            let travelling = sh
                .items
                .iter()
                .filter(|i| {
                    let s = &self.items[*i];
                    s.parent.is_none()
                        && s.status == Status::InTransit
                        && s.transit.as_ref().map(|t| &t.shipment) == Some(id)
                })
                .count();
            prop_assert_eq!(sh.outstanding as usize, travelling, "{}", id);
            let open = sh.status == ShipmentStatus::InTransit;
            prop_assert_eq!(open, sh.outstanding > 0, "{}", id);
            prop_assert_eq!(open, sh.receipt.is_none(), "{}", id);
        }
        Ok(())
    }
}

fn status_of(s: MStatus) -> Status {
    match s {
        MStatus::Active => Status::Active,
        MStatus::Travelling => Status::InTransit,
        MStatus::Gone(r) => Status::from_decommission(r),
    }
}

/// The model and the ledger agree on every item, lot, shipment and recall.
fn agree(model: &Model, store: &Store) -> Result<(), TestCaseError> {
    prop_assert_eq!(model.items.len(), store.items.len());
    for (&i, mi) in &model.items {
        let id = item_id(i);
        let e = resolve(store, &id, MAX_NESTING).map_err(fail)?;
        prop_assert!(e.is_some(), "{} missing from the ledger", id);
        let e = e.expect("checked");
        let ancestors: Vec<ItemId> = model.ancestors(i).into_iter().map(item_id).collect();
        let found: Vec<ItemId> = e.ancestors.iter().map(|a| a.id.clone()).collect();
        prop_assert_eq!(&found, &ancestors, "{}: containers", id);
        let view = e.view();
        let names: Vec<String> = ancestors.iter().map(ToString::to_string).collect();
        prop_assert_eq!(&view.containers, &names, "{}", id);
        prop_assert_eq!(&e.own.parent, &mi.parent.map(sscc), "{}", id);
        prop_assert_eq!(e.custodian(), &member(model.custodian(i)), "{}", id);
        prop_assert_eq!(
            e.location().cloned(),
            model.location(i).map(gln_of),
            "{}",
            id
        );
        prop_assert_eq!(e.status(), status_of(model.status(i)), "{}", id);
        prop_assert_eq!(
            e.transit().map(|t| t.shipment.clone()),
            model.transit(i).map(shipment_id),
            "{}",
            id
        );
        prop_assert_eq!(&e.own.hold, &mi.hold, "{}: own hold", id);
        prop_assert_eq!(e.hold(), model.hold(i), "{}: hold", id);
        let recall = model.recall(i).map(recall_id);
        prop_assert_eq!(
            e.recall().map(|r| r.recall_id.clone()),
            recall.clone(),
            "{}",
            id
        );
        prop_assert_eq!(&view.recall, &recall, "{}", id);
        let route: Vec<MemberId> = model.route(i).into_iter().map(member).collect();
        prop_assert_eq!(&e.route().members, &route, "{}: route", id);
        prop_assert_eq!(&view.state.route, &route, "{}: route", id);
        prop_assert_eq!(
            e.own.last_event_ms,
            mi.last_event_ms,
            "{}: latest event",
            id
        );
        prop_assert_eq!(e.own.event_count, mi.events, "{}: events", id);
        match (&e.own.contents, &e.own.product, mi.lot) {
            (None, Some(p), Some((g, l))) => {
                prop_assert_eq!(&p.gtin, &gtin(g), "{}", id);
                prop_assert_eq!(&p.lot, &lot(g, l), "{}", id);
                prop_assert_eq!(p.expiry.as_str(), model.lots[&(g, l)].expiry, "{}", id);
            }
            (Some(c), None, None) => {
                prop_assert_eq!(c.children as usize, model.children_of(i).len(), "{}", id);
                prop_assert_eq!(c.units, model.units(i), "{}: units", id);
                let lots: BTreeMap<(Gtin, Lot), u64> = model
                    .lot_counts(i)
                    .into_iter()
                    .map(|((g, l), n)| ((gtin(g), lot(g, l)), n))
                    .collect();
                let found: BTreeMap<(Gtin, Lot), u64> = c
                    .lots
                    .iter()
                    .map(|l| ((l.gtin.clone(), l.lot.clone()), l.units))
                    .collect();
                prop_assert_eq!(&found, &lots, "{}: lots", id);
                prop_assert_eq!(c.held, model.held(i), "{}: held", id);
                prop_assert_eq!(c.depth, mi.depth_mark, "{}: depth", id);
                prop_assert!(model.depth(i) <= c.depth, "{}: deeper than it says", id);
                prop_assert_eq!(c.last_join as usize, mi.last_join, "{}: last join", id);
            }
            _ => prop_assert!(false, "{}: unit or container?", id),
        }
    }
    prop_assert_eq!(model.lots.len(), store.lots.len(), "lots");
    for (&(g, l), ml) in &model.lots {
        let r = store.lots.get(&(gtin(g), lot(g, l)));
        prop_assert!(r.is_some(), "lot {} {} missing", g, l);
        let r = r.expect("checked");
        prop_assert_eq!(r.expiry.as_str(), ml.expiry);
        prop_assert_eq!(r.units, ml.units);
        let recall = r.recall.as_ref().map(|x| x.recall_id.clone());
        prop_assert_eq!(recall, ml.recall.map(recall_id));
    }
    prop_assert_eq!(model.shipments.len(), store.shipments.len());
    for (&k, msh) in &model.shipments {
        let sh = store.shipments.get(&shipment_id(k));
        prop_assert!(sh.is_some(), "shipment S{} missing", k);
        let sh = sh.expect("checked");
        prop_assert_eq!(&sh.from, &member(msh.from));
        prop_assert_eq!(&sh.to, &member(msh.to));
        let items: Vec<ItemId> = msh.items.iter().map(|&i| item_id(i)).collect();
        prop_assert_eq!(&sh.items, &items);
        prop_assert_eq!(sh.outstanding, msh.outstanding, "S{}: outstanding", k);
        prop_assert_eq!(sh.units, msh.units, "S{}: units", k);
        let open = sh.status == ShipmentStatus::InTransit;
        prop_assert_eq!(open, msh.open, "S{}", k);
        let receipt = sh.receipt.as_ref().map(|r| (r.accepted, r.units));
        prop_assert_eq!(receipt, msh.receipt, "S{}: receipt", k);
    }
    prop_assert_eq!(model.recalls.len(), store.recalls.len());
    for (&r, mr) in &model.recalls {
        let rec = store.recalls.get(&recall_id(r));
        prop_assert!(rec.is_some(), "recall R{} missing", r);
        let rec = rec.expect("checked");
        prop_assert_eq!(&rec.gtin, &gtin(mr.gtin));
        let lots: Vec<Lot> = mr.lots.iter().map(|&l| lot(mr.gtin, l)).collect();
        prop_assert_eq!(&rec.lots, &lots);
        prop_assert_eq!(rec.affected, mr.affected, "R{}: affected", r);
    }
    Ok(())
}

/// An accepted transaction's work is bounded by what it names: it changes, and writes
/// events for, only the items it names and the containers they were in, and only the lots
/// it names.
fn bounded(before: &Store, op: &Op, changes: &Changes) -> Result<(), TestCaseError> {
    let mut reach: BTreeSet<ItemId> = BTreeSet::new();
    for i in op.named() {
        let id = item_id(i);
        if let Some(e) = resolve(before, &id, MAX_NESTING).map_err(fail)? {
            reach.extend(e.ancestors.iter().map(|a| a.id.clone()));
        }
        reach.insert(id);
    }
    for (id, ch) in &changes.items {
        prop_assert!(reach.contains(id), "{:?} changed {}", op, id);
        prop_assert_eq!(&ch.before, &before.items.get(id).cloned(), "{}: before", id);
    }
    for e in &changes.events {
        prop_assert!(
            reach.contains(&e.item),
            "{:?} wrote an event for {}",
            op,
            e.item
        );
    }
    let count = op.payload().item_count();
    prop_assert!(
        changes.events.len() <= 2 * count,
        "{:?}: {} events for {} identifiers",
        op,
        changes.events.len(),
        count
    );
    let lots: BTreeSet<(Gtin, Lot)> = op.named_lots().into_iter().collect();
    for key in changes.lots.keys() {
        prop_assert!(lots.contains(key), "{:?} changed lot {:?}", op, key);
    }
    Ok(())
}

/// The name of the rule a rejection breaks.
fn rule_name(e: &ApplyError) -> String {
    let text = match e {
        ApplyError::Rule(RuleError::Tx(t)) => format!("Tx::{t:?}"),
        ApplyError::Rule(r) => format!("{r:?}"),
        ApplyError::State(s) => format!("State {s:?}"),
    };
    text.chars()
        .take_while(|c| c.is_alphanumeric() || *c == ':')
        .collect()
}

/// What a run did: accepted/attempted per kind, refusals per rule, paths the model took.
#[derive(Default, Debug)]
struct Tally {
    kinds: BTreeMap<&'static str, (usize, usize)>,
    refusals: BTreeMap<String, usize>,
    seen: BTreeMap<&'static str, usize>,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        for (k, (a, n)) in other.kinds {
            let t = self.kinds.entry(k).or_default();
            t.0 += a;
            t.1 += n;
        }
        for (k, n) in other.refusals {
            *self.refusals.entry(k).or_default() += n;
        }
        for (k, n) in other.seen {
            *self.seen.entry(k).or_default() += n;
        }
    }
}

/// One step: an operation, how far the block time moves on first (0: the same block), the
/// event time's offset from the block time, and (for scenarios) the rule the ledger must
/// refuse it by ("ok": accepted).
struct Step {
    op: Op,
    advance_ms: u64,
    offset_ms: i64,
    expect: Option<&'static str>,
}

/// Runs `raws` against both sides, one transaction at a time (a few share a block).
fn run(genesis: &Genesis, keys: &[SigningKey], raws: &[Raw]) -> Result<Tally, TestCaseError> {
    drive(genesis, keys, raws.len(), |model, n| {
        let raw = &raws[n];
        Step {
            op: raw.resolve(model),
            advance_ms: weighted(&BLOCK_STEPS, raw.block),
            offset_ms: weighted(&EVENT_OFFSETS, raw.offset),
            expect: None,
        }
    })
}

/// Runs `steps` steps, each made by `next` from the model's state, against both sides.
fn drive(
    genesis: &Genesis,
    keys: &[SigningKey],
    steps: usize,
    mut next: impl FnMut(&Model, usize) -> Step,
) -> Result<Tally, TestCaseError> {
    let mut model = Model::default();
    let mut store = Store::default();
    let mut tally = Tally::default();
    let (mut height, mut tx_index, mut block_ms) = (0u64, 0u32, T0);
    let trace = std::env::var("MODEL_TRACE").is_ok();
    for n in 0..steps {
        let step = next(&model, n);
        let op = &step.op;
        if step.advance_ms == 0 && height > 0 {
            tx_index += 1;
        } else {
            height += 1;
            tx_index = 0;
            block_ms += step.advance_ms;
        }
        let time_ms = block_ms.saturating_add_signed(step.offset_ms);
        let who = op.who();
        let signer = MemberId::from(MEMBERS[who]);
        let unsigned = Transaction {
            version: TX_FORMAT_VERSION,
            chain_id: genesis.chain_id.clone(),
            signer: signer.clone(),
            sequence: store.last_sequence(&signer).expect("in memory") + 1,
            event_time_ms: time_ms,
            payload: op.payload(),
        };
        // ed25519 is slow in unoptimised test builds: only every 8th transaction is really
        // signed and fully checked; the rest get the form check (the rules never look at
        // signatures, and the unit tests cover them).
        let signed = n % 8 == 1;
        let tx: SignedTransaction = if signed {
            unsigned.sign(&keys[who])
        } else {
            SignedTransaction {
                tx: unsigned,
                signature: Signature([0; 64]),
            }
        };
        let ctx = BlockContext {
            height,
            time_ms: block_ms,
            tx_hash: tx.hash(),
            tx_index,
        };
        let before = store.clone();
        let mut overlay = Overlay::new(&store);
        let stateless = if signed {
            tx.check_stateless(genesis)
        } else {
            tx.tx.check_form(&genesis.params)
        };
        let result = stateless
            .map_err(ApplyError::from)
            .and_then(|()| overlay.apply(genesis, &tx, &ctx));
        let changes = overlay.into_changes();
        let model_result = model.step(op, block_ms, time_ms);
        if trace {
            eprintln!(
                "{n}: block {} {:+} ms: {op:?} -> {result:?} / model {model_result:?}",
                block_ms - T0,
                step.offset_ms
            );
        }
        prop_assert_eq!(
            result.is_ok(),
            model_result.is_ok(),
            "step {}: {:?}: ledger says {:?}, model says {:?}",
            n,
            op,
            result,
            model_result
        );
        if let Some(expect) = step.expect {
            let found = match &result {
                Ok(_) => "ok".to_string(),
                Err(e) => rule_name(e),
            };
            prop_assert_eq!(found.as_str(), expect, "step {}: {:?}: {:?}", n, op, result);
        }
        let count: &mut (usize, usize) = tally.kinds.entry(op.kind()).or_default();
        count.1 += 1;
        match &result {
            Ok(_) => {
                count.0 += 1;
                bounded(&before, op, &changes)
                    .map_err(|e| fail(format!("step {n}: {op:?}: {e}")))?;
                for e in &changes.events {
                    prop_assert_eq!(
                        (e.height, e.tx_index, e.time_ms),
                        (height, tx_index, time_ms)
                    );
                }
                store.commit(changes);
            }
            Err(e) => {
                *tally.refusals.entry(rule_name(e)).or_default() += 1;
                prop_assert_eq!(&changes, &Changes::default(), "rejected tx left changes");
                prop_assert_eq!(&store, &before);
            }
        }
        agree(&model, &store).map_err(|e| fail(format!("step {n}: {op:?}: {e}")))?;
        store
            .check_invariants()
            .map_err(|e| fail(format!("step {n}: {op:?}: {e}")))?;
    }
    tally.seen = model.seen;
    Ok(tally)
}

#[test]
fn ledger_agrees_with_reference_model() {
    let keys = keys();
    let genesis = genesis(&keys);
    let config = Config {
        cases: 100,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::XorShift));
    let strategy = sequence_strategy(1..100);
    let total = std::cell::RefCell::new(Tally::default());
    let result = runner.run(&strategy, |raws| {
        total.borrow_mut().add(run(&genesis, &keys, &raws)?);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let total = total.into_inner();
    eprintln!("accepted/attempted: {:?}", total.kinds);
    eprintln!("refusals: {:?}", total.refusals);
    eprintln!("model paths: {:?}", total.seen);
}

/// The property test is not vacuous: over a fixed set of random sequences, every kind of
/// operation is both accepted and refused many times, the refusals include every rule the
/// universe can reach, and the model goes down its less common paths.
#[test]
fn random_sequences_exercise_every_operation() {
    let keys = keys();
    let genesis = genesis(&keys);
    let mut runner = TestRunner::deterministic();
    let strategy = sequence_strategy(80..100);
    let mut total = Tally::default();
    for _ in 0..24 {
        let raws = strategy.new_tree(&mut runner).expect("strategy").current();
        total.add(run(&genesis, &keys, &raws).expect("model agrees"));
    }
    eprintln!("accepted/attempted: {:?}", total.kinds);
    eprintln!("refusals: {:?}", total.refusals);
    eprintln!("model paths: {:?}", total.seen);
    for (kind, (a, n)) in &total.kinds {
        assert!(*a >= 10, "{kind}: only {a} of {n} accepted");
        assert!(n - a >= 10, "{kind}: only {} of {n} refused", n - a);
    }
    for rule in [
        "EventTimeAhead",
        "EventTimeBehind",
        "EventTimeBeforePrevious",
        "ExpiredLot",
        "LotExpiry",
        "LotRecalled",
        "UnknownLot",
        "RecallExists",
        "TooManyLots",
        "InsideContainer",
        "NotInContainer",
        "ShipmentIncomplete",
        "ContainerNotAccepted",
        "Restricted",
        "NotSellable",
        "NotReturnable",
    ] {
        assert!(total.refusals.contains_key(rule), "never refused by {rule}");
    }
    for path in [
        "packed a container",
        "nested as deep as allowed",
        "unpacked a nested container",
        "status set inside a container",
        "refused from inside an accepted container",
        "restricted shipped back",
        "restricted shipped to its owner",
        "route cut",
        "route lost",
        "unknown route taken out",
    ] {
        assert!(
            total.seen.contains_key(path),
            "the model never took the path: {path}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Scenarios: the shapes random sequences reach too rarely, through the same checks, each
// step with the outcome the new semantics give it.

const PHARMACY: usize = 2;
/// The products.
const A: usize = 0;
const B: usize = 1;

fn ok(op: Op) -> Step {
    Step {
        op,
        advance_ms: 60_000,
        offset_ms: 0,
        expect: Some("ok"),
    }
}

fn no(op: Op, rule: &'static str) -> Step {
    Step {
        expect: Some(rule),
        ..ok(op)
    }
}

impl Step {
    /// The block time moves on by `advance_ms` first; the event time is `offset_ms` off it.
    fn at(self, advance_ms: u64, offset_ms: i64) -> Step {
        Step {
            advance_ms,
            offset_ms,
            ..self
        }
    }
}

fn commission(who: usize, gtin: usize, lot: usize, serials: &[usize]) -> Op {
    Op::Commission {
        who,
        gtin,
        lot,
        odd: None,
        serials: serials.to_vec(),
        location: None,
    }
}

fn commission_odd(who: usize, gtin: usize, lot: usize, odd: usize, serials: &[usize]) -> Op {
    Op::Commission {
        who,
        gtin,
        lot,
        odd: Some(odd),
        serials: serials.to_vec(),
        location: None,
    }
}

fn pack(who: usize, parent: usize, children: &[usize]) -> Op {
    Op::Pack {
        who,
        parent,
        children: children.to_vec(),
    }
}

fn unpack(who: usize, parent: usize, children: &[usize]) -> Op {
    Op::Unpack {
        who,
        parent,
        children: children.to_vec(),
    }
}

fn ship(who: usize, shipment: usize, to: usize, items: &[usize]) -> Op {
    Op::Ship {
        who,
        shipment,
        to,
        items: items.to_vec(),
    }
}

fn receive(
    who: usize,
    shipment: usize,
    accepted: &[usize],
    rejected: &[usize],
    missing: &[usize],
) -> Op {
    Op::Receive {
        who,
        shipment,
        accepted: accepted.to_vec(),
        rejected: rejected.to_vec(),
        missing: missing.to_vec(),
        unexpected: vec![],
        location: None,
    }
}

fn set(who: usize, items: &[usize], change: StatusChange) -> Op {
    Op::SetStatus {
        who,
        items: items.to_vec(),
        change,
    }
}

fn decommission(who: usize, items: &[usize], reason: DecommissionReason) -> Op {
    Op::Decommission {
        who,
        items: items.to_vec(),
        reason,
    }
}

fn recall(who: usize, recall: usize, gtin: usize, lots: &[usize]) -> Op {
    Op::Recall {
        who,
        recall,
        gtin,
        lots: lots.to_vec(),
    }
}

fn give_back(who: usize, items: &[usize]) -> Op {
    Op::Return {
        who,
        items: items.to_vec(),
    }
}

fn move_to(who: usize, items: &[usize]) -> Op {
    Op::Move {
        who,
        items: items.to_vec(),
        gln_of: who,
    }
}

/// Runs a scenario through the model and the ledger.
fn scenario(steps: Vec<Step>) -> Tally {
    let keys = keys();
    let genesis = genesis(&keys);
    let len = steps.len();
    let mut steps = steps.into_iter();
    match drive(&genesis, &keys, len, |_, _| steps.next().expect("counted")) {
        Ok(tally) => tally,
        Err(e) => panic!("{e}"),
    }
}

// Units: product A serial s is item s-1, product B serial s is item 4+s. SSCCs: the
// manufacturer's 8, 9, 10; the distributor's 11, 12, 13.

/// A case that goes back along its way (to a member it came from) cuts its route: the
/// ledger can then no longer read its contents' way through it, and a unit taken out knows
/// only its custodian, so a restricted one can no longer go back to where it truly came
/// from (only to its owner).
#[test]
fn scenario_a_route_cut_loses_the_contents_way() {
    let (m, d, p, r) = (MANUFACTURER, DISTRIBUTOR, PHARMACY, REGULATOR);
    let tally = scenario(vec![
        ok(commission(m, A, 0, &[1])),
        ok(ship(m, 0, d, &[0])),
        ok(receive(d, 0, &[0], &[], &[])),
        ok(pack(d, 11, &[0])),
        ok(ship(d, 1, p, &[11])),
        ok(receive(p, 1, &[11], &[], &[])),
        ok(ship(p, 2, r, &[11])),
        ok(receive(r, 2, &[11], &[], &[])),
        ok(ship(r, 3, p, &[11])),
        ok(receive(p, 3, &[11], &[], &[])),
        ok(unpack(p, 11, &[0])),
        ok(set(p, &[0], StatusChange::Quarantine)),
        no(ship(p, 4, d, &[0]), "Restricted"),
        ok(ship(p, 4, m, &[0])),
    ]);
    assert_eq!(tally.seen.get("route lost"), Some(&1), "{:?}", tally.seen);
    assert_eq!(tally.seen.get("unknown route taken out"), Some(&1));
}

/// Without a cut, a unit's way is read through a case and a pallet: taken out of the
/// (nested) case, a held unit may go back to the member it came from.
#[test]
fn scenario_a_route_is_read_through_containers() {
    let (m, d, p) = (MANUFACTURER, DISTRIBUTOR, PHARMACY);
    scenario(vec![
        ok(commission(m, A, 0, &[2])),
        ok(ship(m, 0, d, &[1])),
        ok(receive(d, 0, &[1], &[], &[])),
        ok(pack(d, 11, &[1])),
        ok(pack(d, 12, &[11])),
        ok(ship(d, 1, p, &[12])),
        ok(receive(p, 1, &[12], &[], &[])),
        no(unpack(d, 12, &[11]), "NotCustodian"),
        ok(unpack(p, 11, &[1])),
        ok(set(p, &[1], StatusChange::Damaged)),
        ok(ship(p, 2, d, &[1])),
    ]);
}

/// A case inside a pallet goes back along its own way while the pallet does not (the cut
/// is in the case's way as read through the pallet): the case still knows its way, its
/// contents do not, and not again once the case is taken out.
#[test]
fn scenario_a_nested_route_cut() {
    let (m, d, p) = (MANUFACTURER, DISTRIBUTOR, PHARMACY);
    let tally = scenario(vec![
        ok(commission(d, B, 0, &[1, 2])),
        ok(pack(d, 13, &[6])),
        ok(ship(d, 0, m, &[5])),
        ok(receive(m, 0, &[5], &[], &[])),
        ok(pack(m, 8, &[5])),
        ok(ship(m, 1, p, &[8])),
        ok(receive(p, 1, &[8], &[], &[])),
        ok(ship(d, 2, p, &[13])),
        ok(receive(p, 2, &[13], &[], &[])),
        ok(pack(p, 13, &[8])),
        ok(ship(p, 3, m, &[13])),
        ok(receive(m, 3, &[13], &[], &[])),
        ok(unpack(m, 13, &[8])),
        ok(unpack(m, 8, &[5])),
        ok(set(m, &[5], StatusChange::Suspect)),
        no(ship(m, 4, p, &[5]), "Restricted"),
        ok(ship(m, 4, d, &[5])),
    ]);
    assert_eq!(tally.seen.get("route lost"), Some(&1), "{:?}", tally.seen);
}

/// A receipt accounts for every top-level item still travelling; it may refuse items inside
/// the containers it accepts (at any depth: they stay with the shipper, on hold), never
/// items inside a container it refuses.
#[test]
fn scenario_refusals_inside_accepted_containers() {
    let (m, d) = (MANUFACTURER, DISTRIBUTOR);
    let tally = scenario(vec![
        ok(commission(m, A, 0, &[1, 2, 3])),
        ok(pack(m, 8, &[0, 1])),
        ok(pack(m, 9, &[8, 2])),
        ok(ship(m, 0, d, &[9])),
        no(receive(d, 0, &[], &[], &[]), "ShipmentIncomplete"),
        no(receive(d, 0, &[], &[0], &[]), "ContainerNotAccepted"),
        // Whatever the order of the refusals, a unit inside a refused case is refused
        // with it, and said so.
        no(receive(d, 0, &[9], &[8], &[0]), "ContainerNotAccepted"),
        no(receive(d, 0, &[9], &[0], &[8]), "ContainerNotAccepted"),
        no(receive(d, 0, &[9], &[9], &[]), "Tx::Duplicate"),
        ok(receive(d, 0, &[9], &[0], &[2])),
        no(ship(m, 1, d, &[0]), "Restricted"),
        no(pack(d, 8, &[1]), "InsideContainer"),
        ok(unpack(d, 8, &[1])),
        ok(pack(d, 9, &[1])),
    ]);
    assert_eq!(
        tally.seen.get("refused from inside an accepted container"),
        Some(&2)
    );
}

/// A container holds units of at most `MAX_LOTS` lots and nests at most `MAX_NESTING`
/// levels; its depth never decreases, even once emptied.
#[test]
fn scenario_container_limits() {
    let (m, d) = (MANUFACTURER, DISTRIBUTOR);
    scenario(vec![
        ok(commission(m, A, 0, &[1])),
        ok(commission(m, A, 1, &[2])),
        ok(commission(m, A, 2, &[3])),
        ok(pack(m, 8, &[0, 1])),
        no(pack(m, 8, &[2]), "TooManyLots"),
        ok(pack(m, 9, &[8])),
        ok(pack(m, 10, &[9])),
        ok(ship(m, 0, d, &[10])),
        ok(receive(d, 0, &[10], &[], &[])),
        no(pack(d, 11, &[10]), "TooDeep"),
        ok(unpack(d, 10, &[9])),
        no(pack(d, 11, &[10]), "TooDeep"),
        ok(pack(d, 11, &[9])),
        no(unpack(d, 8, &[]), "Tx::Empty"),
    ]);
}

/// A lot fixes its expiry at its first commission and carries its recall; expiry is read
/// by block date, for a container from its contents' lots.
#[test]
fn scenario_lots_recalls_and_expiry() {
    let (m, d, p) = (MANUFACTURER, DISTRIBUTOR, PHARMACY);
    scenario(vec![
        ok(commission(m, A, 1, &[1])),
        no(commission_odd(m, A, 1, 0, &[2]), "LotExpiry"),
        no(commission_odd(m, A, 1, 1, &[2]), "ExpiredLot"),
        no(recall(m, 0, A, &[0]), "UnknownLot"),
        no(recall(p, 0, A, &[1]), "NotAllowed"),
        ok(recall(m, 0, A, &[1])),
        no(recall(REGULATOR, 1, A, &[1]), "LotRecalled"),
        no(recall(m, 0, A, &[1]), "RecallExists"),
        no(commission(m, A, 1, &[2]), "LotRecalled"),
        no(ship(m, 0, d, &[0]), "Restricted"),
        ok(commission(m, A, 2, &[3])),
        ok(pack(m, 8, &[2])),
        ok(ship(m, 0, d, &[8])),
        ok(receive(d, 0, &[8], &[], &[])),
        ok(ship(d, 1, p, &[8])),
        ok(receive(p, 1, &[8], &[], &[])),
        no(
            decommission(p, &[8], DecommissionReason::Dispensed),
            "NotSellable",
        )
        .at(7 * DAY_MS, 0),
        no(commission(m, A, 2, &[4]), "ExpiredLot"),
        ok(decommission(p, &[8], DecommissionReason::Destroyed)),
        no(set(p, &[2], StatusChange::Release), "Decommissioned"),
    ]);
}

/// Event times: within bounds of the block time, and never before the latest event of the
/// item or of a container it is in.
#[test]
fn scenario_event_times() {
    let m = MANUFACTURER;
    scenario(vec![
        ok(commission(m, A, 0, &[1])),
        ok(pack(m, 8, &[0])),
        ok(move_to(m, &[8])).at(60_000, 5_000),
        no(
            set(m, &[0], StatusChange::Quarantine),
            "EventTimeBeforePrevious",
        )
        .at(0, 0),
        ok(set(m, &[0], StatusChange::Quarantine)),
        no(move_to(m, &[8]), "EventTimeAhead").at(60_000, 11_000),
        no(move_to(m, &[8]), "EventTimeBehind").at(60_000, -8 * DAY_MS as i64),
        ok(commission(m, A, 0, &[2])).at(60_000, -6 * DAY_MS as i64),
        no(move_to(m, &[1]), "EventTimeBeforePrevious").at(60_000, -6 * DAY_MS as i64 - 120_000),
        ok(move_to(m, &[1])),
    ]);
}

/// Returns: a dispensed unit to its pharmacy; a shipment back to a member that held
/// everything in it since it was last packed (closing the shipment).
#[test]
fn scenario_returns() {
    let (m, d, p) = (MANUFACTURER, DISTRIBUTOR, PHARMACY);
    scenario(vec![
        ok(commission(m, A, 0, &[1, 2])),
        ok(ship(m, 0, d, &[0, 1])),
        ok(receive(d, 0, &[0, 1], &[], &[])),
        ok(pack(d, 11, &[0])),
        ok(ship(d, 1, p, &[11, 1])),
        ok(receive(p, 1, &[11, 1], &[], &[])),
        ok(ship(p, 2, d, &[11])),
        no(give_back(m, &[11]), "NotReturnable"),
        ok(give_back(d, &[11])),
        no(receive(d, 2, &[11], &[], &[]), "ShipmentClosed"),
        ok(decommission(p, &[1], DecommissionReason::Dispensed)),
        no(give_back(d, &[1]), "NotReturnable"),
        ok(give_back(p, &[1])),
        ok(set(d, &[11], StatusChange::Release)),
        ok(ship(d, 3, p, &[11])),
        ok(receive(p, 3, &[11], &[], &[])),
        ok(pack(p, 11, &[1])),
        no(ship(p, 4, d, &[11]), "Restricted"),
        ok(set(p, &[1], StatusChange::Release)),
        ok(ship(p, 4, d, &[11])),
        no(give_back(d, &[11]), "NotReturnable"),
        ok(receive(d, 4, &[11], &[], &[])),
    ]);
}

/// A restricted container goes back to the member it came from only if nothing was packed
/// into it since (the ledger keeps when it was last packed into, not what), or to the one
/// owner of everything in it.
#[test]
fn scenario_a_restricted_container_goes_back() {
    let (m, d, p) = (MANUFACTURER, DISTRIBUTOR, PHARMACY);
    let tally = scenario(vec![
        ok(commission(m, A, 0, &[1])),
        ok(ship(m, 0, d, &[0])),
        ok(receive(d, 0, &[0], &[], &[])),
        ok(commission(d, B, 0, &[1, 2])),
        ok(pack(d, 11, &[0, 5])),
        ok(ship(d, 1, p, &[11, 6])),
        ok(receive(p, 1, &[11, 6], &[], &[])),
        ok(set(p, &[5], StatusChange::Quarantine)),
        ok(ship(p, 2, d, &[11])),
        ok(receive(d, 2, &[11], &[], &[])),
        no(ship(d, 3, p, &[11]), "Restricted"),
        ok(set(d, &[5], StatusChange::Release)),
        ok(ship(d, 3, p, &[11])),
        ok(receive(p, 3, &[11], &[], &[])),
        ok(set(p, &[5], StatusChange::Quarantine)),
        no(ship(p, 4, m, &[11]), "Restricted"),
        ok(pack(p, 11, &[6])),
        no(ship(p, 4, d, &[11]), "Restricted"),
        ok(unpack(p, 11, &[6])),
        no(ship(p, 4, d, &[11]), "Restricted"),
        ok(set(p, &[5], StatusChange::Release)),
        ok(ship(p, 4, m, &[11])),
    ]);
    assert_eq!(tally.seen.get("restricted shipped back"), Some(&1));
}
