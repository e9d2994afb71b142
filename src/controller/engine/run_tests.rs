use super::*;
use crate::api::BackupVault;
use crate::api::conditions::Condition;
use crate::api::managed::CREATE_STARTED_ANNOTATION;
use crate::controller::engine::fixtures::object;

fn started(since: &str) -> BackupVault {
    let mut bv = object();
    bv.annotations_mut()
        .insert(CREATE_STARTED_ANNOTATION.into(), since.into());
    bv
}

fn pending(since: &str) -> Option<CreatePending> {
    Some(CreatePending {
        since: since.into(),
    })
}

#[test]
fn the_annotation_is_the_marker_while_the_status_is_unwritten() {
    let status = ManagedStatus::<()>::default();
    assert_eq!(create_pending(&started("t0"), &status), pending("t0"));
    assert_eq!(create_pending(&object(), &status), None);
}

#[test]
fn once_coffer_wrote_the_status_the_annotation_means_nothing() {
    let recorded = ManagedStatus::<()> {
        external_id: Some("agency-1".into()),
        ..ManagedStatus::default()
    };
    assert_eq!(create_pending(&started("t0"), &recorded), None);
    let reported = ManagedStatus::<()> {
        conditions: vec![Condition {
            type_: "Synced".into(),
            status: "False".into(),
            reason: "ReconcileError".into(),
            message: "the create failed".into(),
            last_transition_time: Time(Timestamp::UNIX_EPOCH),
            observed_generation: None,
        }],
        ..ManagedStatus::default()
    };
    assert_eq!(create_pending(&started("t0"), &reported), None);
}

#[test]
fn the_status_marker_comes_first() {
    let status = ManagedStatus::<()> {
        create_pending: pending("t1"),
        ..ManagedStatus::default()
    };
    assert_eq!(create_pending(&started("t0"), &status), pending("t1"));
}
