//! ClusterProviderConfig between tenants: a namespace it does not allow,
//! or one that loses its label, gets no provider call; one tenant's burst
//! does not hold another tenant's single object; a tenant namespace
//! deleted whole leaves nothing at the cloud. The setup is
//! `cluster_config.rs`'s.

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use serde_json::{Value, json};

use super::cluster_config::{
    cluster_configs, create_cpc, create_vault, huawei, label, refused, requests_naming, start,
    vault_when, vaults,
};
use super::{PATIENCE, condition, eventually, is_ready};

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
