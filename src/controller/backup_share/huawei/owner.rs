//! The owner's side on CBR: the engine's [`External`] for the member set
//! of one backup (see the module above for what id, get and find mean).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::members::{member_view, share_api};
use super::owner_plan::{self, Call, Observed};
use crate::api::BackupShare;
use crate::api::backup_share::ShareObservation;
use crate::api::managed::PlannedCall;
use crate::controller::engine::{self, Candidate, Created, Error, External, Health, Lookup};
use crate::controller::env::{Context, Env};
use crate::provider::ProviderError;
use crate::provider::huawei::share::CbrShareApi;

/// One owner BackupShare's member set on CBR, connected.
pub struct OwnerShare {
    backup_id: String,
    members: BTreeSet<String>,
    /// The object is being deleted: the share is "gone" once none of the
    /// spec's members remains.
    deleting: bool,
    api: Arc<dyn CbrShareApi>,
    /// The shortest and longest wait before reading the members again
    /// while one has not answered (see [`owner_plan::recheck`]).
    recheck: (Duration, Duration),
}

impl OwnerShare {
    pub fn new(
        backup_id: String,
        members: BTreeSet<String>,
        deleting: bool,
        api: Arc<dyn CbrShareApi>,
    ) -> Self {
        Self {
            backup_id,
            members,
            deleting,
            api,
            recheck: (Duration::from_secs(10), Duration::from_secs(600)),
        }
    }

    fn target(&self) -> String {
        format!("backup {}", self.backup_id)
    }

    /// The backup and its members; a backup CBR no longer has is observed
    /// with `backup: None`.
    async fn observe(&self) -> Result<Observed, ProviderError> {
        let gone = Observed {
            backup_id: self.backup_id.clone(),
            backup: None,
            members: Vec::new(),
            not_owner: false,
        };
        let members = match self.api.list_members(&self.backup_id).await {
            Ok(members) => members,
            Err(e) if e.is_not_found() => return Ok(gone),
            // Only the owner may list members. When this project sees the
            // backup but is not its owner, say so instead of CBR's refusal.
            Err(e @ ProviderError::Invalid { .. }) => {
                return match self.api.show_backup(&self.backup_id).await {
                    Ok(backup) if backup.project_id != self.api.project_id() => Ok(Observed {
                        backup: Some(backup),
                        not_owner: true,
                        ..gone
                    }),
                    _ => Err(e),
                };
            }
            Err(e) => return Err(e),
        };
        let backup = match self.api.show_backup(&self.backup_id).await {
            Ok(backup) => backup,
            Err(e) if e.is_not_found() => return Ok(gone),
            Err(e) => return Err(e),
        };
        Ok(Observed {
            backup_id: self.backup_id.clone(),
            backup: Some(backup),
            members,
            not_owner: false,
        })
    }

    fn shares_any(&self, observed: &Observed) -> bool {
        observed
            .members
            .iter()
            .any(|m| self.members.contains(&m.project_id))
    }
}

#[async_trait]
impl External for OwnerShare {
    type Kind = BackupShare;
    type Observed = Observed;
    type Call = Call;

    type Env = Env;
    const LOOKUP: Lookup = Lookup::SpecNamed;

    fn connect(share: &BackupShare, ctx: &Context) -> Result<Self, Error> {
        let owner = share.spec.owner.clone().ok_or(Error::InvalidSpec {
            reason: "InvalidSpec",
            message: "spec sets neither owner nor receiver: set exactly one".into(),
        })?;
        let deleting = share.metadata.deletion_timestamp.is_some();
        let members = owner.members.into_iter().collect();
        let mut pair = Self::new(owner.backup_id, members, deleting, share_api(share, ctx)?);
        pair.recheck = (ctx.timing.poll_interval, ctx.timing.resync_interval);
        Ok(pair)
    }

    fn name(&self) -> &str {
        &self.backup_id
    }

    fn found_how(&self) -> &'static str {
        "found at the provider: the backup and its members"
    }

    async fn get(&self, _id: &str) -> Result<Option<Observed>, ProviderError> {
        let observed = self.observe().await?;
        let gone = observed.backup.is_none() || !self.shares_any(&observed);
        Ok(match self.deleting && gone {
            true => None,
            false => Some(observed),
        })
    }

    async fn find(&self) -> Result<Vec<Candidate<Observed>>, ProviderError> {
        let observed = self.observe().await?;
        // Nothing of this spec is shared yet: let the engine create. Not
        // for another project's backup: that is reported, never shared.
        if observed.backup.is_some() && !observed.not_owner && !self.shares_any(&observed) {
            return Ok(Vec::new());
        }
        Ok(vec![Candidate {
            observed,
            owned: true,
        }])
    }

    fn plan(&self, observed: &Observed, _in_flight: &BTreeSet<String>) -> engine::Plan<Call> {
        owner_plan::plan(&self.members, observed)
    }

    /// While a member has not answered, the owner reads the list again
    /// soon (and less often as the wait grows), so its status shows the
    /// answer without waiting for the drift check.
    fn recheck(&self, observed: &Observed) -> Option<Duration> {
        let (floor, ceiling) = self.recheck;
        owner_plan::recheck(observed, jiff::Timestamp::now(), floor, ceiling)
    }

    fn planned_create(&self) -> PlannedCall {
        PlannedCall {
            operation: "addMembers".into(),
            target: self.target(),
            fields: self.members.iter().cloned().collect(),
        }
    }

    async fn create(&self) -> Result<Created<Observed>, ProviderError> {
        let mut observed = self.observe().await?;
        if observed.backup.is_none() {
            return Err(ProviderError::NotFound {
                what: self.target(),
                message: "CBR no longer has the backup".into(),
            });
        }
        for batch in owner_plan::adds(&self.members, &observed.members) {
            let added = self.api.add_members(&self.backup_id, &batch).await?;
            observed.members.extend(added);
        }
        Ok(Created {
            observed,
            awaiting: Vec::new(),
        })
    }

    /// Makes the call, then reads the member list again (a read, not a
    /// write): status then shows the members as CBR has them now.
    async fn call(&self, _id: &str, call: &Call) -> Result<Option<Observed>, ProviderError> {
        match call {
            Call::Add(projects) => {
                self.api.add_members(&self.backup_id, projects).await?;
            }
            Call::Remove(project) => self.api.remove_member(&self.backup_id, project).await?,
        }
        Ok(Some(self.observe().await?))
    }

    /// Removes coffer's members (the spec's), one by one.
    async fn delete(&self, observed: &Observed) -> Result<(), ProviderError> {
        for member in observed
            .members
            .iter()
            .filter(|m| self.members.contains(&m.project_id))
        {
            self.api
                .remove_member(&self.backup_id, &member.project_id)
                .await?;
        }
        Ok(())
    }

    fn health(&self, observed: &Observed) -> Health {
        owner_plan::health(observed)
    }

    fn at_provider(&self, observed: &Observed) -> ShareObservation {
        // Sorted, so that CBR's list order never rewrites status.
        let mut members: Vec<_> = observed.members.iter().map(member_view).collect();
        members.sort_by(|a, b| a.project_id.cmp(&b.project_id));
        ShareObservation {
            backup_status: Some(
                observed
                    .backup
                    .as_ref()
                    .map_or_else(|| "deleted".to_string(), |b| b.status.clone()),
            ),
            members,
            member: None,
        }
    }

    fn id(observed: &Observed) -> String {
        observed.backup_id.clone()
    }

    fn describe(&self, call: &Call) -> PlannedCall {
        let (operation, fields) = match call {
            Call::Add(projects) => ("addMembers", projects.clone()),
            Call::Remove(project) => ("removeMember", vec![project.clone()]),
        };
        PlannedCall {
            operation: operation.into(),
            target: self.target(),
            fields,
        }
    }
}
