//! [`CbrShareApi`] over HTTP: the backup and member calls of both sides of
//! a CBR backup share, with CBR's wire shapes kept in this file.

use std::sync::Arc;

use async_trait::async_trait;
use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::client::{Call, CbrClient, HuaweiConnection};
use super::errors::{FailedResponse, map_cbr_error};
use super::share::{Backup, CbrShareApi, MAX_MEMBERS_PER_ADD, Member, MemberStatus};
use super::transport::Response;
use super::vaults::{ignore_body, json, next_offset};
use crate::provider::ProviderError;
use crate::provider::budget::RateBudget;
use crate::provider::listing::Tally;
use crate::provider::metrics::ProviderMetrics;

/// The largest page of members asked for.
const PAGE_LIMIT: u64 = 1000;
/// A member list that has not ended after this many pages is broken.
const MAX_PAGES: usize = 100;
/// What CBR says when asked for the members of a backup that was deleted.
const MALFORMED_URL: &str = "Malformed request url";

/// Backup sharing in one Huawei Cloud project, through CBR.
#[derive(Debug)]
pub struct HuaweiShares {
    cbr: CbrClient,
    project_id: String,
}

impl HuaweiShares {
    /// As [`super::HuaweiVaults::with_budget`]: checks the connection, no call.
    pub fn with_budget(
        conn: HuaweiConnection,
        metrics: Arc<ProviderMetrics>,
        budget: Arc<RateBudget>,
    ) -> Result<Self, ProviderError> {
        Ok(Self {
            cbr: CbrClient::new(&conn, metrics, budget)?,
            project_id: conn.project_id.clone(),
        })
    }

    async fn member_call(&self, call: Call) -> Result<Member, ProviderError> {
        let env = self
            .cbr
            .call_mapped(&call, map_share_error, json::<MemberEnvelope>)
            .await?;
        Ok(member_from_wire(env.member))
    }
}

/// CBR's error mapping, except for the documented quirk: HTTP 401
/// `Malformed request url` on a deleted backup's members is not-found.
pub fn map_share_error(resp: &FailedResponse<'_>) -> ProviderError {
    if resp.status == 401 && resp.body.contains(MALFORMED_URL) {
        return ProviderError::NotFound {
            what: resp.what.to_string(),
            message: format!(
                "CBR answered HTTP 401 {MALFORMED_URL:?}, which it does for a deleted backup"
            ),
        };
    }
    map_cbr_error(resp)
}

fn backup_what(id: &str) -> String {
    format!("backup {id}")
}

/// Checks an id before it goes into a path (see `vaults::checked_id`).
fn checked(id: &str) -> Result<&str, ProviderError> {
    if matches!(id.trim(), "" | "." | "..") {
        return Err(ProviderError::Invalid {
            code: "InvalidId".to_string(),
            message: format!("{id:?} is not a backup or project id"),
        });
    }
    Ok(id)
}

#[derive(Debug, Deserialize)]
struct BackupEnvelope {
    backup: WireBackup,
}

#[derive(Debug, Deserialize)]
struct WireBackup {
    id: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    resource_type: Option<String>,
    #[serde(default)]
    project_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct MemberEnvelope {
    member: WireMember,
}

#[derive(Debug, Deserialize)]
struct MemberPage {
    #[serde(default)]
    members: Vec<WireMember>,
    #[serde(default)]
    count: Option<i64>,
}

/// CBR's `Member`; `vault_id`, `image_id` and `updated_at` may be null.
#[derive(Debug, Deserialize)]
struct WireMember {
    dest_project_id: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    vault_id: Option<String>,
    #[serde(default)]
    image_id: Option<String>,
    #[serde(default)]
    updated_at: Option<String>,
}

#[derive(Debug, Serialize)]
struct AddMembersBody<'a> {
    members: &'a [String],
}

#[derive(Debug, Serialize)]
struct UpdateMemberBody<'a> {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    vault_id: Option<&'a str>,
}

fn member_from_wire(w: WireMember) -> Member {
    Member {
        project_id: w.dest_project_id,
        status: w.status.unwrap_or_default(),
        vault_id: w.vault_id.filter(|v| !v.is_empty()),
        image_id: w.image_id.filter(|v| !v.is_empty()),
        updated_at: w.updated_at.filter(|v| !v.is_empty()),
    }
}

#[async_trait]
impl CbrShareApi for HuaweiShares {
    fn project_id(&self) -> &str {
        &self.project_id
    }

    async fn show_backup(&self, backup_id: &str) -> Result<Backup, ProviderError> {
        let id = checked(backup_id)?;
        let call = Call::new("show_backup", Method::GET, backup_what(id)).path(&["backups", id]);
        let env = self
            .cbr
            .call_mapped(&call, map_share_error, json::<BackupEnvelope>)
            .await?;
        Ok(Backup {
            id: env.backup.id,
            status: env.backup.status.unwrap_or_default(),
            resource_type: env.backup.resource_type.unwrap_or_default(),
            project_id: env.backup.project_id.unwrap_or_default(),
        })
    }

    async fn list_members(&self, backup_id: &str) -> Result<Vec<Member>, ProviderError> {
        let id = checked(backup_id)?;
        let mut all = Vec::new();
        let mut offset = 0u64;
        let mut tally = Tally::new(format!("the members of backup {id}"));
        for _ in 0..MAX_PAGES {
            let call = Call::new("list_members", Method::GET, backup_what(id))
                .path(&["backups", id, "members"])
                .query(&[
                    ("limit", PAGE_LIMIT.to_string()),
                    ("offset", offset.to_string()),
                ]);
            let decode = |resp: &Response| json::<MemberPage>(resp).map(|p| (p, resp.body.len()));
            let (page, bytes) = self.cbr.call_mapped(&call, map_share_error, decode).await?;
            tally.page(page.members.len(), bytes)?;
            let next = next_offset(offset, page.members.len(), page.count);
            all.extend(page.members.into_iter().map(member_from_wire));
            match next {
                Some(n) => offset = n,
                None => return Ok(all),
            }
        }
        Err(ProviderError::Transient {
            message: format!(
                "listing the members of backup {id} did not end after {MAX_PAGES} pages"
            ),
        })
    }

    async fn add_members(
        &self,
        backup_id: &str,
        projects: &[String],
    ) -> Result<Vec<Member>, ProviderError> {
        let id = checked(backup_id)?;
        if projects.is_empty() || projects.len() > MAX_MEMBERS_PER_ADD {
            return Err(ProviderError::Invalid {
                code: "InvalidRequest".to_string(),
                message: format!(
                    "CBR adds 1 to {MAX_MEMBERS_PER_ADD} members per call, not {}",
                    projects.len()
                ),
            });
        }
        let call = Call::new("add_members", Method::POST, backup_what(id))
            .path(&["backups", id, "members"])
            .json(&AddMembersBody { members: projects })?;
        let page = self
            .cbr
            .call_mapped(&call, map_share_error, json::<MemberPage>)
            .await?;
        Ok(page.members.into_iter().map(member_from_wire).collect())
    }

    async fn remove_member(&self, backup_id: &str, project: &str) -> Result<(), ProviderError> {
        let (id, project) = (checked(backup_id)?, checked(project)?);
        let call = Call::new("remove_member", Method::DELETE, backup_what(id))
            .path(&["backups", id, "members", project]);
        match self
            .cbr
            .call_mapped(&call, map_share_error, ignore_body)
            .await
        {
            Err(e) if !e.is_not_found() => Err(e),
            _ => Ok(()),
        }
    }

    async fn show_member(&self, backup_id: &str, project: &str) -> Result<Member, ProviderError> {
        let (id, project) = (checked(backup_id)?, checked(project)?);
        let call = Call::new("show_member", Method::GET, backup_what(id))
            .path(&["backups", id, "members", project]);
        self.member_call(call).await
    }

    async fn update_member(
        &self,
        backup_id: &str,
        project: &str,
        status: MemberStatus,
        vault_id: Option<&str>,
    ) -> Result<Member, ProviderError> {
        let (id, project) = (checked(backup_id)?, checked(project)?);
        let call = Call::new("update_member", Method::PUT, backup_what(id))
            .path(&["backups", id, "members", project])
            .json(&UpdateMemberBody {
                status: status.as_str(),
                vault_id,
            })?;
        self.member_call(call).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(status: u16, body: &str) -> ProviderError {
        map_share_error(&FailedResponse {
            status,
            body,
            retry_after: None,
            request_id: None,
            what: "backup b1",
        })
    }

    #[test]
    fn malformed_url_401_is_not_found() {
        let body = r#"{"unauthorized":{"code":"401","message":"Malformed request url"}}"#;
        assert!(failed(401, body).is_not_found(), "{:?}", failed(401, body));
    }

    #[test]
    fn any_other_401_is_unauthorized() {
        let body =
            r#"{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information"}"#;
        assert!(matches!(
            failed(401, body),
            ProviderError::Unauthorized { .. }
        ));
    }

    #[test]
    fn the_update_body_carries_a_vault_only_when_given() {
        let accept = UpdateMemberBody {
            status: "accepted",
            vault_id: Some("v1"),
        };
        let reject = UpdateMemberBody {
            status: "rejected",
            vault_id: None,
        };
        assert_eq!(
            serde_json::to_string(&accept).ok().as_deref(),
            Some(r#"{"status":"accepted","vault_id":"v1"}"#)
        );
        assert_eq!(
            serde_json::to_string(&reject).ok().as_deref(),
            Some(r#"{"status":"rejected"}"#)
        );
    }
}
