//! No answer can crash coffer. Every provider client (Huawei CBR vaults
//! and shares, IAM with its token, Commvault with its login, Rackspace
//! with its identity) is pointed at a server that answers whatever the
//! property test says: any status, odd headers, and a body that is random
//! bytes, arbitrary JSON of the wrong shape, a valid answer cut short, or a
//! valid answer with one value replaced. Each call must end in a value or a
//! typed error; a panic fails the test. The sign-in answers are fuzzed in
//! half the cases and valid in the other half, so that the decoders behind
//! them are reached too.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

use super::commvault::{CommvaultConnection, CommvaultVaults, NewS3Vault, S3VaultApi};
use super::huawei::cbr::CbrVaultApi;
use super::huawei::iam::{GrantScope, HuaweiAgencies, IamAgencyApi};
use super::huawei::share::CbrShareApi;
use super::huawei::shares::HuaweiShares;
use super::huawei::transport::unlimited;
use super::huawei::{HuaweiConnection, HuaweiCredentials, HuaweiVaults};
use super::metrics::ProviderMetrics;
use super::rackspace::agents::RackspaceAgents;
use super::rackspace::client::{RackspaceConnection, RackspaceSecret};
use super::rackspace::{AgentChange, AgentVaultApi};

/// One answer the server gives.
#[derive(Clone, Debug, Default)]
struct Answer {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    /// Sign-in paths answer validly instead.
    valid_sign_in: bool,
}

type Shared = Arc<Mutex<Answer>>;

/// Valid answers, the seeds of the cut and mutated bodies: one of each
/// shape the decoders read.
fn samples() -> Vec<Value> {
    vec![
        json!({"vault": {"id": "v1", "name": "n", "billing": {"size": 100, "status": "available",
               "consistent_level": "crash_consistent", "object_type": "server", "protect_type": "backup"},
               "resources": [{"id": "r", "type": "OS::Nova::Server"}], "tags": [{"key": "k", "value": "v"}]}}),
        json!({"vaults": [{"id": "v1", "name": "n"}], "count": 1}),
        json!({"members": [{"dest_project_id": "p", "status": "pending", "updated_at": "2026-01-01T00:00:00"}], "count": 1}),
        json!({"backup": {"id": "b", "status": "available", "project_id": "p", "resource_type": "OS::Nova::Server"}}),
        json!({"agencies": [{"id": "a", "name": "n", "trust_domain_id": "d", "duration": "480"}]}),
        json!({"agency": {"id": "a", "name": "n", "trust_domain_id": "d", "duration": "FOREVER"}}),
        json!({"roles": [{"id": "r", "name": "n", "display_name": "d"}], "projects": [{"id": "p", "name": "cn"}]}),
        json!({"token": {"expires_at": "2099-01-01T00:00:00.000000Z"}}),
        json!({"error_code": "BackupService.6101", "error_msg": "bad", "error": {"code": "x", "message": "y"}}),
        json!({"id": "8f13", "name": "a", "host": {"machine": {"id": "m"}}, "enabled": true,
               "rsa_public_key": {"modulus": "c0ffee", "exponent": 10001},
               "vault": {"id": "v", "encrypted": false, "use_internal": false}}),
        json!({"agents": [{"id": "a"}], "links": []}),
        json!({"busy": false, "online": true}),
        json!({"events": [{"id": 1, "event": "vault_encryption_enabled", "request_id": "r", "succeeded": true,
               "time": "2026-01-01T00:00:00Z"}], "links": []}),
        json!({"message": "Agent not found.", "errors": ["x"]}),
        json!({"response": {"errorCode": 0, "entity": {"clientId": 7}}, "addEndpointJob": {"jobId": 3}}),
        json!({"s3Stores": [{"name": "n", "clientId": 7, "plan": {"id": 3}}]}),
        json!({"totalRecordsWithoutPaging": 1, "jobs": [{"jobSummary": {"status": "Running", "percentComplete": 40}}]}),
        json!({"errList": [{"errLogMessage": "no", "errorCode": 5}], "errorCode": 1, "errorMessage": "x"}),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Replaces one value somewhere in `value` (chosen by `at`) with `with`.
fn replace_one(value: &mut Value, at: usize, with: Value) {
    fn visit(value: &mut Value, at: &mut usize, with: &mut Option<Value>) {
        if with.is_none() {
            return;
        }
        if *at == 0 {
            *value = with.take().unwrap_or_default();
            return;
        }
        *at -= 1;
        match value {
            Value::Array(items) => items.iter_mut().for_each(|v| visit(v, at, with)),
            Value::Object(map) => map.values_mut().for_each(|v| visit(v, at, with)),
            _ => {}
        }
    }
    let mut with = Some(with);
    let mut at = at % 24 + 1;
    visit(value, &mut at, &mut with);
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    let count = samples().len();
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        json_value().prop_map(|v| v.to_string().into_bytes()),
        (0..count, any::<prop::sample::Index>()).prop_map(|(i, cut)| {
            let text = samples()[i].to_string().into_bytes();
            let end = cut.index(text.len() + 1);
            text[..end].to_vec()
        }),
        (0..count, any::<usize>(), json_value()).prop_map(|(i, at, with)| {
            let mut sample = samples()[i].clone();
            replace_one(&mut sample, at, with);
            sample.to_string().into_bytes()
        }),
        (0..count).prop_map(|i| samples()[i].to_string().into_bytes()),
    ]
}

fn headers() -> impl Strategy<Value = Vec<(&'static str, String)>> {
    let name = prop::sample::select(vec![
        "x-subject-token",
        "location",
        "content-type",
        "x-request-id",
    ]);
    let value = prop_oneof![
        "[ -~]{0,40}",
        Just("http://127.0.0.1:9/v2/x/agents/a/vault-encryption-request/".to_string()),
    ];
    // Short waits only: a Retry-After holds the client's budget back for
    // real, and a call that waits past the test's limit counts as hung
    // (parse_retry_after's own tests cover long ones).
    let retry_after = prop_oneof![
        "[0-1]",
        "[a-z ]{0,12}",
        Just("Wed, 21 Oct 2015 07:28:00 GMT".to_string()),
        Just("-1".to_string()),
    ];
    let any = prop_oneof![(name, value), retry_after.prop_map(|v| ("retry-after", v)),];
    prop::collection::vec(any, 0..4)
}

fn answer() -> impl Strategy<Value = Answer> {
    let status = prop_oneof![
        prop::sample::select(vec![
            200u16, 201, 202, 204, 400, 401, 403, 404, 409, 429, 500, 503
        ]),
        200u16..600,
    ];
    (status, headers(), body(), any::<bool>()).prop_map(|(status, headers, body, valid)| Answer {
        status,
        headers,
        body,
        valid_sign_in: valid,
    })
}

/// A valid sign-in answer for `path`, if it is a sign-in path.
fn sign_in(path: &str, base: &str) -> Option<Response> {
    let json = |value: Value| {
        Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .header("x-subject-token", "a-token")
            .body(Body::from(value.to_string()))
            .ok()
    };
    if path.ends_with("/v2.0/tokens") {
        return json(json!({"access": {
            "token": {"id": "t", "expires": "2099-01-01T00:00:00Z", "tenant": {"id": "1", "name": "1"}},
            "serviceCatalog": [{"name": "cloudBackup", "type": "rax:backup", "endpoints": [
                {"region": "DFW", "tenantId": "1", "publicURL": format!("{base}/v2/1")}]}],
            "user": {"name": "u"},
        }}));
    }
    if path.ends_with("/v3/auth/tokens") {
        return json(json!({"token": {"expires_at": "2099-01-01T00:00:00.000000Z"}}));
    }
    if path.to_ascii_lowercase().ends_with("/login") {
        return json(json!({"token": "QSDK 0abc", "userName": "admin"}));
    }
    None
}

async fn answer_with(State((shared, base)): State<(Shared, String)>, req: Request) -> Response {
    let answer = shared.lock().map(|a| a.clone()).unwrap_or_default();
    if answer.valid_sign_in
        && let Some(valid) = sign_in(req.uri().path(), &base)
    {
        return valid;
    }
    let mut response = Response::builder().status(answer.status);
    for (name, value) in &answer.headers {
        response = response.header(*name, value.as_str());
    }
    response
        .body(Body::from(answer.body.clone()))
        .or_else(|_| {
            Response::builder()
                .status(answer.status)
                .body(Body::empty())
        })
        .unwrap_or_default()
}

async fn server(shared: Shared) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    let app = Router::new()
        .fallback(answer_with)
        .with_state((shared, base.clone()));
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

/// Every client, pointed at `base`.
struct Clients {
    vaults: HuaweiVaults,
    shares: HuaweiShares,
    iam: HuaweiAgencies,
    commvault: CommvaultVaults,
    rackspace: RackspaceAgents,
}

fn clients(base: &str) -> Clients {
    let metrics = Arc::new(ProviderMetrics::default());
    let huawei = |credentials| HuaweiConnection {
        region: "cn-north-4".into(),
        project_id: "0123456789abcdef0123456789abcdef".into(),
        domain_id: Some("fedcba9876543210fedcba9876543210".into()),
        iam_endpoint: base.to_string(),
        cbr_endpoint: base.to_string(),
        ca_bundle: None,
        credentials,
    };
    let key = HuaweiCredentials::AccessKey {
        access_key: "AK".into(),
        secret_key: "SK".into(),
    };
    let password = HuaweiCredentials::Password {
        username: "u".into(),
        password: "p".into(),
        domain_name: "d".into(),
    };
    Clients {
        vaults: HuaweiVaults::new(huawei(key.clone()), metrics.clone()).expect("vaults"),
        shares: HuaweiShares::with_budget(huawei(key), metrics.clone(), unlimited())
            .expect("shares"),
        iam: HuaweiAgencies::new(&huawei(password), metrics.clone(), unlimited()).expect("iam"),
        commvault: CommvaultVaults::unbudgeted(
            CommvaultConnection {
                api_url: format!("{base}/commandcenter/api"),
                username: "admin".into(),
                password: "p".into(),
                ca_bundle: None,
            },
            metrics.clone(),
        )
        .expect("commvault"),
        rackspace: RackspaceAgents::new(
            RackspaceConnection {
                identity_endpoint: format!("{base}/v2.0"),
                region: "DFW".into(),
                username: "u".into(),
                secret: RackspaceSecret::ApiKey("k".into()),
                ca_bundle: None,
                allowed: crate::provider::endpoints::EndpointPolicy::any(),
            },
            metrics,
            unlimited(),
        )
        .expect("rackspace"),
    }
}

/// Calls every decoding path once; any outcome but a panic or a hang is
/// fine.
async fn call_everything(c: &Clients) {
    // A fuzzed Retry-After holds a call back a second at most; a call
    // still unanswered after ten has hung, which is a failure like a panic.
    macro_rules! quick {
        ($call:expr) => {
            let answered = tokio::time::timeout(Duration::from_secs(10), $call).await;
            assert!(answered.is_ok(), "{} hung", stringify!($call));
        };
    }
    quick!(c.vaults.get("v1"));
    quick!(c.vaults.find_by_name("n"));
    quick!(c.vaults.delete("v1"));
    quick!(c.vaults.check_credentials());
    quick!(c.shares.show_backup("b"));
    quick!(c.shares.list_members("b"));
    quick!(c.shares.show_member("b", "p"));
    quick!(c.iam.get_agency("a"));
    quick!(c.iam.find_agencies("n"));
    quick!(c.iam.list_grants("a", &GrantScope::Domain));
    quick!(c.iam.find_role("r"));
    quick!(c.iam.list_projects());
    quick!(c.commvault.list());
    quick!(c.commvault.job(3));
    quick!(c.commvault.read_client(7));
    quick!(c.commvault.delete(7, false));
    let vault = NewS3Vault {
        name: "n".into(),
        plan_id: 3,
        plan_name: "s3-plan".into(),
        endpoints: vec![(2, None)],
        owners: vec![1],
        user_groups: Vec::new(),
        rotate_keys: None,
    };
    quick!(c.commvault.create(&vault));
    quick!(c.rackspace.get_agent("a"));
    quick!(c.rackspace.find_agents("m"));
    quick!(c.rackspace.agent_online("a"));
    quick!(c.rackspace.update_agent("a", &[AgentChange::Enabled(true)]));
    quick!(c.rackspace.request_encryption("a", None, "00"));
    quick!(c.rackspace.encryption_result("a", "r"));
    quick!(c.rackspace.encryption_events("a"));
}

#[test]
fn no_answer_crashes_a_provider_client() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let shared: Shared = Arc::default();
    let base = rt.block_on(server(shared.clone()));
    let mut runner = TestRunner::new(Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&answer(), |answer| {
            *shared.lock().expect("answer") = answer;
            // New clients each case: no token or session carries over.
            rt.block_on(call_everything(&clients(&base)));
            Ok(())
        })
        .expect("every answer gives a value or a typed error");
}

#[test]
fn an_oversized_answer_is_a_typed_error() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let shared: Shared = Arc::new(Mutex::new(Answer {
        status: 200,
        headers: Vec::new(),
        body: vec![b' '; super::body::MAX_BODY + 1],
        valid_sign_in: true,
    }));
    let base = rt.block_on(server(shared));
    let c = clients(&base);
    rt.block_on(async {
        let vault = c.vaults.get("v1").await;
        assert!(
            matches!(&vault, Err(e) if e.to_string().contains("larger than")),
            "{vault:?}"
        );
        let agent = c.rackspace.get_agent("a").await;
        assert!(
            matches!(&agent, Err(e) if e.to_string().contains("larger than")),
            "{agent:?}"
        );
        let list = c.commvault.list().await;
        assert!(
            matches!(&list, Err(e) if e.to_string().contains("larger than")),
            "{list:?}"
        );
    });
}

mod signer {
    use proptest::prelude::*;

    use crate::provider::huawei::errors::{parse_error_body, parse_retry_after};
    use crate::provider::huawei::signer::{
        SignableRequest, authorization, canonical_query, canonical_uri, expected_signature,
        parse_authorization, parse_sdk_date,
    };

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            ".{0,40}",
            "[%/?&=a-zA-Z0-9 ._~-]{0,40}",
            "(%[0-9A-Fa-f]{0,2}|[^%]){0,20}"
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

        /// Arbitrary paths, queries and header values sign without a
        /// panic, and the signature verifies the way the gateway checks it.
        #[test]
        fn any_request_signs_and_verifies(
            method in "[A-Za-z]{1,8}",
            path in text(),
            query in prop::collection::vec((text(), text()), 0..5),
            extra in prop::collection::vec(("[a-zA-Z_-]{1,12}", text()), 0..5),
            secret in ".{0,40}",
        ) {
            let mut headers = vec![
                ("host".to_string(), "cbr.example.com".to_string()),
                ("x-sdk-date".to_string(), "20261205T120000Z".to_string()),
            ];
            headers.extend(extra);
            let req = SignableRequest {
                method: &method,
                path: &path,
                query: &query,
                headers: &headers,
                payload_hash: "e3b0".into(),
            };
            let header = authorization(&req, "AK", &secret);
            prop_assert!(canonical_uri(&path).ends_with('/'));
            let _ = canonical_query(&query);
            let parsed = parse_authorization(&header).expect("coffer's own header parses");
            let signature = expected_signature(&req, &parsed, &secret);
            prop_assert_eq!(parsed.signature, signature);
        }

        /// What a server sends back in the places coffer parses by hand.
        #[test]
        fn odd_header_and_body_text_parses_or_is_refused(value in ".{0,80}", body in ".{0,200}") {
            let _ = parse_authorization(&value);
            let _ = parse_sdk_date(&value);
            let _ = parse_retry_after(&value, jiff::Timestamp::now());
            let _ = parse_error_body(&body);
        }
    }
}
