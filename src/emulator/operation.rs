//! The named operations the emulator serves. Counters, the request log and
//! throttling are keyed by these names, which are the SDK's operation names,
//! so a test can say "exactly one UpdateVault" in the client's own words.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One API operation of the emulated provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Operation {
    /// `POST /v3/auth/tokens`
    CreateToken,
    /// `POST /v3/{project_id}/vaults`
    CreateVault,
    /// `GET /v3/{project_id}/vaults/{vault_id}`
    ShowVault,
    /// `GET /v3/{project_id}/vaults`
    ListVaults,
    /// `PUT /v3/{project_id}/vaults/{vault_id}`
    UpdateVault,
    /// `DELETE /v3/{project_id}/vaults/{vault_id}`
    DeleteVault,
    /// `GET /v3/{project_id}/vault/{vault_id}/tags`
    ShowVaultTags,
    /// `POST /v3/{project_id}/vault/{vault_id}/tags`
    CreateVaultTag,
    /// `POST /v3/{project_id}/vault/{vault_id}/tags/action`
    BatchVaultTags,
    /// `DELETE /v3/{project_id}/vault/{vault_id}/tags/{key}`
    DeleteVaultTag,
    /// `POST /v3/{project_id}/vaults/{vault_id}/addresources`
    AddVaultResources,
    /// `POST /v3/{project_id}/vaults/{vault_id}/removeresources`
    RemoveVaultResources,
    // Backups and sharing (BackupShare).
    /// `POST /v3/{project_id}/checkpoints`
    CreateCheckpoint,
    /// `GET /v3/{project_id}/backups`
    ListBackups,
    /// `GET /v3/{project_id}/backups/{backup_id}`
    ShowBackup,
    /// `DELETE /v3/{project_id}/backups/{backup_id}`
    DeleteBackup,
    /// `POST /v3/{project_id}/backups/{backup_id}/members`
    AddMember,
    /// `GET /v3/{project_id}/backups/{backup_id}/members`
    ShowMembersDetail,
    /// `GET /v3/{project_id}/backups/{backup_id}/members/{member_id}`
    ShowMemberDetail,
    /// `PUT /v3/{project_id}/backups/{backup_id}/members/{member_id}`
    UpdateMemberStatus,
    /// `DELETE /v3/{project_id}/backups/{backup_id}/members/{member_id}`
    DeleteMember,
    // IAM agencies and their grants (Agency).
    /// `POST /v3.0/OS-AGENCY/agencies`
    CreateAgency,
    /// `GET /v3.0/OS-AGENCY/agencies/{agency_id}`
    ShowAgency,
    /// `GET /v3.0/OS-AGENCY/agencies`
    ListAgencies,
    /// `PUT /v3.0/OS-AGENCY/agencies/{agency_id}`
    UpdateAgency,
    /// `DELETE /v3.0/OS-AGENCY/agencies/{agency_id}`
    DeleteAgency,
    /// `GET /v3/roles`
    KeystoneListPermissions,
    /// `GET /v3/projects`
    KeystoneListProjects,
    /// `PUT /v3.0/OS-AGENCY/projects/{project_id}/agencies/{agency_id}/roles/{role_id}`
    AssociateAgencyWithProjectPermission,
    /// `HEAD` of the same path
    CheckProjectPermissionForAgency,
    /// `DELETE` of the same path
    RemoveProjectPermissionFromAgency,
    /// `GET /v3.0/OS-AGENCY/projects/{project_id}/agencies/{agency_id}/roles`
    ListProjectPermissionsForAgency,
    /// `PUT /v3.0/OS-AGENCY/domains/{domain_id}/agencies/{agency_id}/roles/{role_id}`
    AssociateAgencyWithDomainPermission,
    /// `HEAD` of the same path
    CheckDomainPermissionForAgency,
    /// `DELETE` of the same path
    RemoveDomainPermissionFromAgency,
    /// `GET /v3.0/OS-AGENCY/domains/{domain_id}/agencies/{agency_id}/roles`
    ListDomainPermissionsForAgency,
    /// `PUT /v3.0/OS-INHERIT/domains/{domain_id}/agencies/{agency_id}/roles/{role_id}/inherited_to_projects`
    AssociateAgencyWithAllProjectsPermission,
    /// `HEAD` of the same path
    CheckAllProjectsPermissionForAgency,
    /// `DELETE` of the same path
    RemoveAllProjectsPermissionFromAgency,
    /// `GET /v3.0/OS-INHERIT/domains/{domain_id}/agencies/{agency_id}/roles/inherited_to_projects`
    ListAllProjectsPermissionsForAgency,
    /// `GET /v3.0/OS-PERMISSION/role-assignments`: every grant of the
    /// account, filtered and paged
    ShowDomainRoleAssignments,
    // Rackspace Cloud Backup (BackupVault on Rackspace).
    /// `POST /v2.0/tokens` (Rackspace Identity)
    RaxCreateToken,
    /// `GET /v2/{project_id}/agents` (Rackspace Cloud Backup)
    RaxListAgents,
    /// `POST /v2/{project_id}/agents`: an agent registers
    RaxRegisterAgent,
    /// `DELETE /v2/{project_id}/agents/{agent_id}`
    RaxDeleteAgent,
    /// `GET /v2/{project_id}/agents/{agent_id}`
    RaxGetAgent,
    /// `GET /v2/{project_id}/agents/{agent_id}/status`
    RaxGetAgentStatus,
    /// `PATCH /v2/{project_id}/agents/{agent_id}`
    RaxUpdateAgent,
    /// `GET /v2/{project_id}/agents/{agent_id}/events`
    RaxListAgentEvents,
    /// `POST /v2/{project_id}/agents/{agent_id}/vault-encryption-requests`
    RaxRequestVaultEncryption,
    /// `GET /v2/{project_id}/agents/{agent_id}/vault-encryption-requests/{request_id}`
    RaxGetVaultEncryptionResult,
    /// `POST` of the same path: the agent's report (seed 000)
    RaxReportVaultEncryptionResult,
    // Commvault (BackupVault on an S3 vault).
    /// `GET {base}/`, the probe cvpysdk makes before it logs in
    CommvaultProbe,
    /// `POST {base}/Login`
    CommvaultLogin,
    /// `POST {base}/RenewLoginToken`
    CommvaultRenewLoginToken,
    /// `POST {base}/Logout`
    CommvaultLogout,
    /// `POST {base}/V4/CVS3Store`
    CreateS3Vault,
    /// `GET {base}/V4/cvS3Stores`
    ListS3Vaults,
    /// `GET {base}/Job/{id}`
    GetJob,
    /// `POST {base}/JobDetails`
    GetJobDetails,
    /// `GET {base}/Client/{id}` (Client Properties): sees a retired client
    GetClientProperties,
    /// `DELETE` (or `POST`) `{base}/Client/{id}/Retire`
    RetireClient,
    /// `DELETE {base}/Client/{id}`
    DeleteClient,
    /// Any path or method the emulated API does not have.
    Unknown,
}

impl Operation {
    pub const ALL: [Operation; 64] = [
        Operation::CreateToken,
        Operation::CreateVault,
        Operation::ShowVault,
        Operation::ListVaults,
        Operation::UpdateVault,
        Operation::DeleteVault,
        Operation::ShowVaultTags,
        Operation::CreateVaultTag,
        Operation::BatchVaultTags,
        Operation::DeleteVaultTag,
        Operation::AddVaultResources,
        Operation::RemoveVaultResources,
        Operation::CreateCheckpoint,
        Operation::ListBackups,
        Operation::ShowBackup,
        Operation::DeleteBackup,
        Operation::AddMember,
        Operation::ShowMembersDetail,
        Operation::ShowMemberDetail,
        Operation::UpdateMemberStatus,
        Operation::DeleteMember,
        Operation::CreateAgency,
        Operation::ShowAgency,
        Operation::ListAgencies,
        Operation::UpdateAgency,
        Operation::DeleteAgency,
        Operation::KeystoneListPermissions,
        Operation::KeystoneListProjects,
        Operation::AssociateAgencyWithProjectPermission,
        Operation::CheckProjectPermissionForAgency,
        Operation::RemoveProjectPermissionFromAgency,
        Operation::ListProjectPermissionsForAgency,
        Operation::AssociateAgencyWithDomainPermission,
        Operation::CheckDomainPermissionForAgency,
        Operation::RemoveDomainPermissionFromAgency,
        Operation::ListDomainPermissionsForAgency,
        Operation::AssociateAgencyWithAllProjectsPermission,
        Operation::CheckAllProjectsPermissionForAgency,
        Operation::RemoveAllProjectsPermissionFromAgency,
        Operation::ListAllProjectsPermissionsForAgency,
        Operation::ShowDomainRoleAssignments,
        Operation::RaxCreateToken,
        Operation::RaxListAgents,
        Operation::RaxRegisterAgent,
        Operation::RaxDeleteAgent,
        Operation::RaxGetAgent,
        Operation::RaxGetAgentStatus,
        Operation::RaxUpdateAgent,
        Operation::RaxListAgentEvents,
        Operation::RaxRequestVaultEncryption,
        Operation::RaxGetVaultEncryptionResult,
        Operation::RaxReportVaultEncryptionResult,
        Operation::CommvaultProbe,
        Operation::CommvaultLogin,
        Operation::CommvaultRenewLoginToken,
        Operation::CommvaultLogout,
        Operation::CreateS3Vault,
        Operation::ListS3Vaults,
        Operation::GetJob,
        Operation::GetJobDetails,
        Operation::GetClientProperties,
        Operation::RetireClient,
        Operation::DeleteClient,
        Operation::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Operation::CreateToken => "CreateToken",
            Operation::CreateVault => "CreateVault",
            Operation::ShowVault => "ShowVault",
            Operation::ListVaults => "ListVaults",
            Operation::UpdateVault => "UpdateVault",
            Operation::DeleteVault => "DeleteVault",
            Operation::ShowVaultTags => "ShowVaultTags",
            Operation::CreateVaultTag => "CreateVaultTag",
            Operation::BatchVaultTags => "BatchVaultTags",
            Operation::DeleteVaultTag => "DeleteVaultTag",
            Operation::AddVaultResources => "AddVaultResources",
            Operation::RemoveVaultResources => "RemoveVaultResources",
            Operation::CreateCheckpoint => "CreateCheckpoint",
            Operation::ListBackups => "ListBackups",
            Operation::ShowBackup => "ShowBackup",
            Operation::DeleteBackup => "DeleteBackup",
            Operation::AddMember => "AddMember",
            Operation::ShowMembersDetail => "ShowMembersDetail",
            Operation::ShowMemberDetail => "ShowMemberDetail",
            Operation::UpdateMemberStatus => "UpdateMemberStatus",
            Operation::DeleteMember => "DeleteMember",
            Operation::CreateAgency => "CreateAgency",
            Operation::ShowAgency => "ShowAgency",
            Operation::ListAgencies => "ListAgencies",
            Operation::UpdateAgency => "UpdateAgency",
            Operation::DeleteAgency => "DeleteAgency",
            Operation::KeystoneListPermissions => "KeystoneListPermissions",
            Operation::KeystoneListProjects => "KeystoneListProjects",
            Operation::AssociateAgencyWithProjectPermission => {
                "AssociateAgencyWithProjectPermission"
            }
            Operation::CheckProjectPermissionForAgency => "CheckProjectPermissionForAgency",
            Operation::RemoveProjectPermissionFromAgency => "RemoveProjectPermissionFromAgency",
            Operation::ListProjectPermissionsForAgency => "ListProjectPermissionsForAgency",
            Operation::AssociateAgencyWithDomainPermission => "AssociateAgencyWithDomainPermission",
            Operation::CheckDomainPermissionForAgency => "CheckDomainPermissionForAgency",
            Operation::RemoveDomainPermissionFromAgency => "RemoveDomainPermissionFromAgency",
            Operation::ListDomainPermissionsForAgency => "ListDomainPermissionsForAgency",
            Operation::AssociateAgencyWithAllProjectsPermission => {
                "AssociateAgencyWithAllProjectsPermission"
            }
            Operation::CheckAllProjectsPermissionForAgency => "CheckAllProjectsPermissionForAgency",
            Operation::RemoveAllProjectsPermissionFromAgency => {
                "RemoveAllProjectsPermissionFromAgency"
            }
            Operation::ListAllProjectsPermissionsForAgency => "ListAllProjectsPermissionsForAgency",
            Operation::ShowDomainRoleAssignments => "ShowDomainRoleAssignments",
            Operation::RaxCreateToken => "RaxCreateToken",
            Operation::RaxListAgents => "RaxListAgents",
            Operation::RaxRegisterAgent => "RaxRegisterAgent",
            Operation::RaxDeleteAgent => "RaxDeleteAgent",
            Operation::RaxGetAgent => "RaxGetAgent",
            Operation::RaxGetAgentStatus => "RaxGetAgentStatus",
            Operation::RaxUpdateAgent => "RaxUpdateAgent",
            Operation::RaxListAgentEvents => "RaxListAgentEvents",
            Operation::RaxRequestVaultEncryption => "RaxRequestVaultEncryption",
            Operation::RaxGetVaultEncryptionResult => "RaxGetVaultEncryptionResult",
            Operation::RaxReportVaultEncryptionResult => "RaxReportVaultEncryptionResult",
            Operation::CommvaultProbe => "CommvaultProbe",
            Operation::CommvaultLogin => "CommvaultLogin",
            Operation::CommvaultRenewLoginToken => "CommvaultRenewLoginToken",
            Operation::CommvaultLogout => "CommvaultLogout",
            Operation::CreateS3Vault => "CreateS3Vault",
            Operation::ListS3Vaults => "ListS3Vaults",
            Operation::GetJob => "GetJob",
            Operation::GetJobDetails => "GetJobDetails",
            Operation::GetClientProperties => "GetClientProperties",
            Operation::RetireClient => "RetireClient",
            Operation::DeleteClient => "DeleteClient",
            Operation::Unknown => "Unknown",
        }
    }

    /// Whether the caller must present a token or an AK/SK signature.
    /// Getting a token is how a caller obtains credentials, so it needs none.
    pub fn requires_auth(self) -> bool {
        !matches!(
            self,
            Operation::CreateToken
                | Operation::RaxCreateToken
                | Operation::CommvaultProbe
                | Operation::CommvaultLogin
                | Operation::CommvaultRenewLoginToken
                | Operation::Unknown
        )
    }

    /// Whether the operation changes what the provider holds. Every
    /// operation is named here, so a new one cannot be left out of a
    /// test's "no write was made" by accident. Signing in and out changes
    /// no resource and is not a write.
    pub fn mutates(self) -> bool {
        use Operation::*;
        match self {
            CreateVault
            | UpdateVault
            | DeleteVault
            | CreateVaultTag
            | BatchVaultTags
            | DeleteVaultTag
            | AddVaultResources
            | RemoveVaultResources
            | CreateCheckpoint
            | DeleteBackup
            | AddMember
            | UpdateMemberStatus
            | DeleteMember
            | CreateAgency
            | UpdateAgency
            | DeleteAgency
            | AssociateAgencyWithProjectPermission
            | RemoveProjectPermissionFromAgency
            | AssociateAgencyWithDomainPermission
            | RemoveDomainPermissionFromAgency
            | AssociateAgencyWithAllProjectsPermission
            | RemoveAllProjectsPermissionFromAgency
            | RaxRegisterAgent
            | RaxDeleteAgent
            | RaxUpdateAgent
            | RaxRequestVaultEncryption
            | RaxReportVaultEncryptionResult
            | CreateS3Vault
            | RetireClient
            | DeleteClient => true,
            CreateToken
            | ShowVault
            | ListVaults
            | ShowVaultTags
            | ListBackups
            | ShowBackup
            | ShowMembersDetail
            | ShowMemberDetail
            | ShowAgency
            | ListAgencies
            | KeystoneListPermissions
            | KeystoneListProjects
            | CheckProjectPermissionForAgency
            | ListProjectPermissionsForAgency
            | CheckDomainPermissionForAgency
            | ListDomainPermissionsForAgency
            | CheckAllProjectsPermissionForAgency
            | ListAllProjectsPermissionsForAgency
            | ShowDomainRoleAssignments
            | RaxCreateToken
            | RaxListAgents
            | RaxGetAgent
            | RaxGetAgentStatus
            | RaxListAgentEvents
            | RaxGetVaultEncryptionResult
            | CommvaultProbe
            | CommvaultLogin
            | CommvaultRenewLoginToken
            | CommvaultLogout
            | ListS3Vaults
            | GetJob
            | GetJobDetails
            | GetClientProperties
            | Unknown => false,
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name given is not one of [`Operation::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown operation {0:?}; expected one of {names}", names = Operation::ALL.map(Operation::as_str).join(", "))]
pub struct UnknownOperation(pub String);

impl FromStr for Operation {
    type Err = UnknownOperation;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Operation::ALL
            .into_iter()
            .find(|op| op.as_str() == s)
            .ok_or_else(|| UnknownOperation(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_revoke_and_delete_is_a_write_and_no_read_is() {
        for op in Operation::ALL {
            let name = op.as_str();
            // The verb, after the cloud's prefix: `RaxGetAgent` gets.
            let verb = ["Rax", "Keystone", "Commvault"]
                .iter()
                .find_map(|p| name.strip_prefix(p))
                .unwrap_or(name);
            let starts = |verbs: &[&str]| verbs.iter().any(|v| verb.starts_with(v));
            if starts(&["Create", "Update", "Delete", "Remove", "Associate", "Add"])
                && !verb.ends_with("Token")
            {
                assert!(op.mutates(), "{name} changes what the provider holds");
            }
            if starts(&["Show", "List", "Get", "Check"]) {
                assert!(!op.mutates(), "{name} only reads");
            }
        }
    }

    #[test]
    fn names_round_trip_through_from_str() {
        for op in Operation::ALL {
            assert_eq!(op.as_str().parse::<Operation>(), Ok(op));
        }
    }

    #[test]
    fn serde_name_equals_display_name() {
        for op in Operation::ALL {
            assert_eq!(
                serde_json::to_value(op).expect("serializes"),
                serde_json::Value::String(op.to_string())
            );
        }
    }

    #[test]
    fn unknown_name_lists_the_valid_ones() {
        let err = "UpdateVaults".parse::<Operation>().expect_err("not a name");
        assert!(err.to_string().contains("UpdateVault,"));
    }
}
