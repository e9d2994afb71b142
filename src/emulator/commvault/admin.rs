//! The Commvault part of the admin API (`/_emulator/commvault`,
//! `/_emulator/s3-vaults`): the live settings, expiring every session, and
//! the S3 vaults as the CommCell holds them.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::settings::CommvaultSettings;
use super::state::CommvaultState;
use crate::emulator::common::lock;

/// A body that is not a settings object, answered as `{"error": "..."}`
/// with 400 like the shared admin routes' refusals.
#[derive(Debug, thiserror::Error)]
#[error("the body is not a Commvault settings object: {0}")]
pub struct SettingsBodyError(String);

impl IntoResponse for SettingsBodyError {
    fn into_response(self) -> Response {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": self.to_string()})),
        )
            .into_response()
    }
}

pub fn router(commvault: Arc<CommvaultState>) -> Router {
    Router::new()
        .route("/_emulator/commvault", get(get_settings).put(put_settings))
        .route("/_emulator/commvault/expire-tokens", post(expire_tokens))
        .route("/_emulator/s3-vaults", get(s3_vaults))
        .with_state(commvault)
}

/// The live settings (job time and outcome, soft errors, token idle time).
pub fn settings_of(commvault: &CommvaultState) -> CommvaultSettings {
    lock(&commvault.settings).clone()
}

/// Replaces the live settings; the token idle time applies to every token
/// from its next use.
pub fn set_settings(commvault: &CommvaultState, settings: CommvaultSettings) {
    lock(&commvault.sessions).set_idle(settings.token_idle);
    *lock(&commvault.settings) = settings;
}

/// Every session token counts as idle from now on, so its next use answers 401.
pub fn expire_all_tokens(commvault: &CommvaultState) {
    lock(&commvault.sessions).expire_all(Instant::now());
}

/// The `Authtoken`s of the sessions still held.
pub fn tokens_of(commvault: &CommvaultState) -> Vec<String> {
    lock(&commvault.sessions).tokens()
}

/// Every S3 vault, retired ones included.
pub fn s3_vaults_of(commvault: &CommvaultState) -> Value {
    let cell = lock(&commvault.commcell);
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

async fn get_settings(State(commvault): State<Arc<CommvaultState>>) -> Json<CommvaultSettings> {
    Json(settings_of(&commvault))
}

async fn put_settings(
    State(commvault): State<Arc<CommvaultState>>,
    body: axum::body::Bytes,
) -> Result<Json<CommvaultSettings>, SettingsBodyError> {
    let settings: CommvaultSettings =
        serde_json::from_slice(&body).map_err(|e| SettingsBodyError(e.to_string()))?;
    set_settings(&commvault, settings);
    Ok(Json(settings_of(&commvault)))
}

async fn expire_tokens(State(commvault): State<Arc<CommvaultState>>) -> StatusCode {
    expire_all_tokens(&commvault);
    StatusCode::NO_CONTENT
}

async fn s3_vaults(State(commvault): State<Arc<CommvaultState>>) -> Json<Value> {
    Json(s3_vaults_of(&commvault))
}
