//! The provider emulator over HTTP, in process: signed and token-authenticated
//! calls, the real error shapes, fault injection before and after the
//! operation, and the admin API that tests assert with.

use std::time::Duration;

use coffer::emulator::{
    self, EmulatorConfig, FaultConfig, Operation, RunningEmulator, ThrottleConfig,
};
use coffer::provider::huawei::signer::{self, SignableRequest, hex_sha256};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

struct Harness {
    emulator: RunningEmulator,
    http: reqwest::Client,
}

/// Long enough that a loaded machine does not outrun it between two calls,
/// short enough to wait out.
const DELAY: Duration = Duration::from_secs(1);

fn config() -> EmulatorConfig {
    EmulatorConfig {
        delete_delay: DELAY,
        association_delay: DELAY,
        ..EmulatorConfig::default()
    }
}

async fn harness(config: EmulatorConfig) -> Harness {
    Harness {
        emulator: emulator::start(config).await.expect("emulator starts"),
        http: reqwest::Client::new(),
    }
}

fn create_body(name: &str) -> Value {
    json!({"vault": {
        "name": name,
        "billing": {"consistent_level": "crash_consistent", "object_type": "server",
                    "protect_type": "backup", "size": 100, "charging_mode": "post_paid"},
        "resources": [],
        "tags": [{"key": "k8s-uid", "value": "1b2c"}],
    }})
}

impl Harness {
    fn project(&self) -> &str {
        &self.emulator.config().project_id
    }

    /// Sends a request signed the way Huawei's SDK signs it. `tamper` edits
    /// the body after signing.
    async fn signed(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
        tamper: bool,
    ) -> reqwest::Response {
        let config = self.emulator.config();
        let query: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut bytes = body
            .map(|b| serde_json::to_vec(b).expect("json"))
            .unwrap_or_default();
        let headers = vec![
            ("content-type".to_string(), "application/json".to_string()),
            ("host".to_string(), self.emulator.addr().to_string()),
            ("x-project-id".to_string(), config.project_id.clone()),
            (
                "x-sdk-date".to_string(),
                signer::sdk_date(jiff::Timestamp::now()),
            ),
        ];
        let request = SignableRequest {
            method: method.as_str(),
            path,
            query: &query,
            headers: &headers,
            payload_hash: hex_sha256(&bytes),
        };
        let authorization = signer::authorization(&request, &config.access_key, &config.secret_key);
        if tamper {
            bytes.extend_from_slice(b" ");
        }
        let mut url = format!("{}{path}", self.emulator.base_url());
        if !query.is_empty() {
            url = format!("{url}?{}", signer::canonical_query(&query));
        }
        let mut builder = self
            .http
            .request(method, url)
            .header("authorization", authorization);
        for (name, value) in &headers {
            if name != "host" {
                builder = builder.header(name, value);
            }
        }
        builder.body(bytes).send().await.expect("request sent")
    }

    async fn create(&self, name: &str) -> reqwest::Response {
        let path = format!("/v3/{}/vaults", self.project());
        self.signed(Method::POST, &path, &[], Some(&create_body(name)), false)
            .await
    }

    async fn create_id(&self, name: &str) -> String {
        let response = self.create(name).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.expect("json");
        body["vault"]["id"].as_str().expect("id").to_string()
    }

    async fn show(&self, id: &str) -> reqwest::Response {
        let path = format!("/v3/{}/vaults/{id}", self.project());
        self.signed(Method::GET, &path, &[], None, false).await
    }

    async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> reqwest::Response {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.emulator.base_url()));
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("admin request sent")
    }
}

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.expect("json body")
}

#[tokio::test]
async fn signed_request_is_accepted_and_tampered_one_refused() {
    let h = harness(config()).await;
    let path = format!("/v3/{}/vaults", h.project());
    let listed = h
        .signed(
            Method::GET,
            &path,
            &[("name", "my vault"), ("limit", "10")],
            None,
            false,
        )
        .await;
    assert_eq!(listed.status(), StatusCode::OK);
    assert!(listed.headers().contains_key("x-request-id"));
    let listed = json_of(listed).await;
    assert_eq!(
        (listed["count"].clone(), listed["limit"].clone()),
        (json!(0), json!(10))
    );

    let tampered = h
        .signed(Method::POST, &path, &[], Some(&create_body("a")), true)
        .await;
    assert_eq!(tampered.status(), StatusCode::UNAUTHORIZED);
    let body = json_of(tampered).await;
    assert_eq!(body["error_code"], "APIGW.0301");
    assert!(body["request_id"].is_string());
    assert_eq!(h.emulator.vaults()["count"], 0);
}

#[tokio::test]
async fn token_from_iam_authorizes_cbr_calls() {
    let h = harness(config()).await;
    let c = h.emulator.config();
    let auth = |password: &str| {
        json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": c.username, "password": password, "domain": {"name": c.domain_name}}}},
            "scope": {"project": {"name": c.region}},
        }})
    };
    let url = format!("{}/v3/auth/tokens", h.emulator.base_url());
    let wrong = h
        .http
        .post(&url)
        .json(&auth("wrong"))
        .send()
        .await
        .expect("sent");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json_of(wrong).await["error"]["code"], 401);

    let issued = h
        .http
        .post(&url)
        .json(&auth(&c.password))
        .send()
        .await
        .expect("sent");
    assert_eq!(issued.status(), StatusCode::CREATED);
    let token = issued.headers()["x-subject-token"]
        .to_str()
        .expect("ascii")
        .to_string();
    let body = json_of(issued).await;
    assert_eq!(body["token"]["project"]["id"], c.project_id.as_str());
    assert!(body["token"]["catalog"].is_array());

    let vaults = format!("{}/v3/{}/vaults", h.emulator.base_url(), c.project_id);
    let created = h
        .http
        .post(&vaults)
        .header("x-auth-token", &token)
        .json(&create_body("by-token"))
        .send()
        .await
        .expect("sent");
    assert_eq!(created.status(), StatusCode::OK);
    let other_project = vaults.replace(&c.project_id, "ffffffffffffffffffffffffffffffff");
    let forbidden = h
        .http
        .get(other_project)
        .header("x-auth-token", &token)
        .send()
        .await
        .expect("sent");
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
    let anonymous = h.http.get(&vaults).send().await.expect("sent");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn missing_vault_is_404_on_get_and_400_6105_otherwise() {
    let h = harness(config()).await;
    let missing = uuid::Uuid::new_v4().to_string();
    let shown = h.show(&missing).await;
    assert_eq!(shown.status(), StatusCode::NOT_FOUND);
    let path = format!("/v3/{}/vaults/{missing}", h.project());
    let update = json!({"vault": {"name": "x"}});
    let updated = h
        .signed(Method::PUT, &path, &[], Some(&update), false)
        .await;
    assert_eq!(updated.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json_of(updated).await["error_code"], "BackupService.6105");
    let unknown = h
        .signed(Method::GET, "/v3/nothing/here", &[], None, false)
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(json_of(unknown).await["error_code"], "APIGW.0101");
}

#[tokio::test]
async fn deleted_vault_shows_deleting_then_disappears() {
    let h = harness(config()).await;
    let id = h.create_id("doomed").await;
    let path = format!("/v3/{}/vaults/{id}", h.project());
    let deleted = h.signed(Method::DELETE, &path, &[], None, false).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let shown = json_of(h.show(&id).await).await;
    assert_eq!(shown["vault"]["billing"]["status"], "deleting");
    tokio::time::sleep(DELAY + Duration::from_millis(100)).await;
    assert_eq!(h.show(&id).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn added_resources_show_up_after_the_association_delay() {
    let h = harness(config()).await;
    let id = h.create_id("with-servers").await;
    let path = format!("/v3/{}/vaults/{id}/addresources", h.project());
    let body = json!({"resources": [{"id": "srv-1", "type": "OS::Nova::Server"}]});
    let added = h.signed(Method::POST, &path, &[], Some(&body), false).await;
    assert_eq!(json_of(added).await, json!({"add_resource_ids": ["srv-1"]}));
    let before = json_of(h.show(&id).await).await;
    assert_eq!(before["vault"]["resources"], json!([]));
    tokio::time::sleep(DELAY + Duration::from_millis(100)).await;
    let after = json_of(h.show(&id).await).await;
    assert_eq!(after["vault"]["resources"][0]["id"], "srv-1");
    assert_eq!(
        after["vault"]["resources"][0]["extra_info"]["exclude_volumes"],
        json!([])
    );
}

#[tokio::test]
async fn injected_error_is_answered_before_the_create_runs() {
    let h = harness(config()).await;
    h.emulator
        .set_faults(FaultConfig {
            error_rates: [(500, 1.0)].into(),
            ..FaultConfig::default()
        })
        .expect("valid faults");
    let response = h.create("never").await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(h.emulator.vaults()["count"], 0);
    let counters = h.emulator.counters();
    assert_eq!(counters[&Operation::CreateVault].by_status[&500], 1);
    let logged = h.emulator.requests(Some(Operation::CreateVault));
    assert_eq!(logged[0].fault, Some(emulator::FaultKind::InjectedError));
}

#[tokio::test]
async fn lost_response_still_creates_the_vault() {
    let h = harness(config()).await;
    h.emulator
        .set_faults(FaultConfig {
            lost_response_rate: 1.0,
            ..FaultConfig::default()
        })
        .expect("valid faults");
    let response = h.create("lost").await;
    assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(h.emulator.vaults()["count"], 1);
}

#[tokio::test]
async fn throttle_answers_429_with_retry_after() {
    let h = harness(EmulatorConfig {
        faults: FaultConfig {
            throttle: Some(ThrottleConfig {
                rate: 1.0,
                burst: 1,
            }),
            ..FaultConfig::default()
        },
        ..config()
    })
    .await;
    let missing = uuid::Uuid::new_v4().to_string();
    assert_eq!(h.show(&missing).await.status(), StatusCode::NOT_FOUND);
    let throttled = h.show(&missing).await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = throttled.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("whole seconds");
    assert!((1..=5).contains(&retry_after), "Retry-After {retry_after}");
    assert_eq!(json_of(throttled).await["error_code"], "APIGW.0308");
}

#[tokio::test]
async fn admin_api_shows_exactly_what_was_sent() {
    let h = harness(config()).await;
    let id = h.create_id("seed").await;
    let path = format!("/v3/{}/vaults/{id}", h.project());
    let update = json!({"vault": {"billing": {"size": 200}, "name": "vault_name02"}});
    let updated = h
        .signed(Method::PUT, &path, &[], Some(&update), false)
        .await;
    assert_eq!(updated.status(), StatusCode::OK);

    let logged = json_of(
        h.admin(
            Method::GET,
            "/_emulator/requests?operation=UpdateVault",
            None,
        )
        .await,
    )
    .await;
    let requests = logged["requests"].as_array().expect("list");
    assert_eq!(requests.len(), 1);
    assert_eq!(
        (requests[0]["method"].clone(), requests[0]["body"].clone()),
        (json!("PUT"), update)
    );

    let counters = json_of(h.admin(Method::GET, "/_emulator/counters", None).await).await;
    assert_eq!(
        counters["UpdateVault"],
        json!({"total": 1, "by_status": {"200": 1}})
    );

    let faults = json!({"error_rates": {"503": 0.5}, "latency_ms": 5});
    let put = h
        .admin(Method::PUT, "/_emulator/faults", Some(faults))
        .await;
    assert_eq!(put.status(), StatusCode::OK);
    assert_eq!(json_of(put).await["error_rates"], json!({"503": 0.5}));
    let bad = h
        .admin(
            Method::PUT,
            "/_emulator/faults",
            Some(json!({"error_rates": {"200": 1}})),
        )
        .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);

    let reset = h
        .admin(Method::POST, "/_emulator/reset-counters", None)
        .await;
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    let counters = json_of(h.admin(Method::GET, "/_emulator/counters", None).await).await;
    assert_eq!(counters, json!({}));
    let store = json_of(h.admin(Method::GET, "/_emulator/vaults", None).await).await;
    assert_eq!(store["vaults"][0]["name"], "vault_name02");
}

#[tokio::test]
async fn dropping_the_handle_stops_the_server() {
    let running = emulator::start(config()).await.expect("starts");
    let addr = running.addr();
    assert!(tokio::net::TcpStream::connect(addr).await.is_ok());
    drop(running);
    // The server task needs a moment to see the signal and close its socket.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while tokio::net::TcpStream::connect(addr).await.is_ok() {
        assert!(tokio::time::Instant::now() < deadline, "still listening");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let running = emulator::start(config()).await.expect("starts");
    let addr = running.addr();
    running.stop().await.expect("stops cleanly");
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}
