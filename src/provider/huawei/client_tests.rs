//! Tests of `HuaweiVaults` over real HTTP against a scripted fake of IAM and
//! CBR on 127.0.0.1, for what pure tests cannot show: the request that goes
//! out (method, path, query, body, auth), the single token fetch under
//! concurrency, the retry after a 401, and that every call is counted.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use futures::future::join_all;
use serde_json::{Value, json};

use super::auth::HuaweiCredentials;
use super::client::HuaweiConnection;
use super::signer;
use super::vaults::HuaweiVaults;
use crate::provider::ProviderError;
use crate::provider::huawei::cbr::{CbrVaultApi, Tag, VaultUpdate};
use crate::provider::metrics::{CallKind, ProviderMetrics, RESULT_OK};

const PROJECT: &str = "0123456789abcdef0123456789abcdef";
const AK: &str = "AKTEST";
const SK: &str = "SKTEST-secret";

/// A request as the fake server received it.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("JSON body")
    }

    /// Whether the AK/SK signature verifies, as the gateway checks it.
    fn signature_verifies(&self) -> bool {
        let Some(parsed) = self
            .header("authorization")
            .and_then(signer::parse_authorization)
        else {
            return false;
        };
        let query: Vec<(String, String)> = url::form_urlencoded::parse(self.query.as_bytes())
            .into_owned()
            .collect();
        let req = signer::SignableRequest {
            method: &self.method,
            path: &self.path,
            query: &query,
            headers: &self.headers,
            payload_hash: signer::hex_sha256(self.body.as_bytes()),
        };
        parsed.access_key == AK && signer::expected_signature(&req, &parsed, SK) == parsed.signature
    }
}

/// What the fake answers.
struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
    delay: Duration,
}

fn reply(status: u16, body: Value) -> Reply {
    Reply {
        status,
        headers: vec![("x-request-id", "req-42".to_string())],
        body: body.to_string(),
        delay: Duration::ZERO,
    }
}

fn token_reply(token: &str) -> Reply {
    let mut r = reply(
        201,
        json!({"token": {"issued_at": "2024-01-01T00:00:00.000000Z",
                         "expires_at": "2024-01-02T00:00:00.000000Z"}}),
    );
    r.headers.push(("x-subject-token", token.to_string()));
    r.delay = Duration::from_millis(50);
    r
}

type Script = dyn Fn(&Seen, &[Seen]) -> Reply + Send + Sync;

/// A scripted server: `script` gets each request and all earlier ones.
struct Fake {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Fake {
    async fn start(script: impl Fn(&Seen, &[Seen]) -> Reply + Send + Sync + 'static) -> Fake {
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let script: Arc<Script> = Arc::new(script);
        let log = seen.clone();
        let app = axum::Router::new().fallback(move |req: Request| {
            let (log, script) = (log.clone(), script.clone());
            async move { answer(req, &log, &*script).await }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Fake { url, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn cbr_calls(&self) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.path.starts_with("/v3/0123"))
            .collect()
    }

    fn token_calls(&self) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.path == "/v3/auth/tokens")
            .count()
    }
}

async fn answer(req: Request, log: &Mutex<Vec<Seen>>, script: &Script) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    let seen = Seen {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or("").to_string(),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let r = {
        let mut log = log.lock().unwrap();
        let r = script(&seen, &log);
        log.push(seen);
        r
    };
    tokio::time::sleep(r.delay).await;
    let mut resp = Response::new(Body::from(r.body));
    *resp.status_mut() = StatusCode::from_u16(r.status).unwrap();
    for (n, v) in r.headers {
        resp.headers_mut().insert(
            HeaderName::from_static(n),
            HeaderValue::from_str(&v).unwrap(),
        );
    }
    resp
}

fn connect(url: &str, credentials: HuaweiCredentials) -> (HuaweiVaults, Arc<ProviderMetrics>) {
    let metrics = Arc::new(ProviderMetrics::new());
    let conn = HuaweiConnection {
        region: "local-1".into(),
        project_id: PROJECT.into(),
        domain_id: None,
        iam_endpoint: url.into(),
        cbr_endpoint: url.into(),
        ca_bundle: None,
        credentials,
    };
    (HuaweiVaults::new(conn, metrics.clone()).unwrap(), metrics)
}

fn access_key() -> HuaweiCredentials {
    HuaweiCredentials::AccessKey {
        access_key: AK.into(),
        secret_key: SK.into(),
    }
}

fn password() -> HuaweiCredentials {
    HuaweiCredentials::Password {
        username: "ops".into(),
        password: "hunter2".into(),
        domain_name: "acct".into(),
    }
}

fn call(service: &'static str, operation: &'static str) -> CallKind {
    CallKind {
        provider: "huawei",
        service,
        operation,
    }
}

fn vault_json(id: &str, name: &str) -> Value {
    json!({"id": id, "name": name, "billing": {"status": "available", "size": 100}})
}

/// Answers token requests with `tok-N` (N counting from 1) and CBR calls
/// with `cbr`.
fn with_tokens(
    cbr: impl Fn(&Seen) -> Reply + Send + Sync + 'static,
) -> impl Fn(&Seen, &[Seen]) -> Reply + Send + Sync + 'static {
    move |req, earlier| {
        if req.path == "/v3/auth/tokens" {
            let n = earlier.iter().filter(|s| s.path == req.path).count() + 1;
            token_reply(&format!("tok-{n}"))
        } else {
            cbr(req)
        }
    }
}

#[tokio::test]
async fn concurrent_calls_share_one_token_fetch() {
    let fake = Fake::start(with_tokens(|_| {
        reply(200, json!({"vaults": [], "count": 0}))
    }))
    .await;
    let (vaults, metrics) = connect(&fake.url, password());
    let results = join_all((0..8).map(|_| vaults.check_credentials())).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(fake.token_calls(), 1);
    let token_req = fake
        .seen()
        .into_iter()
        .find(|s| s.path == "/v3/auth/tokens")
        .unwrap();
    assert_eq!(token_req.query, "nocatalog=true");
    assert_eq!(
        token_req.json()["auth"]["scope"],
        json!({"project": {"id": PROJECT}})
    );
    assert!(
        fake.cbr_calls()
            .iter()
            .all(|s| s.header("x-auth-token") == Some("tok-1"))
    );
    assert_eq!(metrics.count(call("iam", "create_token"), RESULT_OK), 1);
    assert_eq!(
        metrics.count(call("cbr", "check_credentials"), RESULT_OK),
        8
    );
}

#[tokio::test]
async fn refused_token_is_dropped_and_the_call_retried_once() {
    let fake = Fake::start(with_tokens(|req| match req.header("x-auth-token") {
        Some("tok-1") => reply(
            401,
            json!({"error_code": "APIGW.0307", "error_msg": "token expired"}),
        ),
        _ => reply(200, json!({"vault": vault_json("v1", "a")})),
    }))
    .await;
    let (vaults, metrics) = connect(&fake.url, password());
    let vault = vaults.get("v1").await.expect("retried with a new token");
    assert_eq!(vault.id, "v1");
    assert_eq!(fake.token_calls(), 2);
    assert_eq!(metrics.count(call("cbr", "get_vault"), "unauthorized"), 1);
    assert_eq!(metrics.count(call("cbr", "get_vault"), RESULT_OK), 1);
}

#[tokio::test]
async fn second_refusal_is_returned_without_another_retry() {
    let fake = Fake::start(with_tokens(|_| {
        reply(
            401,
            json!({"error_code": "APIGW.0301", "error_msg": "bad token"}),
        )
    }))
    .await;
    let (vaults, _) = connect(&fake.url, password());
    let err = vaults.get("v1").await.expect_err("refused");
    assert!(matches!(err, ProviderError::Unauthorized { .. }));
    assert_eq!(fake.cbr_calls().len(), 2);
}

#[tokio::test]
async fn rejected_password_is_unauthorized_and_counted() {
    let fake = Fake::start(|_, _| {
        reply(401, json!({"error": {"code": 401, "message": "The username or password is wrong.", "title": "Unauthorized"}}))
    })
    .await;
    let (vaults, metrics) = connect(&fake.url, password());
    let err = vaults.check_credentials().await.expect_err("refused");
    assert!(matches!(err, ProviderError::Unauthorized { .. }));
    assert!(!err.to_string().contains("hunter2"));
    assert_eq!(
        metrics.count(call("iam", "create_token"), "unauthorized"),
        1
    );
    assert!(fake.cbr_calls().is_empty());
}

#[tokio::test]
async fn find_by_name_signs_what_it_sends_and_walks_pages() {
    let fake = Fake::start(|req, _| {
        if !req.signature_verifies() || req.header("x-project-id") != Some(PROJECT) {
            return reply(401, json!({"error_code": "APIGW.0301", "error_msg": "bad signature"}));
        }
        match req.query.as_str() {
            "limit=1000&name=db%20vault%2F1&offset=0" => reply(
                200,
                json!({"vaults": [vault_json("a", "db vault/1"), vault_json("b", "db vault/10")], "count": 3}),
            ),
            "limit=1000&name=db%20vault%2F1&offset=2" => {
                reply(200, json!({"vaults": [vault_json("c", "db vault/1")], "count": 3}))
            }
            other => reply(400, json!({"error_code": "TEST", "error_msg": other})),
        }
    })
    .await;
    let (vaults, metrics) = connect(&fake.url, access_key());
    let found = vaults.find_by_name("db vault/1").await.expect("lists");
    let ids: Vec<_> = found.iter().map(|v| v.id.as_str()).collect();
    assert_eq!(ids, vec!["a", "c"]);
    assert_eq!(metrics.count(call("cbr", "list_vaults"), RESULT_OK), 2);
}

#[tokio::test]
async fn update_puts_only_the_changed_fields() {
    let fake = Fake::start(|_, _| reply(200, json!({"vault": vault_json("v1", "a")}))).await;
    let (vaults, _) = connect(&fake.url, access_key());
    let update = VaultUpdate {
        size_gb: Some(200),
        threshold: Some(90),
        ..Default::default()
    };
    vaults.update("v1", &update).await.expect("updates");
    let put = &fake.seen()[0];
    assert_eq!(
        (put.method.as_str(), put.path.as_str()),
        ("PUT", "/v3/0123456789abcdef0123456789abcdef/vaults/v1")
    );
    assert_eq!(
        put.json(),
        json!({"vault": {"billing": {"size": 200}, "threshold": 90}})
    );
}

#[tokio::test]
async fn delete_of_a_missing_vault_succeeds() {
    for (status, body) in [
        (
            404,
            json!({"error_code": "BackupService.6105", "error_msg": "Vault Not Found"}),
        ),
        (
            400,
            json!({"error_code": "BackupService.6105", "error_msg": "Vault Not Found"}),
        ),
        (204, Value::Null),
    ] {
        let fake = Fake::start(move |_, _| reply(status, body.clone())).await;
        let (vaults, _) = connect(&fake.url, access_key());
        vaults
            .delete("v1")
            .await
            .unwrap_or_else(|e| panic!("{status}: {e}"));
        assert_eq!(fake.seen()[0].method, "DELETE");
    }
}

#[tokio::test]
async fn tags_go_to_the_singular_vault_path() {
    let fake = Fake::start(|_, _| reply(204, Value::Null)).await;
    let (vaults, _) = connect(&fake.url, access_key());
    vaults
        .remove_tags("v1", &[Tag::new("team", "a")])
        .await
        .expect("removes");
    let seen = &fake.seen()[0];
    assert_eq!(seen.path, format!("/v3/{PROJECT}/vault/v1/tags/action"));
    assert_eq!(
        seen.json(),
        json!({"action": "delete", "tags": [{"key": "team", "value": "a"}]})
    );
}

#[tokio::test]
async fn throttling_carries_retry_after_and_the_request_id() {
    let fake = Fake::start(|_, _| {
        let mut r = reply(
            429,
            json!({"error_code": "APIGW.0308", "error_msg": "over ratelimit"}),
        );
        r.headers.push(("retry-after", "7".into()));
        r
    })
    .await;
    let (vaults, metrics) = connect(&fake.url, access_key());
    let err = vaults.get("v1").await.expect_err("throttled");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
    assert!(err.to_string().contains("req-42"), "{err}");
    assert_eq!(metrics.count(call("cbr", "get_vault"), "throttled"), 1);
}

#[tokio::test]
async fn undecodable_success_is_transient() {
    let fake = Fake::start(|_, _| Reply {
        body: "<html>ok</html>".into(),
        ..reply(200, Value::Null)
    })
    .await;
    let (vaults, metrics) = connect(&fake.url, access_key());
    let err = vaults.get("v1").await.expect_err("unreadable");
    assert!(matches!(err, ProviderError::Transient { .. }));
    assert_eq!(metrics.count(call("cbr", "get_vault"), "transient"), 1);
}

#[tokio::test]
async fn unreachable_endpoint_is_transient_and_counted() {
    // A port that was free a moment ago: nothing listens on it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let (vaults, metrics) = connect(&url, access_key());
    let err = vaults.get("v1").await.expect_err("unreachable");
    assert!(matches!(err, ProviderError::Transient { .. }), "{err:?}");
    assert!(!err.to_string().contains(SK));
    assert_eq!(metrics.count(call("cbr", "get_vault"), "transient"), 1);
}
