//! Every Identity and Cloud Backup route, each behind [`rax_gate`] for its
//! operation: what the server mounts for Rackspace.

use std::sync::Arc;

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::{MethodRouter, delete, get, patch, post};

use super::gate::{RaxGate, rax_gate};
use super::state::RackspaceState;
use super::{handlers, identity, registration};
use crate::emulator::common::Common;
use crate::emulator::operation::Operation;

/// Every Identity and Cloud Backup route, each behind the gate for its operation.
pub fn router(rackspace: &Arc<RackspaceState>, common: &Arc<Common>) -> Router {
    let gated = |op: Operation, route: MethodRouter<Arc<RackspaceState>>| {
        let gate = RaxGate {
            rackspace: rackspace.clone(),
            common: common.clone(),
            op,
        };
        route.layer(from_fn_with_state(gate, rax_gate))
    };
    use Operation::*;
    const AGENT: &str = "/v2/{project_id}/agents/{agent_id}";
    const REQUESTS: &str = "/v2/{project_id}/agents/{agent_id}/vault-encryption-requests";
    const REQUEST: &str =
        "/v2/{project_id}/agents/{agent_id}/vault-encryption-requests/{request_id}";
    Router::new()
        .route(
            "/v2.0/tokens",
            gated(RaxCreateToken, post(identity::create_token)),
        )
        .route(
            "/v2/{project_id}/agents",
            gated(RaxListAgents, get(handlers::list_agents))
                .merge(gated(RaxRegisterAgent, post(registration::register_agent))),
        )
        .route(
            AGENT,
            gated(RaxGetAgent, get(handlers::get_agent))
                .merge(gated(RaxUpdateAgent, patch(handlers::update_agent)))
                .merge(gated(RaxDeleteAgent, delete(registration::delete_agent))),
        )
        .route(
            &format!("{AGENT}/status"),
            gated(RaxGetAgentStatus, get(handlers::agent_status)),
        )
        .route(
            &format!("{AGENT}/events"),
            gated(RaxListAgentEvents, get(handlers::list_events)),
        )
        .route(
            REQUESTS,
            gated(
                RaxRequestVaultEncryption,
                post(handlers::request_encryption),
            ),
        )
        .route(
            REQUEST,
            gated(
                RaxGetVaultEncryptionResult,
                get(handlers::encryption_result),
            )
            .merge(gated(
                RaxReportVaultEncryptionResult,
                post(handlers::report_result),
            )),
        )
        .with_state(rackspace.clone())
}
