//! The errors of CBR's backup and share-member routes, in CBR's
//! `{"error_code","error_msg"}` shape, plus the documented quirk: the
//! members of a deleted backup answer HTTP 401 `Malformed request url`.
//!
//! CBR's error-code page lists no codes for the share rules that were
//! found, so the codes below (`BackupService.65xx`) are the emulator's
//! own; clients key on the HTTP status and keep the message.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::emulator::huawei::error::INVALID_PARAMETER;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShareError {
    #[error("Invalid parameter: {0}")]
    InvalidParameter(String),
    #[error("Backup not found: {0}")]
    BackupNotFound(String),
    /// CBR's answer for the members of a deleted backup.
    #[error("Malformed request url")]
    MalformedUrl,
    #[error("Only the project that owns backup {0} can manage its members.")]
    NotOwner(String),
    #[error(
        "Only the member project itself can accept or reject a share; project {0} is not that member."
    )]
    NotMember(String),
    /// The limit travels with the error, so the rule stays with the store.
    #[error("Members per request must be 1 to {limit}, not {given}.")]
    MemberCount { given: usize, limit: usize },
    #[error("Only cloud server backups can be shared, not {0}.")]
    NotServerBackup(String),
    #[error("Only available backups can be shared; the backup is {0}.")]
    NotAvailable(&'static str),
    #[error("Invalid member project id: {0}.")]
    BadProjectId(String),
    #[error("A backup cannot be shared with the project that owns it.")]
    ShareWithSelf,
    #[error("Project {0} is in another region; backups are shared only within a region.")]
    OtherRegion(String),
    #[error("Project {0} is already a member of the backup.")]
    MemberExists(String),
    #[error("Member {0} not found.")]
    MemberNotFound(String),
    #[error("vault_id is required when accepting a shared backup.")]
    VaultRequired,
    #[error("Vault Not Found: {0} is not a vault of this project.")]
    VaultNotFound(String),
}

impl ShareError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidParameter(_) => INVALID_PARAMETER,
            Self::BackupNotFound(_) => "BackupService.6500",
            Self::MalformedUrl => "401",
            Self::NotOwner(_) => "BackupService.6501",
            Self::NotMember(_) => "BackupService.6502",
            Self::MemberCount { .. } => "BackupService.6503",
            Self::NotServerBackup(_) => "BackupService.6504",
            Self::NotAvailable(_) => "BackupService.6505",
            Self::BadProjectId(_) => "BackupService.6506",
            Self::ShareWithSelf => "BackupService.6507",
            Self::MemberExists(_) => "BackupService.6508",
            Self::MemberNotFound(_) => "BackupService.6509",
            Self::VaultRequired => "BackupService.6510",
            Self::OtherRegion(_) => "BackupService.6511",
            Self::VaultNotFound(_) => "BackupService.6105",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BackupNotFound(_) | Self::MemberNotFound(_) => StatusCode::NOT_FOUND,
            Self::MalformedUrl => StatusCode::UNAUTHORIZED,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

impl IntoResponse for ShareError {
    fn into_response(self) -> Response {
        let body = match self {
            // The quirk's own shape, as observed.
            Self::MalformedUrl => {
                json!({"unauthorized": {"code": "401", "message": self.to_string()}})
            }
            _ => json!({"error_code": self.code(), "error_msg": self.to_string()}),
        };
        (self.status(), Json(body)).into_response()
    }
}
