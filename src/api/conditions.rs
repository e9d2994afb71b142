//! Status conditions in the standard `metav1.Condition` shape, and the one rule
//! that makes them useful to watchers: `lastTransitionTime` moves only when the
//! status flips, so a reconcile that changes nothing writes nothing.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

pub use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;

/// The two condition types every managed kind reports.
pub const READY: &str = "Ready";
pub const SYNCED: &str = "Synced";

/// A condition reason as the reference shows it (docs/reasons.md, written
/// by `coffer-dev docs`): declared once, beside the code that shows it,
/// with what it means and what to do, so the reference cannot drift from
/// the code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reason {
    /// The word in `status.conditions[].reason`.
    pub name: &'static str,
    /// What it means, in a sentence.
    pub means: &'static str,
    /// What to do about it; "Nothing" where coffer carries on by itself.
    pub todo: &'static str,
}

impl Reason {
    pub const fn new(name: &'static str, means: &'static str, todo: &'static str) -> Self {
        Self { name, means, todo }
    }
}

/// The status a condition can take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConditionStatus {
    True,
    False,
    Unknown,
}

impl ConditionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConditionStatus::True => "True",
            ConditionStatus::False => "False",
            ConditionStatus::Unknown => "Unknown",
        }
    }
}

/// A condition as a reconcile wants it, before timestamps are decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DesiredCondition {
    pub type_: &'static str,
    pub status: ConditionStatus,
    pub reason: String,
    pub message: String,
}

impl DesiredCondition {
    pub fn new(
        type_: &'static str,
        status: ConditionStatus,
        reason: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            type_,
            status,
            reason: reason.into(),
            message: message.into(),
        }
    }
}

/// Merges `desired` into `current`: a condition whose status is unchanged keeps
/// its `lastTransitionTime`; other fields follow `desired`. Conditions of other
/// types are kept as they are.
pub fn merge(
    current: &[Condition],
    desired: &[DesiredCondition],
    generation: Option<i64>,
    now: Timestamp,
) -> Vec<Condition> {
    let mut out: Vec<Condition> = current.to_vec();
    for want in desired {
        let status = want.status.as_str().to_string();
        match out.iter_mut().find(|c| c.type_ == want.type_) {
            Some(have) => {
                if have.status != status {
                    have.last_transition_time = Time(now);
                }
                have.status = status;
                have.reason = want.reason.clone();
                have.message = want.message.clone();
                have.observed_generation = generation;
            }
            None => out.push(Condition {
                type_: want.type_.to_string(),
                status,
                reason: want.reason.clone(),
                message: want.message.clone(),
                observed_generation: generation,
                last_transition_time: Time(now),
            }),
        }
    }
    out
}

/// The condition of the given type, if present.
pub fn find<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: i64) -> Timestamp {
        Timestamp::from_second(s).expect("valid")
    }

    #[test]
    fn unchanged_status_keeps_transition_time() {
        let first = merge(
            &[],
            &[DesiredCondition::new(
                READY,
                ConditionStatus::True,
                "Available",
                "ok",
            )],
            Some(1),
            ts(100),
        );
        let second = merge(
            &first,
            &[DesiredCondition::new(
                READY,
                ConditionStatus::True,
                "Available",
                "still ok",
            )],
            Some(2),
            ts(200),
        );
        assert_eq!(second[0].last_transition_time, Time(ts(100)));
        assert_eq!(second[0].message, "still ok");
        assert_eq!(second[0].observed_generation, Some(2));
    }

    #[test]
    fn flipped_status_moves_transition_time() {
        let first = merge(
            &[],
            &[DesiredCondition::new(
                READY,
                ConditionStatus::True,
                "Available",
                "",
            )],
            None,
            ts(100),
        );
        let second = merge(
            &first,
            &[DesiredCondition::new(
                READY,
                ConditionStatus::False,
                "Deleting",
                "",
            )],
            None,
            ts(200),
        );
        assert_eq!(second[0].last_transition_time, Time(ts(200)));
    }
}
