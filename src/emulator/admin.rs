//! The admin API under `/_emulator/` on the same port: counters, the request
//! log, live fault settings and the raw vault store. No auth and no faults:
//! it is the test's window into the emulator, not part of the emulated cloud.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::commvault::CommvaultSettings;
use super::faults::{FaultConfig, FaultError};
use super::huawei::cbr::view;
use super::operation::{Operation, UnknownOperation};
use super::recorder::{OperationCounter, RecordedRequest};
use super::state::{Shared, lock};

/// A refused admin request, answered as `{"error": "..."}` with 400.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Operation(#[from] UnknownOperation),
    #[error(transparent)]
    Faults(#[from] FaultError),
    #[error("the body is not a fault configuration: {0}")]
    FaultsBody(String),
    #[error("the body is not a Commvault settings object: {0}")]
    CommvaultBody(String),
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": self.to_string()})),
        )
            .into_response()
    }
}

pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_emulator/counters", get(counters))
        .route("/_emulator/requests", get(requests))
        .route("/_emulator/faults", get(get_faults).put(put_faults))
        .route("/_emulator/reset-counters", post(reset_counters))
        .route("/_emulator/vaults", get(vaults))
        .route(
            "/_emulator/commvault",
            get(get_commvault).put(put_commvault),
        )
        .route(
            "/_emulator/commvault/expire-tokens",
            post(expire_commvault_tokens),
        )
        .route("/_emulator/s3-vaults", get(s3_vaults))
}

/// Commvault: replaces the live settings; the token idle time applies to
/// every token from its next use.
pub fn set_commvault(shared: &Shared, settings: CommvaultSettings) {
    lock(&shared.commvault.sessions).set_idle(settings.token_idle);
    *lock(&shared.commvault.settings) = settings;
}

/// Commvault: every S3 vault, retired ones included.
pub fn s3_vaults_of(shared: &Shared) -> Value {
    let cell = lock(&shared.commvault.commcell);
    let vaults: Vec<Value> = cell
        .stores
        .values()
        .map(|s| {
            json!({"clientId": s.client_id, "name": s.name, "planId": s.plan_id,
                   "planName": s.plan_name, "endpoints": s.endpoints, "owners": s.owners,
                   "userGroups": s.user_groups, "jobId": s.job_id, "retired": s.retired})
        })
        .collect();
    json!({"count": vaults.len(), "vaults": vaults})
}

async fn get_commvault(State(shared): State<Arc<Shared>>) -> Json<CommvaultSettings> {
    Json(lock(&shared.commvault.settings).clone())
}

async fn put_commvault(
    State(shared): State<Arc<Shared>>,
    body: axum::body::Bytes,
) -> Result<Json<CommvaultSettings>, AdminError> {
    let settings: CommvaultSettings =
        serde_json::from_slice(&body).map_err(|e| AdminError::CommvaultBody(e.to_string()))?;
    set_commvault(&shared, settings);
    Ok(Json(lock(&shared.commvault.settings).clone()))
}

async fn expire_commvault_tokens(State(shared): State<Arc<Shared>>) -> StatusCode {
    lock(&shared.commvault.sessions).expire_all(Instant::now());
    StatusCode::NO_CONTENT
}

async fn s3_vaults(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(s3_vaults_of(&shared))
}

/// Counters by operation name; only operations seen since the last reset.
pub fn counters_of(shared: &Shared) -> BTreeMap<Operation, OperationCounter> {
    lock(&shared.recorder).counters()
}

pub fn requests_of(shared: &Shared, operation: Option<Operation>) -> Vec<RecordedRequest> {
    lock(&shared.recorder).requests(operation)
}

pub fn set_faults(shared: &Shared, config: FaultConfig) -> Result<(), FaultError> {
    lock(&shared.faults).replace(config)
}

/// Every stored vault (including `deleting` ones) as CBR renders it, plus
/// the resource changes still waiting for the association delay.
pub fn vaults_of(shared: &Shared) -> Value {
    let identity = &shared.huawei.identity;
    let mut store = lock(&shared.huawei.vaults);
    store.settle(Instant::now());
    let vaults: Vec<Value> = store
        .newest_first()
        .map(|record| {
            let pending = store.pending_ids(record.id);
            let mut vault = view::vault(record, identity);
            vault["_emulator"] = json!({
                "pending_add": pending.add,
                "pending_remove": pending.remove,
            });
            vault
        })
        .collect();
    json!({"count": vaults.len(), "vaults": vaults})
}

async fn counters(
    State(shared): State<Arc<Shared>>,
) -> Json<BTreeMap<Operation, OperationCounter>> {
    Json(counters_of(&shared))
}

#[derive(Deserialize)]
struct RequestsQuery {
    operation: Option<String>,
}

async fn requests(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<RequestsQuery>,
) -> Result<Json<Value>, AdminError> {
    let operation = query
        .operation
        .as_deref()
        .map(str::parse::<Operation>)
        .transpose()?;
    Ok(Json(json!({ "requests": requests_of(&shared, operation) })))
}

async fn get_faults(State(shared): State<Arc<Shared>>) -> Json<FaultConfig> {
    Json(lock(&shared.faults).config().clone())
}

/// Replaces the whole fault configuration; omitted fields turn that fault off.
async fn put_faults(
    State(shared): State<Arc<Shared>>,
    body: axum::body::Bytes,
) -> Result<Json<FaultConfig>, AdminError> {
    let config: FaultConfig =
        serde_json::from_slice(&body).map_err(|e| AdminError::FaultsBody(e.to_string()))?;
    set_faults(&shared, config)?;
    Ok(Json(lock(&shared.faults).config().clone()))
}

async fn reset_counters(State(shared): State<Arc<Shared>>) -> StatusCode {
    lock(&shared.recorder).reset();
    StatusCode::NO_CONTENT
}

async fn vaults(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(vaults_of(&shared))
}
