//! BackupVault behaviours, end to end.

use std::collections::BTreeSet;

use coffer::api::BackupVault;
use coffer::provider::VaultUpdate;
use coffer::provider::memory::Recorded;
use kube::ResourceExt;
use kube::api::{DeleteParams, Patch, PatchParams};

use super::{RESYNC, Running, condition, eventually, is_ready};

async fn patch_spec(run: &Running, name: &str, huawei: serde_json::Value) {
    run.api::<BackupVault>()
        .patch(
            name,
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"spec": {"huaweiCloud": huawei}})),
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
    let created = run.create_vault("team-a", serde_json::json!({})).await;
    let bv = run
        .vault_when("team-a", "Ready with an externalId", is_ready)
        .await;

    let vaults = run.provider.vaults();
    assert_eq!(vaults.len(), 1);
    assert_eq!(vaults[0].id, external_id(&bv));
    assert!(
        vaults[0]
            .tags
            .iter()
            .any(|t| t.key == "coffer-uid" && Some(&t.value) == created.uid().as_ref()),
        "the vault carries no ownership tag for {:?}: {:?}",
        created.uid(),
        vaults[0].tags
    );
    assert_eq!(bv.finalizers(), ["coffer.dev/backup-vault"]);
    let at_provider = bv
        .status
        .as_ref()
        .and_then(|s| s.at_provider.clone())
        .expect("atProvider");
    assert_eq!(at_provider.status.as_deref(), Some("available"));
    assert_eq!(at_provider.size_gb, Some(100));
    assert!(
        run.event_reasons("team-a")
            .await
            .contains(&"Created".to_string())
    );
}

#[tokio::test]
async fn a_spec_change_sends_one_update_with_exactly_the_changed_fields() {
    let run = Running::start("bv-update").await;
    run.create_vault("team-a", serde_json::json!({})).await;
    let bv = run.vault_when("team-a", "Ready", is_ready).await;
    let id = external_id(&bv);
    let before = run.provider.writes().len();

    patch_spec(
        &run,
        "team-a",
        serde_json::json!({"billing": {"size": 200}, "threshold": 90}),
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

    let writes = run.provider.writes()[before..].to_vec();
    assert_eq!(
        writes,
        vec![Recorded::Update(
            id,
            VaultUpdate {
                size_gb: Some(200),
                threshold: Some(90),
                ..VaultUpdate::default()
            }
        )]
    );
    assert!(
        run.event_reasons("team-a")
            .await
            .contains(&"Updated".to_string())
    );
}

#[tokio::test]
async fn a_no_op_resync_makes_no_writes_and_keeps_the_resource_version() {
    let run = Running::start("bv-noop").await;
    run.create_vault(
        "team-a",
        serde_json::json!({"threshold": 70, "tags": [{"key": "env", "value": "prod"}]}),
    )
    .await;
    run.vault_when("team-a", "Ready", is_ready).await;
    // Let the first passes settle, then watch several drift checks.
    tokio::time::sleep(RESYNC * 2).await;
    let bv = run.api::<BackupVault>().get("team-a").await.expect("get");
    let writes = run.provider.writes().len();
    let reconciles = run.metrics.reconcile_count("BackupVault", "success");
    let events = run.event_reasons("team-a").await.len();

    tokio::time::sleep(RESYNC * 5).await;

    assert!(
        run.metrics.reconcile_count("BackupVault", "success") >= reconciles + 3,
        "the drift check did not run"
    );
    let after = run.api::<BackupVault>().get("team-a").await.expect("get");
    assert_eq!(
        after.resource_version(),
        bv.resource_version(),
        "a no-op pass wrote to Kubernetes"
    );
    assert_eq!(
        run.provider.writes().len(),
        writes,
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
    run.create_vault("team-a", serde_json::json!({"threshold": 70}))
        .await;
    let id = external_id(&run.vault_when("team-a", "Ready", is_ready).await);

    run.provider.edit(&id, |v| {
        v.threshold = 30;
        v.tags
            .push(coffer::provider::Tag::new("coffer-uid-not", "x"));
    });
    eventually("the threshold is 70 again", || async {
        run.provider
            .vaults()
            .iter()
            .find(|v| v.id == id)
            .filter(|v| v.threshold == 70)
            .map(|_| ())
    })
    .await;
    eventually("a DriftCorrected Event", || async {
        run.event_reasons("team-a")
            .await
            .contains(&"DriftCorrected".to_string())
            .then_some(())
    })
    .await;
    let updates: Vec<_> = run
        .provider
        .writes()
        .into_iter()
        .filter_map(|w| match w {
            Recorded::Update(_, u) => Some(u),
            _ => None,
        })
        .collect();
    assert_eq!(
        updates,
        vec![VaultUpdate {
            threshold: Some(70),
            ..VaultUpdate::default()
        }],
        "tags were not in the spec, so only the threshold is managed"
    );
}

#[tokio::test]
async fn a_vault_deleted_out_of_band_is_recreated() {
    let run = Running::start("bv-recreate").await;
    run.create_vault("team-a", serde_json::json!({})).await;
    let first = external_id(&run.vault_when("team-a", "Ready", is_ready).await);

    run.provider.remove(&first);
    let bv = run
        .vault_when("team-a", "Ready with a new externalId", |bv| {
            is_ready(bv)
                && bv.status.as_ref().and_then(|s| s.external_id.as_deref()) != Some(first.as_str())
        })
        .await;
    assert_eq!(run.provider.vaults().len(), 1);
    assert_eq!(run.provider.vaults()[0].id, external_id(&bv));
    assert!(
        run.event_reasons("team-a")
            .await
            .contains(&"VaultMissing".to_string())
    );
}

#[tokio::test]
async fn a_flaky_provider_converges_without_duplicate_vaults() {
    let run = Running::start("bv-flaky").await;
    run.provider.lose_next_create_answer();
    run.provider.fail_randomly(0.3);
    let names = ["v-1", "v-2", "v-3", "v-4", "v-5"];
    for name in names {
        run.create_vault(name, serde_json::json!({"threshold": 60}))
            .await;
    }
    for name in names {
        run.vault_when(name, &format!("{name} Ready despite failures"), is_ready)
            .await;
    }
    run.provider.fail_randomly(0.0);

    let vaults = run.provider.vaults();
    let created: BTreeSet<_> = vaults.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(vaults.len(), names.len(), "duplicate vaults: {vaults:#?}");
    assert_eq!(created, names.into_iter().collect());
    let creates = run
        .provider
        .recorded()
        .iter()
        .filter(|c| matches!(c, Recorded::Create(_)))
        .count();
    assert!(
        creates >= names.len(),
        "every vault was created by a create call"
    );
}

#[tokio::test]
async fn delete_removes_the_vault_then_the_finalizer() {
    let run = Running::start("bv-delete").await;
    run.create_vault("team-a", serde_json::json!({})).await;
    let id = external_id(&run.vault_when("team-a", "Ready", is_ready).await);

    run.api::<BackupVault>()
        .delete("team-a", &DeleteParams::default())
        .await
        .expect("delete");
    eventually("the BackupVault is gone", || async {
        run.api::<BackupVault>()
            .get_opt("team-a")
            .await
            .expect("get")
            .is_none()
            .then_some(())
    })
    .await;
    assert!(run.provider.vaults().is_empty(), "the vault is still there");
    let deletes: Vec<_> = run
        .provider
        .writes()
        .into_iter()
        .filter(|w| matches!(w, Recorded::Delete(_)))
        .collect();
    assert_eq!(deletes, vec![Recorded::Delete(id.clone())]);
    // The finalizer went only after a read said the vault was gone.
    let calls = run.provider.calls();
    let deleted_at = calls
        .iter()
        .position(|c| *c == format!("delete {id}"))
        .expect("delete call");
    assert!(
        calls[deleted_at..].contains(&format!("get {id}")),
        "{calls:?}"
    );
}

#[tokio::test]
async fn orphan_keeps_the_vault() {
    let run = Running::start("bv-orphan").await;
    run.create_vault("team-a", serde_json::json!({})).await;
    run.vault_when("team-a", "Ready", is_ready).await;
    run.api::<BackupVault>()
        .patch(
            "team-a",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"spec": {"deletionPolicy": "Orphan"}})),
        )
        .await
        .expect("patch");
    run.api::<BackupVault>()
        .delete("team-a", &DeleteParams::default())
        .await
        .expect("delete");
    eventually("the BackupVault is gone", || async {
        run.api::<BackupVault>()
            .get_opt("team-a")
            .await
            .expect("get")
            .is_none()
            .then_some(())
    })
    .await;
    assert_eq!(run.provider.vaults().len(), 1);
    assert!(
        !run.provider
            .writes()
            .iter()
            .any(|w| matches!(w, Recorded::Delete(_)))
    );
}

#[tokio::test]
async fn a_missing_secret_is_named_until_it_appears() {
    let env = crate::support::env();
    let client = env.client().await;
    let ns = env.namespace("bv-secret").await;
    let run = Running::start_in(client, ns.clone()).await;
    run.create_provider_config("cloud", "late-creds").await;
    run.create_vault("team-a", serde_json::json!({})).await;

    let bv = run
        .vault_when("team-a", "Ready=False for the missing Secret", |bv| {
            condition(bv, "Ready").is_some_and(|(s, r, _)| s == "False" && r == "SecretNotFound")
        })
        .await;
    let (_, _, message) = condition(&bv, "Ready").expect("Ready");
    assert_eq!(
        message,
        format!(
            "Secret late-creds in namespace {ns} not found (coffer only reads Secrets labelled coffer.dev/credentials=true)"
        )
    );
    assert!(
        run.provider.recorded().is_empty(),
        "no provider call without credentials"
    );

    // The Secret's arrival wakes the vault long before a drift check would.
    run.create_secret("late-creds", &[("accessKey", "AK"), ("secretKey", "SK")])
        .await;
    run.vault_when("team-a", "Ready once the Secret exists", is_ready)
        .await;
}
