//! ProviderConfig behaviours, end to end.

use coffer::api::ProviderConfig;
use coffer::provider::memory::Recorded;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Patch, PatchParams};

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

#[tokio::test]
async fn accepted_credentials_make_the_config_ready() {
    let run = Running::start("pc-ready").await;
    config_when(&run, "Ready=True", |pc| {
        ready(pc).is_some_and(|(s, r, _)| s == "True" && r == "CredentialsValid")
    })
    .await;
    assert!(
        run.provider
            .recorded()
            .contains(&Recorded::CheckCredentials)
    );
}

#[tokio::test]
async fn a_missing_key_is_named_until_the_secret_is_fixed() {
    let env = crate::support::env();
    let client = env.client().await;
    let ns = env.namespace("pc-key").await;
    let run = Running::start_in(client, ns).await;
    run.create_secret("creds", &[("accessKey", "AK")]).await;
    run.create_provider_config("cloud", "creds").await;

    let pc = config_when(&run, "Ready=False naming the key", |pc| {
        ready(pc).is_some_and(|(s, r, _)| s == "False" && r == "SecretKeyMissing")
    })
    .await;
    let (_, _, message) = ready(&pc).expect("Ready");
    assert!(message.contains("\"secretKey\""), "{message}");

    run.api::<Secret>()
        .patch(
            "creds",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"stringData": {"secretKey": "SK"}})),
        )
        .await
        .expect("fixing the Secret");
    config_when(&run, "Ready=True after the fix", |pc| {
        ready(pc).is_some_and(|(s, _, _)| s == "True")
    })
    .await;
}
