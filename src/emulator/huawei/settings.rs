//! What the emulated Huawei account is made of: its project, account, user
//! and keys, the second project BackupShare shares with, and the delays of
//! CBR and IAM. The defaults are the ones `coffer-dev emulator` starts with;
//! [`crate::emulator::EmulatorConfig`] holds the same values as flags.

use std::time::Duration;

pub const DEFAULT_PROJECT_ID: &str = "0123456789abcdef0123456789abcdef";
pub const DEFAULT_DOMAIN_ID: &str = "fedcba9876543210fedcba9876543210";
pub const DEFAULT_DOMAIN_NAME: &str = "coffer-account";
pub const DEFAULT_REGION: &str = "cn-north-4";
/// The access key and secret key of the signing test vectors (providers.md §1.3).
pub const DEFAULT_ACCESS_KEY: &str = "AKEXAMPLE0000000000";
pub const DEFAULT_SECRET_KEY: &str = "SKEXAMPLE0000000000000000000000000000000";
pub const DEFAULT_USERNAME: &str = "coffer";
pub const DEFAULT_PASSWORD: &str = "coffer-password";
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(24 * 60 * 60);
pub const DEFAULT_DELETE_DELAY: Duration = Duration::from_secs(2);
pub const DEFAULT_ASSOCIATION_DELAY: Duration = Duration::from_secs(1);
// BackupShare: the second project and its credentials.
pub const DEFAULT_PEER_PROJECT_ID: &str = "89abcdef0123456789abcdef01234567";
/// A project of the same account in another region: CBR refuses to share
/// a backup with it.
pub const DEFAULT_OTHER_REGION_PROJECT_ID: &str = "5e0a0b0c0d0e0f000000000000000001";
pub const DEFAULT_PEER_ACCESS_KEY: &str = "AKPEEREXAMPLE000000";
pub const DEFAULT_PEER_SECRET_KEY: &str = "SKPEEREXAMPLE000000000000000000000000000";
pub const DEFAULT_BACKUP_DELAY: Duration = Duration::from_secs(1);

/// The Huawei account, its keys and CBR's and IAM's timing.
#[derive(Clone, Debug, PartialEq)]
pub struct HuaweiSettings {
    pub project_id: String,
    pub domain_id: String,
    /// The account name, used in password authentication.
    pub domain_name: String,
    /// Also the project's name in IAM scopes.
    pub region: String,
    pub access_key: String,
    pub secret_key: String,
    pub username: String,
    pub password: String,
    pub token_ttl: Duration,
    /// How long a deleted vault stays visible with status `deleting`.
    pub delete_delay: Duration,
    /// How long added or removed resources take to show in `vault.resources`.
    pub association_delay: Duration,
    /// The second project: its id and its own AK/SK.
    pub peer_project_id: String,
    pub peer_access_key: String,
    pub peer_secret_key: String,
    /// A project in another region: sharing with it is refused.
    pub other_region_project_id: String,
    /// How long a new backup stays `protecting` before it is `available`.
    pub backup_delay: Duration,
    /// How long GET answers 404 for an agency just created.
    pub agency_read_delay: Duration,
}

impl Default for HuaweiSettings {
    fn default() -> Self {
        Self {
            project_id: DEFAULT_PROJECT_ID.to_string(),
            domain_id: DEFAULT_DOMAIN_ID.to_string(),
            domain_name: DEFAULT_DOMAIN_NAME.to_string(),
            region: DEFAULT_REGION.to_string(),
            access_key: DEFAULT_ACCESS_KEY.to_string(),
            secret_key: DEFAULT_SECRET_KEY.to_string(),
            username: DEFAULT_USERNAME.to_string(),
            password: DEFAULT_PASSWORD.to_string(),
            token_ttl: DEFAULT_TOKEN_TTL,
            delete_delay: DEFAULT_DELETE_DELAY,
            association_delay: DEFAULT_ASSOCIATION_DELAY,
            peer_project_id: DEFAULT_PEER_PROJECT_ID.to_string(),
            peer_access_key: DEFAULT_PEER_ACCESS_KEY.to_string(),
            peer_secret_key: DEFAULT_PEER_SECRET_KEY.to_string(),
            other_region_project_id: DEFAULT_OTHER_REGION_PROJECT_ID.to_string(),
            backup_delay: DEFAULT_BACKUP_DELAY,
            agency_read_delay: Duration::ZERO,
        }
    }
}
