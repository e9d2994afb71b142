//! The Commvault client against coffer's emulator: login and its HTTP-200
//! refusal, the S3-vault create of seed 002 and its 409, the list, the
//! endpoint job, token renewal (once, however many callers were refused),
//! and the inferred retire-then-delete.

use std::sync::Arc;
use std::time::Duration;

use coffer::emulator::{
    self, CommvaultSettings, EmulatorConfig, FaultConfig, FaultRule, Operation, RuleFault,
    RunningEmulator,
};
use coffer::provider::ProviderError;
use coffer::provider::commvault::{
    CommvaultConnection, CommvaultVaults, JobPhase, NewS3Vault, S3VaultApi,
};
use coffer::provider::metrics::ProviderMetrics;

async fn emulator() -> RunningEmulator {
    let config = EmulatorConfig {
        commvault: CommvaultSettings {
            job_duration: Duration::from_millis(600),
            ..CommvaultSettings::default()
        },
        ..EmulatorConfig::default()
    };
    emulator::start(config).await.expect("emulator starts")
}

fn client(emu: &RunningEmulator, password: &str) -> CommvaultVaults {
    CommvaultVaults::unbudgeted(
        CommvaultConnection {
            api_url: emu.commvault_url(),
            username: emu.config().commvault_username.clone(),
            password: password.into(),
            ca_bundle: None,
        },
        Arc::new(ProviderMetrics::new()),
    )
    .expect("client")
}

fn good(emu: &RunningEmulator) -> CommvaultVaults {
    client(emu, &emu.config().commvault_password)
}

fn vault(name: &str) -> NewS3Vault {
    NewS3Vault {
        name: name.into(),
        plan_id: 3,
        plan_name: "s3-plan".into(),
        endpoints: vec![(2, None)],
        owners: vec![1],
        user_groups: vec![1],
        rotate_keys: Some(false),
    }
}

fn count(emu: &RunningEmulator, op: Operation) -> usize {
    emu.requests(Some(op)).len()
}

#[tokio::test]
async fn a_wrong_password_answered_with_http_200_is_refused() {
    let emu = emulator().await;
    let err = client(&emu, "wrong").list().await.expect_err("refused");
    assert!(
        matches!(&err, ProviderError::Unauthorized { message, .. } if message.contains("Invalid Username or Password")),
        "{err}"
    );
    let logins = emu.requests(Some(Operation::CommvaultLogin));
    assert_eq!(logins.len(), 1);
    assert_eq!(logins[0].status, 200, "the refusal came as HTTP 200");
}

#[tokio::test]
async fn create_list_and_follow_the_endpoint_job_to_completed() {
    let emu = emulator().await;
    let cv = good(&emu);
    let created = cv.create(&vault("team-a")).await.expect("created");
    let job_id = created.job_id.expect("an endpoint job");
    let listed = cv.list().await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].client_id, created.vault.client_id);
    assert_eq!(listed[0].name, "team-a");

    let running = cv.job(job_id).await.expect("read").expect("exists");
    assert_eq!(running.phase(), JobPhase::Active);
    tokio::time::sleep(Duration::from_millis(800)).await;
    let done = cv.job(job_id).await.expect("read").expect("exists");
    assert_eq!(done.status, "Completed");
    assert_eq!(done.percent_complete, Some(100));
    assert_eq!(cv.job(1).await.expect("read"), None, "an empty jobs list");

    let body = &emu.requests(Some(Operation::CreateS3Vault))[0];
    assert_eq!(body.path, "/commandcenter/api/V4/CVS3Store");
    assert_eq!(
        body.body["owners"],
        serde_json::json!([{"userId": 1, "__type__": 13}])
    );
    assert_eq!(count(&emu, Operation::CommvaultLogin), 1, "one session");
}

#[tokio::test]
async fn a_taken_name_is_a_conflict_and_a_soft_error_is_refused() {
    let emu = emulator().await;
    let cv = good(&emu);
    cv.create(&vault("team-a")).await.expect("created");
    let err = cv.create(&vault("TEAM-A")).await.expect_err("409");
    assert!(matches!(err, ProviderError::Conflict { .. }), "{err}");
    assert!(err.leaves_doubt());

    emu.set_commvault_settings(CommvaultSettings {
        soft_error_rate: 1.0,
        ..emu.commvault_settings()
    });
    let err = cv.create(&vault("team-b")).await.expect_err("refused");
    assert!(matches!(err, ProviderError::Invalid { .. }), "{err}");
    assert_eq!(
        emu.requests(Some(Operation::CreateS3Vault))
            .last()
            .map(|r| r.status),
        Some(200)
    );
    assert_eq!(cv.list().await.expect("list").len(), 1, "nothing made");
}

#[tokio::test]
async fn concurrent_callers_refused_with_an_idle_token_share_one_renewal() {
    let emu = emulator().await;
    let cv = Arc::new(good(&emu));
    cv.list().await.expect("logged in");
    emu.expire_commvault_tokens();
    let calls = (0..8).map(|_| {
        let cv = cv.clone();
        tokio::spawn(async move { cv.list().await })
    });
    for call in calls {
        call.await.expect("joined").expect("renewed and listed");
    }
    assert_eq!(count(&emu, Operation::CommvaultRenewLoginToken), 1);
    assert_eq!(count(&emu, Operation::CommvaultLogin), 1);
}

#[tokio::test]
async fn the_list_reads_every_page() {
    let emu = emulator().await;
    let cv = good(&emu);
    for i in 0..130 {
        cv.create(&vault(&format!("v-{i:03}")))
            .await
            .expect("created");
    }
    let listed = cv.list().await.expect("list");
    assert_eq!(listed.len(), 130);
    let pages: Vec<String> = emu
        .requests(Some(Operation::ListS3Vaults))
        .iter()
        .map(|r| r.query.get("start").cloned().unwrap_or_default())
        .collect();
    assert_eq!(pages, ["0", "100"]);
}

#[tokio::test]
async fn delete_retires_then_deletes_the_client() {
    let emu = emulator().await;
    let cv = good(&emu);
    let created = cv.create(&vault("team-a")).await.expect("created");
    cv.delete(created.vault.client_id, false)
        .await
        .expect("deleted");
    assert!(cv.list().await.expect("list").is_empty());
    assert_eq!(emu.s3_vaults()["count"], 0);
    let ops: Vec<Operation> = emu
        .requests(None)
        .iter()
        .map(|r| r.operation)
        .filter(|op| matches!(op, Operation::RetireClient | Operation::DeleteClient))
        .collect();
    assert_eq!(ops, [Operation::RetireClient, Operation::DeleteClient]);
    cv.delete(created.vault.client_id, false)
        .await
        .expect("already gone is success");
}

#[tokio::test]
async fn a_retired_client_is_read_by_id_though_the_list_hides_it() {
    let emu = emulator().await;
    let cv = good(&emu);
    let created = cv.create(&vault("team-a")).await.expect("created");
    let id = created.vault.client_id;
    emu.set_faults(FaultConfig {
        rules: vec![FaultRule {
            operation: Operation::DeleteClient,
            after: 0,
            times: Some(1),
            fault: RuleFault::Status(503),
        }],
        ..FaultConfig::default()
    })
    .expect("faults");
    let stopped = cv.delete(id, false).await;
    assert!(stopped.is_err(), "the delete stopped after the retire");
    assert!(
        cv.list().await.expect("list").is_empty(),
        "the list hides it"
    );
    let client = cv.read_client(id).await.expect("read").expect("not gone");
    assert_eq!(
        (client.client_id, client.name.as_str(), client.retired),
        (id, "team-a", true)
    );
    // What remains is the delete alone: no second retire.
    cv.delete(id, true).await.expect("deleted");
    assert_eq!(cv.read_client(id).await.expect("read"), None);
    assert_eq!(emu.requests(Some(Operation::RetireClient)).len(), 1);
    assert_eq!(emu.s3_vaults()["count"], 0);
}

#[tokio::test]
async fn paths_are_case_insensitive_and_logout_voids_the_token() {
    let emu = emulator().await;
    let http = reqwest::Client::new();
    let base = emu.commvault_url();
    let probe = http.get(format!("{base}/")).send().await.expect("probe");
    assert_eq!(probe.status(), 200);
    let login: serde_json::Value = http
        .post(format!("{base}/login"))
        .json(&serde_json::json!({"username": "admin", "password": "Y29tbXZhdWx0LXBhc3N3b3Jk"}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let token = login["token"].as_str().expect("token").to_string();
    assert!(token.starts_with("QSDK "));
    let list = |path: &'static str| {
        let (http, token) = (http.clone(), token.clone());
        let url = format!("{base}/{path}");
        async move {
            http.get(url)
                .header("Authtoken", token)
                .send()
                .await
                .expect("list")
                .status()
                .as_u16()
        }
    };
    assert_eq!(list("v4/cvs3stores").await, 200);
    assert_eq!(list("V4/CVS3STORES").await, 200);
    http.post(format!("{base}/Logout"))
        .header("Authtoken", &token)
        .send()
        .await
        .expect("logout");
    assert_eq!(list("V4/cvS3Stores").await, 401);
}
