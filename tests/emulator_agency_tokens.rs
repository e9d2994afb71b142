//! Agency tokens in the emulator over HTTP: `assume_role` issues a token in
//! the delegating account to the account the agency trusts, that token works
//! on CBR and IAM, and an update or delete of the agency voids it (seed 004:
//! "this operation will invalidate the delegated party's existing token").

use coffer::emulator::{self, EmulatorConfig, RunningEmulator};
use coffer::provider::huawei::signer::{self, SignableRequest, hex_sha256};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

struct Harness {
    emulator: RunningEmulator,
    http: reqwest::Client,
}

async fn harness() -> Harness {
    Harness {
        emulator: emulator::start(EmulatorConfig::default())
            .await
            .expect("emulator starts"),
        http: reqwest::Client::new(),
    }
}

fn config(h: &Harness) -> &EmulatorConfig {
    h.emulator.config()
}

impl Harness {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.emulator.base_url())
    }

    /// A password token of the emulator's user, for `scope`.
    async fn user_token(&self, scope: Value) -> String {
        let c = config(self);
        let body = json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": c.username, "password": c.password, "domain": {"name": c.domain_name}}}},
            "scope": scope,
        }});
        let response = self.post_token(None, &body).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        subject_token(&response)
    }

    async fn post_token(&self, caller: Option<&str>, body: &Value) -> reqwest::Response {
        let mut request = self.http.post(self.url("/v3/auth/tokens")).json(body);
        if let Some(token) = caller {
            request = request.header("x-auth-token", token);
        }
        request.send().await.expect("sent")
    }

    /// A project-scoped agency token that `caller` obtains for `agency`.
    async fn assumed(&self, caller: &str, agency: &str) -> String {
        let response = self
            .post_token(Some(caller), &assume_body(self, agency))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        subject_token(&response)
    }

    /// Creates an agency in the emulator's account trusting `trust_name`.
    async fn create_agency(&self, admin: &str, name: &str, trust_name: &str) -> String {
        let body = json!({"agency": {
            "name": name, "domain_id": config(self).domain_id,
            "trust_domain_name": trust_name, "duration": "FOREVER",
        }});
        let response = self
            .call(Method::POST, "/v3.0/OS-AGENCY/agencies", admin, Some(&body))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        json_of(response).await["agency"]["id"]
            .as_str()
            .expect("id")
            .to_string()
    }

    /// One call authenticated with `token`.
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> reqwest::Response {
        let mut request = self
            .http
            .request(method, self.url(path))
            .header("x-auth-token", token);
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.expect("sent")
    }

    /// GET with `token`: the status only.
    async fn get_with(&self, token: &str, path: &str) -> StatusCode {
        self.call(Method::GET, path, token, None).await.status()
    }

    fn vaults_path(&self) -> String {
        format!("/v3/{}/vaults", config(self).project_id)
    }

    fn agencies_path(&self) -> String {
        format!(
            "/v3.0/OS-AGENCY/agencies?domain_id={}",
            config(self).domain_id
        )
    }
}

/// The `assume_role` body IAM documents (`xrole_name`), project-scoped.
fn assume_body(h: &Harness, agency: &str) -> Value {
    let c = config(h);
    json!({"auth": {
        "identity": {"methods": ["assume_role"], "assume_role": {
            "domain_name": c.domain_name, "xrole_name": agency}},
        "scope": {"project": {"name": c.region}},
    }})
}

fn subject_token(response: &reqwest::Response) -> String {
    response.headers()["x-subject-token"]
        .to_str()
        .expect("ascii")
        .to_string()
}

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.expect("json body")
}

/// Asserts IAM's `{"error":{"code","message","title"}}` with `status`.
async fn assert_iam_error(response: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status);
    let body = json_of(response).await;
    assert_eq!(body["error"]["code"], status.as_u16(), "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
    assert!(body["error"]["title"].is_string(), "{body}");
    body
}

/// A user token and an agency trusting the user's own account, the one
/// caller the emulator can authenticate.
async fn trusted_agency(h: &Harness, name: &str) -> (String, String) {
    let admin = h
        .user_token(json!({"domain": {"name": config(h).domain_name}}))
        .await;
    let domain_name = config(h).domain_name.clone();
    let id = h.create_agency(&admin, name, &domain_name).await;
    (admin, id)
}

#[tokio::test]
async fn assume_role_issues_a_token_that_works_on_cbr_and_iam() {
    let h = harness().await;
    let (admin, _) = trusted_agency(&h, "ops").await;
    let issued = h.post_token(Some(&admin), &assume_body(&h, "ops")).await;
    assert_eq!(issued.status(), StatusCode::CREATED);
    let token = subject_token(&issued);
    let body = json_of(issued).await;
    assert_eq!(body["token"]["methods"], json!(["assume_role"]));
    assert_eq!(
        body["token"]["project"]["id"],
        config(&h).project_id.as_str()
    );
    assert!(body["token"]["assumed_by"]["user"]["id"].is_string());
    assert_eq!(h.get_with(&token, &h.vaults_path()).await, StatusCode::OK);

    // `agency_name` (providers.md's spelling) and a domain scope for IAM.
    let c = config(&h);
    let domain_body = json!({"auth": {
        "identity": {"methods": ["assume_role"], "assume_role": {
            "domain_id": c.domain_id, "agency_name": "ops", "duration_seconds": 900}},
        "scope": {"domain": {"id": c.domain_id}},
    }});
    let issued = h.post_token(Some(&admin), &domain_body).await;
    assert_eq!(issued.status(), StatusCode::CREATED);
    let token = subject_token(&issued);
    assert_eq!(h.get_with(&token, &h.agencies_path()).await, StatusCode::OK);
}

#[tokio::test]
async fn update_voids_earlier_agency_tokens_but_not_later_ones() {
    let h = harness().await;
    let (admin, id) = trusted_agency(&h, "ops").await;
    let before = h.assumed(&admin, "ops").await;
    assert_eq!(h.get_with(&before, &h.vaults_path()).await, StatusCode::OK);

    let c = config(&h);
    let update = json!({"agency": {
        "trust_domain_id": c.domain_id, "trust_domain_name": c.domain_name,
        "description": "rotated",
    }});
    let path = format!("/v3.0/OS-AGENCY/agencies/{id}");
    let updated = h.call(Method::PUT, &path, &admin, Some(&update)).await;
    assert_eq!(updated.status(), StatusCode::OK);

    let vaults = h.vaults_path();
    let refused = h.call(Method::GET, &vaults, &before, None).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    // The same shape as any other bad token.
    let bad = h.call(Method::GET, &vaults, "MIIemugarbage", None).await;
    let (refused, bad) = (json_of(refused).await, json_of(bad).await);
    assert_eq!(refused["error_code"], bad["error_code"], "{refused}");
    assert_eq!(
        h.get_with(&before, &h.agencies_path()).await,
        StatusCode::UNAUTHORIZED
    );

    let after = h.assumed(&admin, "ops").await;
    assert_eq!(h.get_with(&after, &h.vaults_path()).await, StatusCode::OK);
    // The user's own token never depended on the agency.
    assert_eq!(h.get_with(&admin, &h.agencies_path()).await, StatusCode::OK);
}

#[tokio::test]
async fn delete_voids_the_agency_tokens() {
    let h = harness().await;
    let (admin, id) = trusted_agency(&h, "ops").await;
    let token = h.assumed(&admin, "ops").await;
    let path = format!("/v3.0/OS-AGENCY/agencies/{id}");
    let deleted = h.call(Method::DELETE, &path, &admin, None).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        h.get_with(&token, &h.vaults_path()).await,
        StatusCode::UNAUTHORIZED
    );
    // Nor does a new agency of the same name revive it.
    let domain_name = config(&h).domain_name.clone();
    h.create_agency(&admin, "ops", &domain_name).await;
    assert_eq!(
        h.get_with(&token, &h.vaults_path()).await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn only_the_trusted_account_may_assume_an_existing_agency() {
    let h = harness().await;
    let (admin, _) = trusted_agency(&h, "ops").await;
    h.create_agency(&admin, "partner", "central-ops").await;

    let other = h
        .post_token(Some(&admin), &assume_body(&h, "partner"))
        .await;
    assert_iam_error(other, StatusCode::FORBIDDEN).await;
    let missing = h.post_token(Some(&admin), &assume_body(&h, "nope")).await;
    assert_iam_error(missing, StatusCode::NOT_FOUND).await;
    let mut unknown_domain = assume_body(&h, "ops");
    unknown_domain["auth"]["identity"]["assume_role"]["domain_name"] = json!("nobody");
    let unknown = h.post_token(Some(&admin), &unknown_domain).await;
    assert_iam_error(unknown, StatusCode::NOT_FOUND).await;
    // A partner account is known but holds no agency here.
    let mut partner_domain = assume_body(&h, "ops");
    partner_domain["auth"]["identity"]["assume_role"]["domain_name"] = json!("central-ops");
    let partner = h.post_token(Some(&admin), &partner_domain).await;
    assert_iam_error(partner, StatusCode::NOT_FOUND).await;

    let anonymous = h.post_token(None, &assume_body(&h, "ops")).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let agency_token = h.assumed(&admin, "ops").await;
    let chained = h
        .post_token(Some(&agency_token), &assume_body(&h, "ops"))
        .await;
    assert_iam_error(chained, StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn a_caller_signing_with_ak_sk_may_assume_an_agency() {
    let h = harness().await;
    trusted_agency(&h, "ops").await;
    let c = config(&h);
    let bytes = serde_json::to_vec(&assume_body(&h, "ops")).expect("json");
    let headers = vec![
        ("content-type".to_string(), "application/json".to_string()),
        ("host".to_string(), h.emulator.addr().to_string()),
        ("x-domain-id".to_string(), c.domain_id.clone()),
        (
            "x-sdk-date".to_string(),
            signer::sdk_date(jiff::Timestamp::now()),
        ),
    ];
    let request = SignableRequest {
        method: "POST",
        path: "/v3/auth/tokens",
        query: &[],
        headers: &headers,
        payload_hash: hex_sha256(&bytes),
    };
    let authorization = signer::authorization(&request, &c.access_key, &c.secret_key);
    let mut builder = h
        .http
        .post(h.url("/v3/auth/tokens"))
        .header("authorization", authorization);
    for (name, value) in headers.iter().filter(|(name, _)| name != "host") {
        builder = builder.header(name, value);
    }
    let issued = builder.body(bytes).send().await.expect("sent");
    assert_eq!(issued.status(), StatusCode::CREATED);
    let token = subject_token(&issued);
    assert_eq!(h.get_with(&token, &h.vaults_path()).await, StatusCode::OK);
}
