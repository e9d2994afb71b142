//! The outermost middleware on the provider routes: gives each request an
//! `X-Request-Id`, buffers its body once (signature checks and the request
//! log both need the bytes), and records the answered request. A body over
//! the limit is answered by the `too_large` the server hands in (Huawei's
//! gateway shape, on every cloud's routes), so this knows no cloud.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

use super::common::{Common, lock};
use super::faults::FaultKind;
use super::operation::Operation;
use super::query::{decode_query_pairs, query_map};
use super::recorder::{RecordedRequest, body_for_log};

/// Huawei's gateway takes AK/SK-signed bodies up to about 12 MB.
pub const MAX_BODY_BYTES: usize = 12 * 1024 * 1024;

/// The id of the request being served, as sent back in `X-Request-Id`.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// The request body, buffered once for everyone who needs the bytes.
#[derive(Clone, Debug)]
pub struct RawBody(pub Bytes);

/// The middleware's state: where requests are recorded, and the answer to
/// a body over [`MAX_BODY_BYTES`] (given the request id).
#[derive(Clone)]
pub struct Observer {
    pub common: Arc<Common>,
    pub too_large: fn(&str) -> Response,
}

pub async fn observe(State(observer): State<Observer>, req: Request, next: Next) -> Response {
    let received_at = jiff::Timestamp::now();
    let request_id = uuid::Uuid::new_v4().simple().to_string();
    let (mut parts, body) = req.into_parts();
    let method = parts.method.to_string();
    let path = parts.uri.path().to_string();
    let query = query_map(&decode_query_pairs(parts.uri.query()));
    lock(&observer.common.recorder).begin(&request_id, &method, &path);
    let (bytes, mut response) = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => {
            parts.extensions.insert(RequestId(request_id.clone()));
            parts.extensions.insert(RawBody(bytes.clone()));
            let req = Request::from_parts(parts, Body::from(bytes.clone()));
            (bytes, next.run(req).await)
        }
        Err(_) => (Bytes::new(), (observer.too_large)(&request_id)),
    };
    let operation = response
        .extensions()
        .get::<Operation>()
        .copied()
        .unwrap_or(Operation::Unknown);
    let status = response.status().as_u16();
    tracing::debug!(%operation, method, path, status, request_id, "served");
    lock(&observer.common.recorder).record(RecordedRequest {
        seq: 0,
        request_id: request_id.clone(),
        operation,
        method,
        path,
        query,
        body: body_for_log(&bytes),
        status,
        received_at,
        answered_at: jiff::Timestamp::now(),
        fault: response.extensions().get::<FaultKind>().copied(),
    });
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}
