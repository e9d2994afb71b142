//! The Rackspace part of the admin API (`/_emulator/rackspace/...`) and of
//! [`RunningEmulator`]: the agents as the emulator holds them (with their
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

use super::store::{Agent, Behaviour};
use crate::emulator::RunningEmulator;
use crate::emulator::state::{Shared, lock};

pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_emulator/rackspace/agents", get(list).post(register))
        .route("/_emulator/rackspace/agents/{id}", put(set_behaviour))
        .route("/_emulator/rackspace/answer-delay", put(set_answer_delay))
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

pub fn agents_of(shared: &Shared) -> Value {
    let agents = lock(&shared.rackspace.agents);
    json!({"agents": agents.all().map(view).collect::<Vec<_>>()})
}

async fn list(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(agents_of(&shared))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewAgent {
    id: String,
    machine_id: String,
}

async fn register(State(shared): State<Arc<Shared>>, Json(agent): Json<NewAgent>) -> Response {
    let region = shared.rackspace.account.region.clone();
    let behaviour = Behaviour {
        online: true,
        fail_reports: false,
        report_delay_ms: 0,
    };
    lock(&shared.rackspace.agents).register(&agent.id, &agent.machine_id, &region, behaviour);
    StatusCode::CREATED.into_response()
}

async fn set_behaviour(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    Json(behaviour): Json<Behaviour>,
) -> Response {
    match lock(&shared.rackspace.agents).get_mut(&id) {
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

async fn set_answer_delay(
    State(shared): State<Arc<Shared>>,
    Json(delay): Json<AnswerDelay>,
) -> StatusCode {
    lock(&shared.rackspace.knobs).answer_delay = Duration::from_millis(delay.millis);
    StatusCode::NO_CONTENT
}

impl RunningEmulator {
    /// Every Identity token issued so far, and the passwords of agents
    /// registered through the API: credentials that must appear nowhere
    /// in coffer's output (the e2e credentials check).
    pub fn rackspace_credentials_issued(&self) -> Vec<String> {
        let rackspace = &self.shared().rackspace;
        let mut issued: Vec<String> = lock(&rackspace.tokens).keys().cloned().collect();
        issued.extend(
            lock(&rackspace.agents)
                .all()
                .filter_map(|a| a.password.clone()),
        );
        issued
    }

    /// Every Rackspace agent, as `GET /_emulator/rackspace/agents` answers.
    pub fn rackspace_agents(&self) -> Value {
        agents_of(self.shared())
    }

    /// How agent `id` behaves; `None` when there is no such agent.
    pub fn rackspace_behaviour(&self, id: &str) -> Option<Behaviour> {
        lock(&self.shared().rackspace.agents)
            .get(id)
            .ok()
            .map(|a| a.behaviour)
    }

    /// Changes how the simulated agent `id` behaves.
    pub fn set_rackspace_behaviour(&self, id: &str, behaviour: Behaviour) {
        if let Ok(agent) = lock(&self.shared().rackspace.agents).get_mut(id) {
            agent.behaviour = behaviour;
        }
    }

    /// The private key of agent `id`: what only the agent can decrypt with.
    pub fn rackspace_private_key(&self, id: &str) -> Option<RsaPrivateKey> {
        lock(&self.shared().rackspace.agents)
            .get(id)
            .ok()
            .and_then(|a| a.key.clone())
    }

    /// The passphrase agent `id` applied last.
    pub fn rackspace_agent_passphrase(&self, id: &str) -> Option<String> {
        lock(&self.shared().rackspace.agents)
            .get(id)
            .ok()
            .and_then(|a| a.passphrase.clone())
    }

    /// Registers another agent (online, reporting at once).
    pub fn add_rackspace_agent(&self, id: &str, machine_id: &str) {
        let region = self.shared().rackspace.account.region.clone();
        let behaviour = Behaviour {
            online: true,
            fail_reports: false,
            report_delay_ms: 0,
        };
        lock(&self.shared().rackspace.agents).register(id, machine_id, &region, behaviour);
    }

    /// Holds each vault-encryption answer this long after the request is made.
    pub fn set_rackspace_answer_delay(&self, delay: Duration) {
        lock(&self.shared().rackspace.knobs).answer_delay = delay;
    }
}
