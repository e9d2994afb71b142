//! Rackspace as the emulator serves it, mirroring `src/provider/rackspace/`:
//! Identity v2.0 tokens with a catalog pointing back at the emulator, Cloud
//! Backup agents and their vaults' encryption, the documented agent
//! registration (`POST`/`DELETE agents`: real agents that report for
//! themselves), and a simulated agent that applies the encryption requests
//! of the agents the emulator registered itself and reports them through
//! seed 000's endpoint.

pub mod admin;
pub mod agent_sim;
pub mod handlers;
pub mod identity;
pub mod registration;
pub mod store;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, patch, post};
use jiff::Timestamp;
use serde_json::json;

use self::store::{AgentStore, Behaviour};
use super::config::EmulatorConfig;
use super::faults::{FaultKind, Injected};
use super::operation::Operation;
use super::state::{Shared, lock};

/// The one Rackspace user the emulator knows.
#[derive(Clone, Debug)]
pub struct Account {
    pub username: String,
    pub api_key: String,
    pub password: String,
    /// Also the `{project_id}` of Cloud Backup paths.
    pub tenant_id: String,
    pub region: String,
}

/// Rackspace's state: who may call, issued tokens, and the agents.
pub struct RackspaceState {
    pub account: Account,
    pub token_ttl: Duration,
    /// Token id → expiry.
    pub tokens: Mutex<HashMap<String, Timestamp>>,
    pub agents: Mutex<AgentStore>,
    pub knobs: Mutex<Knobs>,
}

/// Test knobs beyond the fault settings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Knobs {
    /// How long a vault-encryption request is held, already made, before
    /// it is answered: the window in which a crash loses the request id.
    pub answer_delay: Duration,
}

impl RackspaceState {
    pub fn new(config: &EmulatorConfig) -> Self {
        let rax = &config.rackspace;
        let mut agents = AgentStore::new(rax.result_ttl);
        agents.register(
            &rax.agent_id,
            &rax.agent_machine_id,
            &rax.region,
            Behaviour {
                online: true,
                fail_reports: false,
                report_delay_ms: u64::try_from(rax.report_delay.as_millis()).unwrap_or(u64::MAX),
            },
        );
        Self {
            account: Account {
                username: rax.username.clone(),
                api_key: rax.api_key.clone(),
                password: rax.password.clone(),
                tenant_id: rax.tenant_id.clone(),
                region: rax.region.clone(),
            },
            token_ttl: config.token_ttl,
            tokens: Mutex::new(HashMap::new()),
            agents: Mutex::new(agents),
            knobs: Mutex::new(Knobs::default()),
        }
    }

    /// A new token, valid for the configured time.
    pub fn issue_token(&self, now: Timestamp) -> (String, Timestamp) {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let ttl = jiff::SignedDuration::try_from(self.token_ttl)
            .unwrap_or(jiff::SignedDuration::from_hours(24));
        let expires = now + ttl;
        lock(&self.tokens).insert(id.clone(), expires);
        (id, expires)
    }

    fn token_valid(&self, token: &str, now: Timestamp) -> bool {
        lock(&self.tokens)
            .get(token)
            .is_some_and(|expires| now < *expires)
    }
}

/// A Rackspace fault: `{"message", "errors"}` with a status.
pub fn fault(status: StatusCode, message: impl Into<String>) -> Response {
    let message = message.into();
    (
        status,
        Json(json!({"message": message, "errors": [message]})),
    )
        .into_response()
}

/// Every Identity and Cloud Backup route, each behind the gate for its operation.
pub fn router(shared: &Arc<Shared>) -> Router<Arc<Shared>> {
    let gated = |op: Operation, route: MethodRouter<Arc<Shared>>| {
        let gate = RaxGate {
            shared: shared.clone(),
            op,
        };
        route.layer(from_fn_with_state(gate, rax_gate))
    };
    use Operation::*;
    const AGENT: &str = "/v2/{project_id}/agents/{agent_id}";
    const REQUESTS: &str = "/v2/{project_id}/agents/{agent_id}/vault-encryption-requests";
    const REQUEST: &str =
        "/v2/{project_id}/agents/{agent_id}/vault-encryption-requests/{request_id}";
    Router::new()
        .route(
            "/v2.0/tokens",
            gated(RaxCreateToken, post(identity::create_token)),
        )
        .route(
            "/v2/{project_id}/agents",
            gated(RaxListAgents, get(handlers::list_agents))
                .merge(gated(RaxRegisterAgent, post(registration::register_agent))),
        )
        .route(
            AGENT,
            gated(RaxGetAgent, get(handlers::get_agent))
                .merge(gated(RaxUpdateAgent, patch(handlers::update_agent)))
                .merge(gated(RaxDeleteAgent, delete(registration::delete_agent))),
        )
        .route(
            &format!("{AGENT}/status"),
            gated(RaxGetAgentStatus, get(handlers::agent_status)),
        )
        .route(
            &format!("{AGENT}/events"),
            gated(RaxListAgentEvents, get(handlers::list_events)),
        )
        .route(
            REQUESTS,
            gated(
                RaxRequestVaultEncryption,
                post(handlers::request_encryption),
            ),
        )
        .route(
            REQUEST,
            gated(
                RaxGetVaultEncryptionResult,
                get(handlers::encryption_result),
            )
            .merge(gated(
                RaxReportVaultEncryptionResult,
                post(handlers::report_result),
            )),
        )
}

/// The gate's state: shared emulator state plus the operation it guards.
#[derive(Clone)]
pub struct RaxGate {
    pub shared: Arc<Shared>,
    pub op: Operation,
}

/// Latency, the token check, the shared fault injection (answered in
/// Rackspace's shape), then the operation and maybe a lost answer.
pub async fn rax_gate(State(gate): State<RaxGate>, req: Request, next: Next) -> Response {
    let RaxGate { shared, op } = gate;
    let latency = lock(&shared.faults).latency(rand::random());
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let mut response = match refusal(&shared, op, &req) {
        Some(refused) => refused,
        None => {
            let response = next.run(req).await;
            let lose = response.status().is_success()
                && lock(&shared.faults).lose_response(op, rand::random());
            if lose {
                tracing::info!(%op, "losing the response of a successful call");
                let mut lost = fault(StatusCode::GATEWAY_TIMEOUT, "Gateway Timeout");
                lost.extensions_mut().insert(FaultKind::LostResponse);
                lost
            } else {
                response
            }
        }
    };
    response.extensions_mut().insert(op);
    response
}

fn refusal(shared: &Shared, op: Operation, req: &Request) -> Option<Response> {
    if op.requires_auth() {
        let token = req
            .headers()
            .get("x-auth-token")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !shared.rackspace.token_valid(token, Timestamp::now()) {
            return Some(fault(
                StatusCode::UNAUTHORIZED,
                "Authentication required: the token is missing, unknown or expired.",
            ));
        }
        let project = req.uri().path().split('/').nth(2).unwrap_or_default();
        if project != shared.rackspace.account.tenant_id {
            return Some(fault(
                StatusCode::UNAUTHORIZED,
                format!("The token does not grant access to project {project}."),
            ));
        }
    }
    let injected = lock(&shared.faults).before(op, Instant::now(), rand::random())?;
    let mut response = match injected {
        Injected::Throttled { retry_after, .. } => {
            let mut r = fault(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable");
            let secs = retry_after.as_secs().max(1);
            if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, value);
            }
            r.extensions_mut().insert(FaultKind::Throttled);
            r
        }
        Injected::Error(status) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut r = fault(status, "Fault injected by the emulator");
            r.extensions_mut().insert(FaultKind::InjectedError);
            r
        }
    };
    response.extensions_mut().insert(op);
    Some(response)
}
