//! Huawei Cloud as the emulator serves it: IAM tokens and CBR vaults behind
//! one gateway, mirroring `src/provider/huawei/`.

pub mod assume_role;
pub mod auth;
pub mod cbr;
pub mod error;
pub mod gate;
pub mod iam;
pub mod iam_agency;
pub mod token;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::middleware::from_fn_with_state;
use axum::response::Response;
use axum::routing::{MethodRouter, delete, get, post, put};

use self::cbr::backups::BackupStore;
use self::cbr::handlers;
use self::cbr::share_handlers as shares;
use self::cbr::store::VaultStore;
use self::error::GatewayError;
use self::gate::Gate;
use self::token::TokenIssuer;
use super::EmulatorConfig;
use super::observe::RequestId;
use super::operation::Operation;
use super::state::Shared;
use crate::provider::huawei::signer::hex_sha256;

/// The one account, user, project and key pair the emulator knows.
#[derive(Clone, Debug)]
pub struct Identity {
    pub project_id: String,
    /// The project's name, which on Huawei Cloud is the region id.
    pub region: String,
    pub domain_id: String,
    pub domain_name: String,
    pub user_id: String,
    pub username: String,
    pub password: String,
    pub access_key: String,
    pub secret_key: String,
}

impl Identity {
    pub fn from_config(config: &EmulatorConfig) -> Self {
        Self {
            project_id: config.project_id.clone(),
            region: config.region.clone(),
            domain_id: config.domain_id.clone(),
            domain_name: config.domain_name.clone(),
            // Stable across restarts, like a real user id.
            user_id: hex_sha256(config.username.as_bytes())[..32].to_string(),
            username: config.username.clone(),
            password: config.password.clone(),
            access_key: config.access_key.clone(),
            secret_key: config.secret_key.clone(),
        }
    }

    /// The second project (BackupShare): same account and region, its own
    /// project id and AK/SK. Signed requests only; IAM serves the main user.
    pub fn peer_from_config(config: &EmulatorConfig) -> Self {
        Self {
            project_id: config.peer_project_id.clone(),
            access_key: config.peer_access_key.clone(),
            secret_key: config.peer_secret_key.clone(),
            ..Self::from_config(config)
        }
    }
}

/// Huawei's state: who may call, and the vaults.
pub struct HuaweiState {
    pub identity: Identity,
    pub tokens: TokenIssuer,
    pub token_ttl: Duration,
    pub vaults: Mutex<VaultStore>,
    /// BackupShare: a second project with its own AK/SK, and the backups.
    pub peer: Identity,
    pub backups: Mutex<BackupStore>,
    /// Agency: IAM agencies of the main account and their grants.
    pub agencies: Mutex<iam_agency::store::AgencyStore>,
}

impl HuaweiState {
    pub fn new(config: &EmulatorConfig) -> Self {
        Self {
            identity: Identity::from_config(config),
            tokens: TokenIssuer::default(),
            token_ttl: config.token_ttl,
            vaults: Mutex::new(VaultStore::new(
                config.association_delay,
                config.delete_delay,
            )),
            peer: Identity::peer_from_config(config),
            backups: Mutex::new(
                BackupStore::new(config.backup_delay)
                    .with_other_region(&config.other_region_project_id),
            ),
            agencies: Mutex::new(iam_agency::store::AgencyStore::new(
                config.agency_read_delay,
            )),
        }
    }

    /// The identity a CBR path's project names: the peer project's, else
    /// the main one (whose checks then refuse a stranger's project).
    pub fn identity_for(&self, path: &str) -> &Identity {
        match path.split('/').nth(2) {
            Some(project) if project == self.peer.project_id => &self.peer,
            _ => &self.identity,
        }
    }
}

/// Every IAM and CBR route, each behind the gate for its operation.
pub fn router(shared: &Arc<Shared>) -> Router<Arc<Shared>> {
    let gated = |op: Operation, route: MethodRouter<Arc<Shared>>| {
        let gate = Gate {
            shared: shared.clone(),
            op,
        };
        route.layer(from_fn_with_state(gate, gate::gate))
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
        .merge(iam_agency::routes(&gated))
        // The gateway answers an unknown method like an unknown path.
        .method_not_allowed_fallback(api_not_found)
        .fallback(api_not_found)
}

async fn api_not_found(req: Request) -> Response {
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|id| id.0.as_str())
        .unwrap_or_default();
    GatewayError::ApiNotFound.into_response_with_id(request_id)
}
