//! Quiet under faults: a retryable provider error that a retry cures writes
//! neither status nor an Event. Every write to the namespace's BackupVaults
//! and Events is counted from a watch, which sees each one exactly once.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use coffer::api::BackupVault;
use coffer::emulator::{FaultConfig, FaultRule, Operation, RuleFault};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, WatchEvent, WatchParams};
use serde_json::json;

use super::{RESYNC, Running, is_ready};

/// How many vaults converge under faults.
const VAULTS: u64 = 40;

/// The writes (creations and changes) of one kind in one namespace, counted
/// from a watch that was open before the count began.
pub(super) struct Writes {
    count: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<String>,
}

impl Writes {
    /// Writes counted so far.
    pub(super) fn now(&self) -> u64 {
        self.count.load(Ordering::SeqCst)
    }

    /// Stops counting and answers the count, failing the test if the watch
    /// ended by itself (an error, a panic, its timeout): a dead counter
    /// reads too low, which every "few writes" assertion would pass.
    pub(super) async fn stop(self) -> u64 {
        if self.task.is_finished() {
            let why = self
                .task
                .await
                .unwrap_or_else(|e| format!("it panicked: {e}"));
            panic!("the write counter stopped before the test did: {why}");
        }
        self.task.abort();
        self.count.load(Ordering::SeqCst)
    }
}

/// Counts the writes of `K` in `api` from now on: answers once the watch
/// is open, so no write made after this returns is missed.
pub(super) async fn count_writes<K>(api: Api<K>) -> Writes
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + 'static,
{
    let count = Arc::new(AtomicU64::new(0));
    let counted = count.clone();
    let now = api
        .list_metadata(&Default::default())
        .await
        .expect("listing, to start the watch from now");
    let from = now
        .metadata
        .resource_version
        .expect("a list resourceVersion");
    let stream = api
        .watch(&WatchParams::default().timeout(290), &from)
        .await
        .expect("watching");
    let task = tokio::spawn(async move {
        let mut stream = stream.boxed();
        loop {
            match stream.try_next().await {
                Ok(Some(WatchEvent::Added(_) | WatchEvent::Modified(_))) => {
                    counted.fetch_add(1, Ordering::SeqCst);
                }
                Ok(Some(WatchEvent::Error(e))) => return format!("the watch failed: {e:?}"),
                Ok(Some(_)) => {}
                Ok(None) => return "the watch ended".to_string(),
                Err(e) => return format!("the watch failed: {e}"),
            }
        }
    });
    Writes { count, task }
}

#[tokio::test]
async fn thirty_percent_faults_cost_at_most_four_kubernetes_writes_per_vault() {
    let run = Running::start("bv-quiet").await;
    let vault_writes = count_writes(run.api::<BackupVault>()).await;
    let event_writes = count_writes(run.api::<Event>()).await;
    // Coffer makes about one call per new vault, so 30 % of those calls
    // is some 17 faults, give or take five: too few to promise the guard
    // below. The first VAULTS/2 creates fail for certain, on top.
    run.emulator
        .set_faults(FaultConfig {
            error_rates: BTreeMap::from([(500, 0.15), (429, 0.15)]),
            rules: vec![FaultRule {
                operation: Operation::CreateVault,
                after: 0,
                times: Some(VAULTS as u32 / 2),
                fault: RuleFault::Status(500),
            }],
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
    let (vaults, events) = (vault_writes.stop().await, event_writes.stop().await);

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
    // At least the test's own creates and each vault's Created Event: a
    // counter that saw less saw nothing.
    assert!(vaults >= VAULTS, "only {vaults} BackupVault writes counted");
    assert!(events >= VAULTS, "only {events} Events counted");
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
