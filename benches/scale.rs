//! How coffer holds up at scale, on a real kube-apiserver and etcd, with
//! `coffer run` as its own process against the emulator. Two modes:
//!
//! - `steady` (default): N objects (`COFFER_BENCH_OBJECTS`, default
//!   10 000; BackupVaults and every tenth an Agency) created while coffer
//!   runs. Measures the API server's own floor for those creates, time to
//!   Ready, Kubernetes writes and provider calls per object, memory, idle
//!   CPU, and a leader failover and a restart with everything converged.
//!   `COFFER_BENCH_FAULTS=0.3` fails that share of provider calls (half
//!   500, half 429) while converging.
//! - `latency` (`COFFER_BENCH_MODE=latency`): the emulator answers in
//!   50 ms ± 25 ms; N objects already in the cluster are reconciled by an
//!   operator at the default concurrency (16), then N more at 64.
//!
//! Each run is written to `target/bench/scale-<mode>-<time>.json` with a PNG
//! of its time series. A run in which anything failed to converge is not
//! written: the bench exits non-zero instead. After a steady run, the
//! latest steady run of each size there makes `memory-growth.png` and
//! `memory-growth.json`: memory against the number of objects.
//!
//! Run with `make bench`. It takes minutes, so it is not part of `make test`.

#[path = "scale/apiserver.rs"]
mod apiserver;
#[path = "scale/at_rest.rs"]
mod at_rest;
#[path = "scale/census.rs"]
mod census;
#[path = "scale/cluster.rs"]
mod cluster;
#[path = "scale/floor.rs"]
mod floor;
#[path = "scale/growth.rs"]
mod growth;
#[path = "scale/latency.rs"]
mod latency;
#[path = "scale/machine.rs"]
mod machine;
#[path = "scale/operator.rs"]
mod operator;
#[path = "scale/plot.rs"]
mod plot;
#[path = "scale/provider.rs"]
mod provider;
#[path = "scale/record.rs"]
mod record;
#[path = "scale/sampler.rs"]
mod sampler;
#[path = "scale/scrape.rs"]
mod scrape;
#[path = "scale/steady.rs"]
mod steady;

use std::time::{Duration, Instant};

use sampler::ReadyCount;

#[global_allocator]
static ALLOCATOR: census::Counting = census::Counting;

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Waits until `ready` counts `n`; `None` if it never does.
async fn converge(ready: &ReadyCount, n: usize, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < within {
        if ready.get() >= n {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    None
}

/// Refuses to report: a run where something did not converge has no figures.
fn refuse(what: &str, log: &std::path::Path) -> ! {
    eprintln!(
        "scale: {what}; no figures are written for this run. Operator log: {}",
        log.display()
    );
    std::process::exit(1);
}

#[tokio::main]
async fn main() {
    // `cargo test --all-targets` runs harness-less benches too; this one takes
    // minutes, so it runs only when cargo bench asks for it.
    if !std::env::args().any(|a| a == "--bench") {
        println!("scale: skipped outside `cargo bench` (run `make bench`)");
        return;
    }
    let n: usize = env("COFFER_BENCH_OBJECTS", 10_000);
    let mode: String = env("COFFER_BENCH_MODE", "steady".to_string());
    let run = match mode.as_str() {
        "steady" => steady::run(n, env("COFFER_BENCH_FAULTS", 0.0)).await,
        "latency" => latency::run(n).await,
        other => panic!("COFFER_BENCH_MODE must be steady or latency, not {other}"),
    };
    for target in &run.targets {
        println!(
            "scale: {} {:<48} {:>10.2} {} (limit {} {})",
            if target.met { "MET   " } else { "MISSED" },
            target.name,
            target.measured,
            target.unit,
            target.limit,
            target.unit
        );
    }
    let path = record::write(&run);
    println!("scale: run written to {}", path.display());
    if mode == "steady" {
        growth::report(&record::dir());
    }
}
