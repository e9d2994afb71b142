//! The pure half of BackupVault on Commvault: what an S3 vault looks like to
//! coffer (the listed vault, its endpoint job, and what it was created
//! with), its health from the job, and the plan. Commvault documents no
//! S3-vault update, so a plan never calls: it shows what differs as blocked
//! and waits for the endpoint job.

use std::fmt;

use crate::api::backup_vault::{CommvaultEndpoint, CommvaultPlanRef, CommvaultVault};
use crate::api::managed::{Drift, DriftAction};
use crate::controller::engine::{self, Health};
use crate::provider::commvault::{Job, JobPhase, NewS3Vault, S3Vault};

/// `Ready=False` while the endpoint job runs.
pub const JOB_RUNNING: &str = "EndpointJobRunning";
/// `Ready=False` once the endpoint job failed, was killed or did not start.
pub const JOB_FAILED: &str = "EndpointJobFailed";
/// `Ready=False` when Commvault no longer knows the endpoint job.
pub const JOB_NOT_FOUND: &str = "EndpointJobNotFound";

/// No call can change an S3 vault; the type has no values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {}

/// The endpoint job, as far as coffer knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EndpointJob {
    /// None known: an adopted or imported vault.
    Unknown,
    /// Started by the create, not read yet.
    Started(i64),
    /// As `GET Job/{id}` last showed it.
    Seen(Job),
    /// `GET Job/{id}` answered with no job.
    Missing(i64),
    /// The create said the job did not start, and why.
    Refused(String),
}

impl EndpointJob {
    /// The job id to read again, while the job may still change.
    pub fn to_follow(&self) -> Option<i64> {
        match self {
            Self::Started(id) | Self::Missing(id) => Some(*id),
            Self::Seen(job) if job.phase() == JobPhase::Active => Some(job.id),
            _ => None,
        }
    }
}

/// What the vault was created with, as coffer sent it. Commvault's list
/// does not document these fields, so coffer keeps them in status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreatedWith {
    pub plan: CommvaultPlanRef,
    pub endpoints: Vec<CommvaultEndpoint>,
    pub owners: Vec<i64>,
    pub user_groups: Vec<i64>,
}

impl CreatedWith {
    pub fn of(spec: &CommvaultVault) -> Self {
        Self {
            plan: spec.plan.clone(),
            endpoints: spec.endpoints.clone(),
            owners: spec.owners.clone(),
            user_groups: spec.user_groups.clone(),
        }
    }
}

/// One S3 vault as coffer observes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observed {
    pub vault: S3Vault,
    pub job: EndpointJob,
    /// `None` when coffer did not create it (imported).
    pub created_with: Option<CreatedWith>,
    /// Its client is retired: a delete stopped between its two calls.
    pub retired: bool,
}

/// A difference no call fixes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blocked {
    pub field: &'static str,
    pub observed: String,
    pub desired: String,
    /// Fixed at creation by Commvault (name, plan), or changeable in
    /// Commvault but not through any documented API (the rest).
    pub immutable: bool,
}

impl Blocked {
    pub fn reason(&self) -> &'static str {
        match self.immutable {
            true => "ImmutableFieldDiffers",
            false => "UpdateUnsupported",
        }
    }
}

impl fmt::Display for Blocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            field,
            observed,
            desired,
            ..
        } = self;
        match self.immutable {
            true => write!(
                f,
                "commvault.{field} is {observed} on the S3 vault but {desired} in the spec, and Commvault cannot change it: \
                 set the spec to match, or create a new BackupVault"
            ),
            false => write!(
                f,
                "commvault.{field} was {observed} when the S3 vault was created but is {desired} in the spec; \
                 Commvault documents no API to change it, so coffer does not: change it in the Command Center, \
                 or set the spec back"
            ),
        }
    }
}

/// The create request for `spec`. Ids were bounded to int32 at admission.
pub fn new_vault(spec: &CommvaultVault) -> NewS3Vault {
    let id = |v: i64| i32::try_from(v).unwrap_or(i32::MAX);
    NewS3Vault {
        name: spec.name.clone(),
        plan_id: id(spec.plan.id),
        plan_name: spec.plan.name.clone(),
        endpoints: spec
            .endpoints
            .iter()
            .map(|e| (id(e.client_id), e.client_name.clone()))
            .collect(),
        owners: spec.owners.iter().copied().map(id).collect(),
        user_groups: spec.user_groups.iter().copied().map(id).collect(),
        rotate_keys: spec.rotate_keys,
    }
}

/// The plan: no calls; what differs, blocked; the running job awaited.
pub fn plan(spec: &CommvaultVault, observed: &Observed) -> engine::Plan<Call> {
    let blocked = differences(spec, observed);
    let drift = blocked
        .iter()
        .map(|b| Drift {
            field: format!("commvault.{}", b.field),
            desired: b.desired.clone(),
            observed: b.observed.clone(),
            action: DriftAction::Blocked,
            reason: Some(b.reason().to_string()),
        })
        .collect();
    let awaiting = observed
        .job
        .to_follow()
        .map(|id| format!("endpoint job {id} to finish"))
        .into_iter()
        .collect();
    engine::Plan {
        calls: Vec::new(),
        drift,
        blocked: blocked
            .iter()
            .map(|b| engine::Blocked {
                reason: b.reason(),
                message: b.to_string(),
            })
            .collect(),
        awaiting,
    }
}

fn differences(spec: &CommvaultVault, observed: &Observed) -> Vec<Blocked> {
    let mut blocked = Vec::new();
    let mut differ = |field, observed: String, desired: String, immutable| {
        if observed != desired {
            blocked.push(Blocked {
                field,
                observed,
                desired,
                immutable,
            });
        }
    };
    // Commvault matches names without regard to case.
    if !observed.vault.name.eq_ignore_ascii_case(&spec.name) {
        differ("name", observed.vault.name.clone(), spec.name.clone(), true);
    }
    if let Some(listed) = &observed.vault.plan_name {
        differ("plan.name", listed.clone(), spec.plan.name.clone(), true);
    }
    let Some(created) = &observed.created_with else {
        return blocked;
    };
    if observed.vault.plan_name.is_none() {
        differ(
            "plan",
            plan_text(&created.plan),
            plan_text(&spec.plan),
            true,
        );
    }
    differ(
        "endpoints",
        ids(created.endpoints.iter().map(|e| e.client_id)),
        ids(spec.endpoints.iter().map(|e| e.client_id)),
        false,
    );
    differ(
        "owners",
        ids(created.owners.iter().copied()),
        ids(spec.owners.iter().copied()),
        false,
    );
    differ(
        "userGroups",
        ids(created.user_groups.iter().copied()),
        ids(spec.user_groups.iter().copied()),
        false,
    );
    blocked
}

fn plan_text(plan: &CommvaultPlanRef) -> String {
    format!("{} ({})", plan.name, plan.id)
}

/// Ids as a sorted list, so order never counts as a difference.
fn ids(ids: impl Iterator<Item = i64>) -> String {
    let mut ids: Vec<i64> = ids.collect();
    ids.sort_unstable();
    ids.dedup();
    format!("{ids:?}")
}

/// `Ready` from the endpoint job.
pub fn health(observed: &Observed) -> Health {
    let vault = &observed.vault;
    let name = &vault.name;
    if observed.retired {
        return Health::PartlyDeleted {
            remaining: format!(
                "DELETE Client/{}?forceDelete=1 (its client is retired)",
                vault.client_id
            ),
        };
    }
    let failed = |message: String| Health::Degraded {
        reason: JOB_FAILED.into(),
        message: format!(
            "{message}; coffer does not create the S3 vault again: fix the cause in Commvault and resubmit the job, \
             or delete this BackupVault and create it anew"
        ),
    };
    match &observed.job {
        EndpointJob::Unknown => Health::Available {
            message: format!(
                "S3 vault {name} ({}) exists; coffer did not start its endpoint job",
                vault.client_id
            ),
        },
        EndpointJob::Started(id) => Health::Progressing {
            reason: JOB_RUNNING.into(),
            message: format!("endpoint job {id} of S3 vault {name} started"),
        },
        EndpointJob::Refused(why) => failed(format!(
            "the endpoint job of S3 vault {name} did not start: {why}"
        )),
        EndpointJob::Missing(id) => Health::Degraded {
            reason: JOB_NOT_FOUND.into(),
            message: format!(
                "Commvault has no endpoint job {id} for S3 vault {name}; check the S3 endpoints in the Command Center"
            ),
        },
        EndpointJob::Seen(job) => {
            let reason = job
                .reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default();
            match job.phase() {
                JobPhase::Active => Health::Progressing {
                    reason: JOB_RUNNING.into(),
                    message: format!(
                        "endpoint job {} of S3 vault {name} is {} ({}% complete){reason}",
                        job.id,
                        job.status,
                        job.percent_complete.unwrap_or(0)
                    ),
                },
                JobPhase::Completed => Health::Available {
                    message: format!(
                        "S3 vault {name} is ready: endpoint job {} {}",
                        job.id, job.status
                    ),
                },
                JobPhase::Failed => failed(format!(
                    "endpoint job {} of S3 vault {name} ended {}{reason}",
                    job.id, job.status
                )),
            }
        }
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
