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

#[test]
fn a_terminal_error_with_a_new_message_is_written_again() {
    let invalid = |message: &str| Error::InvalidSpec {
        reason: "InvalidSpec",
        message: message.into(),
    };
    let first = failed(&Status::default(), &invalid("no provider block"), false);
    let fixed_one = failed(&first, &invalid("two provider blocks"), false);
    for type_ in [READY, SYNCED] {
        assert_eq!(find(&fixed_one, type_).message, "two provider blocks");
    }
}

#[test]
fn an_error_that_hides_the_vault_replaces_ready_set_by_its_health() {
    let unauthorized = Error::Provider {
        operation: "read the vault".into(),
        source: ProviderError::Unauthorized {
            code: "IAM.0001".into(),
            message: "the key was revoked".into(),
        },
    };
    let after = failed(&healthy(), &unauthorized, false);
    let ready = find(&after, READY);
    assert_eq!(
        (ready.status.as_str(), ready.reason.as_str()),
        ("False", "Unauthorized")
    );
}

#[test]
fn ready_set_by_the_objects_health_stays_when_the_error_changes() {
    let degraded = Health::Degraded {
        reason: "Frozen".into(),
        message: "vault v1 is frozen".into(),
    };
    let (view, plan) = ("frozen".to_string(), PlanView::default());
    let frozen = status(
        &Status::default(),
        Some(1),
        &seen(&view, &degraded, &plan),
        at(0),
    );
    let unreachable = shown(&frozen, &transient());
    let throttled = Error::Provider {
        operation: "read the vault".into(),
        source: ProviderError::Throttled {
            code: "APIGW.0308".into(),
            message: "slow down".into(),
            retry_after: None,
        },
    };
    let after = shown(&unreachable, &throttled);
    assert_eq!(find(&after, READY).reason, "Frozen");
    assert_eq!(find(&after, SYNCED).reason, "Throttled");
}

#[test]
fn a_shown_error_that_now_blocks_a_delete_says_so() {
    let before = failed(&healthy(), &transient(), false);
    let error = transient();
    let outcome = Outcome {
        external_id: Some("v1"),
        error: Some(&error),
        retrying: Some(std::time::Duration::from_secs(300)),
        cleanup: true,
        ..Outcome::empty("vault")
    };
    let after = status(&before, Some(1), &outcome, at(120));
    let message = &find(&after, SYNCED).message;
    assert!(
        message.contains("cannot be deleted until this is fixed"),
        "{message}"
    );
}

#[test]
fn the_retry_ceiling_is_told_in_minutes_and_seconds() {
    assert_eq!(humantime(std::time::Duration::from_secs(45)), "45s");
    assert_eq!(humantime(std::time::Duration::from_secs(300)), "5m");
    assert_eq!(humantime(std::time::Duration::from_secs(90)), "1m30s");
}
