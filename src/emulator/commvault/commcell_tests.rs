//! The CommCell's create rules and job clock.

use super::*;
use crate::provider::commvault::wire::{Bucket, ClientRef, PlanRef, UserRef};

fn cell() -> CommCell {
    CommCell::new(User {
        id: 1,
        name: "admin".into(),
        password: "pw".into(),
    })
}

fn request(name: &str) -> CreateStore {
    CreateStore {
        bucket: Bucket {
            client_name: name.into(),
        },
        plan: PlanRef {
            plan_id: DEMO_PLAN.0,
            plan_name: DEMO_PLAN.1.into(),
        },
        cvs3_endpoints: vec![ClientRef {
            client_id: DEMO_CLIENT.0,
            client_name: None,
        }],
        owners: vec![UserRef {
            user_id: 1,
            type_: USER_TYPE,
        }],
        user_groups: vec![],
        rotate_keys: None,
    }
}

#[test]
fn a_valid_create_makes_a_vault_and_a_running_job() {
    let mut c = cell();
    let t0 = Instant::now();
    assert_eq!(c.validate(&request("team-a")), Ok(()));
    let (client, job) = c.create(
        &request("team-a"),
        Duration::from_secs(10),
        None,
        Duration::ZERO,
        t0,
    );
    assert_eq!(c.listed(t0).count(), 1);
    let running = c.jobs[&job].state(t0 + Duration::from_secs(5));
    assert_eq!((running.status, running.percent), ("Running", 50));
    let done = c.jobs[&job].state(t0 + Duration::from_secs(11));
    assert_eq!(done.status, "Completed");
    assert!(c.retire(client));
    assert_eq!(c.listed(t0).count(), 0, "a retired vault is not listed");
    assert!(c.delete(client));
    assert!(!c.delete(client));
}

#[test]
fn duplicate_names_unknown_entities_and_wrong_types_are_refused() {
    let mut c = cell();
    c.create(
        &request("team-a"),
        Duration::ZERO,
        None,
        Duration::ZERO,
        Instant::now(),
    );
    assert!(matches!(
        c.validate(&request("TEAM-A")),
        Err(Refusal::Duplicate(_))
    ));
    let mut bad_plan = request("b");
    bad_plan.plan.plan_name = "other".into();
    assert!(matches!(
        c.validate(&bad_plan),
        Err(Refusal::NotFound("VALUE_NOT_FOUND", _))
    ));
    let mut bad_type = request("b");
    bad_type.owners[0].type_ = 15;
    assert!(matches!(c.validate(&bad_type), Err(Refusal::Invalid(_))));
    let mut bad_client = request("b");
    bad_client.cvs3_endpoints[0].client_id = 77;
    assert!(matches!(
        c.validate(&bad_client),
        Err(Refusal::NotFound("INVALID_ENTITY_ID", _))
    ));
    assert!(matches!(
        c.validate(&request(" ")),
        Err(Refusal::Invalid(_))
    ));
}

#[test]
fn a_failing_job_ends_failed_with_its_reason() {
    let mut c = cell();
    let t0 = Instant::now();
    let reason = Some("client mediaagent01 is offline".to_string());
    let (_, job) = c.create(
        &request("a"),
        Duration::from_secs(1),
        reason,
        Duration::ZERO,
        t0,
    );
    let state = c.jobs[&job].state(t0 + Duration::from_secs(2));
    assert_eq!(state.status, "Failed");
    assert_eq!(state.reason, "client mediaagent01 is offline");
}
