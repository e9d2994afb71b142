//! Every Commvault request goes through [`dispatch`]: the path below the
//! base is matched without regard to case, then the same order as a real
//! server (added latency, the `Authtoken` check, injected faults shared
//! with the other clouds, the operation, and possibly a lost answer).

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Json, Router};
use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};

use super::commcell::Refusal;
use super::sessions::Refused;
use super::state::CommvaultState;
use crate::emulator::common::{Common, lock};
use crate::emulator::faults::{FaultKind, Injected};
use crate::emulator::observe::RawBody;
use crate::emulator::operation::Operation;
use crate::emulator::query::{decode_query_pairs, query_map};
use crate::provider::commvault::wire::CreateStore;

/// Where the Commvault API is served.
pub const BASE: &str = "/commandcenter/api";

/// What the Commvault routes are served with: the CommCell's state, and
/// the faults shared with the other clouds.
#[derive(Clone)]
pub struct Served {
    pub commvault: Arc<CommvaultState>,
    pub common: Arc<Common>,
}

/// Every Commvault path: the base itself (the probe) and everything below.
pub fn router(served: Served) -> Router {
    Router::new()
        .route(BASE, any(dispatch))
        .route(&format!("{BASE}/"), any(dispatch))
        .route(&format!("{BASE}/{{*rest}}"), any(dispatch))
        .with_state(served)
}

/// One matched route.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Route {
    Probe,
    Login,
    Renew,
    Logout,
    Create,
    List,
    Job(String),
    JobDetails,
    Client(String),
    Retire(String),
    Delete(String),
    Unknown,
}

impl Route {
    /// The route of `method` on `segments` (lower-cased, below the base).
    fn of(method: &Method, segments: &[&str]) -> Self {
        let m = method.as_str();
        match (m, segments) {
            ("GET", []) => Self::Probe,
            ("POST", ["login"]) => Self::Login,
            ("POST", ["renewlogintoken"]) => Self::Renew,
            ("POST", ["logout"]) => Self::Logout,
            ("POST", ["v4", "cvs3store"]) => Self::Create,
            ("GET", ["v4", "cvs3stores"]) => Self::List,
            ("GET", ["job", id]) => Self::Job(id.to_string()),
            ("POST", ["jobdetails"]) => Self::JobDetails,
            // cvpysdk retires with DELETE; the API explorer shows POST.
            ("DELETE" | "POST", ["client", id, "retire"]) => Self::Retire(id.to_string()),
            ("DELETE", ["client", id]) => Self::Delete(id.to_string()),
            ("GET", ["client", id]) => Self::Client(id.to_string()),
            _ => Self::Unknown,
        }
    }

    fn operation(&self) -> Operation {
        match self {
            Self::Probe => Operation::CommvaultProbe,
            Self::Login => Operation::CommvaultLogin,
            Self::Renew => Operation::CommvaultRenewLoginToken,
            Self::Logout => Operation::CommvaultLogout,
            Self::Create => Operation::CreateS3Vault,
            Self::List => Operation::ListS3Vaults,
            Self::Job(_) => Operation::GetJob,
            Self::JobDetails => Operation::GetJobDetails,
            Self::Client(_) => Operation::GetClientProperties,
            Self::Retire(_) => Operation::RetireClient,
            Self::Delete(_) => Operation::DeleteClient,
            Self::Unknown => Operation::Unknown,
        }
    }

    /// Whether the call needs a live `Authtoken`.
    fn needs_token(&self) -> bool {
        !matches!(
            self,
            Self::Probe | Self::Login | Self::Renew | Self::Unknown
        )
    }
}

/// An error body with a status: `{"errorMessage","errorCode"}`.
fn error(status: StatusCode, code: Value, message: impl Into<String>) -> Response {
    let body = json!({"errorMessage": message.into(), "errorCode": code});
    (status, Json(body)).into_response()
}

/// What a handler needs of the request, owned, so no borrow of the
/// request (whose body is not `Sync`) is held across an await.
struct Incoming {
    method: Method,
    path: String,
    token: String,
    body: bytes::Bytes,
    query: std::collections::BTreeMap<String, String>,
}

pub async fn dispatch(State(served): State<Served>, req: Request) -> Response {
    let path = req.uri().path().to_ascii_lowercase();
    let rest = path
        .strip_prefix(&BASE.to_ascii_lowercase())
        .unwrap_or_default()
        .trim_matches('/')
        .to_string();
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let route = Route::of(req.method(), &segments);
    let op = route.operation();
    let incoming = Incoming {
        method: req.method().clone(),
        path: req.uri().path().to_string(),
        token: req
            .headers()
            .get("authtoken")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string(),
        body: req
            .extensions()
            .get::<RawBody>()
            .map(|b| b.0.clone())
            .unwrap_or_default(),
        query: query_map(&decode_query_pairs(req.uri().query())),
    };
    drop(req);
    let mut response = gated(&served, &route, &incoming).await;
    response.extensions_mut().insert(op);
    response
}

async fn gated(served: &Served, route: &Route, req: &Incoming) -> Response {
    let op = route.operation();
    let latency = lock(&served.common.faults).latency(rand::random());
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if route.needs_token() {
        let checked = lock(&served.commvault.sessions).check(&req.token, Instant::now());
        if let Err(refused) = checked {
            let why = match refused {
                Refused::Idle => "the session expired after being idle; renew or log in again",
                Refused::Unknown => "Access denied: no valid Authtoken",
            };
            return error(StatusCode::UNAUTHORIZED, json!(401), why);
        }
    }
    if route != &Route::Probe {
        let injected = lock(&served.common.faults).before(op, Instant::now(), rand::random());
        if let Some(injected) = injected {
            return fault(injected);
        }
    }
    let response = serve(served, route, req);
    let lose = response.status().is_success()
        && lock(&served.common.faults).lose_response(op, rand::random());
    if lose {
        tracing::info!(%op, "losing the answer of a successful Commvault call");
        let mut lost = error(
            StatusCode::GATEWAY_TIMEOUT,
            json!("CONNECTION_PROBLEM"),
            "the web server timed out waiting for the CommServe",
        );
        lost.extensions_mut().insert(FaultKind::LostResponse);
        return lost;
    }
    response
}

fn fault(injected: Injected) -> Response {
    let mut response = match injected {
        Injected::Throttled { retry_after, .. } => {
            let mut r = error(
                StatusCode::TOO_MANY_REQUESTS,
                json!(429),
                "too many requests",
            );
            if let Ok(v) = retry_after.as_secs().max(1).to_string().parse() {
                r.headers_mut().insert("retry-after", v);
            }
            r.extensions_mut().insert(FaultKind::Throttled);
            return r;
        }
        Injected::Error(status) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            error(status, json!("INTERNAL_SERVER_PROBLEM"), "injected fault")
        }
    };
    response.extensions_mut().insert(FaultKind::InjectedError);
    response
}

fn serve(served: &Served, route: &Route, req: &Incoming) -> Response {
    let (body, query) = (&req.body[..], &req.query);
    let cv = &served.commvault;
    let now = Instant::now();
    match route {
        Route::Probe => (StatusCode::OK, "Commvault Command Center API").into_response(),
        Route::Login => login(served, body),
        Route::Renew => {
            #[derive(Deserialize)]
            #[serde(rename_all = "camelCase")]
            struct Renew {
                session_id: String,
            }
            let Ok(renew) = serde_json::from_slice::<Renew>(body) else {
                return error(StatusCode::BAD_REQUEST, json!(2), "sessionId is required");
            };
            match lock(&cv.sessions).renew(&renew.session_id, now) {
                Some(token) => Json(json!({"token": token})).into_response(),
                None => Json(json!({"error": {"errLogMessage": "the session cannot be renewed", "errorCode": 1}}))
                    .into_response(),
            }
        }
        Route::Logout => {
            lock(&cv.sessions).logout(&req.token);
            (StatusCode::OK, "User logged out").into_response()
        }
        Route::Create => create(served, body, now),
        Route::List => {
            let start: usize = query.get("start").and_then(|s| s.parse().ok()).unwrap_or(0);
            let limit: usize = query
                .get("limit")
                .and_then(|s| s.parse().ok())
                .unwrap_or(100);
            let cell = lock(&cv.commcell);
            let total = cell.listed(now).count();
            let page: Vec<Value> = cell
                .listed(now)
                .skip(start)
                .take(limit)
                .map(|s| {
                    json!({"name": s.name, "clientId": s.client_id, "planName": s.plan_name,
                           "planId": s.plan_id, "endpoints": s.endpoints})
                })
                .collect();
            Json(json!({"CVS3Stores": page, "totalRecords": total})).into_response()
        }
        Route::Job(id) => {
            let Ok(id) = id.parse::<i64>() else {
                return error(
                    StatusCode::BAD_REQUEST,
                    json!(2),
                    "the job id is not a number",
                );
            };
            match lock(&cv.commcell).job_summary(id, now) {
                Some(summary) => Json(json!({"totalRecordsWithoutPaging": 1,
                    "jobs": [{"jobSummary": summary}]}))
                .into_response(),
                None => Json(json!({"totalRecordsWithoutPaging": 0, "jobs": []})).into_response(),
            }
        }
        Route::JobDetails => {
            let id = serde_json::from_slice::<Value>(body)
                .ok()
                .and_then(|v| v["jobId"].as_i64());
            match id.and_then(|id| lock(&cv.commcell).job_detail(id, now)) {
                Some(job) => Json(json!({"job": job})).into_response(),
                None => Json(json!({"error": {"errList": [{"errorCode": 2,
                    "errLogMessage": "no such job"}]}}))
                .into_response(),
            }
        }
        Route::Client(id) => {
            let found = id
                .parse()
                .ok()
                .and_then(|id| lock(&cv.commcell).client_properties(id));
            match found {
                Some(properties) => Json(json!({"clientProperties": [properties]})).into_response(),
                None => client_not_found(id),
            }
        }
        Route::Retire(id) => {
            let done = id.parse().is_ok_and(|id| lock(&cv.commcell).retire(id));
            match done {
                true => {
                    Json(json!({"response": {"errorCode": 0, "errorString": ""}})).into_response()
                }
                false => client_not_found(id),
            }
        }
        Route::Delete(id) => {
            let done = id.parse().is_ok_and(|id| lock(&cv.commcell).delete(id));
            match done {
                true => {
                    Json(json!({"response": [{"errorCode": 0, "errorString": ""}]})).into_response()
                }
                false => client_not_found(id),
            }
        }
        Route::Unknown => error(
            StatusCode::NOT_FOUND,
            json!("VALUE_NOT_FOUND"),
            format!("{} {} is not an API of this emulator", req.method, req.path),
        ),
    }
}

fn client_not_found(id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        json!("INVALID_ENTITY_ID"),
        format!("client {id} does not exist"),
    )
}

/// `POST Login`: a token, or HTTP 200 with `errList` as a real CommCell
/// answers a wrong password.
fn login(served: &Served, body: &[u8]) -> Response {
    #[derive(Deserialize)]
    struct Login {
        username: String,
        password: String,
    }
    let Ok(login) = serde_json::from_slice::<Login>(body) else {
        return error(
            StatusCode::BAD_REQUEST,
            json!(2),
            "username and password are required",
        );
    };
    let cv = &served.commvault;
    let user = lock(&cv.commcell).user.clone();
    let password = base64::engine::general_purpose::STANDARD
        .decode(login.password.as_bytes())
        .ok()
        .and_then(|p| String::from_utf8(p).ok());
    if !login.username.eq_ignore_ascii_case(&user.name)
        || password.as_deref() != Some(&user.password)
    {
        return Json(
            json!({"errList": [{"errLogMessage": "Invalid Username or Password", "errorCode": 5}]}),
        )
        .into_response();
    }
    let token = lock(&cv.sessions).issue(user.id, Instant::now());
    Json(json!({"token": token, "userName": user.name, "userGUID": "00000000-0000-0000-0000-000000000001",
                "providerType": 1, "ccn": 0}))
    .into_response()
}

/// `POST V4/CVS3Store` (seed 002).
fn create(served: &Served, body: &[u8], now: Instant) -> Response {
    let req: CreateStore = match serde_json::from_slice(body) {
        Ok(req) => req,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                json!(2),
                format!("invalid request: {e}"),
            );
        }
    };
    let cv = &served.commvault;
    let settings = lock(&cv.settings).clone();
    let mut cell = lock(&cv.commcell);
    match cell.validate(&req) {
        Ok(()) => {}
        Err(Refusal::Invalid(m)) => return error(StatusCode::BAD_REQUEST, json!(2), m),
        Err(Refusal::NotFound(code, m)) => return error(StatusCode::NOT_FOUND, json!(code), m),
        Err(Refusal::Duplicate(m)) => return error(StatusCode::CONFLICT, json!(409), m),
    }
    if rand::random::<f64>() < settings.soft_error_rate {
        return Json(json!({"response": {"errorCode": 2,
            "errorMessage": "Failed to create the S3 vault: the storage pool of the plan is offline"}}))
        .into_response();
    }
    let (client_id, job_id) = cell.create(
        &req,
        settings.job_duration,
        settings.job_failure,
        settings.list_delay,
        now,
    );
    Json(json!({
        "response": {
            "entity": {"clientId": client_id, "clientName": req.bucket.client_name.trim()},
            "errorCode": 0, "errorMessage": "", "warningCode": 0, "warningMessage": "",
        },
        "addEndpointJob": {"jobId": job_id, "response": {"errorCode": "NO_ERROR", "errorMessage": ""}},
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_below_the_base_match_without_regard_to_case() {
        for path in ["v4/cvs3store", "V4/CVS3Store", "v4/cvS3Store"] {
            let lower = path.to_ascii_lowercase();
            let segments: Vec<&str> = lower.split('/').collect();
            assert_eq!(Route::of(&Method::POST, &segments), Route::Create, "{path}");
        }
        assert_eq!(Route::of(&Method::GET, &[]), Route::Probe);
        assert_eq!(
            Route::of(&Method::DELETE, &["client", "7", "retire"]),
            Route::Retire("7".into())
        );
        assert_eq!(Route::of(&Method::PUT, &["login"]), Route::Unknown);
    }
}
