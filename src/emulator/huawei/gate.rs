//! What stands in front of every IAM and CBR operation, in the real order:
//! added latency, the gateway's authentication, throttling and injected
//! errors (all before the operation, so a refused create creates nothing),
//! then the operation, then possibly a lost response.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use jiff::Timestamp;

use super::assume_role::refuse_void_agency_token;
use super::auth::{self, RequestView};
use super::error::GatewayError;
use super::iam_agency::auth as agency_auth;
use super::state::HuaweiState;
use crate::emulator::common::{Common, lock};
use crate::emulator::faults::{FaultKind, Injected};
use crate::emulator::observe::{RawBody, RequestId};
use crate::emulator::operation::Operation;

/// The gate's state: Huawei's state, the faults shared with the other
/// clouds, and the operation it guards.
#[derive(Clone)]
pub struct Gate {
    pub huawei: Arc<HuaweiState>,
    pub common: Arc<Common>,
    pub op: Operation,
}

/// Middleware for one operation's route. Tags the response with the
/// operation (and any fault) for the request log.
pub async fn gate(State(gate): State<Gate>, req: Request, next: Next) -> Response {
    let Gate { huawei, common, op } = gate;
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|id| id.0.clone())
        .unwrap_or_default();
    let latency = lock(&common.faults).latency(rand::random());
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let mut response = match refusal(&huawei, &common, op, &req, &request_id) {
        Some(refusal) => refusal,
        None => {
            let response = next.run(req).await;
            let lose = response.status().is_success()
                && lock(&common.faults).lose_response(op, rand::random());
            if lose {
                tracing::info!(%op, request_id, "losing the response of a successful call");
                with_fault(
                    GatewayError::BackendTimeout.into_response_with_id(&request_id),
                    FaultKind::LostResponse,
                )
            } else {
                response
            }
        }
    };
    response.extensions_mut().insert(op);
    response
}

/// The answer that stops the call before the operation: failed
/// authentication or a drawn fault. `None` lets the call through.
fn refusal(
    huawei: &HuaweiState,
    common: &Common,
    op: Operation,
    req: &Request,
    request_id: &str,
) -> Option<Response> {
    if op.requires_auth() {
        let body = req
            .extensions()
            .get::<RawBody>()
            .map(|b| b.0.clone())
            .unwrap_or_default();
        let view = RequestView {
            method: req.method(),
            uri: req.uri(),
            headers: req.headers(),
            body: &body,
        };
        // A token issued through an agency dies with the agency's next update
        // or its delete (seed 004), whichever service it is presented to.
        let void = refuse_void_agency_token(huawei, req.headers(), Timestamp::now(), request_id);
        if void.is_some() {
            return void;
        }
        // Agency: IAM is global, so its callers prove the account, not a project.
        if agency_auth::is_domain_scoped(op) {
            let now = Timestamp::now();
            let checked =
                agency_auth::authenticate(&huawei.identity, &huawei.tokens, &view, now, request_id);
            if let Err(refusal) = checked {
                return Some(*refusal);
            }
        } else {
            // Each project has its own credentials (BackupShare's second project).
            let identity = huawei.identity_for(req.uri().path());
            if let Err(failure) =
                auth::authenticate(identity, &huawei.tokens, &view, Timestamp::now())
            {
                return Some(failure.into_response_with_id(request_id));
            }
        }
    }
    let injected = lock(&common.faults).before(op, Instant::now(), rand::random());
    Some(match injected? {
        Injected::Throttled { limit, retry_after } => with_fault(
            GatewayError::Throttled { limit, retry_after }.into_response_with_id(request_id),
            FaultKind::Throttled,
        ),
        Injected::Error(status) => with_fault(
            GatewayError::for_status(status).into_response_with_id(request_id),
            FaultKind::InjectedError,
        ),
    })
}

fn with_fault(mut response: Response, kind: FaultKind) -> Response {
    response.extensions_mut().insert(kind);
    response
}
