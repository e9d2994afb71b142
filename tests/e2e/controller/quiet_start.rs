//! A new object costs one provider call, and a start costs no burst: coffer
//! creates a new vault without searching for it first (its finalizer was
//! just added, so nothing can have been created for it), and after a
//! restart it reads the vaults it left settled over the resync interval,
//! each at its own moment of it, writing nothing to the cloud or to
//! Kubernetes.

use std::collections::BTreeMap;
use std::time::Duration;

use coffer::api::BackupVault;
use coffer::emulator::Operation;
use kube::ResourceExt;
use serde_json::json;

use super::{Running, is_ready};

const VAULTS: usize = 12;
const RESYNC: Duration = Duration::from_secs(20);

fn calls(run: &Running, op: Operation, after: u64) -> usize {
    run.emulator
        .requests(Some(op))
        .iter()
        .filter(|r| r.seq > after)
        .count()
}

/// The vaults' drift-check reads after `after`: by id, or a listing of
/// every vault (not the ProviderConfig's one-item credential check).
fn reads(run: &Running, after: u64) -> usize {
    let listings = run
        .emulator
        .requests(Some(Operation::ListVaults))
        .into_iter()
        .filter(|r| r.seq > after && !r.query.contains_key("name"))
        .filter(|r| r.query.get("limit").map(String::as_str) != Some("1"))
        .count();
    calls(run, Operation::ShowVault, after) + listings
}

#[tokio::test]
async fn a_new_vault_is_one_call_and_a_restart_spreads_its_reads_and_writes_nothing() {
    let mut run = Running::start_with("quiet-start", |s| s.resync_interval = RESYNC).await;
    let names: Vec<String> = (0..VAULTS).map(|i| format!("q-{i:02}")).collect();
    for name in &names {
        run.create_vault(name, json!({})).await;
    }
    let mut versions = BTreeMap::new();
    for name in &names {
        let bv = run.vault_when(name, "Ready", is_ready).await;
        versions.insert(name.clone(), bv.resource_version());
    }
    assert_eq!(calls(&run, Operation::CreateVault, 0), VAULTS);
    // The ProviderConfig's credential check lists without a name; a search
    // for a vault lists by its name.
    let searches = run
        .emulator
        .requests(Some(Operation::ListVaults))
        .into_iter()
        .filter(|r| r.query.contains_key("name"))
        .count();
    assert_eq!(
        searches, 0,
        "a new vault was searched for before its create"
    );

    let before = run.last_seq();
    run.restart_controllers().await;
    // Twelve vaults spread over 20 s: about two reads in the first 3 s.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let early = reads(&run, before);
    assert!(
        early <= 8,
        "{early} reads for {VAULTS} vaults in the first 3 s"
    );

    tokio::time::sleep(RESYNC + Duration::from_secs(2)).await;
    // Checked, each from a listing of every vault (at most four listings
    // an interval), not one read per vault.
    let reads = reads(&run, before);
    assert!(
        (1..=6).contains(&reads),
        "{reads} reads in a resync interval for {VAULTS} vaults"
    );
    assert_eq!(
        run.writes_after(before),
        vec![],
        "a provider write after a restart"
    );
    let vaults = run.api::<BackupVault>();
    for (name, version) in versions {
        let now = vaults.get(&name).await.expect("vault").resource_version();
        assert_eq!(now, version, "{name} was written after the restart");
    }
}
