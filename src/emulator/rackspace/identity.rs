//! `POST /v2.0/tokens`: Identity v2.0 with an API key or a password. The
//! catalog's `rax:backup` endpoint points back at the emulator, at the host
//! the caller used, so a port-forward or a container name works unchanged.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde_json::json;

use super::fault::fault;
use super::state::RackspaceState;
use crate::emulator::common::lock;
use crate::emulator::observe::RawBody;
use crate::provider::rackspace::wire::TokenRequest;

pub async fn create_token(
    State(rackspace): State<Arc<RackspaceState>>,
    headers: HeaderMap,
    axum::Extension(body): axum::Extension<RawBody>,
) -> Response {
    let Ok(request) = serde_json::from_slice::<TokenRequest>(&body.0) else {
        return fault(
            StatusCode::BAD_REQUEST,
            "Invalid JSON: expected auth with RAX-KSKEY:apiKeyCredentials or passwordCredentials.",
        );
    };
    let account = &rackspace.account;
    let accepted = match (&request.auth.api_key, &request.auth.password) {
        (Some(key), _) => key.username == account.username && key.api_key == account.api_key,
        (None, Some(pw)) => pw.username == account.username && pw.password == account.password,
        (None, None) => {
            return fault(
                StatusCode::BAD_REQUEST,
                "Invalid request: no credentials given.",
            );
        }
    };
    if !accepted {
        return fault(
            StatusCode::UNAUTHORIZED,
            "Unable to authenticate user with credentials provided.",
        );
    }
    let method = match request.auth.api_key {
        Some(_) => "APIKEY",
        None => "PASSWORD",
    };
    let (token, expires) = rackspace.issue_token(Timestamp::now());
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let tenant = &account.tenant_id;
    // Over TLS the catalog hands out https URLs, as the real one does.
    let base = lock(&rackspace.catalog_backup_base)
        .clone()
        .unwrap_or_else(|| format!("{}://{host}", crate::emulator::tls::scheme(&headers)));
    let public_url = format!("{base}/v2/{tenant}");
    let body = json!({"access": {
        "token": {
            "id": token,
            "expires": expires.to_string(),
            "tenant": {"id": tenant, "name": tenant},
            "RAX-AUTH:authenticatedBy": [method],
        },
        "serviceCatalog": [{
            "name": "cloudBackup",
            "type": "rax:backup",
            "endpoints": [{
                "region": account.region,
                "tenantId": tenant,
                "publicURL": public_url,
            }],
        }],
        "user": {"name": account.username},
    }});
    (StatusCode::OK, Json(body)).into_response()
}
