//! The outermost middleware on the provider routes: gives each request an
//! `X-Request-Id`, buffers its body once (signature checks and the request
//! log both need the bytes), and records the answered request.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

use super::faults::FaultKind;
use super::huawei::error::GatewayError;
use super::operation::Operation;
use super::query::{decode_query_pairs, query_map};
use super::recorder::{RecordedRequest, body_for_log};
use super::state::{Shared, lock};

/// Huawei's gateway takes AK/SK-signed bodies up to about 12 MB.
pub const MAX_BODY_BYTES: usize = 12 * 1024 * 1024;

/// The id of the request being served, as sent back in `X-Request-Id`.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// The request body, buffered once for everyone who needs the bytes.
#[derive(Clone, Debug)]
pub struct RawBody(pub Bytes);

pub async fn observe(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let received_at = jiff::Timestamp::now();
    let request_id = uuid::Uuid::new_v4().simple().to_string();
    let (mut parts, body) = req.into_parts();
    let method = parts.method.to_string();
    let path = parts.uri.path().to_string();
    let query = query_map(&decode_query_pairs(parts.uri.query()));
    let (bytes, mut response) = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => {
            parts.extensions.insert(RequestId(request_id.clone()));
            parts.extensions.insert(RawBody(bytes.clone()));
            let req = Request::from_parts(parts, Body::from(bytes.clone()));
            (bytes, next.run(req).await)
        }
        Err(_) => (
            Bytes::new(),
            GatewayError::BodyTooLarge.into_response_with_id(&request_id),
        ),
    };
    let operation = response
        .extensions()
        .get::<Operation>()
        .copied()
        .unwrap_or(Operation::Unknown);
    let status = response.status().as_u16();
    tracing::debug!(%operation, method, path, status, request_id, "served");
    lock(&shared.recorder).record(RecordedRequest {
        seq: 0,
        request_id: request_id.clone(),
        operation,
        method,
        path,
        query,
        body: body_for_log(&bytes),
        status,
        received_at,
        fault: response.extensions().get::<FaultKind>().copied(),
    });
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}
