//! Rackspace's error answer, the one shape Identity and Cloud Backup share.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A Rackspace fault: `{"message", "errors"}` with a status.
pub fn fault(status: StatusCode, message: impl Into<String>) -> Response {
    let message = message.into();
    (
        status,
        Json(json!({"message": message, "errors": [message]})),
    )
        .into_response()
}
