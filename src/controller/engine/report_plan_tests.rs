//! What Events and messages say of a plan, and what status keeps of one
//! while nothing new is learned.

use super::*;

fn call(operation: &str, fields: &[&str]) -> PlannedCall {
    PlannedCall {
        operation: operation.into(),
        target: "vault v1".into(),
        fields: fields.iter().map(|f| f.to_string()).collect(),
    }
}

#[test]
fn a_plan_is_summed_up_call_by_call_with_the_fields_each_sends() {
    assert_eq!(PlanView::default().summary(), "no changes");
    let plan = PlanView {
        calls: vec![call("update", &["threshold", "name"]), call("addTags", &[])],
        ..PlanView::default()
    };
    assert_eq!(
        plan.summary(),
        "update vault v1: threshold, name; addTags vault v1"
    );
}

fn drift() -> Drift {
    Drift {
        field: "huaweiCloud.threshold".into(),
        desired: "70".into(),
        observed: "30".into(),
        action: DriftAction::Update,
        reason: None,
    }
}

#[test]
fn a_failure_on_the_same_object_keeps_its_plan_and_drift() {
    let mut before = healthy();
    before.plan = vec![call("update", &["threshold"])];
    before.drift = vec![drift()];
    let after = failed(&before, &transient(), false);
    assert_eq!(after.plan, before.plan);
    assert_eq!(after.drift, before.drift);
}

#[test]
fn a_lost_object_drops_its_drift_too() {
    let mut before = healthy();
    before.drift = vec![drift()];
    let error = transient();
    let outcome = Outcome {
        error: Some(&error),
        ..Outcome::empty("vault")
    };
    let after = status(&before, Some(1), &outcome, at(60));
    assert!(after.drift.is_empty(), "{:?}", after.drift);
}

#[test]
fn a_failed_call_names_what_was_planned() {
    let plan = PlanView {
        calls: vec![call("update", &["threshold"])],
        ..PlanView::default()
    };
    let error = transient();
    let outcome = Outcome {
        external_id: Some("v1"),
        plan: Some(&plan),
        error: Some(&error),
        ..Outcome::empty("vault")
    };
    let after = status(&healthy(), Some(1), &outcome, at(60));
    let message = &find(&after, SYNCED).message;
    assert!(
        message.ends_with(" (planned: update vault v1: threshold)"),
        "{message}"
    );
    let nothing_planned = failed(&healthy(), &transient(), false);
    let message = &find(&nothing_planned, SYNCED).message;
    assert!(!message.contains("planned"), "{message}");
}

#[test]
fn a_matching_object_says_what_the_provider_does_not_show_yet() {
    let (view, health) = ("available".to_string(), available());
    let plan = PlanView {
        awaiting: vec!["addResource/srv-1".into(), "addTags".into()],
        ..PlanView::default()
    };
    let waiting = status(
        &Status::default(),
        Some(1),
        &seen(&view, &health, &plan),
        at(0),
    );
    assert_eq!(
        find(&waiting, SYNCED).message,
        "the vault matches the spec; waiting for the provider to show addResource/srv-1, addTags"
    );
    assert_eq!(
        find(&healthy(), SYNCED).message,
        "the vault matches the spec"
    );
}

#[test]
fn with_no_vault_to_see_ready_says_why() {
    let ready = |outcome: Outcome<'_, String>| {
        let after = status(&Status::default(), Some(1), &outcome, at(0));
        let ready = find(&after, READY).clone();
        assert_eq!(ready.status, "False");
        (ready.reason, ready.message)
    };
    assert_eq!(
        ready(Outcome::empty("vault")),
        ("NotFound".to_string(), "no vault yet".to_string())
    );
    let (reason, message) = ready(Outcome {
        observe_only: true,
        ..Outcome::empty("vault")
    });
    assert_eq!(reason, "NotFound");
    assert!(
        message.contains("set annotation coffer.dev/external-id"),
        "{message}"
    );
    assert_eq!(
        ready(Outcome {
            cleanup: true,
            ..Outcome::empty("vault")
        }),
        (
            DELETING.to_string(),
            "waiting for the vault to be gone".to_string()
        )
    );
}
