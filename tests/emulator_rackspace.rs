//! The emulator's Rackspace Cloud Backup over HTTP: Identity v2.0 with an
//! API key or a password and a catalog pointing back at the emulator; the
//! documented 403 rules of a vault-encryption request; JSON Patch only with
//! its content type; and seed 000's report endpoint answering 204, 404 for
//! an unknown request, 400 for a bad body and 409 for a second report. The
//! simulated agent is switched off so that each report here is the test's.

use coffer::emulator::{self, AgentBehaviour, EmulatorConfig, RunningEmulator};
use coffer::provider::ProviderError;
use coffer::provider::rackspace::{
    AgentChange, AgentVaultApi, RackspaceAgents, RackspaceConnection, RackspaceSecret,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

struct Harness {
    emulator: RunningEmulator,
    http: reqwest::Client,
    token: String,
    agent: String,
}

/// The emulator with its agent offline (it reports nothing by itself).
async fn harness() -> Harness {
    let emulator = emulator::start(EmulatorConfig::default())
        .await
        .expect("emulator starts");
    let agent = emulator.config().rackspace.agent_id.clone();
    emulator.set_rackspace_behaviour(
        &agent,
        AgentBehaviour {
            online: false,
            fail_reports: false,
            report_delay_ms: 0,
        },
    );
    let http = reqwest::Client::new();
    let c = emulator.config().rackspace.clone();
    let body = json!({"auth": {"RAX-KSKEY:apiKeyCredentials": {"username": c.username, "apiKey": c.api_key}}});
    let response = http
        .post(format!("{}/v2.0/tokens", emulator.base_url()))
        .json(&body)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    let access: Value = response.json().await.expect("json");
    let token = access["access"]["token"]["id"]
        .as_str()
        .expect("token")
        .to_string();
    let catalog = &access["access"]["serviceCatalog"][0];
    assert_eq!(catalog["type"], "rax:backup");
    assert_eq!(
        catalog["endpoints"][0]["publicURL"],
        json!(format!("{}/v2/{}", emulator.base_url(), c.tenant_id))
    );
    Harness {
        emulator,
        http,
        token,
        agent,
    }
}

impl Harness {
    fn requests_url(&self) -> String {
        let tenant = &self.emulator.config().rackspace.tenant_id;
        format!(
            "{}/v2/{tenant}/agents/{}/vault-encryption-requests",
            self.emulator.base_url(),
            self.agent
        )
    }

    async fn post(&self, url: &str, body: &str) -> reqwest::Response {
        self.http
            .post(url)
            .header("X-Auth-Token", &self.token)
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("sent")
    }

    /// A first-enable request; its id from `Location`.
    async fn enable(&self) -> String {
        let body =
            json!({"old_encrypted_password_hex": null, "new_encrypted_password_hex": "00ff"});
        let response = self.post(&self.requests_url(), &body.to_string()).await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        let location = response.headers()["location"]
            .to_str()
            .expect("text")
            .to_string();
        location.rsplit('/').next().expect("an id").to_string()
    }

    fn client(&self, secret: RackspaceSecret) -> RackspaceAgents {
        let c = self.emulator.config().rackspace.clone();
        RackspaceAgents::new(
            RackspaceConnection {
                identity_endpoint: format!("{}/v2.0", self.emulator.base_url()),
                region: c.region,
                username: c.username,
                secret,
                ca_bundle: None,
                allowed: coffer::provider::endpoints::EndpointPolicy::any(),
            },
            Default::default(),
            std::sync::Arc::new(coffer::provider::budget::RateBudget::new(
                "test",
                coffer::provider::budget::BudgetLimits::UNLIMITED,
                Default::default(),
            )),
        )
        .expect("client")
    }
}

async fn fault(response: reqwest::Response) -> (StatusCode, String) {
    let status = response.status();
    let body: Value = response.json().await.expect("a JSON fault");
    (
        status,
        body["message"].as_str().unwrap_or_default().to_string(),
    )
}

#[tokio::test]
async fn a_report_is_204_once_then_409() {
    let h = harness().await;
    let id = h.enable().await;
    let url = format!("{}/{id}", h.requests_url());
    let report = json!({"action": "enabled", "succeeded": true}).to_string();
    let first = h.post(&url, &report).await;
    assert_eq!(first.status(), StatusCode::NO_CONTENT);
    let (status, message) = fault(h.post(&url, &report).await).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(message.contains("already reported"), "{message}");
    let agents = h.emulator.rackspace_agents();
    assert_eq!(agents["agents"][0]["encrypted"], json!(true));
}

#[tokio::test]
async fn a_report_of_an_unknown_request_is_404() {
    let h = harness().await;
    let url = format!("{}/9072bb51-d5fd-4fc5-ad80-d62e573236b6", h.requests_url());
    let report = json!({"action": "enabled", "succeeded": true}).to_string();
    let (status, message) = fault(h.post(&url, &report).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(message.contains("not found"), "{message}");
}

#[tokio::test]
async fn a_report_with_a_bad_body_is_400() {
    let h = harness().await;
    let id = h.enable().await;
    let url = format!("{}/{id}", h.requests_url());
    for body in [
        "not json",
        r#"{"action": "enabled"}"#,
        r#"{"action": "rotated", "succeeded": true}"#,
        r#"{"action": "enabled", "succeeded": "perhaps"}"#,
    ] {
        let (status, _) = fault(h.post(&url, body).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }
    // None of them counted as the report.
    let ok = json!({"action": "enabled", "succeeded": false}).to_string();
    assert_eq!(h.post(&url, &ok).await.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn the_result_is_404_until_reported_then_200() {
    let h = harness().await;
    let id = h.enable().await;
    let url = format!("{}/{id}", h.requests_url());
    let get = || h.http.get(&url).header("X-Auth-Token", &h.token).send();
    assert_eq!(get().await.expect("sent").status(), StatusCode::NOT_FOUND);
    let report = json!({"action": "enabled", "succeeded": true}).to_string();
    assert_eq!(h.post(&url, &report).await.status(), StatusCode::NO_CONTENT);
    let result: Value = get().await.expect("sent").json().await.expect("json");
    assert_eq!(result["succeeded"], json!(true));
    assert_eq!(result["event"], "vault_encryption_enabled");
    assert_eq!(result["request_id"], json!(id));
}

#[tokio::test]
async fn an_old_passphrase_for_an_unencrypted_vault_is_403_with_the_apis_sentence() {
    let h = harness().await;
    let agents = h.client(RackspaceSecret::Password(
        h.emulator.config().rackspace.password.clone(),
    ));
    let refused = agents
        .request_encryption(&h.agent, Some("00"), "11")
        .await
        .expect_err("refused");
    assert!(!refused.is_retryable());
    assert!(
        refused
            .to_string()
            .contains("An old password was supplied, but the vault is unencrypted"),
        "{refused}"
    );
}

#[tokio::test]
async fn patch_needs_the_json_patch_content_type() {
    let h = harness().await;
    let tenant = &h.emulator.config().rackspace.tenant_id;
    let url = format!("{}/v2/{tenant}/agents/{}", h.emulator.base_url(), h.agent);
    let body = json!([{"op": "replace", "path": "/enabled", "value": false}]).to_string();
    let plain = h
        .http
        .patch(&url)
        .header("X-Auth-Token", &h.token)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .expect("sent");
    assert_eq!(plain.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let agents = h.client(RackspaceSecret::ApiKey(
        h.emulator.config().rackspace.api_key.clone(),
    ));
    agents
        .update_agent(
            &h.agent,
            &[
                AgentChange::Enabled(false),
                AgentChange::LogLevel("debug".into()),
            ],
        )
        .await
        .expect("patched");
    let agent = agents.get_agent(&h.agent).await.expect("agent");
    assert_eq!(
        (agent.enabled, agent.log_level.as_deref()),
        (Some(false), Some("debug"))
    );
}

#[tokio::test]
async fn wrong_credentials_are_unauthorized() {
    let h = harness().await;
    let agents = h.client(RackspaceSecret::ApiKey("wrong".into()));
    let refused = agents.get_agent(&h.agent).await.expect_err("refused");
    assert!(
        matches!(refused, ProviderError::Unauthorized { .. }),
        "{refused:?}"
    );
}
