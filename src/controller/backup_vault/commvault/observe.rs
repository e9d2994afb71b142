//! Between what status remembers and what the pair observes: the endpoint
//! job and the create-time fields live in `status.atProvider.commvault`
//! because Commvault's list does not show them, so each reconcile starts
//! from there. Pure.

use super::plan::{CreatedWith, EndpointJob, Observed};
use crate::api::backup_vault::{CommvaultVaultObservation, VaultObservation};
use crate::provider::commvault::{Job, S3Vault};

/// What status says of the vault with `client_id`, if it is that vault.
pub fn remembered(
    at_provider: Option<&VaultObservation>,
    client_id: i64,
) -> Option<&CommvaultVaultObservation> {
    at_provider
        .and_then(|a| a.commvault.as_deref())
        .filter(|c| c.client_id == client_id)
}

/// The job as status last recorded it.
pub fn job_of(seen: &CommvaultVaultObservation) -> EndpointJob {
    match (seen.job_id, &seen.job_status) {
        (Some(id), Some(status)) => EndpointJob::Seen(Job {
            id,
            status: status.clone(),
            percent_complete: seen.percent_complete,
            reason: seen.job_reason.clone(),
        }),
        (Some(id), None) => EndpointJob::Started(id),
        (None, _) => match &seen.job_reason {
            Some(why) => EndpointJob::Refused(why.clone()),
            None => EndpointJob::Unknown,
        },
    }
}

/// The create-time fields as status last recorded them.
pub fn created_with_of(seen: &CommvaultVaultObservation) -> Option<CreatedWith> {
    Some(CreatedWith {
        plan: seen.plan.clone()?,
        endpoints: seen.endpoints.clone(),
        owners: seen.owners.clone(),
        user_groups: seen.user_groups.clone(),
    })
}

/// The observation as `status.atProvider` shows it.
pub fn at_provider(observed: &Observed) -> VaultObservation {
    let Observed {
        vault: S3Vault {
            client_id, name, ..
        },
        job,
        created_with,
        ..
    } = observed;
    let mut view = CommvaultVaultObservation {
        client_id: *client_id,
        name: name.clone(),
        ..CommvaultVaultObservation::default()
    };
    if let Some(created) = created_with {
        view.plan = Some(created.plan.clone());
        view.endpoints = created.endpoints.clone();
        view.owners = created.owners.clone();
        view.user_groups = created.user_groups.clone();
    }
    match job {
        EndpointJob::Unknown => {}
        EndpointJob::Started(id) | EndpointJob::Missing(id) => view.job_id = Some(*id),
        EndpointJob::Refused(why) => view.job_reason = Some(why.clone()),
        EndpointJob::Seen(job) => {
            view.job_id = Some(job.id);
            view.job_status = Some(job.status.clone());
            view.percent_complete = job.percent_complete;
            view.job_reason = job.reason.clone();
        }
    }
    VaultObservation {
        status: Some(status_word(job).to_string()),
        commvault: Some(Box::new(view)),
        ..VaultObservation::default()
    }
}

/// One word for `atProvider.status`, shared with the CBR vaults' column.
fn status_word(job: &EndpointJob) -> &'static str {
    use crate::provider::commvault::JobPhase;
    match job {
        EndpointJob::Unknown => "available",
        EndpointJob::Started(_) => "creating",
        EndpointJob::Missing(_) | EndpointJob::Refused(_) => "error",
        EndpointJob::Seen(job) => match job.phase() {
            JobPhase::Active => "creating",
            JobPhase::Completed => "available",
            JobPhase::Failed => "error",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::backup_vault::CommvaultPlanRef;

    #[test]
    fn status_round_trips_the_job_and_the_create_time_fields() {
        let observed = Observed {
            vault: S3Vault {
                client_id: 41,
                name: "team-a".into(),
                plan_name: None,
            },
            job: EndpointJob::Seen(Job {
                id: 9001,
                status: "Running".into(),
                percent_complete: Some(40),
                reason: None,
            }),
            created_with: Some(CreatedWith {
                plan: CommvaultPlanRef {
                    id: 3,
                    name: "s3-plan".into(),
                },
                endpoints: vec![],
                owners: vec![1],
                user_groups: vec![],
            }),
            retired: false,
        };
        let view = at_provider(&observed);
        let seen = remembered(Some(&view), 41).expect("the same vault");
        assert_eq!(job_of(seen), observed.job);
        assert_eq!(created_with_of(seen), observed.created_with);
        assert!(remembered(Some(&view), 42).is_none());
    }
}
