use super::*;
use crate::api::BackupVault;
use crate::api::managed::{Drift, DriftAction};
use crate::controller::engine::fixtures::object;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::runtime::reflector;
use prometheus_client::encoding::text::encode;

const REASONS: &[Reason] = &[
    Reason::new("Available", "", ""),
    Reason::new("ReconcileSuccess", "", ""),
    Reason::new("Throttled", "", ""),
];

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_second(seconds).expect("a time")
}

fn condition(type_: &str, status: &str, reason: &str, since: i64) -> Condition {
    Condition {
        type_: type_.into(),
        status: status.into(),
        reason: reason.into(),
        message: String::new(),
        observed_generation: None,
        last_transition_time: Time(at(since)),
    }
}

fn vault(name: &str, uid: &str, conditions: Vec<Condition>) -> BackupVault {
    let mut bv = object();
    bv.metadata.name = Some(name.into());
    bv.metadata.uid = Some(uid.into());
    bv.metadata.creation_timestamp = Some(Time(at(1_000)));
    bv.status.get_or_insert_with(Default::default).conditions = conditions;
    bv
}

fn ready_vault(name: &str, uid: &str, since: i64) -> BackupVault {
    vault(
        name,
        uid,
        vec![
            condition(READY, "True", "Available", since),
            condition(SYNCED, "True", "ReconcileSuccess", since),
        ],
    )
}

fn census(objects: Vec<BackupVault>) -> ObjectStates {
    let (store, mut writer) = reflector::store::<BackupVault>();
    for obj in objects {
        writer.apply_watcher_event(&Event::Apply(obj));
    }
    let states = ObjectStates::default();
    states.add(Arc::new(StoreCensus::new(
        "BackupVault",
        store,
        &[REASONS],
        managed_state::<BackupVault>,
    )));
    states
}

#[test]
fn objects_are_counted_by_condition_with_bounded_reasons() {
    let mut drifted = ready_vault("drifted", "u2", 1_001);
    drifted.status.as_mut().expect("status").drift = vec![Drift {
        field: "huaweiCloud.size".into(),
        desired: "100".into(),
        observed: "200".into(),
        action: DriftAction::Update,
        reason: None,
    }];
    let throttled = vault(
        "throttled",
        "u3",
        vec![
            condition(READY, "False", "Throttled", 1_002),
            condition(SYNCED, "False", "SomethingNew", 1_002),
        ],
    );
    let states = census(vec![
        ready_vault("ready", "u1", 1_001),
        drifted,
        throttled,
        vault("new", "u4", vec![]),
    ]);
    let now = at(2_000);
    let tallies: Vec<_> = states
        .kinds
        .read()
        .expect("kinds")
        .iter()
        .map(|c| {
            let mut t = Tally::default();
            c.count(now, &mut t);
            t
        })
        .collect();
    let tally = &tallies[0];
    assert_eq!(
        (tally.objects, tally.ready, tally.synced, tally.drifted),
        (4, 2, 2, 1)
    );
    let by = |c, s, r| tally.by_condition.get(&(c, s, r)).copied();
    assert_eq!(by(READY, "True", "Available"), Some(2));
    assert_eq!(by(READY, "False", "Throttled"), Some(1));
    assert_eq!(by(SYNCED, "False", OTHER), Some(1), "{tally:?}");
    assert_eq!(by(READY, NONE, NONE), Some(1));
    // The new vault, without a Ready condition, has waited since its creation.
    assert_eq!(tally.longest_not_ready, 1_000.0);
}

#[test]
fn the_census_is_exported_per_kind() {
    let states = census(vec![ready_vault("ready", "u1", 1_001)]);
    let mut registry = Registry::with_prefix("coffer");
    registry.register_collector(Box::new(states));
    let mut text = String::new();
    encode(&mut text, &registry).expect("encodes");
    for line in [
        r#"coffer_objects{kind="BackupVault"} 1"#,
        r#"coffer_objects_ready{kind="BackupVault"} 1"#,
        r#"coffer_objects_synced{kind="BackupVault"} 1"#,
        r#"coffer_objects_drifted{kind="BackupVault"} 0"#,
        r#"coffer_objects_by_condition{kind="BackupVault",condition="Ready",status="True",reason="Available"} 1"#,
        r#"coffer_objects_not_ready_longest_seconds{kind="BackupVault"} 0.0"#,
    ] {
        assert!(text.contains(line), "{line} in {text}");
    }
}

#[test]
fn time_to_ready_is_observed_once_for_an_object_that_becomes_ready() {
    let metrics = TimeToReady::default();
    let watch = metrics.kind("BackupVault");
    let conditions = managed_conditions::<BackupVault>;
    // Ready before the watch started: not this process's to time.
    watch.on_event(
        &Event::InitApply(ready_vault("old", "u0", 1_500)),
        conditions,
    );
    watch.on_event(&Event::Apply(ready_vault("old", "u0", 1_500)), conditions);
    watch.on_event(&Event::Apply(vault("new", "u1", vec![])), conditions);
    assert_eq!(watch.pending(), 1);
    watch.on_event(&Event::Apply(ready_vault("new", "u1", 1_004)), conditions);
    assert_eq!(watch.pending(), 0, "nothing is held for a Ready object");
    // A fault, then Ready again: not a first Ready.
    let refused = vault(
        "new",
        "u1",
        vec![condition(READY, "False", "Unauthorized", 1_800)],
    );
    watch.on_event(&Event::Apply(refused), conditions);
    watch.on_event(&Event::Apply(ready_vault("new", "u1", 1_900)), conditions);
    // Created while the watch was down, Ready by the relist: timed.
    watch.on_event(&Event::InitApply(vault("late", "u2", vec![])), conditions);
    watch.on_event(
        &Event::InitApply(ready_vault("late", "u2", 1_010)),
        conditions,
    );
    let mut registry = Registry::with_prefix("coffer");
    metrics.register(&mut registry);
    let mut text = String::new();
    encode(&mut text, &registry).expect("encodes");
    assert!(
        text.contains(r#"coffer_object_time_to_ready_seconds_count{kind="BackupVault"} 2"#),
        "{text}"
    );
    assert!(text.contains(r#"coffer_object_time_to_ready_seconds_sum{kind="BackupVault"} 14.0"#));
}

#[test]
fn a_deleted_object_never_ready_is_forgotten() {
    let watch = TimeToReady::default().kind("BackupVault");
    let conditions = managed_conditions::<BackupVault>;
    let stuck = vault("stuck", "u1", vec![]);
    watch.on_event(&Event::Apply(stuck.clone()), conditions);
    watch.on_event(&Event::Delete(stuck), conditions);
    assert_eq!(watch.pending(), 0);
}
