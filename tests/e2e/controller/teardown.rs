//! Deleting a whole namespace, as users do every day: one namespace holding
//! every kind (CBR vaults, an Agency, both sides of a BackupShare, a
//! Commvault vault, a Rackspace agent's vault), their ProviderConfigs and
//! their credential Secrets, deleted with `kubectl delete namespace`. The
//! namespace controller (kube-controller-manager) deletes all of it at the
//! same moment, the Secrets and ProviderConfigs with the objects that need
//! them to reach the cloud.
//!
//! Within 60 s the namespace is gone and the emulator holds none of what
//! coffer made for it, except what is kept by design (`deletionPolicy:
//! Orphan`, the agent's vault), and no Event about it was written into
//! another namespace (the terminating namespace refuses them; they are
//! another tenant's to read nowhere). Once more with the operator killed
//! during the teardown: no copy in memory survives, so only what the API
//! server keeps (the finalizers) can carry it through.

use std::time::{Duration, Instant};

use coffer::api::{BackupVault, ProviderConfig};
use coffer::emulator::CommvaultSettings;
use coffer::provider::huawei::iam::IamAgencyApi;
use k8s_openapi::api::core::v1::{Namespace, Secret};
use k8s_openapi::api::events::v1::Event;
use kube::ResourceExt;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

use super::backup_share::{
    create_share, is_ready as share_ready, make_backup, owner_spec, peer_provider_config,
    share_when,
};
use super::rackspace::{create_agent_vault, encrypted, rackspace_objects};
use super::{Running, is_ready};
use crate::support::{env, output_text};

/// How long the namespace may take to go.
const TEARDOWN: Duration = Duration::from_secs(60);

/// What coffer made at the provider for the namespace, by id.
struct Made {
    /// CBR vaults coffer must delete (the owner project's and the receiver's).
    vaults_deleted: Vec<String>,
    /// The CBR vault with `deletionPolicy: Orphan`.
    vault_kept: String,
    agency: String,
    /// The backup the owner share shares, and the project it shares it with.
    backup: String,
    commvault_client: String,
}

/// Everything in one namespace, Ready.
async fn populate(prefix: &str) -> (Running, Made) {
    // The Huawei ProviderConfig `cloud` with the account id IAM needs.
    let run = super::agency::start(prefix).await;
    peer_provider_config(&run).await;
    rackspace_objects(&run, "correct horse battery staple").await;
    commvault_objects(&run).await;

    run.create_vault("cbr-gone", json!({})).await;
    run.create_vault("cbr-kept", json!({})).await;
    run.api::<BackupVault>()
        .patch(
            "cbr-kept",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"deletionPolicy": "Orphan"}})),
        )
        .await
        .expect("orphan policy");
    super::agency::create_agency(&run, "ag", json!({})).await;
    super::commvault_vault::create(&run, "cv").await;
    create_agent_vault(&run, "rax", json!({})).await;

    // Both sides of a share: the owner project shares a backup of a vault
    // the test made itself (not coffer's) with the peer project, which
    // accepts it into a vault of its own.
    let backup = make_backup(&run, "src").await;
    let peer = run.emulator.config().peer_project_id.clone();
    create_share(&run, "out", owner_spec(&backup, &[peer], "Delete")).await;
    let receiver_vault: BackupVault = serde_json::from_value(json!({
        "apiVersion": "coffer.dev/v1alpha1", "kind": "BackupVault", "metadata": {"name": "shared-in"},
        "spec": {"providerConfigRef": {"name": "peer"}, "huaweiCloud": {"name": "shared-in",
            "billing": {"consistentLevel": "crash_consistent", "objectType": "server", "protectType": "backup", "size": 100}}},
    }))
    .expect("vault");
    run.api::<BackupVault>()
        .create(&PostParams::default(), &receiver_vault)
        .await
        .expect("creating the receiver's vault");
    create_share(
        &run,
        "in",
        json!({"providerConfigRef": {"name": "peer"},
        "receiver": {"backupId": backup, "decision": "Accept", "vaultRef": {"name": "shared-in"}}}),
    )
    .await;

    let id = |bv: BackupVault| bv.status.and_then(|s| s.external_id).expect("an id");
    let mut vaults_deleted = Vec::new();
    for name in ["cbr-gone", "shared-in"] {
        vaults_deleted.push(id(run.vault_when(name, "Ready", is_ready).await));
    }
    let vault_kept = id(run.vault_when("cbr-kept", "Ready", is_ready).await);
    let commvault_client = id(run.vault_when("cv", "Ready", is_ready).await);
    run.vault_when("rax", "encrypted", encrypted).await;
    let agency = super::agency::agency_when(&run, "ag", "Ready", super::agency::is_ready).await;
    for name in ["out", "in"] {
        share_when(&run, name, "Ready", share_ready).await;
    }
    let made = Made {
        vaults_deleted,
        vault_kept,
        agency: super::agency::external_id(&agency),
        backup,
        commvault_client,
    };
    (run, made)
}

/// A Commvault Secret and ProviderConfig `commvault`, endpoint jobs short.
async fn commvault_objects(run: &Running) {
    run.emulator.set_commvault_settings(CommvaultSettings {
        job_duration: Duration::from_millis(500),
        ..CommvaultSettings::default()
    });
    super::commvault_vault::create_provider_config(run).await;
}

/// `kubectl delete namespace`, without waiting: the test times it.
pub(super) fn delete_namespace(ns: &str) {
    let out = env().kubectl(&["delete", "namespace", ns, "--wait=false"], None);
    assert!(out.status.success(), "{}", output_text(&out));
}

/// Waits until namespace `ns` is gone, failing with what is left in it
/// after [`TEARDOWN`]. Answers how long it took from `since`.
pub(super) async fn namespace_gone(run: &Running, since: Instant) -> Duration {
    let namespaces = Api::<Namespace>::all(run.client.clone());
    loop {
        if namespaces
            .get_opt(&run.ns)
            .await
            .expect("reading the namespace")
            .is_none()
        {
            return since.elapsed();
        }
        if since.elapsed() > TEARDOWN {
            panic!(
                "namespace {} still there after {TEARDOWN:?}; left in it: {}",
                run.ns,
                left_in(run).await
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// What is left in the namespace, with finalizers and conditions, to
/// explain a teardown that did not finish.
async fn left_in(run: &Running) -> String {
    let out = env().kubectl(
        &[
            "get",
            "backupvaults,agencies,backupshares,providerconfigs,secrets,configmaps",
            "-n",
            &run.ns,
            "-o",
            "yaml",
        ],
        None,
    );
    output_text(&out)
}

/// The emulator holds nothing coffer made for the namespace but what is
/// kept by design.
async fn only_the_kept_are_left(run: &Running, made: &Made) {
    let vaults = run.emulator.vaults().to_string();
    for id in &made.vaults_deleted {
        assert!(!vaults.contains(id.as_str()), "CBR vault {id} is left");
    }
    assert!(
        vaults.contains(made.vault_kept.as_str()),
        "the Orphan vault went"
    );
    let iam = super::agency::iam(run);
    assert!(
        matches!(iam.get_agency(&made.agency).await, Err(e) if e.is_not_found()),
        "agency {} is left",
        made.agency
    );
    let s3 = super::commvault_vault::s3_vaults(run);
    assert!(
        s3.iter()
            .map(|v| v["clientId"].to_string())
            .all(|id| id.trim_matches('"') != made.commvault_client),
        "Commvault vault {} is left: {s3:?}",
        made.commvault_client
    );
    let members = super::backup_share::members_of(run, &made.backup).await;
    assert!(
        members.is_empty(),
        "the owner share's member is left: {members:?}"
    );
}

/// No Event about the namespace or its objects was written outside it:
/// not in `default`, not anywhere, read from the API server itself.
async fn nothing_was_told_elsewhere(run: &Running) {
    let events = Api::<Event>::all(run.client.clone())
        .list(&ListParams::default())
        .await
        .expect("listing every Event");
    let elsewhere: Vec<String> = events
        .items
        .iter()
        .filter(|e| e.metadata.namespace.as_deref() != Some(run.ns.as_str()))
        .filter(|e| {
            let about = |r: &Option<k8s_openapi::api::core::v1::ObjectReference>| {
                r.as_ref().is_some_and(|r| {
                    r.namespace.as_deref() == Some(run.ns.as_str())
                        || (r.kind.as_deref() == Some("Namespace")
                            && r.name.as_deref() == Some(run.ns.as_str()))
                })
            };
            about(&e.regarding) || about(&e.related)
        })
        .map(|e| {
            format!(
                "{}/{}: {:?} {:?}",
                e.metadata.namespace.clone().unwrap_or_default(),
                e.name_any(),
                e.reason,
                e.note
            )
        })
        .collect();
    assert!(
        elsewhere.is_empty(),
        "Events about namespace {} were written outside it: {elsewhere:?}",
        run.ns
    );
}

#[tokio::test]
async fn teardown_of_a_namespace_with_every_kind_leaves_only_what_is_kept() {
    let (run, made) = populate("teardown").await;
    let started = Instant::now();
    delete_namespace(&run.ns);
    let took = namespace_gone(&run, started).await;
    eprintln!("teardown: namespace {} gone in {took:?}", run.ns);
    only_the_kept_are_left(&run, &made).await;
    nothing_was_told_elsewhere(&run).await;
}

#[tokio::test]
async fn teardown_survives_the_operator_killed_midway() {
    let (mut run, made) = populate("teardown-kill").await;
    let started = Instant::now();
    delete_namespace(&run.ns);
    // Midway: the namespace controller has started deleting coffer's
    // objects, and their Secrets and ProviderConfigs with them.
    let vaults = run.api::<BackupVault>();
    super::eventually("a BackupVault being deleted", || async {
        let list = vaults.list(&ListParams::default()).await.ok()?;
        list.items
            .iter()
            .any(|v| v.metadata.deletion_timestamp.is_some())
            .then_some(())
    })
    .await;
    run.restart_controllers().await;
    // The Secrets outlive the kill while objects still need them.
    let left = vaults.list(&ListParams::default()).await.expect("list");
    for vault in left.items {
        let secret = match vault.spec.provider_config_ref.name.as_str() {
            "cloud" => "creds",
            "peer" => "peer-creds",
            "commvault" => "commvault-creds",
            _ => "rax-creds",
        };
        assert!(
            run.api::<Secret>()
                .get_opt(secret)
                .await
                .expect("get")
                .is_some(),
            "Secret {secret} went before BackupVault {}, which needs it",
            vault.name_any()
        );
    }
    let took = namespace_gone(&run, started).await;
    eprintln!(
        "teardown with a kill: namespace {} gone in {took:?}",
        run.ns
    );
    only_the_kept_are_left(&run, &made).await;
    nothing_was_told_elsewhere(&run).await;
}

/// A credential Secret deleted while its ProviderConfig lives stays until
/// the ProviderConfig is gone; then coffer lets it go.
#[tokio::test]
async fn a_credential_secret_stays_while_its_provider_config_needs_it() {
    let run = Running::start("creds-held").await;
    let secrets = run.api::<Secret>();
    super::eventually("the Secret held", || async {
        let s = secrets.get_opt("creds").await.ok()??;
        s.metadata
            .finalizers
            .iter()
            .flatten()
            .any(|f| f == "coffer.dev/credentials-in-use")
            .then_some(())
    })
    .await;
    secrets
        .delete("creds", &Default::default())
        .await
        .expect("deleting the Secret");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        secrets.get_opt("creds").await.expect("get").is_some(),
        "the Secret went while its ProviderConfig lives"
    );
    run.api::<ProviderConfig>()
        .delete("cloud", &Default::default())
        .await
        .expect("deleting the ProviderConfig");
    super::eventually("the Secret gone", || async {
        secrets.get_opt("creds").await.ok()?.is_none().then_some(())
    })
    .await;
}
