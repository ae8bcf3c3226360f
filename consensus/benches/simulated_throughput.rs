//! Simulated throughput: decisions per wall-clock second of the pure state machine for four
//! validators on a fault-free simulated network, and the messages one height costs for
//! n = 4, 7, 10 (expected (2n + 1)(n - 1) ≈ 2n² point-to-point sends: one proposal, then n
//! prevotes and n precommits, each to n - 1 peers).
//!
//! `cargo bench -p custody-consensus --bench simulated_throughput`

#[path = "../tests/sim/mod.rs"]
mod sim;

use sim::{run, SimConfig};
use std::time::Instant;

fn main() {
    let heights = 2_000;
    // Wall time of the harness itself, for the printed figures; the consensus never sees it.
    #[allow(clippy::disallowed_methods)]
    let started = Instant::now();
    let r = run(SimConfig::calm(4, 1, heights));
    let wall = started.elapsed().as_secs_f64();
    assert!(r.violation.is_none(), "{r}");
    println!(
        "n=4, no faults: {} heights ({} validator decisions) in {:.3} s wall = {:.0} heights/s, {:.0} decisions/s; {:.1} ms simulated per height",
        r.decided,
        r.decisions,
        wall,
        r.decided as f64 / wall,
        r.decisions as f64 / wall,
        r.sim_ms as f64 / r.decided as f64
    );
    println!("messages per height (point-to-point sends, no faults):");
    println!("   n  proposals  prevotes  precommits   total  (2n+1)(n-1)  total/n²");
    for n in [4usize, 7, 10] {
        let r = run(SimConfig::calm(n, 1, 200));
        assert!(r.violation.is_none(), "{r}");
        let h = r.decided as f64;
        let [p, pv, pc] = r.sent.map(|s| s as f64 / h);
        let total = p + pv + pc;
        println!(
            "{n:>4}  {p:>9.1}  {pv:>8.1}  {pc:>10.1}  {total:>6.1}  {:>11}  {:>8.2}",
            (2 * n + 1) * (n - 1),
            total / (n * n) as f64
        );
    }
}
