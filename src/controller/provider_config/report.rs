//! A ProviderConfig's status from the outcome of its check: `Ready` with a
//! reason naming the problem (`SecretNotFound`, `SecretKeyMissing`,
//! `Unauthorized`, …). Pure, so an unchanged outcome gives an unchanged status.

use jiff::Timestamp;

use super::error::Error;
use crate::api::ProviderConfigStatus;
use crate::api::conditions::{self, Condition, ConditionStatus, DesiredCondition, READY};
use crate::api::provider_config::ProviderConfigUsers;
use crate::controller::engine::events::{Note, reason};
use crate::controller::engine::status::transitioned;

/// `Ready` reason when the provider accepted the credentials.
pub const VALID: &str = "CredentialsValid";

/// The status `current` becomes after a check that ended with `error`.
pub fn status(
    current: &ProviderConfigStatus,
    generation: Option<i64>,
    error: Option<&Error>,
    now: Timestamp,
) -> ProviderConfigStatus {
    let ready = match error {
        None => Some(DesiredCondition::new(
            READY,
            ConditionStatus::True,
            VALID,
            "the provider accepted the credentials",
        )),
        // A provider hiccup says nothing about credentials that worked.
        Some(e)
            if !e.is_config_problem() && conditions::find(&current.conditions, READY).is_some() =>
        {
            None
        }
        Some(e) => Some(DesiredCondition::new(
            READY,
            ConditionStatus::False,
            e.reason(),
            e.to_string(),
        )),
    };
    ProviderConfigStatus {
        conditions: conditions::merge(&current.conditions, ready.as_slice(), generation, now),
        observed_generation: generation,
        ..current.clone()
    }
}

/// `Ready` reason while deletion waits for the objects using the config.
pub const DELETION_BLOCKED: &str = "DeletionBlocked";

/// The status of a deleted ProviderConfig that `users` still use.
pub fn in_use(
    current: &ProviderConfigStatus,
    generation: Option<i64>,
    users: Vec<ProviderConfigUsers>,
    now: Timestamp,
) -> ProviderConfigStatus {
    let waiting = DesiredCondition::new(
        READY,
        ConditionStatus::False,
        DELETION_BLOCKED,
        format!(
            "being deleted, but still used by {}; it is deleted once they are gone",
            describe_users(&users)
        ),
    );
    ProviderConfigStatus {
        conditions: conditions::merge(&current.conditions, &[waiting], generation, now),
        observed_generation: generation,
        users,
        ..current.clone()
    }
}

/// `3 BackupVaults, 1 Agency`.
pub fn describe_users(users: &[ProviderConfigUsers]) -> String {
    users
        .iter()
        .map(|u| {
            format!(
                "{} {}{}",
                u.count,
                u.kind,
                if u.count == 1 { "" } else { "s" }
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Events for `Ready` transitions: a warning when it goes False, a note when
/// it comes back.
pub fn transition_notes(before: &[Condition], after: &[Condition]) -> Vec<Note> {
    if !transitioned(before, after, READY) {
        return Vec::new();
    }
    let Some(now) = conditions::find(after, READY) else {
        return Vec::new();
    };
    if now.status == "False" {
        vec![Note::warning(&now.reason, "CheckCredentials", &now.message)]
    } else if conditions::find(before, READY).is_some() {
        vec![Note::normal(
            reason::READY,
            "CheckCredentials",
            "the provider accepts the credentials again",
        )]
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::provider_config::HuaweiAuthType;
    use crate::controller::providers;
    use crate::provider::ProviderError;

    fn at(second: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + second).expect("valid")
    }

    fn ready(status: &ProviderConfigStatus) -> &Condition {
        conditions::find(&status.conditions, READY).expect("Ready")
    }

    #[test]
    fn accepted_credentials_are_ready_and_stay_unchanged() {
        let first = status(&ProviderConfigStatus::default(), Some(1), None, at(0));
        assert_eq!(ready(&first).status, "True");
        assert_eq!(ready(&first).reason, VALID);
        let again = status(&first, Some(1), None, at(600));
        assert_eq!(again, first);
        assert!(transition_notes(&first.conditions, &again.conditions).is_empty());
    }

    #[test]
    fn a_missing_key_is_named() {
        let error = Error::Config(providers::Error::SecretKeyMissing {
            secret: "creds".into(),
            key: "secretKey",
            auth: HuaweiAuthType::AccessKey,
        });
        let s = status(
            &ProviderConfigStatus::default(),
            Some(1),
            Some(&error),
            at(0),
        );
        assert_eq!(ready(&s).reason, "SecretKeyMissing");
        assert!(
            ready(&s).message.contains("\"secretKey\""),
            "{}",
            ready(&s).message
        );
    }

    #[test]
    fn refused_credentials_flip_ready_with_a_warning() {
        let first = status(&ProviderConfigStatus::default(), Some(1), None, at(0));
        let error = Error::Provider(ProviderError::Unauthorized {
            code: "APIGW.0301".into(),
            message: "incorrect IAM authentication information".into(),
        });
        let after = status(&first, Some(1), Some(&error), at(60));
        assert_eq!(ready(&after).status, "False");
        assert_eq!(ready(&after).reason, "Unauthorized");
        let notes = transition_notes(&first.conditions, &after.conditions);
        assert_eq!(notes.len(), 1);
        assert!(notes[0].warning);
    }

    #[test]
    fn a_provider_outage_keeps_ready() {
        let first = status(&ProviderConfigStatus::default(), Some(1), None, at(0));
        let error = Error::Provider(ProviderError::Transient {
            message: "timeout".into(),
        });
        assert_eq!(status(&first, Some(1), Some(&error), at(60)), first);
    }
}
