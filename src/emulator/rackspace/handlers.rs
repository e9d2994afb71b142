//! Cloud Backup's agent routes: agents, their status and settings, events,
//! vault-encryption requests, their results, and the agent's report (seed 000).

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};

use super::fault::fault;
use super::state::RackspaceState;
use super::store::StoreError;
use crate::emulator::common::lock;
use crate::provider::rackspace::client::JSON_PATCH;
use crate::provider::rackspace::wire::EncryptionRequest;

type AgentPath = Path<(String, String)>;
type RequestPath = Path<(String, String, String)>;

impl IntoResponse for StoreError {
    fn into_response(self) -> Response {
        let status = match &self {
            StoreError::AgentNotFound | StoreError::RequestNotFound => StatusCode::NOT_FOUND,
            StoreError::OldPasswordForUnencrypted
            | StoreError::NoOldPasswordForEncrypted
            | StoreError::VaultNotEmpty => StatusCode::FORBIDDEN,
            StoreError::AlreadyReported => StatusCode::CONFLICT,
            StoreError::BadRequest(_) => StatusCode::BAD_REQUEST,
        };
        fault(status, self.to_string())
    }
}

pub fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("{}://{host}", crate::emulator::tls::scheme(headers))
}

#[derive(Deserialize)]
pub struct AgentQuery {
    host_machine_id: Option<String>,
}

/// `GET /v2/{project_id}/agents[?host_machine_id=]`
pub async fn list_agents(
    State(rackspace): State<Arc<RackspaceState>>,
    Path(project): Path<String>,
    Query(query): Query<AgentQuery>,
    headers: HeaderMap,
) -> Response {
    let base = base_url(&headers);
    let agents = lock(&rackspace.agents);
    let list: Vec<Value> = agents
        .all()
        .filter(|a| {
            query
                .host_machine_id
                .as_ref()
                .is_none_or(|m| *m == a.machine_id)
        })
        .map(|a| a.view(&project, &base))
        .collect();
    Json(json!({"agents": list, "links": []})).into_response()
}

/// `GET /v2/{project_id}/agents/{agent_id}`
pub async fn get_agent(
    State(rackspace): State<Arc<RackspaceState>>,
    Path((project, id)): AgentPath,
    headers: HeaderMap,
) -> Result<Response, StoreError> {
    let agents = lock(&rackspace.agents);
    let agent = agents.get(&id)?;
    Ok(Json(agent.view(&project, &base_url(&headers))).into_response())
}

/// `GET /v2/{project_id}/agents/{agent_id}/status`
pub async fn agent_status(
    State(rackspace): State<Arc<RackspaceState>>,
    Path((_, id)): AgentPath,
) -> Result<Response, StoreError> {
    let agents = lock(&rackspace.agents);
    let agent = agents.get(&id)?;
    Ok(Json(json!({"busy": false, "online": agent.behaviour.online})).into_response())
}

/// `PATCH /v2/{project_id}/agents/{agent_id}`: JSON Patch only.
pub async fn update_agent(
    State(rackspace): State<Arc<RackspaceState>>,
    Path((_, id)): AgentPath,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, StoreError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !content_type.starts_with(JSON_PATCH) {
        return Ok(fault(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("PATCH requires Content-Type {JSON_PATCH}, not {content_type:?}."),
        ));
    }
    let ops: Vec<Value> = serde_json::from_slice(&body)
        .map_err(|e| StoreError::BadRequest(format!("Invalid JSON Patch: {e}")))?;
    lock(&rackspace.agents).patch(&id, &ops)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
pub struct EventQuery {
    marker: Option<usize>,
    limit: Option<usize>,
    sort_dir: Option<String>,
}

/// `GET /v2/{project_id}/agents/{agent_id}/events?marker=&limit=&sort_dir=`
pub async fn list_events(
    State(rackspace): State<Arc<RackspaceState>>,
    Path((_, id)): AgentPath,
    Query(query): Query<EventQuery>,
) -> Result<Response, StoreError> {
    let agents = lock(&rackspace.agents);
    let agent = agents.get(&id)?;
    let after = query.marker.unwrap_or(0);
    let mut events: Vec<Value> = agent.events.iter().skip(after).cloned().collect();
    if query.sort_dir.as_deref() == Some("desc") {
        events.reverse();
    }
    events.truncate(query.limit.unwrap_or(100));
    Ok(Json(json!({"events": events, "links": []})).into_response())
}

/// `POST .../vault-encryption-requests`: 202 with the request in `Location`.
pub async fn request_encryption(
    State(rackspace): State<Arc<RackspaceState>>,
    Path((project, id)): AgentPath,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, StoreError> {
    let request: EncryptionRequest = serde_json::from_slice(&body).map_err(|e| {
        StoreError::BadRequest(format!(
            "The body must hold new_encrypted_password_hex and old_encrypted_password_hex (null or hex): {e}"
        ))
    })?;
    let request_id = lock(&rackspace.agents).request_encryption(
        &id,
        request.old_encrypted_password_hex,
        request.new_encrypted_password_hex,
        Timestamp::now(),
    )?;
    // The documented example spells the collection in the singular.
    let location = format!(
        "{}/v2/{project}/agents/{id}/vault-encryption-request/{request_id}",
        base_url(&headers)
    );
    let hold = lock(&rackspace.knobs).answer_delay;
    if !hold.is_zero() {
        // Made, not answered yet: the window a crash test aims at.
        tokio::time::sleep(hold).await;
    }
    Ok((StatusCode::ACCEPTED, [(header::LOCATION, location)]).into_response())
}

/// `GET .../vault-encryption-requests/{request_id}`: 404 until the agent
/// reports, the result for a while after, then 404 again.
pub async fn encryption_result(
    State(rackspace): State<Arc<RackspaceState>>,
    Path((_, id, request_id)): RequestPath,
) -> Result<Response, StoreError> {
    let agents = lock(&rackspace.agents);
    match agents.result(&id, &request_id, Instant::now())? {
        Some(result) => Ok(Json(result).into_response()),
        None => Err(StoreError::RequestNotFound),
    }
}

/// Seed 000: the agent reports a request's result; 204.
pub async fn report_result(
    State(rackspace): State<Arc<RackspaceState>>,
    Path((_, id, request_id)): RequestPath,
    body: Bytes,
) -> Result<Response, StoreError> {
    let body: Value = serde_json::from_slice(&body)
        .map_err(|e| StoreError::BadRequest(format!("Invalid JSON: {e}")))?;
    lock(&rackspace.agents).report(&id, &request_id, &body, (Instant::now(), Timestamp::now()))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
