//! Every IAM and CBR route, each behind [`gate`] for its operation: what
//! the server mounts for Huawei. An unknown path or method is answered as
//! the API gateway does.

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::middleware::from_fn_with_state;
use axum::response::Response;
use axum::routing::{MethodRouter, delete, get, post, put};

use super::cbr::handlers;
use super::cbr::share_handlers as shares;
use super::error::GatewayError;
use super::gate::{Gate, gate};
use super::iam;
use super::iam_agency::routes::routes as agency_routes;
use super::state::HuaweiState;
use crate::emulator::common::Common;
use crate::emulator::observe::RequestId;
use crate::emulator::operation::Operation;

/// Every IAM and CBR route, each behind the gate for its operation.
pub fn router(huawei: &Arc<HuaweiState>, common: &Arc<Common>) -> Router {
    let gated = |op: Operation, route: MethodRouter<Arc<HuaweiState>>| {
        let guard = Gate {
            huawei: huawei.clone(),
            common: common.clone(),
            op,
        };
        route.layer(from_fn_with_state(guard, gate))
    };
    use Operation::*;
    Router::new()
        .route(
            "/v3/auth/tokens",
            gated(CreateToken, post(iam::create_token)),
        )
        .route(
            "/v3/{project_id}/vaults",
            gated(CreateVault, post(handlers::create_vault)),
        )
        .route(
            "/v3/{project_id}/vaults",
            gated(ListVaults, get(handlers::list_vaults)),
        )
        .route(
            "/v3/{project_id}/vaults/{vault_id}",
            gated(ShowVault, get(handlers::show_vault)),
        )
        .route(
            "/v3/{project_id}/vaults/{vault_id}",
            gated(UpdateVault, put(handlers::update_vault)),
        )
        .route(
            "/v3/{project_id}/vaults/{vault_id}",
            gated(DeleteVault, delete(handlers::delete_vault)),
        )
        .route(
            "/v3/{project_id}/vaults/{vault_id}/addresources",
            gated(AddVaultResources, post(handlers::add_resources)),
        )
        .route(
            "/v3/{project_id}/vaults/{vault_id}/removeresources",
            gated(RemoveVaultResources, post(handlers::remove_resources)),
        )
        .route(
            "/v3/{project_id}/vault/{vault_id}/tags",
            gated(ShowVaultTags, get(handlers::show_tags)),
        )
        .route(
            "/v3/{project_id}/vault/{vault_id}/tags",
            gated(CreateVaultTag, post(handlers::create_tag)),
        )
        .route(
            "/v3/{project_id}/vault/{vault_id}/tags/action",
            gated(BatchVaultTags, post(handlers::batch_tags)),
        )
        .route(
            "/v3/{project_id}/vault/{vault_id}/tags/{key}",
            gated(DeleteVaultTag, delete(handlers::delete_tag)),
        )
        // BackupShare: checkpoints, backups and share members.
        .route(
            "/v3/{project_id}/checkpoints",
            gated(CreateCheckpoint, post(shares::create_checkpoint)),
        )
        .route(
            "/v3/{project_id}/backups",
            gated(ListBackups, get(shares::list_backups)),
        )
        .route(
            "/v3/{project_id}/backups/{backup_id}",
            gated(ShowBackup, get(shares::show_backup)),
        )
        .route(
            "/v3/{project_id}/backups/{backup_id}",
            gated(DeleteBackup, delete(shares::delete_backup)),
        )
        .route(
            "/v3/{project_id}/backups/{backup_id}/members",
            gated(AddMember, post(shares::add_members)),
        )
        .route(
            "/v3/{project_id}/backups/{backup_id}/members",
            gated(ShowMembersDetail, get(shares::list_members)),
        )
        .route(
            "/v3/{project_id}/backups/{backup_id}/members/{member_id}",
            gated(ShowMemberDetail, get(shares::show_member)),
        )
        .route(
            "/v3/{project_id}/backups/{backup_id}/members/{member_id}",
            gated(UpdateMemberStatus, put(shares::update_member)),
        )
        .route(
            "/v3/{project_id}/backups/{backup_id}/members/{member_id}",
            gated(DeleteMember, delete(shares::delete_member)),
        )
        // Agency: IAM agencies, their grants and the catalogs.
        .merge(agency_routes(&gated))
        // The gateway answers an unknown method like an unknown path.
        .method_not_allowed_fallback(api_not_found)
        .fallback(api_not_found)
        .with_state(huawei.clone())
}

async fn api_not_found(req: Request) -> Response {
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|id| id.0.as_str())
        .unwrap_or_default();
    GatewayError::ApiNotFound.into_response_with_id(request_id)
}
