use super::*;
use crate::api::BackupVault;
use crate::api::conditions::Condition;
use crate::api::managed::{CREATE_STARTED_ANNOTATION, ManagementPolicy};
use crate::controller::engine::context::{Timing, object_key};
use crate::controller::engine::fixtures::{context, object, requeue_after, timing};

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

/// A reconcile of `obj` (which the caller keeps), with no API server
/// behind it: enough for the decisions that call none.
fn run<'a>(
    ctx: &'a Context<()>,
    api: &'a Api<BackupVault>,
    obj: &'a BackupVault,
    policy: Policy,
) -> Run<'a, BackupVault, ()> {
    Run::new(ctx, api, obj, policy)
}

fn api(ctx: &Context<()>) -> Api<BackupVault> {
    Api::namespaced(ctx.client.clone(), "team-a")
}

fn at(rv: &str) -> BackupVault {
    let mut bv = object();
    bv.metadata.resource_version = Some(rv.into());
    bv
}

fn in_flight(call: &str) -> InFlightCall {
    InFlightCall {
        call: call.into(),
        since: Time(Timestamp::UNIX_EPOCH),
    }
}

/// Whether `action` looks again within `period` give or take the 20 % jitter.
fn around(action: &Action, period: std::time::Duration) -> bool {
    requeue_after(action).is_some_and(|d| d >= period.mul_f64(0.79) && d <= period.mul_f64(1.21))
}

#[tokio::test]
async fn the_next_look_polls_while_something_settles_and_else_waits_for_the_drift_check() {
    let ctx = context(timing());
    let (api, obj) = (api(&ctx), object());
    let run = run(&ctx, &api, &obj, Policy::default());
    let status = ManagedStatus::default();
    let mut progress = Progress::of(&obj, &status);
    // The resync sweep brings the drift check at the object's own moment.
    assert_eq!(run.next(&progress), Action::await_change());
    progress.plan = Some(PlanView::default());
    assert_eq!(
        run.next(&progress),
        Action::await_change(),
        "nothing awaited"
    );
    progress.in_flight = vec![in_flight("addResource/srv-1")];
    assert!(around(&run.next(&progress), timing().poll_interval));
    progress.in_flight.clear();
    progress.plan = Some(PlanView {
        awaiting: vec!["addResource/srv-1".into()],
        ..PlanView::default()
    });
    assert!(around(&run.next(&progress), timing().poll_interval));
    progress.plan = None;
    progress.recheck = Some(std::time::Duration::from_secs(45));
    let recheck = run.next(&progress);
    assert!(
        around(&recheck, std::time::Duration::from_secs(45)),
        "{recheck:?}"
    );
}

#[tokio::test]
async fn what_keeps_the_cloud_object_on_delete_is_named() {
    let ctx = context(timing());
    let (api, obj) = (api(&ctx), object());
    let observing = Policy {
        management: ManagementPolicy::ObserveOnly,
        ..Policy::default()
    };
    assert_eq!(
        run(&ctx, &api, &obj, observing).why_kept(),
        "managementPolicy ObserveOnly"
    );
    assert_eq!(
        run(&ctx, &api, &obj, Policy::default()).why_kept(),
        "deletionPolicy Orphan"
    );
}

#[tokio::test]
async fn a_difference_is_drift_only_when_the_last_reconcile_left_this_spec_synced() {
    let ctx = context(timing());
    let api = api(&ctx);
    let with_synced = |status: &str, generation: i64| {
        let mut bv = object();
        bv.status.get_or_insert_with(Default::default).conditions = vec![Condition {
            type_: SYNCED.into(),
            status: status.into(),
            reason: "ReconcileSuccess".into(),
            message: String::new(),
            last_transition_time: Time(Timestamp::UNIX_EPOCH),
            observed_generation: Some(generation),
        }];
        bv
    };
    let synced = with_synced("True", 1);
    assert!(run(&ctx, &api, &synced, Policy::default()).was_in_sync());
    let older_spec = with_synced("True", 0);
    assert!(!run(&ctx, &api, &older_spec, Policy::default()).was_in_sync());
    let failing = with_synced("False", 1);
    assert!(!run(&ctx, &api, &failing, Policy::default()).was_in_sync());
    let new = object();
    assert!(!run(&ctx, &api, &new, Policy::default()).was_in_sync());
}

#[tokio::test]
async fn the_versions_a_reconcile_wrote_over_are_remembered_for_the_next() {
    let ctx = context(timing());
    let api = api(&ctx);
    // The finalizer's write answered at "5"; the cache had the object at "4".
    let obj = at("5");
    let mut run = run(&ctx, &api, &obj, Policy::default()).read_at(Some("4"));
    assert_eq!(run.superseded, ["4"]);
    run.wrote(&at("6"));
    assert_eq!(run.superseded, ["4", "5"]);
    assert_eq!(run.resource_version.as_deref(), Some("6"));
    run.remember();
    assert!(ctx.own_writes.behind(&at("4")));
    assert!(ctx.own_writes.behind(&at("5")));
}

#[tokio::test]
async fn an_object_read_as_the_cache_has_it_supersedes_nothing() {
    let ctx = context(timing());
    let api = api(&ctx);
    let obj = at("5");
    let same = run(&ctx, &api, &obj, Policy::default()).read_at(Some("5"));
    assert!(same.superseded.is_empty());
    let unknown = run(&ctx, &api, &obj, Policy::default()).read_at(None);
    assert!(unknown.superseded.is_empty());
}

#[tokio::test]
async fn a_reconcile_shows_a_failure_once_it_has_lasted_the_grace() {
    let ctx = context(Timing {
        failure_grace: std::time::Duration::ZERO,
        ..timing()
    });
    let (api, obj) = (api(&ctx), object());
    let run = run(&ctx, &api, &obj, Policy::default());
    assert!(!run.failure_persists(), "not failing");
    ctx.backoff
        .next_delay(&object_key(BackupVault::KIND, &obj), None);
    assert!(run.failure_persists());
}

#[test]
fn every_managed_object_has_a_namespace() {
    assert_eq!(namespace_of(&object()).ok().as_deref(), Some("team-a"));
    let mut cluster_scoped = object();
    cluster_scoped.metadata.namespace = None;
    let missing = namespace_of(&cluster_scoped).expect_err("no namespace");
    assert_eq!(missing.reason(), "InvalidObject");
}

/// One pass of observe → plan → act, against a toy cloud.
#[path = "run_pass_tests.rs"]
mod pass;
