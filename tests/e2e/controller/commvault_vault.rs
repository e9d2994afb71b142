//! BackupVault on Commvault, end to end: the real API server, coffer's
//! controllers, the real Commvault client and the emulator's Command
//! Center, with endpoint jobs that take a second or two.

use std::time::Duration;

use coffer::api::{BackupVault, ProviderConfig};
use coffer::emulator::{CommvaultSettings, FaultConfig, Operation};
use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use serde_json::json;

use super::{RESYNC, Running, condition, eventually, is_ready};

/// How long the emulator's endpoint jobs run in these tests.
const JOB: Duration = Duration::from_millis(2500);

/// The emulator, the controllers, a Secret and a ProviderConfig `commvault`.
async fn start(prefix: &str, settings: CommvaultSettings) -> Running {
    let run = Running::start_bare(prefix).await;
    run.emulator.set_commvault_settings(CommvaultSettings {
        job_duration: JOB,
        ..settings
    });
    create_provider_config(&run).await;
    run
}

/// The Command Center user's Secret and a ProviderConfig `commvault` naming it.
pub(super) async fn create_provider_config(run: &Running) {
    let c = run.emulator.config().clone();
    run.create_secret(
        "commvault-creds",
        &[
            ("username", &c.commvault_username),
            ("password", &c.commvault_password),
        ],
    )
    .await;
    let pc: ProviderConfig = serde_json::from_value(json!({
        "apiVersion": "coffer.dev/v1alpha1", "kind": "ProviderConfig",
        "metadata": {"name": "commvault"},
        "spec": {"commvault": {
            "apiUrl": run.emulator.commvault_url(),
            "credentials": {"secretRef": {"name": "commvault-creds"}},
        }},
    }))
    .expect("provider config");
    run.api::<ProviderConfig>()
        .create(&PostParams::default(), &pc)
        .await
        .expect("creating the ProviderConfig");
}

/// A BackupVault `name` for an S3 vault of the same name.
pub(super) async fn create(run: &Running, name: &str) {
    let bv: BackupVault = serde_json::from_value(json!({
        "apiVersion": "coffer.dev/v1alpha1", "kind": "BackupVault",
        "metadata": {"name": name},
        "spec": {"providerConfigRef": {"name": "commvault"}, "commvault": {
            "name": name,
            "plan": {"id": 3, "name": "s3-plan"},
            "endpoints": [{"clientId": 2, "clientName": "mediaagent01"}],
            "owners": [1],
        }},
    }))
    .expect("backup vault");
    run.api::<BackupVault>()
        .create(&PostParams::default(), &bv)
        .await
        .expect("creating the BackupVault");
}

fn commvault(bv: &BackupVault) -> coffer::api::backup_vault::CommvaultVaultObservation {
    bv.status
        .as_ref()
        .and_then(|s| s.at_provider.as_ref())
        .and_then(|a| a.commvault.as_deref().cloned())
        .unwrap_or_default()
}

fn external_id(bv: &BackupVault) -> Option<String> {
    bv.status.as_ref().and_then(|s| s.external_id.clone())
}

/// Create requests the emulator received, whatever it answered: a second
/// create of the same name is answered 409, so counting only the answers
/// below 300 could never see one.
fn creates(run: &Running) -> usize {
    run.emulator.requests(Some(Operation::CreateS3Vault)).len()
}

pub(super) fn s3_vaults(run: &Running) -> Vec<serde_json::Value> {
    run.emulator.s3_vaults()["vaults"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn count(run: &Running, op: Operation) -> usize {
    run.emulator.requests(Some(op)).len()
}

/// The Ready condition of ProviderConfig `commvault`.
async fn config_ready(run: &Running) -> Option<(String, String, String)> {
    let pc = run
        .api::<ProviderConfig>()
        .get_opt("commvault")
        .await
        .ok()??;
    pc.status?
        .conditions
        .into_iter()
        .find(|c| c.type_ == "Ready")
        .map(|c| (c.status, c.reason, c.message))
}

#[tokio::test]
async fn the_provider_config_is_ready_and_a_wrong_password_is_named() {
    let run = start("cv-pc", CommvaultSettings::default()).await;
    eventually("ProviderConfig commvault Ready", || async {
        config_ready(&run)
            .await
            .filter(|(s, r, _)| s == "True" && r == "CredentialsValid")
    })
    .await;
    run.api::<Secret>()
        .patch(
            "commvault-creds",
            &PatchParams::default(),
            &Patch::Merge(json!({"stringData": {"password": "wrong"}})),
        )
        .await
        .expect("changing the Secret");
    let (_, reason, message) = eventually("the refused login shown", || async {
        config_ready(&run).await.filter(|(s, _, _)| s == "False")
    })
    .await;
    assert_eq!(reason, "Unauthorized");
    assert!(
        message.contains("Invalid Username or Password"),
        "{message}"
    );
}

#[tokio::test]
async fn a_new_s3_vault_is_progressing_while_its_job_runs_then_ready() {
    let run = start("cv-create", CommvaultSettings::default()).await;
    create(&run, "team-a").await;
    let progressing = run
        .vault_when("team-a", "Progressing with the job's percentage", |bv| {
            condition(bv, "Ready")
                .is_some_and(|(s, r, _)| s == "False" && r == "EndpointJobRunning")
                && commvault(bv).percent_complete.is_some()
        })
        .await;
    let seen = commvault(&progressing);
    assert!(seen.job_id.is_some(), "{seen:?}");
    assert_eq!(seen.job_status.as_deref(), Some("Running"));
    assert_eq!(
        external_id(&progressing),
        Some(seen.client_id.to_string()),
        "the id is recorded while the job runs"
    );

    let ready = run.vault_when("team-a", "Ready", is_ready).await;
    let done = commvault(&ready);
    assert_eq!(done.job_status.as_deref(), Some("Completed"));
    assert_eq!(done.percent_complete, Some(100));
    assert_eq!(done.endpoints.len(), 1);
    assert_eq!(creates(&run), 1, "exactly one create");
    assert_eq!(s3_vaults(&run).len(), 1);
    assert!(run.has_event("team-a", "Created").await);
    // A running job is progress, not trouble: no Warning for it.
    let warnings: Vec<String> = run
        .api::<k8s_openapi::api::events::v1::Event>()
        .list(&Default::default())
        .await
        .expect("Events")
        .items
        .into_iter()
        .filter(|e| e.type_.as_deref() == Some("Warning"))
        .filter_map(|e| e.reason)
        .collect();
    assert!(warnings.is_empty(), "Warnings: {warnings:?}");
}

#[tokio::test]
async fn a_create_answered_200_with_an_error_code_records_nothing() {
    let settings = CommvaultSettings {
        soft_error_rate: 1.0,
        ..CommvaultSettings::default()
    };
    let run = start("cv-soft", settings).await;
    create(&run, "team-a").await;
    let refused = run
        .vault_when(
            "team-a",
            "Synced=False with the errorCode's message",
            |bv| {
                condition(bv, "Synced").is_some_and(|(s, _, m)| {
                    s == "False" && m.contains("the storage pool of the plan is offline")
                })
            },
        )
        .await;
    assert_eq!(external_id(&refused), None, "nothing recorded as created");
    let status = refused.status.as_ref().expect("status");
    assert!(
        status.create_pending.is_none(),
        "{:?}",
        status.create_pending
    );
    assert!(s3_vaults(&run).is_empty());

    run.emulator.set_commvault_settings(CommvaultSettings {
        job_duration: JOB,
        ..CommvaultSettings::default()
    });
    run.vault_when("team-a", "Ready once Commvault accepts", is_ready)
        .await;
    // The refusals were HTTP 200 too: what counts is what was made.
    assert_eq!(s3_vaults(&run).len(), 1);
}

#[tokio::test]
async fn a_lost_create_answer_is_adopted_after_the_409_without_a_duplicate() {
    // The list shows a new vault only after a while, so the retried create
    // meets the name first: 409, then the list, then adoption.
    let settings = CommvaultSettings {
        list_delay: Duration::from_secs(2),
        ..CommvaultSettings::default()
    };
    let run = start("cv-lost", settings).await;
    run.emulator
        .set_faults(FaultConfig {
            lost_response_rate: 1.0,
            ..FaultConfig::default()
        })
        .expect("faults");
    create(&run, "team-a").await;
    eventually("a create answered 409", || async {
        run.emulator
            .requests(Some(Operation::CreateS3Vault))
            .iter()
            .any(|r| r.status == 409)
            .then_some(())
    })
    .await;
    let bv = run
        .vault_when("team-a", "adopted", |bv| external_id(bv).is_some())
        .await;

    let vaults = s3_vaults(&run);
    assert_eq!(vaults.len(), 1, "a duplicate was made: {vaults:?}");
    assert_eq!(
        external_id(&bv),
        Some(vaults[0]["clientId"].to_string()),
        "the vault whose answer was lost is the one adopted"
    );
    assert!(run.has_event("team-a", "Adopted").await);
}

#[tokio::test]
async fn a_failed_job_is_ready_false_with_its_reason_and_no_new_create() {
    let settings = CommvaultSettings {
        job_failure: Some("client mediaagent01 is offline".into()),
        ..CommvaultSettings::default()
    };
    let run = start("cv-fail", settings).await;
    create(&run, "team-a").await;
    run.vault_when("team-a", "Ready=False with the job's reason", |bv| {
        condition(bv, "Ready").is_some_and(|(s, r, m)| {
            s == "False" && r == "EndpointJobFailed" && m.contains("client mediaagent01 is offline")
        })
    })
    .await;
    tokio::time::sleep(RESYNC * 3).await;
    assert_eq!(creates(&run), 1, "no new create after a failed job");
    assert!(run.has_event("team-a", "EndpointJobFailed").await);
}

#[tokio::test]
async fn a_token_that_expires_mid_run_is_renewed_once_and_unseen() {
    let run = start("cv-token", CommvaultSettings::default()).await;
    create(&run, "team-a").await;
    run.vault_when("team-a", "the job running", |bv| {
        condition(bv, "Ready").is_some_and(|(_, r, _)| r == "EndpointJobRunning")
    })
    .await;
    run.emulator.expire_commvault_tokens();
    run.vault_when("team-a", "Ready", is_ready).await;

    assert_eq!(count(&run, Operation::CommvaultRenewLoginToken), 1);
    assert_eq!(count(&run, Operation::CommvaultLogin), 1);
    let refused = run
        .emulator
        .requests(None)
        .iter()
        .filter(|r| r.status == 401)
        .count();
    assert!(refused >= 1, "the expired token was never refused");
    let reasons = run.event_reasons("team-a").await;
    assert!(
        !reasons.iter().any(|r| r == "Unauthorized"),
        "the renewal showed: {reasons:?}"
    );
}

#[tokio::test]
async fn a_no_op_resync_makes_no_writes() {
    let run = start("cv-noop", CommvaultSettings::default()).await;
    create(&run, "team-a").await;
    run.vault_when("team-a", "Ready", is_ready).await;
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
    assert_eq!(after.resource_version(), bv.resource_version());
    let writes: Vec<_> = run
        .emulator
        .requests(None)
        .into_iter()
        .filter(|r| r.seq > before)
        .filter(|r| {
            matches!(
                r.operation,
                Operation::CreateS3Vault | Operation::RetireClient | Operation::DeleteClient
            )
        })
        .collect();
    assert_eq!(writes, vec![], "a no-op pass wrote to Commvault");
    assert_eq!(
        count(&run, Operation::GetJob),
        count_job_reads_until(&run, before),
        "a finished job was read again"
    );
    assert_eq!(run.event_reasons("team-a").await.len(), events);
}

/// Job reads up to request `seq`.
fn count_job_reads_until(run: &Running, seq: u64) -> usize {
    run.emulator
        .requests(Some(Operation::GetJob))
        .iter()
        .filter(|r| r.seq <= seq)
        .count()
}

#[tokio::test]
async fn a_vault_missing_from_the_list_is_reported_and_recreated() {
    let run = start("cv-missing", CommvaultSettings::default()).await;
    create(&run, "team-a").await;
    let first = run.vault_when("team-a", "Ready", is_ready).await;
    let id = external_id(&first).expect("id");
    let http = reqwest::Client::new();
    // Deleted behind coffer's back, through the admin-free API as a user would.
    let base = run.emulator.commvault_url();
    let login: serde_json::Value = http
        .post(format!("{base}/Login"))
        .json(&json!({"username": "admin", "password": "Y29tbXZhdWx0LXBhc3N3b3Jk"}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let token = login["token"].as_str().expect("token");
    for path in [
        format!("Client/{id}/Retire"),
        format!("Client/{id}?forceDelete=1"),
    ] {
        let status = http
            .delete(format!("{base}/{path}"))
            .header("Authtoken", token)
            .send()
            .await
            .expect("delete")
            .status();
        assert!(status.is_success(), "{path}: {status}");
    }
    let again = run
        .vault_when("team-a", "Ready as a new vault", |bv| {
            is_ready(bv) && external_id(bv).is_some_and(|new| new != id)
        })
        .await;
    assert!(run.has_event("team-a", "VaultMissing").await);
    assert_eq!(creates(&run), 2);
    assert!(external_id(&again).is_some());
}

#[tokio::test]
async fn delete_retires_and_removes_the_vault() {
    let run = start("cv-delete", CommvaultSettings::default()).await;
    create(&run, "team-a").await;
    run.vault_when("team-a", "Ready", is_ready).await;
    run.api::<BackupVault>()
        .delete("team-a", &DeleteParams::default())
        .await
        .expect("delete");
    run.vault_gone("team-a").await;
    assert!(s3_vaults(&run).is_empty(), "{:?}", s3_vaults(&run));
    assert_eq!(count(&run, Operation::RetireClient), 1);
    assert_eq!(count(&run, Operation::DeleteClient), 1);
    assert!(run.has_event("team-a", "Deleted").await);
}

#[tokio::test]
async fn orphan_keeps_the_vault() {
    let run = start("cv-orphan", CommvaultSettings::default()).await;
    create(&run, "team-a").await;
    run.vault_when("team-a", "Ready", is_ready).await;
    run.api::<BackupVault>()
        .patch(
            "team-a",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"deletionPolicy": "Orphan"}})),
        )
        .await
        .expect("patch");
    run.api::<BackupVault>()
        .delete("team-a", &DeleteParams::default())
        .await
        .expect("delete");
    run.vault_gone("team-a").await;
    assert_eq!(s3_vaults(&run).len(), 1);
    assert_eq!(count(&run, Operation::RetireClient), 0);
    assert_eq!(count(&run, Operation::DeleteClient), 0);
}
