//! State-root cost at two tree sizes, measured in one run: a tree of 10,000 items next to one
//! of 1,000,000. For each: update time per touched item (batches of 1,000 keys, half existing
//! items changed and half new ones; and single-key updates), nodes written and made stale per
//! touched item, and proof size and verify time for present and absent keys.
//!
//! `cargo bench -p custody-ledger --bench smt`

use custody_ledger::encoding;
use custody_ledger::hash::Hash32;
use custody_ledger::smt::{MemNodeStore, Smt, SmtProof};
use std::time::Instant;

const BATCH: usize = 1_000;
const ROUNDS: usize = 10;
const SINGLES: usize = 2_000;
const PROBES: usize = 2_000;

fn key(i: u64) -> Hash32 {
    Hash32::tagged("bench/smt-key", &[&i.to_be_bytes()])
}

fn value(i: u64, version: u64) -> Hash32 {
    Hash32::tagged(
        "bench/smt-value",
        &[&i.to_be_bytes(), &version.to_be_bytes()],
    )
}

/// splitmix64: reproducible picks without a randomness dependency.
struct Picks(u64);

impl Picks {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) % n
    }
}

/// Runs `f` and returns its result with the wall time in seconds. The benchmark harness reads
/// the clock; the tree never does.
#[allow(clippy::disallowed_methods)] // the harness, not the ledger, reads the clock
fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let started = Instant::now();
    let out = f();
    (out, started.elapsed().as_secs_f64())
}

/// A tree and the store holding it (pruned: only the latest root's nodes).
struct Tree {
    store: MemNodeStore,
    root: Hash32,
    /// Keys `0..next` have been inserted.
    next: u64,
}

impl Tree {
    fn apply(&mut self, changes: &[(Hash32, Option<Hash32>)]) -> (usize, usize, f64) {
        let (update, secs) = timed(|| Smt::update(&self.store, self.root, changes));
        let update = update.expect("the in-memory store holds the whole tree");
        self.store.write(&update);
        self.store.prune(&update);
        self.root = update.root;
        (update.new_nodes.len(), update.stale_nodes.len(), secs)
    }
}

fn build(n: u64) -> (Tree, f64) {
    let mut tree = Tree {
        store: MemNodeStore::new(),
        root: Smt::empty_root(),
        next: n,
    };
    let (_, secs) = timed(|| {
        let chunk = 100_000u64;
        for start in (0..n).step_by(chunk as usize) {
            let changes: Vec<_> = (start..(start + chunk).min(n))
                .map(|i| (key(i), Some(value(i, 0))))
                .collect();
            tree.apply(&changes);
        }
    });
    (tree, secs)
}

struct Figures {
    items: u64,
    build_s: f64,
    nodes: usize,
    batch_us: f64,
    single_us: f64,
    written: f64,
    stale: f64,
    single_written: f64,
    member_bytes: f64,
    absent_bytes: f64,
    member_depth: f64,
    verify_us: f64,
}

fn measure(n: u64, picks: &mut Picks) -> Figures {
    let (mut tree, build_s) = build(n);
    let nodes = tree.store.len();

    // Batches of 1,000: half existing items get a new value, half are new items.
    let (mut secs, mut written, mut stale, mut touched) = (0.0, 0, 0, 0);
    for round in 1..=ROUNDS as u64 {
        let mut changes = Vec::with_capacity(BATCH);
        for _ in 0..BATCH / 2 {
            let i = picks.below(tree.next);
            changes.push((key(i), Some(value(i, round))));
            changes.push((key(tree.next), Some(value(tree.next, 0))));
            tree.next += 1;
        }
        let (w, s, t) = tree.apply(&changes);
        written += w;
        stale += s;
        secs += t;
        touched += changes.len();
    }
    let batch_us = secs * 1e6 / touched as f64;
    let written = written as f64 / touched as f64;
    let stale = stale as f64 / touched as f64;

    // Single-key updates: no sharing of the upper levels between keys.
    let (mut single_s, mut single_written) = (0.0, 0);
    for round in 0..SINGLES as u64 {
        let i = picks.below(tree.next);
        let (w, _, s) = tree.apply(&[(key(i), Some(value(i, 1_000 + round)))]);
        single_written += w;
        single_s += s;
    }

    // Proofs of present and absent keys.
    let (mut member_bytes, mut absent_bytes, mut depth, mut verify_s) = (0, 0, 0, 0.0);
    for _ in 0..PROBES {
        let present = key(picks.below(tree.next));
        let absent = key(u64::MAX - picks.below(1 << 40));
        let p = Smt::prove(&tree.store, tree.root, &present).expect("present key proves");
        let a = Smt::prove(&tree.store, tree.root, &absent).expect("absent key proves");
        let p_bytes = encoding::encode(&p);
        member_bytes += p_bytes.len();
        absent_bytes += encoding::encode(&a).len();
        depth += p.depth();
        let (answer, s) = timed(|| {
            let proof: SmtProof = encoding::decode(&p_bytes).expect("own encoding decodes");
            proof.verify(&tree.root, &present)
        });
        assert!(matches!(answer, Ok(Some(_))), "member proof verifies");
        assert_eq!(a.verify(&tree.root, &absent), Ok(None));
        verify_s += s;
    }
    Figures {
        items: n,
        build_s,
        nodes,
        batch_us,
        single_us: single_s * 1e6 / SINGLES as f64,
        written,
        stale,
        single_written: single_written as f64 / SINGLES as f64,
        member_bytes: member_bytes as f64 / PROBES as f64,
        absent_bytes: absent_bytes as f64 / PROBES as f64,
        member_depth: depth as f64 / PROBES as f64,
        verify_us: verify_s * 1e6 / PROBES as f64,
    }
}

fn main() {
    let mut picks = Picks(0x5eed);
    let figures: Vec<Figures> = [10_000, 1_000_000]
        .into_iter()
        .map(|n| measure(n, &mut picks))
        .collect();
    println!(
        "{:>9}  {:>7}  {:>9}  {:>13}  {:>13}  {:>13}  {:>13}  {:>13}  {:>8}  {:>8}  {:>5}  {:>9}",
        "items",
        "build s",
        "nodes",
        "µs/item b1000",
        "written b1000",
        "stale b1000",
        "µs/item b1",
        "written b1",
        "member B",
        "absent B",
        "depth",
        "verify µs"
    );
    for f in &figures {
        println!(
            "{:>9}  {:>7.2}  {:>9}  {:>13.2}  {:>13.2}  {:>13.2}  {:>13.2}  {:>13.2}  {:>8.0}  {:>8.0}  {:>5.1}  {:>9.2}",
            f.items,
            f.build_s,
            f.nodes,
            f.batch_us,
            f.written,
            f.stale,
            f.single_us,
            f.single_written,
            f.member_bytes,
            f.absent_bytes,
            f.member_depth,
            f.verify_us
        );
    }
    let (small, large) = (&figures[0], &figures[1]);
    println!(
        "1M / 10k (100x the items): update per touched item x{:.2} in batches of {BATCH}, x{:.2} one at a time; nodes written per item x{:.2} and x{:.2}; time per node written x{:.2} (one at a time); proof bytes x{:.2}; verify x{:.2}",
        large.batch_us / small.batch_us,
        large.single_us / small.single_us,
        large.written / small.written,
        large.single_written / small.single_written,
        (large.single_us / large.single_written) / (small.single_us / small.single_written),
        large.member_bytes / small.member_bytes,
        large.verify_us / small.verify_us
    );
}
