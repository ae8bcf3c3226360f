//! Deterministic simulation of 4, 7 and 10 validators under loss, delay, duplication,
//! reordering, partitions that heal, crashes with restart, invalid values and up to f
//! byzantine validators that equivocate, flood proposals and votes, or withhold votes,
//! proposals or block bodies; see `sim/mod.rs` for what is checked on every seed.
//!
//! The `*_chaos` tests draw each byzantine validator's behaviour from all of them; the
//! `n4_flood`, `n4_hidden_bodies` and `n4_withholding` tests give all f of them one kind.
//! `CUSTODY_SIM_SEEDS=<total>` sets how many seeds run across all of them (default 3000);
//! `CUSTODY_SIM_SEED=<seed>` replays exactly one seed (in each test). A failing seed prints
//! the command that replays it.

mod sim;

use custody_consensus::Fault;
use custody_consensus::Retained;
use sim::{run, Behaviour, SimConfig, Violation};
use std::collections::BTreeMap;
use std::time::Instant;

/// Seeds for one test: `CUSTODY_SIM_SEED` alone, or `share` of `CUSTODY_SIM_SEEDS`.
fn seeds(share: f64) -> Vec<u64> {
    if let Ok(s) = std::env::var("CUSTODY_SIM_SEED") {
        return vec![s.trim().parse().expect("CUSTODY_SIM_SEED is a number")];
    }
    let total: u64 = std::env::var("CUSTODY_SIM_SEEDS")
        .ok()
        .map(|s| s.trim().parse().expect("CUSTODY_SIM_SEEDS is a number"))
        .unwrap_or(3_000);
    (0..((total as f64 * share).ceil() as u64).max(1)).collect()
}

fn chaos(n: usize, test: &str, share: f64) {
    chaos_with(n, test, share, &Behaviour::ALL);
}

/// Seeds of `chaos(n)` whose byzantine validators (always f of them) behave as one of
/// `behaviours`.
fn chaos_with(n: usize, test: &str, share: f64, behaviours: &[Behaviour]) {
    // Wall time of the harness itself, for the printed figures; the consensus never sees it.
    #[allow(clippy::disallowed_methods)]
    let started = Instant::now();
    let seeds = seeds(share);
    let (mut decided, mut worst_ratio, mut evidence, mut crashes) = (0u64, 0f64, 0u64, 0u64);
    let (mut flood, mut unanswered) = (0u64, 0u64);
    let mut drops: BTreeMap<&str, u64> = BTreeMap::new();
    let mut kept = Retained::default();
    let mut bodies = 0;
    for &seed in &seeds {
        let mut cfg = SimConfig::chaos(n, seed);
        cfg.behaviours = behaviours.to_vec();
        if behaviours.len() < Behaviour::ALL.len() {
            cfg.byzantine = (n - 1) / 3;
        }
        let report = run(cfg);
        if let Some(v) = &report.violation {
            panic!(
                "n={n} seed={seed} FAILED: {v:?}\n{report}\nreplay: CUSTODY_SIM_SEED={seed} cargo test -p custody-consensus --test simulation {test}"
            );
        }
        decided += report.decided;
        evidence += report.evidence;
        crashes += report.crashes;
        flood += report.flood_sent;
        unanswered += report.unanswered_validations;
        for (k, v) in &report.drops {
            *drops.entry(k).or_default() += v;
        }
        bodies = bodies.max(report.max_bodies);
        let m = report.max_retained;
        kept = Retained {
            rounds: kept.rounds.max(m.rounds),
            proposals: kept.proposals.max(m.proposals),
            max_proposals_in_a_round: kept
                .max_proposals_in_a_round
                .max(m.max_proposals_in_a_round),
            votes: kept.votes.max(m.votes),
            values: kept.values.max(m.values),
            future_rounds: kept.future_rounds.max(m.future_rounds),
        };
        if let Some(t) = report.heal_to_done_ms {
            worst_ratio = worst_ratio.max(t as f64 / report.bound_ms as f64);
        }
    }
    println!(
        "{test} n={n}: {} seeds ok in {:.1?}: {decided} heights decided, {crashes} crashes, {evidence} evidence, {flood} flood sends, {unanswered} unanswered validations, worst heal→done {:.0}% of the bound\n  most kept by an honest instance: {kept:?}, by its driver: {bodies} bodies\n  drops: {drops:?}",
        seeds.len(),
        started.elapsed(),
        worst_ratio * 100.0
    );
}

#[test]
fn n4_chaos() {
    chaos(4, "n4_chaos", 0.34);
}

#[test]
fn n7_chaos() {
    chaos(7, "n7_chaos", 0.10);
}

#[test]
fn n10_chaos() {
    chaos(10, "n10_chaos", 0.05);
}

#[test]
fn n4_hidden_bodies() {
    chaos_with(
        4,
        "n4_hidden_bodies",
        0.30,
        &[
            Behaviour::HideBody { votes: false },
            Behaviour::HideBody { votes: true },
        ],
    );
}

#[test]
fn n4_flood() {
    chaos_with(4, "n4_flood", 0.07, &[Behaviour::Flood]);
}

#[test]
fn n4_withholding() {
    chaos_with(
        4,
        "n4_withholding",
        0.14,
        &[Behaviour::WithholdVotes, Behaviour::Mute],
    );
}

#[test]
fn same_seed_same_run() {
    let a = run(SimConfig::chaos(4, 7));
    let b = run(SimConfig::chaos(4, 7));
    assert_eq!(
        (a.events, a.sim_ms, a.decided, a.sent, a.gossip_sent),
        (b.events, b.sim_ms, b.decided, b.sent, b.gossip_sent)
    );
}

#[test]
fn calm_network_decides_every_height_in_one_round() {
    let r = run(SimConfig::calm(4, 1, 20));
    assert!(r.violation.is_none(), "{r}");
    assert_eq!(r.decided, 20);
    assert_eq!(r.max_round, 0, "{r}");
}

/// One "honest" validator ignores its lock. With a byzantine peer that is two faulty
/// validators out of four, and the checker must report a broken agreement for some seed.
#[test]
fn planted_ignore_lock_bug_is_caught() {
    for seed in 0..2000 {
        let mut cfg = SimConfig::chaos(4, seed);
        cfg.byzantine = 1;
        cfg.behaviours = vec![Behaviour::Equivocate];
        let planted = (0..4).find(|&i| i != 0).unwrap_or(1);
        cfg.planted = Some((planted, Fault::IgnoreLock));
        let report = run(cfg);
        match report.violation {
            Some(Violation::Agreement { .. }) => {
                println!(
                    "planted bug caught at seed {seed}: {:?}\n{report}",
                    report.violation
                );
                return;
            }
            _ => continue,
        }
    }
    panic!("the simulation did not catch a validator that ignores its lock in 2000 seeds");
}
