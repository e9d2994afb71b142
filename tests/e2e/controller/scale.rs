//! An opt-in measurement, not a check run by default: `COFFER_SCALE` (default
//! 1000) BackupVaults in one namespace against the emulator. Prints how long
//! they take to become Ready, how many provider calls that took, the
//! process's memory, and what an idle drift check costs.
//!
//! `COFFER_SCALE=1000 cargo test --test e2e scale -- --ignored --nocapture`

use std::time::{Duration, Instant};

use coffer::api::BackupVault;
use coffer::emulator::Operation;
use kube::api::ListParams;

use super::{Running, WRITES, eventually, is_ready};

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run with --ignored"]
async fn many_vaults_converge_and_idle_cheaply() {
    let n: usize = std::env::var("COFFER_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let run = Running::start("scale").await;
    let rss_before = rss_mib();
    let started = Instant::now();
    for i in 0..n {
        run.create_vault(&format!("s-{i:05}"), serde_json::json!({}))
            .await;
    }
    let created = started.elapsed();
    let api = run.api::<BackupVault>();
    eventually("every vault Ready", || async {
        let ready = api
            .list(&ListParams::default())
            .await
            .ok()?
            .items
            .iter()
            .filter(|bv| is_ready(bv))
            .count();
        (ready == n).then_some(())
    })
    .await;
    let converged = started.elapsed();
    let counters = run.emulator.counters();
    let count = |op| counters.get(&op).map_or(0, |c| c.total);
    println!(
        "{n} BackupVaults: created in {created:.1?}, all Ready after {converged:.1?}; \
         provider calls: {} create, {} list, {} get, {} other writes; vaults at the emulator: {}; \
         RSS {rss_before:.0} MiB -> {:.0} MiB (test process: API client, controllers, emulator)",
        count(Operation::CreateVault),
        count(Operation::ListVaults),
        count(Operation::ShowVault),
        WRITES.iter().map(|op| count(*op)).sum::<u64>() - count(Operation::CreateVault),
        run.vault_count(),
        rss_mib(),
    );
    assert_eq!(run.vault_count(), n as u64, "duplicates");
    let adopted = run
        .api::<k8s_openapi::api::events::v1::Event>()
        .list(&ListParams::default())
        .await
        .expect("events")
        .items
        .iter()
        .filter(|e| e.reason.as_deref() == Some("Adopted"))
        .count();
    println!(
        "Adopted events (a reconcile that ran before the watch showed the recorded id): {adopted}"
    );

    let before = run.last_seq();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let writes = run.writes_after(before).len();
    let reads = run
        .emulator
        .requests(None)
        .iter()
        .filter(|r| r.seq > before)
        .count();
    println!("idle for 5 s with a 1 s drift check: {reads} provider reads, {writes} writes");
    assert_eq!(writes, 0);
}
