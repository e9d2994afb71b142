//! The shared admin API under `/_emulator/` on the same port: counters, the
//! request log and live fault settings. Each cloud serves its own admin
//! routes beside these (its stores, its live settings). No auth and no
//! faults: it is the test's window into the emulator, not part of the
//! emulated cloud.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::common::{Common, lock};
use super::faults::{FaultConfig, FaultError};
use super::operation::{Operation, UnknownOperation};
use super::recorder::{OperationCounter, RecordedRequest};

/// A refused admin request, answered as `{"error": "..."}` with 400.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Operation(#[from] UnknownOperation),
    #[error(transparent)]
    Faults(#[from] FaultError),
    #[error("the body is not a fault configuration: {0}")]
    FaultsBody(String),
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

pub fn router(common: Arc<Common>) -> Router {
    Router::new()
        .route("/_emulator/counters", get(counters))
        .route("/_emulator/requests", get(requests))
        .route("/_emulator/faults", get(get_faults).put(put_faults))
        .route("/_emulator/reset-counters", post(reset_counters))
        .with_state(common)
}

/// Counters by operation name; only operations seen since the last reset.
pub fn counters_of(common: &Common) -> BTreeMap<Operation, OperationCounter> {
    lock(&common.recorder).counters()
}

pub fn requests_of(common: &Common, operation: Option<Operation>) -> Vec<RecordedRequest> {
    lock(&common.recorder).requests(operation)
}

pub fn set_faults(common: &Common, config: FaultConfig) -> Result<(), FaultError> {
    lock(&common.faults).replace(config)
}

async fn counters(
    State(common): State<Arc<Common>>,
) -> Json<BTreeMap<Operation, OperationCounter>> {
    Json(counters_of(&common))
}

#[derive(Deserialize)]
struct RequestsQuery {
    operation: Option<String>,
}

async fn requests(
    State(common): State<Arc<Common>>,
    Query(query): Query<RequestsQuery>,
) -> Result<Json<Value>, AdminError> {
    let operation = query
        .operation
        .as_deref()
        .map(str::parse::<Operation>)
        .transpose()?;
    Ok(Json(json!({ "requests": requests_of(&common, operation) })))
}

async fn get_faults(State(common): State<Arc<Common>>) -> Json<FaultConfig> {
    Json(lock(&common.faults).config().clone())
}

/// Replaces the whole fault configuration; omitted fields turn that fault off.
async fn put_faults(
    State(common): State<Arc<Common>>,
    body: axum::body::Bytes,
) -> Result<Json<FaultConfig>, AdminError> {
    let config: FaultConfig =
        serde_json::from_slice(&body).map_err(|e| AdminError::FaultsBody(e.to_string()))?;
    set_faults(&common, config)?;
    Ok(Json(lock(&common.faults).config().clone()))
}

async fn reset_counters(State(common): State<Arc<Common>>) -> StatusCode {
    lock(&common.recorder).reset();
    StatusCode::NO_CONTENT
}
