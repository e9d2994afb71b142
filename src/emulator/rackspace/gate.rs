//! What stands in front of every Identity and Cloud Backup operation, in
//! the real order: added latency, the token check, the shared fault
//! injection (answered in Rackspace's shape), then the operation and maybe
//! a lost answer.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use jiff::Timestamp;

use super::fault::fault;
use super::state::RackspaceState;
use crate::emulator::common::{Common, lock};
use crate::emulator::faults::{FaultKind, Injected};
use crate::emulator::operation::Operation;

/// The gate's state: Rackspace's state, the faults shared with the other
/// clouds, and the operation it guards.
#[derive(Clone)]
pub struct RaxGate {
    pub rackspace: Arc<RackspaceState>,
    pub common: Arc<Common>,
    pub op: Operation,
}

/// Latency, the token check, the shared fault injection (answered in
/// Rackspace's shape), then the operation and maybe a lost answer.
pub async fn rax_gate(State(gate): State<RaxGate>, req: Request, next: Next) -> Response {
    let RaxGate {
        rackspace,
        common,
        op,
    } = gate;
    let latency = lock(&common.faults).latency(rand::random());
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let mut response = match refusal(&rackspace, &common, op, &req) {
        Some(refused) => refused,
        None => {
            let response = next.run(req).await;
            let lose = response.status().is_success()
                && lock(&common.faults).lose_response(op, rand::random());
            if lose {
                tracing::info!(%op, "losing the response of a successful call");
                let mut lost = fault(StatusCode::GATEWAY_TIMEOUT, "Gateway Timeout");
                lost.extensions_mut().insert(FaultKind::LostResponse);
                lost
            } else {
                response
            }
        }
    };
    response.extensions_mut().insert(op);
    response
}

fn refusal(
    rackspace: &RackspaceState,
    common: &Common,
    op: Operation,
    req: &Request,
) -> Option<Response> {
    if op.requires_auth() {
        let token = req
            .headers()
            .get("x-auth-token")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !rackspace.token_valid(token, Timestamp::now()) {
            return Some(fault(
                StatusCode::UNAUTHORIZED,
                "Authentication required: the token is missing, unknown or expired.",
            ));
        }
        let project = req.uri().path().split('/').nth(2).unwrap_or_default();
        if project != rackspace.account.tenant_id {
            return Some(fault(
                StatusCode::UNAUTHORIZED,
                format!("The token does not grant access to project {project}."),
            ));
        }
    }
    let injected = lock(&common.faults).before(op, Instant::now(), rand::random())?;
    let mut response = match injected {
        Injected::Throttled { retry_after, .. } => {
            let mut r = fault(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable");
            let secs = retry_after.as_secs().max(1);
            if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, value);
            }
            r.extensions_mut().insert(FaultKind::Throttled);
            r
        }
        Injected::Error(status) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut r = fault(status, "Fault injected by the emulator");
            r.extensions_mut().insert(FaultKind::InjectedError);
            r
        }
    };
    response.extensions_mut().insert(op);
    Some(response)
}
