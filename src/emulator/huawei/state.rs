//! Huawei's state: who may call, the token issuer, and CBR's and IAM's
//! stores, each store behind its own lock.

use std::sync::Mutex;
use std::time::Duration;

use super::cbr::backups::BackupStore;
use super::cbr::store::VaultStore;
use super::iam_agency::store::AgencyStore;
use super::identity::Identity;
use super::settings::HuaweiSettings;
use super::token::TokenIssuer;

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
    pub agencies: Mutex<AgencyStore>,
}

impl HuaweiState {
    pub fn new(config: &HuaweiSettings) -> Self {
        Self {
            identity: Identity::from_settings(config),
            tokens: TokenIssuer::default(),
            token_ttl: config.token_ttl,
            vaults: Mutex::new(VaultStore::new(
                config.association_delay,
                config.delete_delay,
            )),
            peer: Identity::peer_from_settings(config),
            backups: Mutex::new(
                BackupStore::new(config.backup_delay)
                    .with_other_region(&config.other_region_project_id),
            ),
            agencies: Mutex::new(AgencyStore::new(config.agency_read_delay)),
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
