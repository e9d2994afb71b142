//! Ready while an error or a delete lasts: it says the current cause, is
//! not rewritten for a message that only differs, and says `Deleting` from
//! the first delete call on.

use super::*;

#[test]
fn ready_set_by_an_error_follows_when_the_cause_changes() {
    let error = Error::Config(Box::new(SecretNotFound));
    let outcome = Outcome {
        external_id: Some("v1"),
        error: Some(&error),
        ..Outcome::empty("vault")
    };
    let before = status(&Status::default(), Some(1), &outcome, at(0));
    assert_eq!(find(&before, READY).reason, "SecretNotFound");
    // The Secret was fixed; now the provider cannot be reached.
    let after = shown(&before, &transient());
    for type_ in [READY, SYNCED] {
        let cond = find(&after, type_);
        assert_eq!(
            (cond.status.as_str(), cond.reason.as_str()),
            ("False", "ProviderUnavailable"),
            "{type_} must say the current cause"
        );
        assert!(cond.message.contains("502 Bad Gateway"), "{}", cond.message);
    }
    // Ready followed the error Synced already tells of: no second Event.
    let notes = transition_notes(
        "vault",
        &before.conditions,
        &after.conditions,
        Tone::Trouble,
    );
    assert_eq!(notes.len(), 1, "{notes:?}");
}

#[test]
fn ready_set_by_the_objects_health_stays_through_a_new_error() {
    let degraded = Health::Degraded {
        reason: "Frozen".into(),
        message: "vault v1 is frozen".into(),
    };
    let (view, plan) = ("frozen".to_string(), PlanView::default());
    let before = status(
        &Status::default(),
        Some(1),
        &seen(&view, &degraded, &plan),
        at(0),
    );
    let after = shown(&before, &transient());
    assert_eq!(find(&after, READY).reason, "Frozen");
    assert_eq!(find(&after, SYNCED).reason, "ProviderUnavailable");
}

#[test]
fn a_started_delete_shows_deleting_through_errors_and_a_stale_health() {
    let before = healthy();
    let error = transient();
    let (view, health, plan) = ("available".to_string(), available(), PlanView::default());
    for outcome in [
        Outcome {
            external_id: Some("v1"),
            error: Some(&error),
            cleanup: true,
            delete_started: Some("2027-01-01T00:00:00Z"),
            ..Outcome::empty("vault")
        },
        Outcome {
            cleanup: true,
            delete_started: Some("2027-01-01T00:00:00Z"),
            ..seen(&view, &health, &plan)
        },
    ] {
        let after = status(&before, Some(1), &outcome, at(60));
        let ready = find(&after, READY);
        assert_eq!(
            (ready.status.as_str(), ready.reason.as_str()),
            ("False", DELETING)
        );
        assert!(
            ready.message.contains("deleting vault v1"),
            "{}",
            ready.message
        );
        assert_eq!(
            after.delete_started.as_deref(),
            Some("2027-01-01T00:00:00Z"),
            "the record is kept until the object is gone"
        );
    }
}

#[test]
fn a_partly_deleted_object_says_what_remains() {
    let before = healthy();
    let partly = Health::PartlyDeleted {
        remaining: "DELETE Client/41?forceDelete=1".into(),
    };
    let (view, plan) = ("retired".to_string(), PlanView::default());
    let outcome = Outcome {
        cleanup: true,
        delete_started: Some("2027-01-01T00:00:00Z"),
        ..seen(&view, &partly, &plan)
    };
    let after = status(&before, Some(1), &outcome, at(60));
    let ready = find(&after, READY);
    assert_eq!(ready.reason, DELETING);
    assert!(
        ready.message.contains("DELETE Client/41?forceDelete=1"),
        "{}",
        ready.message
    );
}

#[test]
fn a_retried_error_is_not_written_again_into_ready_when_only_its_message_changed() {
    let first = shown(&Status::default(), &transient());
    let again = Error::Provider {
        operation: "read the vault".into(),
        source: ProviderError::Transient {
            message: "503 Service Unavailable (request 7f3a)".into(),
        },
    };
    assert_eq!(shown(&first, &again), first, "the same reason: no write");
}
