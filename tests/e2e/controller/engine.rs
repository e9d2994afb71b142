//! The reconcile engine's per-object steering, end to end: management
//! policy, pause, poll interval, reconcile-on-request, and a difference the
//! provider cannot change. Each test reads what a user reads (status,
//! conditions, Events) and what the cloud received (the emulator's log).

use std::time::Duration;

use coffer::api::managed::{
    Drift, DriftAction, EXTERNAL_ID_ANNOTATION, PAUSED_ANNOTATION, POLL_INTERVAL_ANNOTATION,
    RECONCILE_REQUESTED_ANNOTATION,
};
use coffer::api::{BackupVault, BackupVaultStatus, OWNERSHIP_TAG};
use coffer::emulator::{FaultConfig, Operation, RecordedRequest};
use coffer::provider::huawei::cbr::{CbrVaultApi, Tag, VaultCreate};
use kube::ResourceExt;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

use super::{RESYNC, Running, condition, eventually, is_ready};

/// Creates BackupVault `name` for a vault of the same name, with the billing
/// [`Running::create_vault`] uses; `spec` is merged into its spec
/// (`huaweiCloud` field by field) and `annotations` set as given.
pub(super) async fn create_object(
    run: &Running,
    name: &str,
    annotations: Value,
    spec: Value,
) -> BackupVault {
    let mut object = json!({
        "apiVersion": "coffer.dev/v1alpha1", "kind": "BackupVault",
        "metadata": {"name": name, "annotations": annotations},
        "spec": {"providerConfigRef": {"name": "cloud"}, "huaweiCloud": {
            "name": name,
            "billing": {"consistentLevel": "crash_consistent", "objectType": "server",
                        "protectType": "backup", "size": 100},
        }},
    });
    merge(&mut object["spec"], spec);
    let bv: BackupVault = serde_json::from_value(object).expect("backup vault");
    run.api::<BackupVault>()
        .create(&PostParams::default(), &bv)
        .await
        .expect("creating the BackupVault")
}

/// What [`create_object`] asks for, as a CBR create request: a vault made
/// outside coffer that matches such an object unless `change` says otherwise.
pub(super) fn matching_vault(name: &str, change: impl FnOnce(&mut VaultCreate)) -> VaultCreate {
    let mut create = VaultCreate {
        name: name.into(),
        consistent_level: "crash_consistent".into(),
        object_type: "server".into(),
        protect_type: "backup".into(),
        size_gb: 100,
        ..VaultCreate::default()
    };
    change(&mut create);
    create
}

/// A JSON merge patch (RFC 7386) of `patch` into `base`.
fn merge(base: &mut Value, patch: Value) {
    match (base, patch) {
        (Value::Object(base), Value::Object(patch)) => {
            for (key, value) in patch {
                match value {
                    Value::Null => {
                        base.remove(&key);
                    }
                    value => merge(base.entry(key).or_insert(Value::Null), value),
                }
            }
        }
        (base, patch) => *base = patch,
    }
}

/// Merge-patches BackupVault `name`.
pub(super) async fn patch(run: &Running, name: &str, patch: Value) {
    run.api::<BackupVault>()
        .patch(name, &PatchParams::default(), &Patch::Merge(patch))
        .await
        .expect("patching the BackupVault");
}

/// Sets annotation `key` on BackupVault `name`, or removes it with `None`.
pub(super) async fn annotate(run: &Running, name: &str, key: &str, value: Option<&str>) {
    patch(
        run,
        name,
        json!({"metadata": {"annotations": {key: value}}}),
    )
    .await;
}

pub(super) fn status(bv: &BackupVault) -> BackupVaultStatus {
    bv.status.clone().unwrap_or_default()
}

/// Whether condition `type_` has `status` and `reason`.
pub(super) fn has_condition(bv: &BackupVault, type_: &str, status: &str, reason: &str) -> bool {
    condition(bv, type_).is_some_and(|(s, r, _)| s == status && r == reason)
}

/// Whether the status describes the object's current spec.
fn observed_current_spec(bv: &BackupVault) -> bool {
    status(bv).observed_generation == bv.metadata.generation
}

/// The ProviderConfig controller's credential check: a one-item list with
/// no name filter, which is not about any vault.
fn credential_check(r: &RecordedRequest) -> bool {
    r.operation == Operation::ListVaults && r.query.get("limit").map(String::as_str) == Some("1")
}

/// Every request the emulator received after `after`, except the
/// ProviderConfig controller's credential check.
fn requests_after(run: &Running, after: u64) -> Vec<RecordedRequest> {
    run.emulator
        .requests(None)
        .into_iter()
        .filter(|r| r.seq > after && !credential_check(r))
        .collect()
}

/// The reads of vault `id` the emulator received after `after`: by id, or
/// a listing of every vault (a drift check's read, see
/// `coffer::provider::snapshot`), which only a test with one vault checked
/// can put down to that vault.
fn reads_of(run: &Running, id: &str, after: u64) -> usize {
    run.emulator
        .requests(None)
        .into_iter()
        .filter(|r| r.seq > after)
        .filter(|r| match r.operation {
            Operation::ShowVault => r.path.ends_with(&format!("/vaults/{id}")),
            Operation::ListVaults => !credential_check(r) && !r.query.contains_key("name"),
            _ => false,
        })
        .count()
}

/// The reads of vault `id` by id alone after `after`.
fn reads_by_id(run: &Running, id: &str, after: u64) -> usize {
    run.emulator
        .requests(Some(Operation::ShowVault))
        .into_iter()
        .filter(|r| r.seq > after && r.path.ends_with(&format!("/vaults/{id}")))
        .count()
}

/// The emulator operation a planned call is sent as.
fn sent_as(planned: &str) -> Operation {
    match planned {
        "update" => Operation::UpdateVault,
        "addTags" | "removeTags" => Operation::BatchVaultTags,
        "addResources" => Operation::AddVaultResources,
        "removeResources" => Operation::RemoveVaultResources,
        other => panic!("no emulator operation for planned call {other:?}"),
    }
}

#[tokio::test]
async fn observe_only_imports_by_id_reports_drift_and_full_makes_exactly_that_call() {
    let run = Running::start("eng-import").await;
    let vault = matching_vault("team-a", |v| v.threshold = Some(30));
    let id = run.cbr.create(&vault).await.expect("out-of-band vault").id;
    let before = run.last_seq();

    create_object(
        &run,
        "team-a",
        json!({ EXTERNAL_ID_ANNOTATION: id }),
        json!({"managementPolicy": "ObserveOnly", "huaweiCloud": {"threshold": 70}}),
    )
    .await;
    let observed = run
        .vault_when("team-a", "Synced=True ObserveOnly with drift", |bv| {
            has_condition(bv, "Synced", "True", "ObserveOnly") && !status(bv).drift.is_empty()
        })
        .await;
    // Leave room for a wrong write to show up.
    tokio::time::sleep(RESYNC * 3).await;
    assert_eq!(run.writes_after(before), vec![], "observing only wrote");
    let seen = status(&observed);
    assert_eq!(seen.external_id.as_deref(), Some(id.as_str()));
    let at_provider = seen.at_provider.clone().expect("atProvider");
    assert_eq!(at_provider.status.as_deref(), Some("available"));
    assert_eq!(at_provider.size_gb, Some(100));
    let threshold = Drift {
        field: "huaweiCloud.threshold".into(),
        desired: "70".into(),
        observed: "30".into(),
        action: DriftAction::Update,
        reason: None,
    };
    assert!(seen.drift.contains(&threshold), "{:#?}", seen.drift);
    let update = seen
        .plan
        .iter()
        .find(|c| c.operation == "update")
        .unwrap_or_else(|| panic!("no update planned: {:#?}", seen.plan));
    assert_eq!(update.fields, ["threshold=70"]);

    let before = run.last_seq();
    patch(
        &run,
        "team-a",
        json!({"spec": {"managementPolicy": "Full"}}),
    )
    .await;
    run.vault_when("team-a", "Synced=True ReconcileSuccess", |bv| {
        is_ready(bv)
            && observed_current_spec(bv)
            && has_condition(bv, "Synced", "True", "ReconcileSuccess")
    })
    .await;
    tokio::time::sleep(RESYNC * 3).await;
    let writes = run.writes_after(before);
    let made: Vec<Operation> = writes.iter().map(|r| r.operation).collect();
    let planned: Vec<Operation> = seen.plan.iter().map(|c| sent_as(&c.operation)).collect();
    assert_eq!(made, planned, "not the planned calls: {writes:#?}");
    let updates: Vec<&Value> = writes
        .iter()
        .filter(|r| r.operation == Operation::UpdateVault)
        .map(|r| &r.body)
        .collect();
    assert_eq!(updates, [&json!({"vault": {"threshold": 70}})]);

    patch(
        &run,
        "team-a",
        json!({"spec": {"managementPolicy": "ObserveOnly"}}),
    )
    .await;
    run.api::<BackupVault>()
        .delete("team-a", &DeleteParams::default())
        .await
        .expect("delete");
    eventually("BackupVault team-a is gone", || async {
        let got = run.api::<BackupVault>().get_opt("team-a").await;
        got.expect("get").is_none().then_some(())
    })
    .await;
    assert!(
        run.cbr.get(&id).await.is_ok(),
        "the observed vault was deleted"
    );
    assert_eq!(run.emulator.requests(Some(Operation::DeleteVault)), vec![]);
}

#[tokio::test]
async fn observe_only_never_creates() {
    let run = Running::start("eng-observe").await;
    create_object(
        &run,
        "ghost",
        json!({}),
        json!({"managementPolicy": "ObserveOnly"}),
    )
    .await;

    let bv = run
        .vault_when("ghost", "Ready=False NotFound", |bv| {
            has_condition(bv, "Ready", "False", "NotFound")
        })
        .await;
    tokio::time::sleep(RESYNC * 3).await;

    assert_eq!(run.writes_after(0), vec![], "observing only wrote");
    let plan = status(&bv).plan;
    assert_eq!(
        plan.iter()
            .map(|c| (c.operation.as_str(), c.target.as_str()))
            .collect::<Vec<_>>(),
        [("create", "vault ghost")]
    );
}

#[tokio::test]
async fn paused_makes_no_provider_call_then_resumes() {
    let run = Running::start("eng-pause").await;
    let id = run.ready_vault("team-a", json!({"threshold": 70})).await;

    annotate(&run, "team-a", PAUSED_ANNOTATION, Some("true")).await;
    run.vault_when("team-a", "Synced=False ReconcilePaused", |bv| {
        has_condition(bv, "Synced", "False", "ReconcilePaused")
    })
    .await;
    let before = run.last_seq();
    patch(
        &run,
        "team-a",
        json!({"spec": {"huaweiCloud": {"threshold": 90}}}),
    )
    .await;
    run.vault_when("team-a", "the new spec seen while paused", |bv| {
        observed_current_spec(bv) && has_condition(bv, "Synced", "False", "ReconcilePaused")
    })
    .await;
    tokio::time::sleep(RESYNC * 5).await;
    assert_eq!(requests_after(&run, before), vec![], "a call while paused");

    annotate(&run, "team-a", PAUSED_ANNOTATION, None).await;
    run.vault_when("team-a", "Synced=True again", |bv| {
        is_ready(bv) && has_condition(bv, "Synced", "True", "ReconcileSuccess")
    })
    .await;
    assert_eq!(run.cbr.get(&id).await.expect("vault").threshold, 90);
}

#[tokio::test]
async fn poll_interval_reads_one_object_often_and_the_other_not() {
    let run = Running::start_with("eng-poll", |s| {
        s.resync_interval = Duration::from_secs(600);
    })
    .await;
    create_object(
        &run,
        "often",
        json!({ POLL_INTERVAL_ANNOTATION: "10s" }),
        json!({}),
    )
    .await;
    create_object(&run, "seldom", json!({}), json!({})).await;
    let often = run.vault_when("often", "often Ready", is_ready).await;
    let seldom = run.vault_when("seldom", "seldom Ready", is_ready).await;
    let before = run.last_seq();

    // Read once every 10 s, at its own moment of them: two or three times in 26 s.
    tokio::time::sleep(Duration::from_secs(26)).await;

    let id = |bv: &BackupVault| status(bv).external_id.expect("externalId");
    // Only often is due in the window, so every listing is its check's.
    let reads = reads_of(&run, &id(&often), before);
    assert!((2..=3).contains(&reads), "{reads} reads of often in 26 s");
    assert_eq!(reads_by_id(&run, &id(&seldom), before), 0);
}

#[tokio::test]
async fn reconcile_requested_at_is_answered_within_seconds_even_while_backing_off() {
    let run = Running::start_with("eng-request", |s| {
        s.backoff_base = Duration::from_secs(8);
        s.backoff_max = Duration::from_secs(60);
    })
    .await;
    let id = run.ready_vault("team-a", json!({})).await;
    let before = run.last_seq();
    run.emulator
        .set_faults(FaultConfig {
            error_rates: [(500, 1.0)].into(),
            ..FaultConfig::default()
        })
        .expect("faults");
    let failed_reads = || {
        run.emulator
            .requests(None)
            .into_iter()
            .filter(|r| r.seq > before && r.status == 500)
            // The vault's check reads the listing of every vault; the read
            // by id follows when there is none.
            .filter(|r| match r.operation {
                Operation::ShowVault => r.path.ends_with(&id),
                Operation::ListVaults => !credential_check(r),
                _ => false,
            })
            .count()
    };
    // The second failure is followed by a retry 8–16 s later.
    eventually("two failed reads", || async {
        (failed_reads() >= 2).then_some(())
    })
    .await;

    annotate(&run, "team-a", RECONCILE_REQUESTED_ANNOTATION, Some("t1")).await;
    let answered = run.vault_when("team-a", "lastHandledReconcileAt t1", |bv| {
        status(bv).last_handled_reconcile_at.as_deref() == Some("t1")
    });
    tokio::time::timeout(Duration::from_secs(4), answered)
        .await
        .expect("not answered within 4 s while backing off");
    assert_eq!(failed_reads(), 3, "the requested reconcile made no call");
}

#[tokio::test]
async fn an_immutable_difference_is_planned_as_blocked_and_makes_no_call() {
    let run = Running::start("eng-immutable").await;
    // Held back until a vault carrying its ownership tag exists, as after a
    // create whose answer was lost while the spec changed.
    let bv = create_object(
        &run,
        "team-a",
        json!({ PAUSED_ANNOTATION: "true" }),
        json!({"huaweiCloud": {"description": "made by coffer"}}),
    )
    .await;
    run.vault_when("team-a", "Synced=False ReconcilePaused", |bv| {
        has_condition(bv, "Synced", "False", "ReconcilePaused")
    })
    .await;
    let uid = bv.uid().expect("uid");
    let vault = matching_vault("team-a", |v| {
        v.description = Some("made by hand".into());
        v.tags = vec![Tag::new(OWNERSHIP_TAG, uid)];
    });
    let id = run.cbr.create(&vault).await.expect("out-of-band vault").id;
    let before = run.last_seq();

    annotate(&run, "team-a", PAUSED_ANNOTATION, None).await;
    let bv = run
        .vault_when("team-a", "Synced=False ImmutableFieldDiffers", |bv| {
            has_condition(bv, "Synced", "False", "ImmutableFieldDiffers")
        })
        .await;
    tokio::time::sleep(RESYNC * 3).await;

    let seen = status(&bv);
    assert_eq!(seen.external_id.as_deref(), Some(id.as_str()));
    let blocked: Vec<_> = seen
        .drift
        .iter()
        .map(|d| {
            (
                d.field.as_str(),
                d.desired.as_str(),
                d.observed.as_str(),
                d.action,
            )
        })
        .collect();
    assert_eq!(
        blocked,
        [(
            "huaweiCloud.description",
            "made by coffer",
            "made by hand",
            DriftAction::Blocked
        )]
    );
    assert_eq!(seen.plan, vec![]);
    assert_eq!(
        run.writes_after(before),
        vec![],
        "a write for a blocked field"
    );
}
