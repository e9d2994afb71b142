//! Quiet under faults: a retryable provider error that a retry cures writes
//! neither status nor an Event. Every write to the namespace's BackupVaults
//! and Events is counted from a watch, which sees each one exactly once.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use coffer::api::BackupVault;
use coffer::emulator::FaultConfig;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, WatchEvent, WatchParams};
use serde_json::json;

use super::{RESYNC, Running, is_ready};

/// How many vaults converge under faults.
const VAULTS: u64 = 40;

/// Counts the writes (creations and changes) of `K` in `api` from now on.
pub(super) fn count_writes<K>(api: Api<K>) -> (Arc<AtomicU64>, tokio::task::JoinHandle<()>)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + 'static,
{
    let count = Arc::new(AtomicU64::new(0));
    let counted = count.clone();
    let task = tokio::spawn(async move {
        let stream = api
            .watch(&WatchParams::default().timeout(290), "0")
            .await
            .expect("watching");
        let mut stream = stream.boxed();
        while let Ok(Some(event)) = stream.try_next().await {
            if matches!(event, WatchEvent::Added(_) | WatchEvent::Modified(_)) {
                counted.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    (count, task)
}

#[tokio::test]
async fn thirty_percent_faults_cost_at_most_four_kubernetes_writes_per_vault() {
    let run = Running::start("bv-quiet").await;
    let (vault_writes, vault_watch) = count_writes(run.api::<BackupVault>());
    let (event_writes, event_watch) = count_writes(run.api::<Event>());
    run.emulator
        .set_faults(FaultConfig {
            error_rates: BTreeMap::from([(500, 0.15), (429, 0.15)]),
            ..FaultConfig::default()
        })
        .expect("faults");
    let names: Vec<String> = (0..VAULTS).map(|i| format!("q-{i:02}")).collect();
    for name in &names {
        run.create_vault(name, json!({})).await;
    }
    for name in &names {
        run.vault_when(name, &format!("{name} Ready despite faults"), is_ready)
            .await;
    }
    // Leave room for late writes to show up, faults still on.
    tokio::time::sleep(RESYNC * 3).await;
    vault_watch.abort();
    event_watch.abort();

    let injected = run
        .emulator
        .requests(None)
        .iter()
        .filter(|r| r.fault.is_some())
        .count();
    assert!(
        injected as u64 >= VAULTS / 2,
        "only {injected} faults injected"
    );
    let (vaults, events) = (
        vault_writes.load(Ordering::SeqCst),
        event_writes.load(Ordering::SeqCst),
    );
    // The test's own create, the finalizer, one status write and one Event.
    let per_vault = (vaults + events) as f64 / VAULTS as f64;
    let mut reasons = BTreeMap::<String, u32>::new();
    for event in run
        .api::<Event>()
        .list(&Default::default())
        .await
        .expect("Events")
        .items
    {
        *reasons.entry(event.reason.unwrap_or_default()).or_default() += 1;
    }
    eprintln!(
        "quiet: {VAULTS} vaults, {injected} faults: {vaults} BackupVault writes, {events} Event writes \
         ({reasons:?}), {per_vault:.2} per vault"
    );
    assert!(
        per_vault <= 4.0,
        "{per_vault:.2} Kubernetes writes per vault ({vaults} to BackupVaults, {events} Events)"
    );
}
