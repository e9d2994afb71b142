//! The Rackspace part of the admin API (`/_emulator/rackspace/...`) and of
//! `RunningEmulator`'s methods: the agents as the emulator holds them (with their
//! private keys, which tests use to read what coffer encrypted), how each
//! simulated agent behaves, and the crash window of an encryption request.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use rsa::RsaPrivateKey;
use rsa::pkcs1::EncodeRsaPrivateKey;
use serde::Deserialize;
use serde_json::{Value, json};

use super::state::RackspaceState;
use super::store::{Agent, Behaviour};
use crate::emulator::common::lock;

pub fn router(rackspace: Arc<RackspaceState>) -> Router {
    Router::new()
        .route("/_emulator/rackspace/agents", get(list).post(register))
        .route("/_emulator/rackspace/agents/{id}", put(put_behaviour))
        .route("/_emulator/rackspace/answer-delay", put(put_answer_delay))
        .with_state(rackspace)
}

/// An agent as the admin API shows it.
fn view(agent: &Agent) -> Value {
    let pem = agent
        .key
        .as_ref()
        .and_then(|k| k.to_pkcs1_pem(rsa::pkcs8::LineEnding::LF).ok())
        .map(|p| p.to_string())
        .unwrap_or_default();
    let requests: Vec<Value> = agent
        .requests
        .iter()
        .map(|(id, r)| {
            json!({
                "id": id, "action": r.kind.action(),
                "oldEncryptedPasswordHex": r.old_hex, "newEncryptedPasswordHex": r.new_hex,
                "reported": r.report.is_some(), "succeeded": r.report.map(|(s, _)| s),
            })
        })
        .collect();
    json!({
        "id": agent.id, "machineId": agent.machine_id, "encrypted": agent.encrypted,
        "enabled": agent.enabled, "useInternal": agent.use_internal, "logLevel": agent.log_level,
        "behaviour": agent.behaviour, "requests": requests, "privateKeyPem": pem,
    })
}

pub fn agents_of(rackspace: &RackspaceState) -> Value {
    let agents = lock(&rackspace.agents);
    json!({"agents": agents.all().map(view).collect::<Vec<_>>()})
}

async fn list(State(rackspace): State<Arc<RackspaceState>>) -> Json<Value> {
    Json(agents_of(&rackspace))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewAgent {
    id: String,
    machine_id: String,
}

async fn register(
    State(rackspace): State<Arc<RackspaceState>>,
    Json(agent): Json<NewAgent>,
) -> Response {
    add_agent(&rackspace, &agent.id, &agent.machine_id);
    StatusCode::CREATED.into_response()
}

async fn put_behaviour(
    State(rackspace): State<Arc<RackspaceState>>,
    Path(id): Path<String>,
    Json(behaviour): Json<Behaviour>,
) -> Response {
    match lock(&rackspace.agents).get_mut(&id) {
        Ok(agent) => {
            agent.behaviour = behaviour;
            Json(view(agent)).into_response()
        }
        Err(_) => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "no such agent"})),
        )
            .into_response(),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AnswerDelay {
    millis: u64,
}

async fn put_answer_delay(
    State(rackspace): State<Arc<RackspaceState>>,
    Json(delay): Json<AnswerDelay>,
) -> StatusCode {
    set_answer_delay(&rackspace, Duration::from_millis(delay.millis));
    StatusCode::NO_CONTENT
}

/// Every Identity token issued so far, and the passwords of agents
/// registered through the API: credentials that must appear nowhere in
/// coffer's output (the e2e credentials check).
pub fn credentials_issued(rackspace: &RackspaceState) -> Vec<String> {
    let mut issued: Vec<String> = lock(&rackspace.tokens).keys().cloned().collect();
    issued.extend(
        lock(&rackspace.agents)
            .all()
            .filter_map(|a| a.password.clone()),
    );
    issued
}

/// How agent `id` behaves; `None` when there is no such agent.
pub fn behaviour(rackspace: &RackspaceState, id: &str) -> Option<Behaviour> {
    lock(&rackspace.agents).get(id).ok().map(|a| a.behaviour)
}

/// Changes how the simulated agent `id` behaves.
pub fn set_behaviour(rackspace: &RackspaceState, id: &str, behaviour: Behaviour) {
    if let Ok(agent) = lock(&rackspace.agents).get_mut(id) {
        agent.behaviour = behaviour;
    }
}

/// The private key of agent `id`: what only the agent can decrypt with.
pub fn private_key(rackspace: &RackspaceState, id: &str) -> Option<RsaPrivateKey> {
    lock(&rackspace.agents)
        .get(id)
        .ok()
        .and_then(|a| a.key.clone())
}

/// The passphrase agent `id` applied last.
pub fn agent_passphrase(rackspace: &RackspaceState, id: &str) -> Option<String> {
    lock(&rackspace.agents)
        .get(id)
        .ok()
        .and_then(|a| a.passphrase.clone())
}

/// Registers another agent (online, reporting at once).
pub fn add_agent(rackspace: &RackspaceState, id: &str, machine_id: &str) {
    let region = rackspace.account.region.clone();
    let behaviour = Behaviour {
        online: true,
        fail_reports: false,
        report_delay_ms: 0,
    };
    lock(&rackspace.agents).register(id, machine_id, &region, behaviour);
}

/// Holds each vault-encryption answer this long after the request is made.
pub fn set_answer_delay(rackspace: &RackspaceState, delay: Duration) {
    lock(&rackspace.knobs).answer_delay = delay;
}

pub fn set_catalog_backup_base(rackspace: &RackspaceState, base: Option<String>) {
    *lock(&rackspace.catalog_backup_base) = base;
}
