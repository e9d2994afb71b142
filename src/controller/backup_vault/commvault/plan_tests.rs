//! The plan and health of an S3 vault, from fixtures.

use super::*;
use crate::api::backup_vault::CommvaultEndpoint;

fn spec() -> CommvaultVault {
    CommvaultVault {
        name: "team-a-s3".into(),
        plan: CommvaultPlanRef {
            id: 3,
            name: "s3-plan".into(),
        },
        endpoints: vec![CommvaultEndpoint {
            client_id: 2,
            client_name: Some("mediaagent01".into()),
        }],
        owners: vec![1],
        user_groups: vec![],
        rotate_keys: None,
    }
}

fn job(status: &str, percent: i64, reason: Option<&str>) -> EndpointJob {
    EndpointJob::Seen(Job {
        id: 9001,
        status: status.into(),
        percent_complete: Some(percent),
        reason: reason.map(str::to_owned),
    })
}

fn observed(job: EndpointJob) -> Observed {
    Observed {
        vault: S3Vault {
            client_id: 41,
            name: "team-a-s3".into(),
            plan_name: None,
        },
        job,
        created_with: Some(CreatedWith::of(&spec())),
        retired: false,
    }
}

#[test]
fn a_vault_as_created_plans_nothing() {
    let p = plan(&spec(), &observed(job("Completed", 100, None)));
    assert_eq!(p, engine::Plan::default());
}

#[test]
fn a_running_job_is_awaited_and_progressing_with_its_percentage() {
    let o = observed(job("Running", 40, None));
    let p = plan(&spec(), &o);
    assert!(p.calls.is_empty());
    assert_eq!(p.awaiting, ["endpoint job 9001 to finish"]);
    match health(&o) {
        Health::Progressing { reason, message } => {
            assert_eq!(reason, JOB_RUNNING);
            assert!(message.contains("40% complete"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let started = observed(EndpointJob::Started(9001));
    assert!(matches!(health(&started), Health::Progressing { .. }));
    assert_eq!(started.job.to_follow(), Some(9001));
}

#[test]
fn a_completed_job_makes_the_vault_ready() {
    let o = observed(job("Completed", 100, None));
    assert!(matches!(health(&o), Health::Available { .. }));
    assert_eq!(o.job.to_follow(), None, "a finished job is not read again");
    let with_errors = observed(job("Completed w/ one or more errors", 100, None));
    assert!(matches!(health(&with_errors), Health::Available { .. }));
}

#[test]
fn failed_killed_and_unstarted_jobs_are_degraded_with_their_reason() {
    for status in ["Failed", "Killed", "Failed to Start"] {
        let o = observed(job(status, 10, Some("client mediaagent01 is offline")));
        match health(&o) {
            Health::Degraded { reason, message } => {
                assert_eq!(reason, JOB_FAILED);
                assert!(
                    message.contains("client mediaagent01 is offline"),
                    "{message}"
                );
                assert!(message.contains(status), "{message}");
            }
            other => panic!("{status}: {other:?}"),
        }
        assert_eq!(o.job.to_follow(), None, "{status} is final");
        assert!(plan(&spec(), &o).awaiting.is_empty());
    }
    let refused = observed(EndpointJob::Refused("no such client".into()));
    assert!(matches!(health(&refused), Health::Degraded { reason, .. } if reason == JOB_FAILED));
}

#[test]
fn changed_endpoints_and_owners_are_blocked_not_called() {
    let mut want = spec();
    want.endpoints.push(CommvaultEndpoint {
        client_id: 5,
        client_name: None,
    });
    want.owners = vec![1, 7];
    let p = plan(&want, &observed(job("Completed", 100, None)));
    assert!(p.calls.is_empty());
    let fields: Vec<&str> = p.drift.iter().map(|d| d.field.as_str()).collect();
    assert_eq!(fields, ["commvault.endpoints", "commvault.owners"]);
    assert!(p.blocked.iter().all(|b| b.reason == "UpdateUnsupported"));
    assert!(
        p.blocked[0].message.contains("[2, 5]"),
        "{}",
        p.blocked[0].message
    );
}

#[test]
fn order_of_ids_is_no_difference() {
    let mut want = spec();
    want.owners = vec![1, 7];
    let mut o = observed(job("Completed", 100, None));
    if let Some(created) = o.created_with.as_mut() {
        created.owners = vec![7, 1];
    }
    assert!(plan(&want, &o).blocked.is_empty());
}

#[test]
fn an_adopted_vault_on_another_plan_is_immutable() {
    let mut o = observed(EndpointJob::Unknown);
    o.created_with = None;
    o.vault.plan_name = Some("other-plan".into());
    let p = plan(&spec(), &o);
    assert_eq!(p.blocked.len(), 1);
    assert_eq!(p.blocked[0].reason, "ImmutableFieldDiffers");
    assert!(matches!(health(&o), Health::Available { .. }));
}

#[test]
fn the_create_request_carries_every_field() {
    let request = new_vault(&spec());
    assert_eq!(request.name, "team-a-s3");
    assert_eq!(
        (request.plan_id, request.plan_name.as_str()),
        (3, "s3-plan")
    );
    assert_eq!(request.endpoints, [(2, Some("mediaagent01".to_string()))]);
    assert_eq!(request.owners, [1]);
}

#[test]
fn a_name_differing_only_in_case_is_no_difference_but_a_rename_is_immutable() {
    let mut o = observed(job("Completed", 100, None));
    o.vault.name = "TEAM-A-S3".into();
    assert_eq!(plan(&spec(), &o), engine::Plan::default());
    o.vault.name = "team-b-s3".into();
    let p = plan(&spec(), &o);
    assert_eq!(p.drift[0].field, "commvault.name");
    assert_eq!(p.drift[0].observed, "team-b-s3");
    assert_eq!(p.blocked[0].reason, "ImmutableFieldDiffers");
    assert!(
        p.blocked[0].message.contains("cannot change it"),
        "{}",
        p.blocked[0].message
    );
}

#[test]
fn a_plan_the_list_does_not_show_is_compared_with_what_coffer_created() {
    let mut want = spec();
    want.plan = CommvaultPlanRef {
        id: 4,
        name: "s3-gold".into(),
    };
    let p = plan(&want, &observed(job("Completed", 100, None)));
    assert_eq!(p.drift[0].field, "commvault.plan");
    assert_eq!(p.drift[0].observed, "s3-plan (3)");
    assert_eq!(p.drift[0].desired, "s3-gold (4)");
    assert_eq!(p.blocked[0].reason, "ImmutableFieldDiffers");
}

#[test]
fn a_job_commvault_no_longer_knows_is_degraded_and_read_again() {
    let o = observed(EndpointJob::Missing(9001));
    assert!(matches!(health(&o), Health::Degraded { reason, .. } if reason == JOB_NOT_FOUND));
    assert_eq!(o.job.to_follow(), Some(9001));
    assert_eq!(EndpointJob::Unknown.to_follow(), None);
}

#[test]
fn a_retired_client_is_partly_deleted_naming_the_last_call() {
    let mut o = observed(job("Completed", 100, None));
    o.retired = true;
    assert_eq!(
        health(&o),
        Health::PartlyDeleted {
            remaining: "DELETE Client/41?forceDelete=1 (its client is retired)".into()
        }
    );
}
