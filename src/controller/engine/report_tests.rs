use jiff::Timestamp;

use super::*;
use crate::controller::engine::error::ConfigProblem;
use crate::provider::ProviderError;

type Status = ManagedStatus<String>;

fn at(second: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + second).expect("valid")
}

fn find<'a>(status: &'a Status, type_: &str) -> &'a Condition {
    conditions::find(&status.conditions, type_).expect("condition present")
}

fn available() -> Health {
    Health::Available {
        message: "vault v1 is available".into(),
    }
}

/// The outcome of a pass that read vault v1 (`view`) with `health`.
fn seen<'a>(view: &'a String, health: &'a Health, plan: &'a PlanView) -> Outcome<'a, String> {
    Outcome {
        external_id: Some("v1"),
        observed: Some((view, health)),
        plan: Some(plan),
        ..Outcome::empty("vault")
    }
}

fn healthy() -> Status {
    let (view, health, plan) = ("available".to_string(), available(), PlanView::default());
    status(
        &Status::default(),
        Some(1),
        &seen(&view, &health, &plan),
        at(0),
    )
}

fn transient() -> Error {
    Error::Provider {
        operation: "read the vault".into(),
        source: ProviderError::Transient {
            message: "502 Bad Gateway".into(),
        },
    }
}

fn failed(before: &Status, error: &Error, quiet: bool) -> Status {
    let outcome = Outcome {
        external_id: Some("v1"),
        error: Some(error),
        quiet,
        ..Outcome::empty("vault")
    };
    status(before, Some(1), &outcome, at(60))
}

#[test]
fn available_object_is_ready_and_synced() {
    let status = healthy();
    assert_eq!(status.external_id.as_deref(), Some("v1"));
    assert_eq!(status.observed_generation, Some(1));
    assert_eq!(status.at_provider.as_deref(), Some("available"));
    assert_eq!(find(&status, READY).status, "True");
    assert_eq!(find(&status, SYNCED).reason, MATCHES);
}

#[test]
fn unchanged_outcome_computes_an_identical_status() {
    let first = healthy();
    let (view, health, plan) = ("available".to_string(), available(), PlanView::default());
    let again = status(&first, Some(1), &seen(&view, &health, &plan), at(600));
    assert_eq!(again, first, "a no-op resync must not need a status write");
    assert!(
        transition_notes("vault", &first.conditions, &again.conditions, Tone::Trouble).is_empty()
    );
}

/// A missing Secret, as the ProviderConfig side reports it.
#[derive(Debug, thiserror::Error)]
#[error(
    "Secret cloud-creds in namespace team-a not found (coffer only reads Secrets labelled coffer.dev/credentials=true)"
)]
struct SecretNotFound;

impl ConfigProblem for SecretNotFound {
    fn reason(&self) -> &'static str {
        "SecretNotFound"
    }

    fn metric_label(&self) -> &'static str {
        "secret_not_found"
    }

    fn is_retryable(&self) -> bool {
        false
    }
}

#[test]
fn missing_secret_makes_a_new_object_not_ready_naming_it() {
    let error = Error::Config(Box::new(SecretNotFound));
    let outcome = Outcome {
        error: Some(&error),
        ..Outcome::empty("vault")
    };
    let status = status(&Status::default(), Some(1), &outcome, at(0));
    for type_ in [READY, SYNCED] {
        let cond = find(&status, type_);
        assert_eq!(cond.status, "False");
        assert_eq!(cond.reason, "SecretNotFound");
        assert!(
            cond.message
                .contains("Secret cloud-creds in namespace team-a not found (coffer only reads Secrets labelled coffer.dev/credentials=true)"),
            "{}",
            cond.message
        );
    }
}

#[test]
fn a_transient_error_keeps_ready_and_clears_synced() {
    let before = healthy();
    let after = failed(&before, &transient(), false);
    assert_eq!(find(&after, READY), find(&before, READY));
    assert_eq!(after.at_provider, before.at_provider);
    let synced = find(&after, SYNCED);
    assert_eq!(
        (synced.status.as_str(), synced.reason.as_str()),
        ("False", "ProviderUnavailable")
    );
    let notes = transition_notes(
        "vault",
        &before.conditions,
        &after.conditions,
        Tone::Trouble,
    );
    assert_eq!(notes.len(), 1);
    assert!(notes[0].warning);
    assert_eq!(notes[0].reason, "ProviderUnavailable");
}

#[test]
fn a_quiet_error_changes_nothing() {
    let before = healthy();
    assert_eq!(failed(&before, &transient(), true), before);
    let new = failed(&Status::default(), &transient(), true);
    assert!(new.conditions.is_empty(), "{new:?}");
}

#[test]
fn recovery_is_announced_once() {
    let failed = failed(&healthy(), &transient(), false);
    let (view, health, plan) = ("available".to_string(), available(), PlanView::default());
    let recovered = status(&failed, Some(1), &seen(&view, &health, &plan), at(120));
    let notes = transition_notes(
        "vault",
        &failed.conditions,
        &recovered.conditions,
        Tone::Trouble,
    );
    assert_eq!(
        notes,
        vec![Note::normal(
            reason::SYNCED,
            "Reconcile",
            "the vault matches the spec again"
        )]
    );
}

#[test]
fn blocked_differences_make_synced_false_with_their_reason() {
    let plan = PlanView {
        blocked: vec![Blocked {
            reason: "VaultLocked",
            message: "the vault is locked".into(),
        }],
        ..PlanView::default()
    };
    let (view, health) = ("available".to_string(), available());
    let status = status(
        &Status::default(),
        Some(2),
        &seen(&view, &health, &plan),
        at(0),
    );
    let synced = find(&status, SYNCED);
    assert_eq!(
        (synced.status.as_str(), synced.reason.as_str()),
        ("False", "VaultLocked")
    );
    assert_eq!(find(&status, READY).status, "True");
}

#[test]
fn a_degraded_object_is_announced() {
    let before = healthy();
    let (view, plan) = ("frozen".to_string(), PlanView::default());
    let health = Health::Degraded {
        reason: "Frozen".into(),
        message: "frozen".into(),
    };
    let after = status(&before, Some(1), &seen(&view, &health, &plan), at(60));
    let notes = transition_notes(
        "vault",
        &before.conditions,
        &after.conditions,
        health.tone(),
    );
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].reason, "Frozen");
    assert!(notes[0].warning, "a degraded object is trouble");
}

#[test]
fn a_running_job_is_a_normal_event_not_a_warning() {
    let (view, plan) = ("running".to_string(), PlanView::default());
    let health = Health::Progressing {
        reason: "EndpointJobRunning".into(),
        message: "endpoint job 7 is running (40%)".into(),
    };
    for before in [Status::default(), healthy()] {
        let after = status(&before, Some(1), &seen(&view, &health, &plan), at(60));
        let notes = transition_notes(
            "vault",
            &before.conditions,
            &after.conditions,
            health.tone(),
        );
        let running: Vec<_> = notes
            .iter()
            .filter(|n| n.reason == "EndpointJobRunning")
            .collect();
        assert_eq!(running.len(), 1, "{notes:?}");
        assert!(!running[0].warning, "a running job is progress: {notes:?}");
    }
}

/// A retryable failure past the grace, as the engine reports it.
fn shown(before: &Status, error: &Error) -> Status {
    let outcome = Outcome {
        external_id: before.external_id.as_deref(),
        error: Some(error),
        retrying: Some(std::time::Duration::from_secs(300)),
        ..Outcome::empty("vault")
    };
    status(before, Some(1), &outcome, at(60))
}

#[test]
fn a_new_object_failing_past_the_grace_says_why_and_that_coffer_keeps_retrying() {
    let after = shown(&Status::default(), &transient());
    for type_ in [READY, SYNCED] {
        let cond = find(&after, type_);
        assert_eq!(
            (cond.status.as_str(), cond.reason.as_str()),
            ("False", "ProviderUnavailable")
        );
        assert!(cond.message.contains("502 Bad Gateway"), "{}", cond.message);
        assert!(
            cond.message.contains("coffer keeps retrying"),
            "{}",
            cond.message
        );
        assert!(cond.message.contains("within 5m"), "{}", cond.message);
    }
    let notes = transition_notes("vault", &[], &after.conditions, Tone::Trouble);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].warning);
}

#[test]
fn a_shown_failure_is_written_again_only_when_its_reason_changes() {
    let first = shown(&healthy(), &transient());
    let again = Error::Provider {
        operation: "read the vault".into(),
        source: ProviderError::Transient {
            message: "503 Service Unavailable (request 7f3a)".into(),
        },
    };
    assert_eq!(shown(&first, &again), first, "the same reason: no write");
    let throttled = Error::Provider {
        operation: "read the vault".into(),
        source: ProviderError::Throttled {
            code: "APIGW.0308".into(),
            message: "slow down".into(),
            retry_after: None,
        },
    };
    let changed = shown(&first, &throttled);
    assert_eq!(find(&changed, SYNCED).reason, "Throttled");
}

#[test]
fn a_lost_object_drops_its_observation_and_plan() {
    let mut before = healthy();
    before.plan = vec![PlannedCall::default()];
    let error = transient();
    let outcome = Outcome {
        error: Some(&error),
        ..Outcome::empty("vault")
    };
    let after = status(&before, Some(1), &outcome, at(60));
    assert_eq!(after.external_id, None);
    assert_eq!(after.at_provider, None);
    assert!(after.plan.is_empty());
}

#[test]
fn paused_says_so_once_and_keeps_ready() {
    let before = healthy();
    let outcome = Outcome {
        external_id: Some("v1"),
        paused: true,
        ..Outcome::empty("vault")
    };
    let after = status(&before, Some(1), &outcome, at(60));
    assert_eq!(find(&after, READY), find(&before, READY));
    assert_eq!(find(&after, SYNCED).reason, PAUSED);
    let notes = transition_notes(
        "vault",
        &before.conditions,
        &after.conditions,
        Tone::Trouble,
    );
    assert_eq!(notes.len(), 1);
    assert!(
        !notes[0].warning,
        "pausing is the user's choice, not a fault"
    );
    assert_eq!(status(&after, Some(1), &outcome, at(90)), after);
}

#[test]
fn observe_only_is_synced_and_counts_the_drift() {
    let plan = PlanView {
        drift: vec![Drift {
            field: "huaweiCloud.threshold".into(),
            desired: "70".into(),
            observed: "30".into(),
            action: DriftAction::Update,
            reason: None,
        }],
        ..PlanView::default()
    };
    let (view, health) = ("available".to_string(), available());
    let mut outcome = seen(&view, &health, &plan);
    outcome.observe_only = true;
    let status = status(&Status::default(), Some(1), &outcome, at(0));
    let synced = find(&status, SYNCED);
    assert_eq!(
        (synced.status.as_str(), synced.reason.as_str()),
        ("True", OBSERVE_ONLY)
    );
    assert!(
        synced.message.contains("1 field(s) differ"),
        "{}",
        synced.message
    );
    assert_eq!(status.drift.len(), 1);
}

#[test]
fn the_requested_token_is_answered_and_kept() {
    let outcome = Outcome {
        external_id: Some("v1"),
        requested_at: Some("now-1"),
        ..Outcome::empty("vault")
    };
    let first = status(&healthy(), Some(1), &outcome, at(0));
    assert_eq!(first.last_handled_reconcile_at.as_deref(), Some("now-1"));
    let next = Outcome {
        external_id: Some("v1"),
        ..Outcome::empty("vault")
    };
    let later = status(&first, Some(1), &next, at(10));
    assert_eq!(later.last_handled_reconcile_at.as_deref(), Some("now-1"));
}

#[test]
fn acting_leaves_only_what_no_call_fixes() {
    let drift = |action| Drift {
        field: "f".into(),
        action,
        ..Drift::default()
    };
    let plan = PlanView {
        calls: vec![PlannedCall::default()],
        drift: vec![drift(DriftAction::Update), drift(DriftAction::Blocked)],
        ..PlanView::default()
    }
    .acted(vec!["addResource/srv-1".into()]);
    assert!(plan.calls.is_empty());
    assert_eq!(plan.drift, vec![drift(DriftAction::Blocked)]);
    assert_eq!(plan.awaiting, ["addResource/srv-1"]);
}

/// What Ready says while an error or a delete lasts.
#[path = "report_cause_tests.rs"]
mod cause;

/// What is said and kept of a plan.
#[path = "report_plan_tests.rs"]
mod plan;

/// Which transitions are told by an Event.
#[path = "report_notes_tests.rs"]
mod notes;
