//! The Huawei CBR client against coffer's emulator: two independently built
//! halves that must agree on signing, tokens, bodies and error shapes. The
//! emulator's name filter is fuzzy on purpose, so exact matching is the
//! client's job.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use coffer::emulator::{
    self, EmulatorConfig, FaultConfig, Operation, RunningEmulator, ThrottleConfig,
};
use coffer::provider::ProviderError;
use coffer::provider::huawei::cbr::{CbrVaultApi, Tag, VaultCreate, VaultResource, VaultUpdate};
use coffer::provider::huawei::{HuaweiConnection, HuaweiCredentials, HuaweiVaults};
use coffer::provider::metrics::ProviderMetrics;

async fn emulator() -> RunningEmulator {
    let config = EmulatorConfig {
        delete_delay: Duration::from_millis(300),
        association_delay: Duration::from_millis(300),
        ..EmulatorConfig::default()
    };
    emulator::start(config).await.expect("emulator starts")
}

fn connection(emu: &RunningEmulator, credentials: HuaweiCredentials) -> HuaweiConnection {
    let c = emu.config();
    HuaweiConnection {
        region: c.region.clone(),
        project_id: c.project_id.clone(),
        domain_id: Some(c.domain_id.clone()),
        iam_endpoint: emu.base_url(),
        cbr_endpoint: emu.base_url(),
        ca_bundle: None,
        credentials,
    }
}

fn access_key(emu: &RunningEmulator) -> HuaweiCredentials {
    let c = emu.config();
    HuaweiCredentials::AccessKey {
        access_key: c.access_key.clone(),
        secret_key: c.secret_key.clone(),
    }
}

fn client(emu: &RunningEmulator, credentials: HuaweiCredentials) -> HuaweiVaults {
    HuaweiVaults::new(
        connection(emu, credentials),
        Arc::new(ProviderMetrics::new()),
    )
    .expect("client")
}

fn vault(name: &str) -> VaultCreate {
    VaultCreate {
        name: name.into(),
        consistent_level: "crash_consistent".into(),
        object_type: "server".into(),
        protect_type: "backup".into(),
        size_gb: 100,
        tags: vec![Tag::new("coffer-uid", "0b9f2c1e")],
        ..VaultCreate::default()
    }
}

fn writes(emu: &RunningEmulator, op: Operation) -> Vec<serde_json::Value> {
    emu.requests(Some(op))
        .into_iter()
        .filter(|r| r.fault.is_none())
        .map(|r| r.body)
        .collect()
}

#[tokio::test]
async fn signed_client_runs_the_vault_lifecycle() {
    let emu = emulator().await;
    let cbr = client(&emu, access_key(&emu));

    let created = cbr.create(&vault("team-a")).await.expect("create");
    assert_eq!(created.status, "available");
    assert_eq!(created.size_gb, 100);
    // A second vault whose name contains the first: a fuzzy filter returns both.
    cbr.create(&vault("team-a-archive"))
        .await
        .expect("create the look-alike");
    let found = cbr.find_by_name("team-a").await.expect("find");
    assert_eq!(
        found.iter().map(|v| v.id.as_str()).collect::<Vec<_>>(),
        vec![created.id.as_str()]
    );

    let update = VaultUpdate {
        size_gb: Some(200),
        threshold: Some(90),
        ..VaultUpdate::default()
    };
    let updated = cbr.update(&created.id, &update).await.expect("update");
    assert_eq!((updated.size_gb, updated.threshold), (200, 90));
    assert_eq!(
        writes(&emu, Operation::UpdateVault),
        vec![serde_json::json!({"vault": {"billing": {"size": 200}, "threshold": 90}})],
        "the PUT must carry exactly the changed fields"
    );

    cbr.add_tags(&created.id, &[Tag::new("team", "a")])
        .await
        .expect("add tag");
    cbr.remove_tags(&created.id, &[Tag::new("coffer-uid", "0b9f2c1e")])
        .await
        .expect("remove tag");
    let server = VaultResource {
        id: "srv-1".into(),
        type_: "OS::Nova::Server".into(),
        exclude_volumes: vec![],
    };
    cbr.add_resources(&created.id, &[server])
        .await
        .expect("add resource");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let got = cbr.get(&created.id).await.expect("get");
    assert_eq!(got.tags, vec![Tag::new("team", "a")]);
    assert_eq!(
        got.resources
            .iter()
            .map(|r| r.id.as_str())
            .collect::<Vec<_>>(),
        vec!["srv-1"]
    );

    cbr.delete(&created.id).await.expect("delete");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(cbr.get(&created.id).await.unwrap_err().is_not_found());
    cbr.delete(&created.id)
        .await
        .expect("deleting a deleted vault is success");
}

#[tokio::test]
async fn password_client_fetches_one_token_for_many_calls() {
    let emu = emulator().await;
    let c = emu.config().clone();
    let cbr = Arc::new(client(
        &emu,
        HuaweiCredentials::Password {
            username: c.username,
            password: c.password,
            domain_name: c.domain_name,
        },
    ));
    cbr.check_credentials().await.expect("credentials work");
    let calls = (0..8).map(|i| {
        let cbr = cbr.clone();
        tokio::spawn(async move { cbr.create(&vault(&format!("pw-{i}"))).await })
    });
    for call in futures::future::join_all(calls).await {
        call.expect("task").expect("create with a token");
    }
    let counters = emu.counters();
    assert_eq!(
        counters.get(&Operation::CreateToken).map(|c| c.total),
        Some(1),
        "{counters:?}"
    );
    assert_eq!(
        counters.get(&Operation::CreateVault).map(|c| c.total),
        Some(8)
    );
}

#[tokio::test]
async fn wrong_secret_key_is_unauthorized() {
    let emu = emulator().await;
    let bad = HuaweiCredentials::AccessKey {
        access_key: emu.config().access_key.clone(),
        secret_key: "not-the-secret-key-000000000000000000000".into(),
    };
    match client(&emu, bad).check_credentials().await {
        Err(ProviderError::Unauthorized { .. }) => {}
        other => panic!("expected Unauthorized, got {other:?}"),
    }
}

#[tokio::test]
async fn provider_validation_errors_are_terminal_and_missing_vaults_not_found() {
    let emu = emulator().await;
    let cbr = client(&emu, access_key(&emu));
    let too_small = VaultCreate {
        size_gb: 5,
        ..vault("tiny")
    };
    let err = cbr.create(&too_small).await.unwrap_err();
    assert!(
        matches!(err, ProviderError::Invalid { .. }) && !err.is_retryable(),
        "{err:?}"
    );

    let update = VaultUpdate {
        threshold: Some(50),
        ..VaultUpdate::default()
    };
    let err = cbr
        .update("6b1c0a4e-0000-4000-8000-000000000000", &update)
        .await
        .unwrap_err();
    assert!(
        err.is_not_found(),
        "400 BackupService.6105 must read as not found: {err:?}"
    );
}

#[tokio::test]
async fn throttling_is_retryable_with_the_servers_delay() {
    let emu = emulator().await;
    emu.set_faults(FaultConfig {
        throttle: Some(ThrottleConfig {
            rate: 1.0,
            burst: 1,
        }),
        error_rates: BTreeMap::new(),
        ..FaultConfig::default()
    })
    .expect("faults");
    let cbr = client(&emu, access_key(&emu));
    let mut throttled = None;
    for _ in 0..5 {
        if let Err(e) = cbr.find_by_name("x").await {
            throttled = Some(e);
            break;
        }
    }
    let err = throttled.expect("five calls in a row at 1 r/s must be throttled");
    assert!(
        matches!(err, ProviderError::Throttled { .. }) && err.is_retryable(),
        "{err:?}"
    );
    assert!(
        err.retry_after().is_some(),
        "the emulator sends Retry-After: {err:?}"
    );
}
