//! Deletes the cloud confirms: a finalizer goes only once the provider no
//! longer shows the object, so a delete that stops halfway (an error between
//! two calls, the operator killed) is finished, never forgotten. Each test
//! reads what is left from the emulator's own state, where a retired
//! Commvault client or a CBR vault still `deleting` counts as left.

use std::collections::BTreeMap;
use std::time::Duration;

use coffer::api::{Agency, BackupShare, BackupVault};
use coffer::emulator::{CommvaultSettings, FaultConfig, FaultRule, Operation, RuleFault};
use coffer::provider::huawei::iam::IamAgencyApi;
use kube::ResourceExt;
use kube::api::{DeleteParams, ListParams};
use serde_json::json;

use super::backup_share::{
    create_share, is_ready as share_ready, make_backup, owner_spec, projects, share_when,
};
use super::{Running, condition, eventually, is_ready};

/// A Commvault ProviderConfig `commvault` beside the test's Huawei one,
/// with endpoint jobs that end quickly.
async fn with_commvault(run: &Running) {
    run.emulator.set_commvault_settings(CommvaultSettings {
        job_duration: Duration::from_millis(500),
        ..CommvaultSettings::default()
    });
    super::commvault_vault::create_provider_config(run).await;
}

/// Every S3 vault the emulator holds, retired ones included, by client id.
fn s3_clients(run: &Running) -> BTreeMap<String, bool> {
    super::commvault_vault::s3_vaults(run)
        .iter()
        .map(|v| {
            let id = v["clientId"].to_string().trim_matches('"').to_string();
            (id, v["retired"].as_bool().unwrap_or(false))
        })
        .collect()
}

#[tokio::test]
async fn a_commvault_delete_that_stopped_after_the_retire_is_finished() {
    let run = Running::start_bare("del-cv-half").await;
    with_commvault(&run).await;
    super::commvault_vault::create(&run, "half").await;
    let bv = run.vault_when("half", "Ready", is_ready).await;
    let id = bv.status.and_then(|s| s.external_id).expect("an id");
    // Every forceDelete fails until the test lifts the rule: the retire
    // goes through, the delete does not.
    run.emulator
        .set_faults(FaultConfig {
            rules: vec![FaultRule {
                operation: Operation::DeleteClient,
                after: 0,
                times: None,
                fault: RuleFault::Status(503),
            }],
            ..FaultConfig::default()
        })
        .expect("faults");
    run.api::<BackupVault>()
        .delete("half", &DeleteParams::default())
        .await
        .expect("delete");
    // Half-deleted at the provider, and shown so: the object stays,
    // Ready says Deleting, and the delete is on record.
    let held = eventually("the retired client is seen and retried", || async {
        let bv = run.api::<BackupVault>().get_opt("half").await.ok()??;
        let retired = s3_clients(&run).get(&id).copied() == Some(true);
        let retried = run.emulator.requests(Some(Operation::DeleteClient)).len() >= 2;
        (retired && retried).then_some(bv)
    })
    .await;
    let (status, reason, message) = condition(&held, "Ready").expect("Ready");
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("False", "Deleting"),
        "{message}"
    );
    assert!(
        held.status
            .as_ref()
            .and_then(|s| s.delete_started.as_ref())
            .is_some(),
        "the delete is recorded while it is under way"
    );
    run.emulator
        .set_faults(FaultConfig::default())
        .expect("faults");
    run.vault_gone("half").await;
    assert!(
        !s3_clients(&run).contains_key(&id),
        "client {id} is left at the provider: {:?}",
        s3_clients(&run)
    );
    assert_eq!(
        run.emulator.requests(Some(Operation::RetireClient)).len(),
        1,
        "a retired client is deleted, not retired again"
    );
}

#[tokio::test]
async fn a_commvault_retire_whose_answer_was_lost_is_finished() {
    let mut run = Running::start_bare("del-cv-lost").await;
    with_commvault(&run).await;
    super::commvault_vault::create(&run, "lost").await;
    let bv = run.vault_when("lost", "Ready", is_ready).await;
    let id = bv.status.and_then(|s| s.external_id).expect("an id");
    run.emulator
        .set_faults(FaultConfig {
            rules: vec![FaultRule {
                operation: Operation::RetireClient,
                after: 0,
                times: Some(1),
                fault: RuleFault::LoseResponse,
            }],
            ..FaultConfig::default()
        })
        .expect("faults");
    run.api::<BackupVault>()
        .delete("lost", &DeleteParams::default())
        .await
        .expect("delete");
    eventually("the retire answer was lost", || async {
        let lost = run
            .emulator
            .requests(Some(Operation::RetireClient))
            .iter()
            .any(|r| r.status == 504);
        lost.then_some(())
    })
    .await;
    // A restart now keeps nothing in memory: only what status recorded.
    run.restart_controllers().await;
    run.vault_gone("lost").await;
    assert!(
        !s3_clients(&run).contains_key(&id),
        "client {id} is left at the provider: {:?}",
        s3_clients(&run)
    );
}

/// What the test made at the provider, by id.
#[derive(Default)]
struct Made {
    cbr: Vec<String>,
    agencies: Vec<String>,
    commvault: Vec<String>,
    /// The backup whose members the owner shares hold.
    backup: String,
}

/// Every pair that deletes in the cloud, several objects each, Ready.
async fn populate(run: &Running) -> Made {
    with_commvault(run).await;
    let mut made = Made {
        backup: make_backup(run, "src").await,
        ..Made::default()
    };
    for i in 0..4 {
        run.create_vault(&format!("cbr-{i}"), json!({})).await;
        super::commvault_vault::create(run, &format!("cv-{i}")).await;
    }
    for i in 0..3 {
        super::agency::create_agency(run, &format!("ag-{i}"), json!({})).await;
    }
    create_share(run, "out", owner_spec(&made.backup, &projects(3), "Delete")).await;
    let id = |bv: BackupVault| bv.status.and_then(|s| s.external_id).expect("an id");
    for i in 0..4 {
        made.cbr.push(id(run
            .vault_when(&format!("cbr-{i}"), "Ready", is_ready)
            .await));
        made.commvault.push(id(run
            .vault_when(&format!("cv-{i}"), "Ready", is_ready)
            .await));
    }
    for i in 0..3 {
        let agency =
            super::agency::agency_when(run, &format!("ag-{i}"), "Ready", super::agency::is_ready)
                .await;
        made.agencies.push(super::agency::external_id(&agency));
    }
    share_when(run, "out", "Ready", share_ready).await;
    made
}

/// What the emulator still holds of `made`.
async fn left_of(run: &Running, made: &Made) -> Vec<String> {
    let mut left = Vec::new();
    let vaults = run.emulator.vaults().to_string();
    left.extend(
        made.cbr
            .iter()
            .filter(|id| vaults.contains(id.as_str()))
            .map(|id| format!("CBR vault {id}")),
    );
    let iam = super::agency::iam(run);
    for id in &made.agencies {
        match iam.get_agency(id).await {
            Err(e) if e.is_not_found() => {}
            Ok(_) => left.push(format!("agency {id}")),
            Err(e) => panic!("reading agency {id}: {e}"),
        }
    }
    let clients = s3_clients(run);
    left.extend(made.commvault.iter().filter_map(|id| {
        clients
            .get(id)
            .map(|retired| format!("S3 vault {id} (retired: {retired})"))
    }));
    left.extend(
        super::backup_share::members_of(run, &made.backup)
            .await
            .iter()
            .map(|m| format!("share member {}", m["dest_project_id"])),
    );
    left
}

#[tokio::test]
async fn deletes_under_provider_errors_and_restarts_leave_nothing_behind() {
    let mut run = super::agency::start("del-faults").await;
    let made = populate(&run).await;
    // 30 % of every call fails, as a bad hour of a real cloud does.
    run.emulator
        .set_faults(FaultConfig {
            error_rates: BTreeMap::from([(500, 0.1), (503, 0.1), (429, 0.1)]),
            ..FaultConfig::default()
        })
        .expect("faults");
    let delete = DeleteParams::default();
    let list = ListParams::default();
    run.api::<BackupVault>()
        .delete_collection(&delete, &list)
        .await
        .expect("deleting the vaults");
    run.api::<Agency>()
        .delete_collection(&delete, &list)
        .await
        .expect("deleting the agencies");
    run.api::<BackupShare>()
        .delete_collection(&delete, &list)
        .await
        .expect("deleting the shares");
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(700)).await;
        run.restart_controllers().await;
    }
    let faulted = run
        .emulator
        .requests(None)
        .iter()
        .filter(|r| r.status >= 429)
        .count();
    assert!(faulted > 0, "no fault struck during the deletes");
    run.emulator
        .set_faults(FaultConfig::default())
        .expect("faults");
    eventually("every object is gone", || async {
        let vaults = run.api::<BackupVault>().list(&list).await.ok()?;
        let agencies = run.api::<Agency>().list(&list).await.ok()?;
        let shares = run.api::<BackupShare>().list(&list).await.ok()?;
        let names: Vec<String> = vaults
            .items
            .iter()
            .map(|o| o.name_any())
            .chain(agencies.items.iter().map(|o| o.name_any()))
            .chain(shares.items.iter().map(|o| o.name_any()))
            .collect();
        names.is_empty().then_some(())
    })
    .await;
    let left = left_of(&run, &made).await;
    assert!(left.is_empty(), "left at the provider: {left:?}");
}
