//! Which condition transitions are worth an Event, and of which type.

use super::*;

#[test]
fn a_degraded_object_with_a_blocked_plan_is_announced_for_both() {
    let plan = PlanView {
        blocked: vec![Blocked {
            reason: "VaultLocked",
            message: "the vault is locked".into(),
        }],
        ..PlanView::default()
    };
    let (view, health) = (
        "frozen".to_string(),
        Health::Degraded {
            reason: "Frozen".into(),
            message: "vault v1 is frozen".into(),
        },
    );
    let before = healthy();
    let after = status(&before, Some(1), &seen(&view, &health, &plan), at(60));
    let notes = transition_notes(
        "vault",
        &before.conditions,
        &after.conditions,
        health.tone(),
    );
    let reasons: Vec<_> = notes
        .iter()
        .map(|n| (n.reason.as_str(), n.warning))
        .collect();
    assert_eq!(reasons, [("VaultLocked", true), ("Frozen", true)]);
}

#[test]
fn a_started_delete_is_told_by_its_own_event_not_by_ready() {
    let before = healthy();
    let outcome = Outcome {
        external_id: Some("v1"),
        cleanup: true,
        delete_started: Some("2027-01-01T00:00:00Z"),
        ..Outcome::empty("vault")
    };
    let after = status(&before, Some(1), &outcome, at(60));
    assert_eq!(find(&after, READY).reason, DELETING);
    let notes = transition_notes(
        "vault",
        &before.conditions,
        &after.conditions,
        Tone::Progress,
    );
    assert!(notes.is_empty(), "{notes:?}");
}

#[test]
fn a_vault_ready_again_is_announced_as_ready() {
    let (view, plan) = ("frozen".to_string(), PlanView::default());
    let frozen = Health::Degraded {
        reason: "Frozen".into(),
        message: "vault v1 is frozen".into(),
    };
    let before = status(&healthy(), Some(1), &seen(&view, &frozen, &plan), at(60));
    let (view, health) = ("available".to_string(), available());
    let after = status(&before, Some(1), &seen(&view, &health, &plan), at(120));
    let notes = transition_notes(
        "vault",
        &before.conditions,
        &after.conditions,
        health.tone(),
    );
    assert_eq!(
        notes,
        [Note::normal(
            reason::READY,
            "Observe",
            "vault v1 is available"
        )]
    );
}
