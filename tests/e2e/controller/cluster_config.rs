//! ClusterProviderConfig end to end: one set of credentials in the
//! platform team's namespace (the test's own), used by objects of tenant
//! namespaces it allows. Every kind and cloud reaches the emulator through
//! it; status, users and the in-use holds work as a ProviderConfig's do.
//! What it keeps between tenants is in `cluster_config_tenants.rs`, with
//! the setup here.

use std::time::Duration;

use coffer::api::{Agency, BackupVault, ClusterProviderConfig};
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

use super::{Running, condition, eventually, is_ready};
use crate::support::env;

/// The test's controllers, watching their own namespace (where the shared
/// credentials are) and `tenants` more.
pub(super) async fn start(
    prefix: &str,
    tenants: usize,
    resync: Option<Duration>,
) -> (Running, Vec<String>) {
    let mut names = Vec::new();
    for i in 0..tenants {
        names.push(env().namespace(&format!("{prefix}-t{i}")).await);
    }
    let watched = names.clone();
    let run = Running::start_bare_with(prefix, move |s| {
        s.watch_namespaces.extend(watched);
        if let Some(resync) = resync {
            s.resync_interval = resync;
        }
    })
    .await;
    let c = run.emulator.config().clone();
    run.create_secret(
        "shared-huawei",
        &[("accessKey", &c.access_key), ("secretKey", &c.secret_key)],
    )
    .await;
    (run, names)
}

/// ClusterProviderConfig `{ns}-{suffix}` with `block` (one provider block,
/// and `rateLimit` if wanted) and `allowed`, reading the test namespace.
pub(super) async fn create_cpc(
    run: &Running,
    suffix: &str,
    allowed: Value,
    block: Value,
) -> String {
    let name = format!("{}-{suffix}", run.ns);
    let mut spec = json!({"credentialsNamespace": run.ns, "allowedNamespaces": allowed});
    if let (Some(spec), Some(block)) = (spec.as_object_mut(), block.as_object()) {
        spec.extend(block.clone());
    }
    let cpc: ClusterProviderConfig = serde_json::from_value(json!({
        "apiVersion": "coffer.dev/v1alpha1", "kind": "ClusterProviderConfig",
        "metadata": {"name": name}, "spec": spec,
    }))
    .expect("a ClusterProviderConfig");
    cluster_configs(run)
        .create(&PostParams::default(), &cpc)
        .await
        .expect("creating the ClusterProviderConfig");
    name
}

pub(super) fn cluster_configs(run: &Running) -> Api<ClusterProviderConfig> {
    Api::all(run.client.clone())
}

/// The Huawei block pointing at the emulator, through Secret `shared-huawei`.
pub(super) fn huawei(run: &Running) -> Value {
    let c = run.emulator.config();
    json!({"huaweiCloud": {
        "region": c.region, "projectId": c.project_id, "domainId": c.domain_id,
        "endpoints": {"iam": run.emulator.base_url(), "cbr": run.emulator.base_url()},
        "credentials": {"type": "AccessKey", "secretRef": {"name": "shared-huawei"}},
    }})
}

/// BackupVault `name` in `ns` for a CBR vault, using ClusterProviderConfig `cpc`.
pub(super) async fn create_vault(run: &Running, ns: &str, name: &str, cpc: &str) {
    let bv: BackupVault = serde_json::from_value(json!({
        "apiVersion": "coffer.dev/v1alpha1", "kind": "BackupVault",
        "metadata": {"name": name},
        "spec": {
            "providerConfigRef": {"kind": "ClusterProviderConfig", "name": cpc},
            "huaweiCloud": {"name": name, "billing": {
                "consistentLevel": "crash_consistent", "objectType": "server",
                "protectType": "backup", "size": 100}},
        },
    }))
    .expect("a BackupVault");
    vaults(run, ns)
        .create(&PostParams::default(), &bv)
        .await
        .expect("creating the BackupVault");
}

pub(super) fn vaults(run: &Running, ns: &str) -> Api<BackupVault> {
    Api::namespaced(run.client.clone(), ns)
}

/// BackupVault `name` in `ns` once `pass` says so.
pub(super) async fn vault_when(
    run: &Running,
    ns: &str,
    name: &str,
    what: &str,
    pass: impl Fn(&BackupVault) -> bool,
) -> BackupVault {
    eventually(what, || async {
        vaults(run, ns)
            .get_opt(name)
            .await
            .expect("reading the BackupVault")
            .filter(|bv| pass(bv))
    })
    .await
}

/// Sets (or, with `null`, removes) the label the tests' selectors match.
pub(super) async fn label(namespaces: &Api<Namespace>, name: &str, value: Value) {
    let patch = json!({"metadata": {"labels": {"coffer.dev/shared": value}}});
    namespaces
        .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("labelling the namespace");
}

pub(super) fn refused(bv: &BackupVault) -> bool {
    condition(bv, "Synced").is_some_and(|(s, r, _)| s == "False" && r == "ProviderConfigNotAllowed")
}

/// The requests the emulator saw after `seq` that name `text` anywhere.
pub(super) fn requests_naming(run: &Running, after: u64, text: &str) -> usize {
    run.emulator
        .requests(None)
        .into_iter()
        .filter(|r| r.seq > after)
        .filter(|r| serde_json::to_string(r).is_ok_and(|s| s.contains(text)))
        .count()
}

#[tokio::test]
async fn every_kind_and_cloud_works_through_a_cluster_provider_config() {
    let (run, tenants) = start("cpc-all", 1, None).await;
    let tenant = &tenants[0];
    let c = run.emulator.config().clone();
    let allowed = json!({"names": [tenant]});
    let shared = create_cpc(&run, "huawei", allowed.clone(), huawei(&run)).await;
    run.create_secret(
        "shared-commvault",
        &[
            ("username", &c.commvault_username),
            ("password", &c.commvault_password),
        ],
    )
    .await;
    let commvault = create_cpc(
        &run,
        "commvault",
        allowed.clone(),
        json!({"commvault": {
            "apiUrl": run.emulator.commvault_url(),
            "credentials": {"secretRef": {"name": "shared-commvault"}},
        }}),
    )
    .await;
    run.create_secret(
        "shared-rax",
        &[
            ("username", &c.rackspace.username),
            ("apiKey", &c.rackspace.api_key),
        ],
    )
    .await;
    let rackspace = create_cpc(
        &run,
        "rax",
        allowed,
        json!({"rackspace": {
            "identityEndpoint": format!("{}/v2.0", run.emulator.base_url()),
            "region": c.rackspace.region,
            "credentials": {"secretRef": {"name": "shared-rax"}},
        }}),
    )
    .await;

    create_vault(&run, tenant, "cbr", &shared).await;
    let objects = [
        json!({"apiVersion": "coffer.dev/v1alpha1", "kind": "BackupVault",
               "metadata": {"name": "s3"},
               "spec": {"providerConfigRef": {"kind": "ClusterProviderConfig", "name": commvault},
                        "commvault": {"name": "s3", "plan": {"id": 3, "name": "s3-plan"},
                                      "endpoints": [{"clientId": 2, "clientName": "mediaagent01"}],
                                      "owners": [1]}}}),
        json!({"apiVersion": "coffer.dev/v1alpha1", "kind": "BackupVault",
               "metadata": {"name": "agent"},
               "spec": {"providerConfigRef": {"kind": "ClusterProviderConfig", "name": rackspace},
                        "rackspace": {"agentId": coffer::emulator::DEFAULT_RAX_AGENT_ID}}}),
    ];
    for bv in objects {
        let bv: BackupVault = serde_json::from_value(bv).expect("a BackupVault");
        vaults(&run, tenant)
            .create(&PostParams::default(), &bv)
            .await
            .expect("creating the BackupVault");
    }
    let agency: Agency = serde_json::from_value(json!({
        "apiVersion": "coffer.dev/v1alpha1", "kind": "Agency", "metadata": {"name": "ops"},
        "spec": {"providerConfigRef": {"kind": "ClusterProviderConfig", "name": shared},
                 "huaweiCloud": {"name": "ops", "trustDomain": {"name": "central-ops"}, "duration": 20,
                                 "roles": [{"role": "CBR ReadOnlyAccess", "scope": "Project",
                                            "project": "cn-north-4"}]}},
    }))
    .expect("an Agency");
    let agencies: Api<Agency> = Api::namespaced(run.client.clone(), tenant);
    agencies
        .create(&PostParams::default(), &agency)
        .await
        .expect("creating the Agency");

    for name in ["cbr", "s3", "agent"] {
        vault_when(
            &run,
            tenant,
            name,
            &format!("BackupVault {name} Ready through a ClusterProviderConfig"),
            is_ready,
        )
        .await;
    }
    eventually(
        "the Agency Ready through a ClusterProviderConfig",
        || async {
            let agency = agencies.get("ops").await.expect("reading the Agency");
            let conditions = agency.status.map(|s| s.conditions).unwrap_or_default();
            let true_ = |t: &str| {
                conditions
                    .iter()
                    .any(|c| c.type_ == t && c.status == "True")
            };
            (true_("Ready") && true_("Synced")).then_some(())
        },
    )
    .await;

    // The shared config reports itself as a ProviderConfig does, with the
    // users of every namespace and where its Secret is.
    let cpc = eventually("the ClusterProviderConfig counts its users", || async {
        let cpc = cluster_configs(&run)
            .get(&shared)
            .await
            .expect("reading it");
        let users = cpc.status.as_ref().map(|s| s.users.len()).unwrap_or(0);
        (users == 2).then_some(cpc)
    })
    .await;
    let status = cpc.status.expect("status");
    assert_eq!(
        status.credentials_namespace.as_deref(),
        Some(run.ns.as_str())
    );
    assert!(
        status
            .conditions
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True")
    );
    let kinds: Vec<_> = status
        .users
        .iter()
        .map(|u| (u.kind.as_str(), u.count))
        .collect();
    assert_eq!(kinds, [("BackupVault", 1), ("Agency", 1)]);
    // Its Secret, in the credentials namespace, is held while it is used.
    let secret = run
        .api::<Secret>()
        .get("shared-huawei")
        .await
        .expect("the Secret");
    assert!(
        secret
            .metadata
            .finalizers
            .unwrap_or_default()
            .iter()
            .any(|f| f == "coffer.dev/credentials-in-use")
    );

    // Deleting the shared config waits for its users, then lets the Secret go.
    cluster_configs(&run)
        .delete(&shared, &DeleteParams::default())
        .await
        .expect("deleting it");
    eventually("deletion waits for the users", || async {
        let cpc = cluster_configs(&run)
            .get(&shared)
            .await
            .expect("still there");
        let conditions = cpc.status.map(|s| s.conditions).unwrap_or_default();
        conditions
            .iter()
            .any(|c| c.type_ == "Ready" && c.reason == "DeletionBlocked")
            .then_some(())
    })
    .await;
    vaults(&run, tenant)
        .delete("cbr", &DeleteParams::default())
        .await
        .expect("deleting");
    agencies
        .delete("ops", &DeleteParams::default())
        .await
        .expect("deleting");
    eventually("the ClusterProviderConfig goes once unused", || async {
        cluster_configs(&run)
            .get_opt(&shared)
            .await
            .expect("reading")
            .is_none()
            .then_some(())
    })
    .await;
    eventually("the Secret is let go", || async {
        let secret = run
            .api::<Secret>()
            .get("shared-huawei")
            .await
            .expect("the Secret");
        let held = secret.metadata.finalizers.unwrap_or_default();
        held.is_empty().then_some(())
    })
    .await;
    for name in [commvault, rackspace] {
        let _ = cluster_configs(&run)
            .delete(&name, &DeleteParams::default())
            .await;
    }
}
