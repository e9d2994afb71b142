//! Who may call the emulated Huawei Cloud: the one account, user, project
//! and key pair, and BackupShare's second project with its own keys.

use super::settings::HuaweiSettings;
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
    pub fn from_settings(config: &HuaweiSettings) -> Self {
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
    pub fn peer_from_settings(config: &HuaweiSettings) -> Self {
        Self {
            project_id: config.peer_project_id.clone(),
            access_key: config.peer_access_key.clone(),
            secret_key: config.peer_secret_key.clone(),
            ..Self::from_settings(config)
        }
    }
}
