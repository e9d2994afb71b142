//! Every cloud over HTTPS, as the real endpoints are: the emulator's TLS
//! listener, its CA in the ProviderConfig's `caBundle`, and one pair of
//! each cloud made Ready through it (a CBR vault and an Agency, a
//! BackupShare, a Commvault vault by the name in its certificate, a
//! Rackspace vault through Identity and the https catalog it hands out).

use coffer::api::ProviderConfig;
use kube::api::PostParams;
use serde_json::{Value, json};

use super::{Running, eventually, is_ready};

/// The emulator's HTTPS base URL.
pub(super) fn https(run: &Running) -> String {
    run.emulator
        .https_url()
        .expect("the test emulator serves HTTPS")
}

/// The emulator's CA, PEM.
pub(super) fn ca(run: &Running) -> String {
    run.emulator
        .ca_pem()
        .expect("the emulator's CA")
        .to_string()
}

/// The Secret `creds` and a Huawei ProviderConfig `name` whose IAM and CBR
/// endpoints are the emulator's HTTPS URL, with `trust` (`caBundle` or
/// `caBundleRef`, or nothing) merged into its block.
pub(super) async fn huawei_over_https(run: &Running, name: &str, trust: Value) {
    let c = run.emulator.config().clone();
    if run
        .api::<k8s_openapi::api::core::v1::Secret>()
        .get_opt("creds")
        .await
        .ok()
        .flatten()
        .is_none()
    {
        run.create_secret(
            "creds",
            &[("accessKey", &c.access_key), ("secretKey", &c.secret_key)],
        )
        .await;
    }
    let mut huawei = json!({
        "region": c.region, "projectId": c.project_id, "domainId": c.domain_id,
        "endpoints": {"iam": https(run), "cbr": https(run)},
        "credentials": {"type": "AccessKey", "secretRef": {"name": "creds"}},
    });
    if let (Some(block), Some(trust)) = (huawei.as_object_mut(), trust.as_object()) {
        block.extend(trust.clone());
    }
    create_config(run, json!({"name": name}), json!({"huaweiCloud": huawei})).await;
}

pub(super) async fn create_config(run: &Running, metadata: Value, spec: Value) {
    let pc: ProviderConfig = serde_json::from_value(json!({
        "apiVersion": "coffer.dev/v1alpha1", "kind": "ProviderConfig",
        "metadata": metadata, "spec": spec,
    }))
    .expect("provider config");
    run.api::<ProviderConfig>()
        .create(&PostParams::default(), &pc)
        .await
        .expect("creating the ProviderConfig");
}

/// Status, reason and message of ProviderConfig `name`'s Ready.
pub(super) async fn config_ready(run: &Running, name: &str) -> Option<(String, String, String)> {
    let pc = run.api::<ProviderConfig>().get_opt(name).await.ok()??;
    pc.status?
        .conditions
        .into_iter()
        .find(|c| c.type_ == "Ready")
        .map(|c| (c.status, c.reason, c.message))
}

/// Waits until ProviderConfig `name` is Ready with `status` and `reason`,
/// and returns the message.
pub(super) async fn config_when(run: &Running, name: &str, status: &str, reason: &str) -> String {
    let what = format!("ProviderConfig {name} Ready={status} {reason}");
    eventually(&what, || async {
        config_ready(run, name)
            .await
            .filter(|(s, r, _)| s == status && r == reason)
            .map(|(_, _, m)| m)
    })
    .await
}

#[tokio::test]
async fn tls_a_cbr_vault_and_an_agency_are_made_over_https() {
    let run = Running::start_bare("tls-huawei").await;
    huawei_over_https(&run, "cloud", json!({"caBundle": ca(&run)})).await;
    config_when(&run, "cloud", "True", "CredentialsValid").await;

    run.ready_vault("over-https", json!({})).await;
    super::agency::create_agency(&run, "over-https", json!({})).await;
    super::agency::agency_when(
        &run,
        "over-https",
        "the Agency Ready over HTTPS",
        super::agency::is_ready,
    )
    .await;
    assert_eq!(run.emulator.tls_handshake_failures(), 0);
}

#[tokio::test]
async fn tls_a_backup_share_is_made_over_https() {
    let run = Running::start_bare("tls-share").await;
    huawei_over_https(&run, "cloud", json!({"caBundle": ca(&run)})).await;
    let backup = super::backup_share::make_backup(&run, "shared-servers").await;
    let members = super::backup_share::projects(1);
    super::backup_share::create_share(
        &run,
        "owner",
        super::backup_share::owner_spec(&backup, &members, "Delete"),
    )
    .await;
    super::backup_share::share_when(
        &run,
        "owner",
        "the owner share Ready over HTTPS",
        super::backup_share::is_ready,
    )
    .await;
}

#[tokio::test]
async fn tls_a_commvault_vault_is_made_over_https_by_the_name_in_its_certificate() {
    let run = Running::start_bare("tls-commvault").await;
    let c = run.emulator.config().clone();
    run.create_secret(
        "commvault-creds",
        &[
            ("username", &c.commvault_username),
            ("password", &c.commvault_password),
        ],
    )
    .await;
    // `localhost`, a DNS name of the certificate, where the other tests use its IP.
    let port = run.emulator.https_url().expect("https");
    let port = port.rsplit(':').next().expect("a port");
    let api_url = format!("https://localhost:{port}/commandcenter/api");
    create_config(
        &run,
        json!({"name": "commvault"}),
        json!({"commvault": {
            "apiUrl": api_url,
            "credentials": {"secretRef": {"name": "commvault-creds"}},
            "caBundle": ca(&run),
        }}),
    )
    .await;
    config_when(&run, "commvault", "True", "CredentialsValid").await;
    let bv = serde_json::from_value(json!({
        "apiVersion": "coffer.dev/v1alpha1", "kind": "BackupVault",
        "metadata": {"name": "s3-over-https"},
        "spec": {"providerConfigRef": {"name": "commvault"}, "commvault": {
            "name": "s3-over-https",
            "plan": {"id": 3, "name": "s3-plan"},
            "endpoints": [{"clientId": 2, "clientName": "mediaagent01"}],
            "owners": [1],
        }},
    }))
    .expect("backup vault");
    run.api::<coffer::api::BackupVault>()
        .create(&PostParams::default(), &bv)
        .await
        .expect("creating the BackupVault");
    run.vault_when("s3-over-https", "the S3 vault Ready over HTTPS", is_ready)
        .await;
}

#[tokio::test]
async fn tls_a_rackspace_vault_is_encrypted_through_an_https_identity_and_catalog() {
    let run = Running::start_bare("tls-rackspace").await;
    let c = run.emulator.config().rackspace.clone();
    run.create_secret(
        "rax-creds",
        &[("username", &c.username), ("apiKey", &c.api_key)],
    )
    .await;
    create_config(
        &run,
        json!({"name": "rax"}),
        json!({"rackspace": {
            "identityEndpoint": format!("{}/v2.0", https(&run)),
            "region": c.region,
            "credentials": {"secretRef": {"name": "rax-creds"}},
            "caBundle": ca(&run),
        }}),
    )
    .await;
    run.create_secret("pass", &[("passphrase", "over https")])
        .await;
    super::rackspace::create_agent_vault(&run, "vault", json!({})).await;
    run.vault_when(
        "vault",
        "the agent vault encrypted over HTTPS",
        super::rackspace::encrypted,
    )
    .await;

    // The catalog Identity hands out over TLS points at Cloud Backup over TLS.
    let catalog = catalog_url(&run, &c.username, &c.api_key).await;
    assert!(
        catalog.starts_with(&format!("{}/v2/", https(&run))),
        "{catalog}"
    );
    assert_eq!(run.emulator.tls_handshake_failures(), 0);
}

/// The `rax:backup` publicURL of a token asked for over HTTPS.
async fn catalog_url(run: &Running, username: &str, api_key: &str) -> String {
    let http = coffer::provider::tls::http_client(Some(&ca(run))).expect("client");
    let body =
        json!({"auth": {"RAX-KSKEY:apiKeyCredentials": {"username": username, "apiKey": api_key}}});
    let answer: Value = http
        .post(format!("{}/v2.0/tokens", https(run)))
        .json(&body)
        .send()
        .await
        .expect("a token over HTTPS")
        .json()
        .await
        .expect("JSON");
    answer["access"]["serviceCatalog"][0]["endpoints"][0]["publicURL"]
        .as_str()
        .expect("a publicURL")
        .to_string()
}
