//! The CBR backup-share trait and its types: what the BackupShare-on-Huawei
//! pairs plan against, for both sides. [`super::HuaweiShares`] maps them to
//! CBR's wire format.

use async_trait::async_trait;

use crate::provider::ProviderError;

/// CBR adds at most this many members in one call.
pub const MAX_MEMBERS_PER_ADD: usize = 10;

/// A backup, as the share rules need it.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Backup {
    pub id: String,
    /// `available`, `protecting`, `deleting`, `error`, …
    pub status: String,
    /// `OS::Nova::Server` for a server backup, the only kind CBR shares.
    pub resource_type: String,
    /// The owner's project.
    pub project_id: String,
}

/// A member's state of a share, as CBR reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MemberStatus {
    Pending,
    Accepted,
    Rejected,
}

impl MemberStatus {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
        }
    }

    /// Parses CBR's value; `None` for a value CBR does not document.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "pending" => Some(Self::Pending),
            "accepted" => Some(Self::Accepted),
            "rejected" => Some(Self::Rejected),
            _ => None,
        }
    }
}

/// One share member record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The member project (CBR's `dest_project_id`, also the `member_id`).
    pub project_id: String,
    /// CBR's status text as given (see [`MemberStatus::parse`]).
    pub status: String,
    pub vault_id: Option<String>,
    pub image_id: Option<String>,
    pub updated_at: Option<String>,
}

impl Member {
    pub fn status(&self) -> Option<MemberStatus> {
        MemberStatus::parse(&self.status)
    }
}

/// CBR backup sharing in one project: the owner's calls (members of the
/// project's backups) and the receiver's (its own member record).
#[async_trait]
pub trait CbrShareApi: Send + Sync {
    /// The project this client acts for (the receiver's `member_id`).
    fn project_id(&self) -> &str;
    /// Reads a backup; `NotFound` when the project cannot see it.
    async fn show_backup(&self, backup_id: &str) -> Result<Backup, ProviderError>;
    /// Every member of a backup the project owns. A deleted backup is
    /// `NotFound`, also when CBR answers with its 401 quirk.
    async fn list_members(&self, backup_id: &str) -> Result<Vec<Member>, ProviderError>;
    /// Adds 1 to [`MAX_MEMBERS_PER_ADD`] members in one call.
    async fn add_members(
        &self,
        backup_id: &str,
        projects: &[String],
    ) -> Result<Vec<Member>, ProviderError>;
    /// Removes one member; already gone is success.
    async fn remove_member(&self, backup_id: &str, project: &str) -> Result<(), ProviderError>;
    /// One member record; `NotFound` when there is none.
    async fn show_member(&self, backup_id: &str, project: &str) -> Result<Member, ProviderError>;
    /// The receiver's answer (seed 001): `vault_id` only when accepting.
    async fn update_member(
        &self,
        backup_id: &str,
        project: &str,
        status: MemberStatus,
        vault_id: Option<&str>,
    ) -> Result<Member, ProviderError>;
}
