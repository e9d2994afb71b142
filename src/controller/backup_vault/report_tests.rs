use jiff::Timestamp;

use super::*;
use crate::controller::backup_vault::diff::{Blocked, Plan};
use crate::controller::backup_vault::fixtures::vault;
use crate::controller::providers;
use crate::provider::ProviderError;

fn at(second: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + second).expect("valid")
}

fn find<'a>(status: &'a BackupVaultStatus, type_: &str) -> &'a Condition {
    conditions::find(&status.conditions, type_).expect("condition present")
}

fn healthy() -> BackupVaultStatus {
    let v = vault("v1");
    let plan = Plan::default();
    status(
        &BackupVaultStatus::default(),
        Some(1),
        &Outcome {
            external_id: Some("v1"),
            vault: Some(&v),
            plan: Some(&plan),
            ..Outcome::default()
        },
        at(0),
    )
}

fn transient() -> Error {
    Error::Provider {
        operation: "read the vault",
        source: ProviderError::Transient {
            message: "502 Bad Gateway".into(),
        },
    }
}

#[test]
fn available_vault_is_ready_and_synced() {
    let status = healthy();
    assert_eq!(status.external_id.as_deref(), Some("v1"));
    assert_eq!(status.observed_generation, Some(1));
    let at_provider = status.at_provider.as_ref().expect("observed");
    assert_eq!(at_provider.status.as_deref(), Some("available"));
    assert_eq!(at_provider.size_gb, Some(100));
    assert_eq!(find(&status, READY).status, "True");
    assert_eq!(find(&status, SYNCED).reason, MATCHES);
}

#[test]
fn unchanged_outcome_computes_an_identical_status() {
    let first = healthy();
    let v = vault("v1");
    let plan = Plan::default();
    let again = status(
        &first,
        Some(1),
        &Outcome {
            external_id: Some("v1"),
            vault: Some(&v),
            plan: Some(&plan),
            ..Outcome::default()
        },
        at(600),
    );
    assert_eq!(again, first, "a no-op resync must not need a status write");
    assert!(transition_notes(&first.conditions, &again.conditions).is_empty());
}

#[test]
fn vault_states_map_to_ready() {
    for (state, want_status, want_reason) in [
        ("deleting", "False", "Deleting"),
        ("lock", "False", "Locked"),
        ("frozen", "False", "Frozen"),
        ("error", "False", "Error"),
        ("weird", "False", "UnexpectedStatus"),
    ] {
        let mut v = vault("v1");
        v.status = state.into();
        let status = status(
            &BackupVaultStatus::default(),
            Some(1),
            &Outcome {
                external_id: Some("v1"),
                vault: Some(&v),
                ..Outcome::default()
            },
            at(0),
        );
        let ready = find(&status, READY);
        assert_eq!(
            (ready.status.as_str(), ready.reason.as_str()),
            (want_status, want_reason)
        );
    }
}

#[test]
fn missing_secret_makes_a_new_object_not_ready_naming_it() {
    let error = Error::Config(providers::Error::SecretNotFound {
        namespace: "team-a".into(),
        name: "cloud-creds".into(),
    });
    let status = status(
        &BackupVaultStatus::default(),
        Some(1),
        &Outcome {
            error: Some(&error),
            ..Outcome::default()
        },
        at(0),
    );
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
    let error = transient();
    let after = status(
        &before,
        Some(1),
        &Outcome {
            external_id: Some("v1"),
            error: Some(&error),
            ..Outcome::default()
        },
        at(60),
    );
    assert_eq!(find(&after, READY), find(&before, READY));
    assert_eq!(after.at_provider, before.at_provider);
    let synced = find(&after, SYNCED);
    assert_eq!(
        (synced.status.as_str(), synced.reason.as_str()),
        ("False", "ProviderUnavailable")
    );
    let notes = transition_notes(&before.conditions, &after.conditions);
    assert_eq!(notes.len(), 1);
    assert!(notes[0].warning);
    assert_eq!(notes[0].reason, "ProviderUnavailable");
}

#[test]
fn recovery_is_announced_once() {
    let before = healthy();
    let error = transient();
    let failed = status(
        &before,
        Some(1),
        &Outcome {
            external_id: Some("v1"),
            error: Some(&error),
            ..Outcome::default()
        },
        at(60),
    );
    let v = vault("v1");
    let plan = Plan::default();
    let recovered = status(
        &failed,
        Some(1),
        &Outcome {
            external_id: Some("v1"),
            vault: Some(&v),
            plan: Some(&plan),
            ..Outcome::default()
        },
        at(120),
    );
    let notes = transition_notes(&failed.conditions, &recovered.conditions);
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
    let v = vault("v1");
    let plan = Plan {
        blocked: vec![Blocked::Unlock],
        ..Plan::default()
    };
    let status = status(
        &BackupVaultStatus::default(),
        Some(2),
        &Outcome {
            external_id: Some("v1"),
            vault: Some(&v),
            plan: Some(&plan),
            ..Outcome::default()
        },
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
fn a_frozen_vault_is_announced() {
    let before = healthy();
    let mut v = vault("v1");
    v.status = "frozen".into();
    let plan = Plan::default();
    let after = status(
        &before,
        Some(1),
        &Outcome {
            external_id: Some("v1"),
            vault: Some(&v),
            plan: Some(&plan),
            ..Outcome::default()
        },
        at(60),
    );
    let notes = transition_notes(&before.conditions, &after.conditions);
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].reason, "Frozen");
}

#[test]
fn a_lost_vault_drops_its_observation() {
    let before = healthy();
    let error = transient();
    let after = status(
        &before,
        Some(1),
        &Outcome {
            external_id: None,
            error: Some(&error),
            ..Outcome::default()
        },
        at(60),
    );
    assert_eq!(after.external_id, None);
    assert_eq!(after.at_provider, None);
}
