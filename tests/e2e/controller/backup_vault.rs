//! BackupVault behaviours, end to end against the emulator.

use std::collections::BTreeMap;

use coffer::api::BackupVault;
use coffer::emulator::{FaultConfig, FaultKind, FaultRule, Operation, RuleFault};
use coffer::provider::huawei::cbr::{CbrVaultApi, VaultUpdate};
use k8s_openapi::api::core::v1::Event as CoreEvent;
use kube::ResourceExt;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams};
use serde_json::json;

use super::{RESYNC, Running, condition, eventually, is_ready};

async fn patch_spec(run: &Running, name: &str, patch: serde_json::Value) {
    run.api::<BackupVault>()
        .patch(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({ "spec": patch })),
        )
        .await
        .expect("patching the spec");
}

fn external_id(bv: &BackupVault) -> String {
    bv.status
        .as_ref()
        .and_then(|s| s.external_id.clone())
        .expect("externalId")
}

#[tokio::test]
async fn a_new_vault_becomes_ready_with_its_external_id() {
    let run = Running::start("bv-create").await;
    let created = run.create_vault("team-a", json!({})).await;
    let bv = run
        .vault_when("team-a", "Ready with an externalId", is_ready)
        .await;

    let vault = run
        .cbr
        .get(&external_id(&bv))
        .await
        .expect("the vault exists");
    assert!(
        vault
            .tags
            .iter()
            .any(|t| t.key == "coffer-uid" && Some(&t.value) == created.uid().as_ref()),
        "the vault carries no ownership tag for {:?}: {:?}",
        created.uid(),
        vault.tags
    );
    assert_eq!(run.vault_count(), 1);
    assert_eq!(bv.finalizers(), ["coffer.dev/backup-vault"]);
    let at_provider = bv
        .status
        .as_ref()
        .and_then(|s| s.at_provider.clone())
        .expect("atProvider");
    assert_eq!(at_provider.status.as_deref(), Some("available"));
    assert_eq!(at_provider.size_gb, Some(100));
    assert_eq!(
        bv.status.as_ref().and_then(|s| s.observed_generation),
        Some(1)
    );
    assert!(run.has_event("team-a", "Created").await);
}

/// `kubectl get events` reads core/v1: coffer's Events must show
/// `lastTimestamp`, `count` and `source` there, and still `eventTime` and
/// `reportingInstance` to `events.k8s.io` readers; the field selector is the
/// one docs/troubleshooting.md gives.
#[tokio::test]
async fn events_read_as_core_v1_have_timestamps_and_a_count() {
    let run = Running::start("bv-core-events").await;
    run.create_vault("team-a", json!({})).await;
    run.vault_when("team-a", "Ready", is_ready).await;

    let core: kube::Api<CoreEvent> = run.api();
    let selected = ListParams::default().fields("involvedObject.name=team-a");
    let created = eventually("a core/v1 Created Event about team-a", || async {
        let events = core.list(&selected).await.expect("listing core/v1 Events");
        events
            .items
            .into_iter()
            .find(|e| e.reason.as_deref() == Some("Created"))
    })
    .await;
    assert!(created.last_timestamp.is_some(), "{created:#?}");
    assert!(created.first_timestamp.is_some(), "{created:#?}");
    assert_eq!(created.count, Some(1));
    assert!(created.event_time.is_some(), "{created:#?}");
    assert!(created.reporting_instance.is_some(), "{created:#?}");
    assert_eq!(
        created.source.and_then(|s| s.component).as_deref(),
        Some("coffer")
    );
}

#[tokio::test]
async fn a_size_and_threshold_change_is_one_put_with_exactly_those_fields() {
    let run = Running::start("bv-update").await;
    let id = run.ready_vault("team-a", json!({})).await;
    let before = run.last_seq();

    patch_spec(
        &run,
        "team-a",
        json!({"huaweiCloud": {"billing": {"size": 200}, "threshold": 90}}),
    )
    .await;
    run.vault_when("team-a", "atProvider.sizeGb 200", |bv| {
        bv.status
            .as_ref()
            .and_then(|s| s.at_provider.as_ref())
            .and_then(|a| a.size_gb)
            == Some(200)
    })
    .await;
    // Leave room for a wrong second write to show up.
    tokio::time::sleep(RESYNC * 3).await;

    let writes = run.writes_after(before);
    assert_eq!(writes.len(), 1, "{writes:#?}");
    assert_eq!(writes[0].operation, Operation::UpdateVault);
    assert_eq!(
        writes[0].path,
        format!("/v3/{}/vaults/{id}", run.emulator.config().project_id)
    );
    assert_eq!(
        writes[0].body,
        json!({"vault": {"billing": {"size": 200}, "threshold": 90}})
    );
    assert!(run.has_event("team-a", "Updated").await);
}

#[tokio::test]
async fn a_no_op_resync_makes_no_writes_and_keeps_the_resource_version() {
    let run = Running::start("bv-noop").await;
    run.create_vault(
        "team-a",
        json!({"threshold": 70, "tags": [{"key": "env", "value": "prod"}]}),
    )
    .await;
    run.vault_when("team-a", "Ready", is_ready).await;
    // Let the first passes settle, then watch several drift checks.
    tokio::time::sleep(RESYNC * 2).await;
    let bv = run.api::<BackupVault>().get("team-a").await.expect("get");
    let before = run.last_seq();
    let reconciles = run
        .metrics
        .reconciles
        .reconcile_count("BackupVault", "success");
    let events = run.event_reasons("team-a").await.len();

    tokio::time::sleep(RESYNC * 5).await;

    assert!(
        run.metrics
            .reconciles
            .reconcile_count("BackupVault", "success")
            >= reconciles + 3,
        "the drift check did not run"
    );
    let after = run.api::<BackupVault>().get("team-a").await.expect("get");
    assert_eq!(
        after.resource_version(),
        bv.resource_version(),
        "a no-op pass wrote to Kubernetes"
    );
    assert_eq!(
        run.writes_after(before),
        vec![],
        "a no-op pass wrote to the provider"
    );
    assert_eq!(
        run.event_reasons("team-a").await.len(),
        events,
        "a no-op pass published an Event"
    );
}

#[tokio::test]
async fn an_out_of_band_change_is_reverted_with_an_event() {
    let run = Running::start("bv-drift").await;
    let id = run.ready_vault("team-a", json!({"threshold": 70})).await;

    // Someone changes the vault in the console.
    run.cbr
        .update(
            &id,
            &VaultUpdate {
                threshold: Some(30),
                smn_notify: Some(false),
                ..VaultUpdate::default()
            },
        )
        .await
        .expect("out-of-band update");
    let before = run.last_seq();

    eventually("a DriftCorrected Event", || async {
        run.has_event("team-a", "DriftCorrected")
            .await
            .then_some(())
    })
    .await;
    assert_eq!(run.cbr.get(&id).await.expect("vault").threshold, 70);
    let writes = run.writes_after(before);
    assert_eq!(writes.len(), 1, "{writes:#?}");
    // smnNotify is not in the spec, so it is not managed.
    assert_eq!(writes[0].body, json!({"vault": {"threshold": 70}}));
}

#[tokio::test]
async fn a_vault_deleted_out_of_band_is_recreated() {
    let run = Running::start("bv-recreate").await;
    let first = run.ready_vault("team-a", json!({})).await;

    run.cbr.delete(&first).await.expect("out-of-band delete");
    let bv = run
        .vault_when("team-a", "Ready with a new externalId", |bv| {
            is_ready(bv)
                && bv.status.as_ref().and_then(|s| s.external_id.as_deref()) != Some(first.as_str())
        })
        .await;
    assert!(run.cbr.get(&external_id(&bv)).await.is_ok());
    assert_eq!(run.vault_count(), 1);
    assert!(run.has_event("team-a", "VaultMissing").await);
}

#[tokio::test]
async fn injected_errors_and_lost_answers_converge_without_duplicate_vaults() {
    let run = Running::start("bv-flaky").await;
    run.emulator
        .set_faults(FaultConfig {
            error_rates: BTreeMap::from([(500, 0.15), (429, 0.15)]),
            lost_response_rate: 0.1,
            // Whatever the draws, the answers of two creates are lost: the
            // case this test is about happens every run, not most runs.
            rules: vec![FaultRule {
                operation: Operation::CreateVault,
                after: 0,
                times: Some(2),
                fault: RuleFault::LoseResponse,
            }],
            ..FaultConfig::default()
        })
        .expect("faults");
    let names = [
        "v-1", "v-2", "v-3", "v-4", "v-5", "v-6", "v-7", "v-8", "v-9", "v-10",
    ];
    for name in names {
        run.create_vault(name, json!({"threshold": 60})).await;
    }
    for name in names {
        run.vault_when(name, &format!("{name} Ready despite failures"), is_ready)
            .await;
    }
    run.emulator
        .set_faults(FaultConfig::default())
        .expect("faults off");

    assert_eq!(
        run.vault_count(),
        names.len() as u64,
        "duplicates: {:#}",
        run.emulator.vaults()
    );
    let lost = run
        .emulator
        .requests(Some(Operation::CreateVault))
        .into_iter()
        .filter(|r| r.fault == Some(FaultKind::LostResponse))
        .count();
    assert!(
        lost >= 2,
        "only {lost} create answers were lost, so nothing was tested"
    );
}

#[tokio::test]
async fn delete_removes_the_vault_then_the_finalizer() {
    let run = Running::start("bv-delete").await;
    let id = run.ready_vault("team-a", json!({})).await;

    run.api::<BackupVault>()
        .delete("team-a", &DeleteParams::default())
        .await
        .expect("delete");
    run.vault_gone("team-a").await;

    assert!(
        run.cbr.get(&id).await.is_err_and(|e| e.is_not_found()),
        "the vault is still there"
    );
    let deletes: Vec<_> = run
        .emulator
        .requests(Some(Operation::DeleteVault))
        .into_iter()
        .filter(|r| r.status < 300)
        .collect();
    assert_eq!(deletes.len(), 1, "{deletes:#?}");
    // The finalizer went only after a read answered 404.
    let last_read = run
        .emulator
        .requests(Some(Operation::ShowVault))
        .into_iter()
        .rfind(|r| r.seq > deletes[0].seq)
        .expect("a read after the delete");
    assert_eq!(last_read.status, 404);
    assert!(run.has_event("team-a", "Deleted").await);
}

#[tokio::test]
async fn orphan_keeps_the_vault() {
    let run = Running::start("bv-orphan").await;
    let id = run.ready_vault("team-a", json!({})).await;
    patch_spec(&run, "team-a", json!({"deletionPolicy": "Orphan"})).await;
    run.api::<BackupVault>()
        .delete("team-a", &DeleteParams::default())
        .await
        .expect("delete");
    run.vault_gone("team-a").await;

    assert!(
        run.cbr.get(&id).await.is_ok(),
        "the orphaned vault was deleted"
    );
    assert!(
        run.emulator
            .requests(Some(Operation::DeleteVault))
            .is_empty()
    );
}

#[tokio::test]
async fn a_missing_secret_is_named_until_it_appears() {
    let run = Running::start_bare("bv-secret").await;
    run.create_provider_config("cloud", "late-creds").await;
    run.create_vault("team-a", json!({})).await;

    let bv = run
        .vault_when("team-a", "Ready=False for the missing Secret", |bv| {
            condition(bv, "Ready").is_some_and(|(s, r, _)| s == "False" && r == "SecretNotFound")
        })
        .await;
    let (_, _, message) = condition(&bv, "Ready").expect("Ready");
    assert_eq!(
        message,
        format!(
            "Secret late-creds in namespace {} not found (coffer only reads Secrets labelled coffer.dev/credentials=true)",
            run.ns
        )
    );
    assert!(
        run.emulator.requests(None).is_empty(),
        "no provider call without credentials"
    );

    // The Secret's arrival wakes the vault; no drift check is needed.
    let c = run.emulator.config().clone();
    run.create_secret(
        "late-creds",
        &[("accessKey", &c.access_key), ("secretKey", &c.secret_key)],
    )
    .await;
    run.vault_when("team-a", "Ready once the Secret exists", is_ready)
        .await;
}

#[tokio::test]
async fn resources_are_associated_without_flapping() {
    let run = Running::start("bv-resources").await;
    let server = |id: &str| json!({"id": id, "type": "OS::Nova::Server"});
    let id = run
        .ready_vault("team-a", json!({"resources": [server("srv-1")]}))
        .await;
    run.vault_when("team-a", "srv-1 in atProvider", |bv| {
        bv.status
            .as_ref()
            .and_then(|s| s.at_provider.as_ref())
            .is_some_and(|a| a.resources.len() == 1)
    })
    .await;
    let before = run.last_seq();

    patch_spec(
        &run,
        "team-a",
        json!({"huaweiCloud": {"resources": [server("srv-2")]}}),
    )
    .await;
    run.vault_when("team-a", "only srv-2 in atProvider", |bv| {
        bv.status
            .as_ref()
            .and_then(|s| s.at_provider.as_ref())
            .is_some_and(|a| a.resources.iter().map(|r| r.id.as_str()).eq(["srv-2"]))
    })
    .await;
    tokio::time::sleep(RESYNC * 3).await;

    let writes: Vec<_> = run
        .writes_after(before)
        .into_iter()
        .map(|r| (r.operation, r.body))
        .collect();
    assert_eq!(
        writes,
        vec![
            (
                Operation::RemoveVaultResources,
                json!({"resource_ids": ["srv-1"]})
            ),
            (
                Operation::AddVaultResources,
                json!({"resources": [{"id": "srv-2", "type": "OS::Nova::Server"}]})
            ),
        ],
        "each change asked once, despite the association delay"
    );
    assert_eq!(run.cbr.get(&id).await.expect("vault").resources.len(), 1);
}
