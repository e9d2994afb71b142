//! ClusterProviderConfig end to end: one set of credentials in the
//! platform team's namespace (the test's own), used by objects of tenant
//! namespaces it allows, and by no others. Every kind and cloud reaches the
//! emulator through it; a namespace it does not allow, or one that loses
//! its label, gets no provider call; one tenant's burst does not hold
//! another tenant's single object; status, users and the in-use holds work
//! as a ProviderConfig's do.

use std::time::{Duration, Instant};

use coffer::api::{Agency, BackupVault, ClusterProviderConfig};
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

use super::{PATIENCE, Running, condition, eventually, is_ready};
use crate::support::env;

/// The test's controllers, watching their own namespace (where the shared
/// credentials are) and `tenants` more.
async fn start(prefix: &str, tenants: usize, resync: Option<Duration>) -> (Running, Vec<String>) {
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
async fn create_cpc(run: &Running, suffix: &str, allowed: Value, block: Value) -> String {
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

fn cluster_configs(run: &Running) -> Api<ClusterProviderConfig> {
    Api::all(run.client.clone())
}

/// The Huawei block pointing at the emulator, through Secret `shared-huawei`.
fn huawei(run: &Running) -> Value {
    let c = run.emulator.config();
    json!({"huaweiCloud": {
        "region": c.region, "projectId": c.project_id, "domainId": c.domain_id,
        "endpoints": {"iam": run.emulator.base_url(), "cbr": run.emulator.base_url()},
        "credentials": {"type": "AccessKey", "secretRef": {"name": "shared-huawei"}},
    }})
}

/// BackupVault `name` in `ns` for a CBR vault, using ClusterProviderConfig `cpc`.
async fn create_vault(run: &Running, ns: &str, name: &str, cpc: &str) {
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

fn vaults(run: &Running, ns: &str) -> Api<BackupVault> {
    Api::namespaced(run.client.clone(), ns)
}

/// BackupVault `name` in `ns` once `pass` says so.
async fn vault_when(
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
async fn label(namespaces: &Api<Namespace>, name: &str, value: Value) {
    let patch = json!({"metadata": {"labels": {"coffer.dev/shared": value}}});
    namespaces
        .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("labelling the namespace");
}

fn refused(bv: &BackupVault) -> bool {
    condition(bv, "Synced").is_some_and(|(s, r, _)| s == "False" && r == "ProviderConfigNotAllowed")
}

/// The requests the emulator saw after `seq` that name `text` anywhere.
fn requests_naming(run: &Running, after: u64, text: &str) -> usize {
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

#[tokio::test]
async fn a_namespace_it_does_not_allow_gets_no_provider_call() {
    let (run, tenants) = start("cpc-refused", 1, None).await;
    let tenant = &tenants[0];
    let shared = create_cpc(
        &run,
        "huawei",
        json!({"names": ["someone-else"], "selector": {"matchLabels": {"coffer.dev/shared": "huawei"}}}),
        huawei(&run),
    )
    .await;
    let before = run.last_seq();
    create_vault(&run, tenant, "sneaky", &shared).await;
    let bv = vault_when(&run, tenant, "sneaky", "the vault refused", refused).await;
    let (_, _, message) = condition(&bv, "Synced").expect("Synced");
    assert!(
        message.contains(&format!(
            "ClusterProviderConfig {shared} does not allow namespace {tenant}"
        )),
        "{message}"
    );
    assert!(
        message.contains(&format!(
            "labels namespace {tenant} to match its selector `coffer.dev/shared=huawei`"
        )),
        "{message}"
    );
    // A few more reconciles (the test resync is 1 s), then the receiving side:
    // the emulator never heard of the vault, and nothing was written.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        requests_naming(&run, before, "sneaky"),
        0,
        "a request named the refused vault"
    );
    assert!(
        run.writes_after(before).is_empty(),
        "a write reached the cloud"
    );
    let _ = cluster_configs(&run)
        .delete(&shared, &DeleteParams::default())
        .await;
}

#[tokio::test]
async fn a_namespace_that_loses_its_label_stops_at_once() {
    // A drift check an hour away: only the namespace's change can stop it.
    let (run, tenants) = start("cpc-label", 1, Some(Duration::from_secs(3600))).await;
    let tenant = &tenants[0];
    let namespaces: Api<Namespace> = Api::all(run.client.clone());
    label(&namespaces, tenant, json!("huawei")).await;
    let shared = create_cpc(
        &run,
        "huawei",
        json!({"selector": {"matchLabels": {"coffer.dev/shared": "huawei"}}}),
        huawei(&run),
    )
    .await;
    create_vault(&run, tenant, "labelled", &shared).await;
    vault_when(
        &run,
        tenant,
        "labelled",
        "the vault Ready while labelled",
        is_ready,
    )
    .await;

    let unlabelled = Instant::now();
    label(&namespaces, tenant, Value::Null).await;
    vault_when(
        &run,
        tenant,
        "labelled",
        "the vault refused once unlabelled",
        refused,
    )
    .await;
    let took = unlabelled.elapsed();
    assert!(took < Duration::from_secs(10), "stopping took {took:?}");
    // Asked to change now, it changes nothing at the cloud.
    let before = run.last_seq();
    let patch = json!({"metadata": {"annotations": {"coffer.dev/reconcile-requested-at": "now"}}});
    vaults(&run, tenant)
        .patch("labelled", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("asking for a reconcile");
    vault_when(&run, tenant, "labelled", "the request answered", |bv| {
        bv.status
            .as_ref()
            .and_then(|s| s.last_handled_reconcile_at.as_deref())
            == Some("now")
    })
    .await;
    assert_eq!(requests_naming(&run, before, "labelled"), 0);

    label(&namespaces, tenant, json!("huawei")).await;
    vault_when(
        &run,
        tenant,
        "labelled",
        "the vault back once labelled again",
        is_ready,
    )
    .await;
    vaults(&run, tenant)
        .delete("labelled", &DeleteParams::default())
        .await
        .expect("deleting");
    let _ = cluster_configs(&run)
        .delete(&shared, &DeleteParams::default())
        .await;
}

#[tokio::test]
async fn one_namespaces_burst_does_not_hold_another_namespaces_object() {
    const BURST: usize = 60;
    let (run, tenants) = start("cpc-fair", 2, None).await;
    let (busy, quiet) = (&tenants[0], &tenants[1]);
    let mut block = huawei(&run);
    block["rateLimit"] = json!({"qps": 4, "burst": 1});
    let shared = create_cpc(&run, "huawei", json!({"names": [busy, quiet]}), block).await;
    let started = Instant::now();
    for i in 0..BURST {
        create_vault(&run, busy, &format!("burst-{i}"), &shared).await;
    }
    // Once the burst is queued: the single object comes after all of them.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let single = Instant::now();
    create_vault(&run, quiet, "single", &shared).await;
    vault_when(&run, quiet, "single", "the single vault Ready", is_ready).await;
    let single_took = single.elapsed();
    let busy_ready = vaults(&run, busy)
        .list(&Default::default())
        .await
        .expect("listing")
        .items
        .iter()
        .filter(|bv| is_ready(bv))
        .count();
    // Its own patience: on a loaded machine the whole burst at 4 calls a
    // second can outlast PATIENCE, and how long it takes is not the point.
    let deadline = Instant::now() + PATIENCE * 3;
    loop {
        let all = vaults(&run, busy)
            .list(&Default::default())
            .await
            .expect("listing")
            .items;
        if all.iter().filter(|bv| is_ready(bv)).count() == BURST {
            break;
        }
        assert!(Instant::now() < deadline, "the burst did not converge");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let burst_took = started.elapsed();
    eprintln!(
        "[cpc-fair] single vault Ready in {single_took:?}; the burst of {BURST} in {burst_took:?} ({busy_ready} Ready when the single one was)"
    );
    assert!(
        single_took < burst_took / 3,
        "the single vault waited {single_took:?}, the burst took {burst_took:?}"
    );
    assert!(
        busy_ready < BURST / 2,
        "the burst was mostly done already ({busy_ready}): the test proves nothing"
    );
    let _ = cluster_configs(&run)
        .delete(&shared, &DeleteParams::default())
        .await;
}

#[tokio::test]
async fn a_tenant_namespace_deleted_whole_leaves_nothing_at_the_cloud() {
    let (run, tenants) = start("cpc-teardown", 1, None).await;
    let tenant = &tenants[0];
    let shared = create_cpc(&run, "huawei", json!({"names": [tenant]}), huawei(&run)).await;
    for name in ["gone-1", "gone-2"] {
        create_vault(&run, tenant, name, &shared).await;
    }
    let mut ids = Vec::new();
    for name in ["gone-1", "gone-2"] {
        let bv = vault_when(&run, tenant, name, &format!("{name} Ready"), is_ready).await;
        ids.push(bv.status.and_then(|s| s.external_id).expect("an id"));
    }
    let started = Instant::now();
    super::teardown::delete_namespace(tenant);
    let namespaces: Api<Namespace> = Api::all(run.client.clone());
    eventually("the tenant namespace is gone", || async {
        namespaces
            .get_opt(tenant)
            .await
            .expect("reading the namespace")
            .is_none()
            .then_some(())
    })
    .await;
    let took = started.elapsed();
    // The cloud saw every vault deleted; the shared config and its Secret,
    // in the platform team's namespace, stay for the other teams.
    for id in &ids {
        assert!(
            run.emulator
                .requests(None)
                .iter()
                .any(|r| r.method == "DELETE" && r.path.ends_with(id.as_str())),
            "vault {id} was never deleted at the cloud"
        );
    }
    assert_eq!(run.vault_count(), 0, "a vault of the tenant is left at CBR");
    let cpc = eventually("the shared config counts no users", || async {
        let cpc = cluster_configs(&run)
            .get(&shared)
            .await
            .expect("still there");
        cpc.status
            .as_ref()
            .is_some_and(|s| s.users.is_empty())
            .then_some(cpc)
    })
    .await;
    assert!(cpc.metadata.deletion_timestamp.is_none());
    let secret = run
        .api::<Secret>()
        .get("shared-huawei")
        .await
        .expect("the Secret stays");
    assert!(secret.metadata.deletion_timestamp.is_none());
    eprintln!("[cpc-teardown] the tenant namespace went in {took:?}");
    let _ = cluster_configs(&run)
        .delete(&shared, &DeleteParams::default())
        .await;
}
