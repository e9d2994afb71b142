//! ProviderConfig behaviours, end to end against the emulator.

use coffer::api::{BackupVault, ProviderConfig};
use coffer::emulator::Operation;
use coffer::provider::huawei::cbr::CbrVaultApi;
use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, Patch, PatchParams};
use serde_json::json;

use super::{Running, eventually};

fn ready(pc: &ProviderConfig) -> Option<(String, String, String)> {
    pc.status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")
        .map(|c| (c.status.clone(), c.reason.clone(), c.message.clone()))
}

async fn config_when(
    run: &Running,
    what: &str,
    check: impl Fn(&ProviderConfig) -> bool,
) -> ProviderConfig {
    let api = run.api::<ProviderConfig>();
    eventually(what, || async {
        api.get_opt("cloud")
            .await
            .ok()
            .flatten()
            .filter(|pc| check(pc))
    })
    .await
}

async fn set_secret_key(run: &Running, value: &str) {
    run.api::<Secret>()
        .patch(
            "creds",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"stringData": {"secretKey": value}})),
        )
        .await
        .expect("changing the Secret");
}

#[tokio::test]
async fn accepted_credentials_make_the_config_ready() {
    let run = Running::start("pc-ready").await;
    config_when(&run, "Ready=True", |pc| {
        ready(pc).is_some_and(|(s, r, _)| s == "True" && r == "CredentialsValid")
    })
    .await;
    assert!(
        !run.emulator
            .requests(Some(Operation::ListVaults))
            .is_empty()
    );
}

#[tokio::test]
async fn refused_credentials_are_reported_until_fixed() {
    let run = Running::start("pc-refused").await;
    config_when(&run, "Ready=True", |pc| {
        ready(pc).is_some_and(|(s, _, _)| s == "True")
    })
    .await;

    set_secret_key(&run, "not-the-secret-key").await;
    config_when(&run, "Ready=False, Unauthorized", |pc| {
        ready(pc).is_some_and(|(s, r, _)| s == "False" && r == "Unauthorized")
    })
    .await;

    let secret_key = run.emulator.config().secret_key.clone();
    set_secret_key(&run, &secret_key).await;
    config_when(&run, "Ready=True again", |pc| {
        ready(pc).is_some_and(|(s, _, _)| s == "True")
    })
    .await;
}

#[tokio::test]
async fn a_missing_key_is_named_until_the_secret_is_fixed() {
    let run = Running::start_bare("pc-key").await;
    let access_key = run.emulator.config().access_key.clone();
    run.create_secret("creds", &[("accessKey", &access_key)])
        .await;
    run.create_provider_config("cloud", "creds").await;

    let pc = config_when(&run, "Ready=False naming the key", |pc| {
        ready(pc).is_some_and(|(s, r, _)| s == "False" && r == "SecretKeyMissing")
    })
    .await;
    let (_, _, message) = ready(&pc).expect("Ready");
    assert!(message.contains("\"secretKey\""), "{message}");

    let secret_key = run.emulator.config().secret_key.clone();
    set_secret_key(&run, &secret_key).await;
    config_when(&run, "Ready=True after the fix", |pc| {
        ready(pc).is_some_and(|(s, _, _)| s == "True")
    })
    .await;
}

#[tokio::test]
async fn a_provider_config_deleted_while_used_stays_until_its_users_are_gone() {
    let run = Running::start("pc-in-use").await;
    let id = run.ready_vault("team-a", json!({})).await;

    // `kubectl delete -f` on a whole directory deletes the config and its
    // Secret first, then the vault.
    run.api::<ProviderConfig>()
        .delete("cloud", &DeleteParams::default())
        .await
        .expect("deleting the ProviderConfig");
    run.api::<Secret>()
        .delete("creds", &DeleteParams::default())
        .await
        .expect("deleting the Secret");
    let pc = config_when(&run, "the ProviderConfig kept, naming its user", |pc| {
        pc.metadata.deletion_timestamp.is_some()
            && pc.status.as_ref().is_some_and(|s| {
                s.users
                    .iter()
                    .map(|u| (u.kind.as_str(), u.count))
                    .eq([("BackupVault", 1)])
            })
    })
    .await;
    assert_eq!(pc.finalizers(), ["coffer.dev/provider-config-in-use"]);
    eventually("a DeletionBlocked Event", || async {
        run.has_event("cloud", "DeletionBlocked")
            .await
            .then_some(())
    })
    .await;

    run.api::<BackupVault>()
        .delete("team-a", &DeleteParams::default())
        .await
        .expect("deleting the vault");
    eventually(
        "the vault's finalizer completed and the config is gone",
        || async {
            let vault = run.api::<BackupVault>().get_opt("team-a").await.ok()?;
            let config = run.api::<ProviderConfig>().get_opt("cloud").await.ok()?;
            (vault.is_none() && config.is_none()).then_some(())
        },
    )
    .await;
    assert!(
        run.cbr.get(&id).await.is_err_and(|e| e.is_not_found()),
        "the vault was left at the provider"
    );
}

#[tokio::test]
async fn an_unreadable_provider_config_fails_alone_with_an_event() {
    let run = Running::start("pc-unreadable").await;
    run.create_provider_config("broken", "creds").await;
    // A count the schema allows (uint32 has no maximum there) and coffer's
    // type does not: the object cannot be decoded.
    let resource = ApiResource::erase::<ProviderConfig>(&());
    Api::<DynamicObject>::namespaced_with(run.client.clone(), &run.ns, &resource)
        .patch_status(
            "broken",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"status": {"users": [{"kind": "BackupVault", "count": 5_000_000_000_u64}]}}),
            ),
        )
        .await
        .expect("the API server accepts the status");
    eventually(
        "an InvalidObject Event about the unreadable config",
        || async { run.has_event("broken", "InvalidObject").await.then_some(()) },
    )
    .await;

    // The controllers of both kinds go on for every other object.
    run.ready_vault("team-a", json!({})).await;
    config_when(&run, "the readable config still checked", |pc| {
        ready(pc).is_some_and(|(s, _, _)| s == "True")
    })
    .await;
}
