//! Cloud Backup's documented agent registration: `POST agents` registers an
//! agent with its RSA public key and answers 201 with the agent, its
//! password and an unencrypted vault; `DELETE agents/{id}` removes it. An
//! agent registered this way is real: the emulator holds no private key
//! for it and does not report on its behalf (see `agent_sim`); whoever
//! registered it reads its events and reports (seed 000).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rsa::{BigUint, RsaPublicKey};
use serde_json::Value;

use super::state::RackspaceState;
use super::store::{Agent, Behaviour, StoreError};
use crate::emulator::common::lock;

/// What a registration must carry.
#[derive(Debug)]
pub struct Registration {
    pub name: String,
    pub machine_id: String,
    pub region: Option<String>,
    pub use_internal: bool,
    pub public_key: RsaPublicKey,
}

/// Reads a registration body; the message says what is missing or wrong.
pub fn parse(body: &Value) -> Result<Registration, StoreError> {
    let bad = |why: &str| StoreError::BadRequest(format!("Invalid agent registration: {why}."));
    let text = |value: &Value| value.as_str().map(str::to_owned);
    let name = text(&body["name"]).ok_or_else(|| bad("name is required"))?;
    let machine_id =
        text(&body["host"]["machine"]["id"]).ok_or_else(|| bad("host.machine.id is required"))?;
    let key = &body["rsa_public_key"];
    let modulus = text(&key["modulus"]).ok_or_else(|| bad("rsa_public_key.modulus is required"))?;
    // Documented as the number 10001: hex digits, whether sent as a
    // string or a number.
    let exponent = match &key["exponent"] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return Err(bad("rsa_public_key.exponent is required")),
    };
    let hex = |digits: &str, what: &str| {
        BigUint::parse_bytes(digits.as_bytes(), 16)
            .ok_or_else(|| bad(&format!("rsa_public_key.{what} is not hexadecimal")))
    };
    let public_key = RsaPublicKey::new(hex(&modulus, "modulus")?, hex(&exponent, "exponent")?)
        .map_err(|e| bad(&format!("rsa_public_key is not a usable RSA key ({e})")))?;
    Ok(Registration {
        name,
        machine_id,
        region: text(&body["host"]["region"]),
        use_internal: body["vault"]["use_internal"].as_bool().unwrap_or(false),
        public_key,
    })
}

/// The agent a registration makes: a new id and password, an empty and
/// unencrypted vault, online, and no private key.
pub fn agent_of(registration: Registration, default_region: &str) -> Agent {
    Agent {
        id: uuid::Uuid::new_v4().to_string(),
        name: registration.name,
        machine_id: registration.machine_id,
        enabled: true,
        log_level: "warn".into(),
        key: None,
        public_key: registration.public_key,
        password: Some(uuid::Uuid::new_v4().simple().to_string()),
        vault_id: uuid::Uuid::new_v4().to_string(),
        vault_state: "created".into(),
        encrypted: false,
        use_internal: registration.use_internal,
        region: registration
            .region
            .unwrap_or_else(|| default_region.to_string()),
        vault_empty: true,
        behaviour: Behaviour {
            online: true,
            fail_reports: false,
            report_delay_ms: 0,
        },
        passphrase: None,
        requests: Default::default(),
        events: Vec::new(),
        read_events: 0,
    }
}

/// `POST /v2/{project_id}/agents`: 201, `Location`, the agent with its password.
pub async fn register_agent(
    State(rackspace): State<Arc<RackspaceState>>,
    Path(project): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<Response, StoreError> {
    let registration = parse(&body)?;
    let agent = agent_of(registration, &rackspace.account.region);
    let base = super::handlers::base_url(&headers);
    let mut view = agent.view(&project, &base);
    view["password"] = agent.password.clone().into();
    let location = format!("{base}/v2/{project}/agents/{}", agent.id);
    lock(&rackspace.agents).insert(agent);
    let mut response = (StatusCode::CREATED, Json(view)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// `DELETE /v2/{project_id}/agents/{agent_id}`: 204, or 404 when missing.
pub async fn delete_agent(
    State(rackspace): State<Arc<RackspaceState>>,
    Path((_project, id)): Path<(String, String)>,
) -> Result<StatusCode, StoreError> {
    lock(&rackspace.agents).remove(&id)?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
#[path = "registration_tests.rs"]
mod tests;
