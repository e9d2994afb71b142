//! From what a reconcile saw and did to the status it shows and the Events
//! its condition transitions deserve. Pure: the same outcome on the same
//! status gives the same status, which is what lets a reconcile that
//! changed nothing skip the write.

use std::time::Duration;

use jiff::Timestamp;

use super::error::Error;
use super::events::{Note, reason};
use super::external::{Blocked, Health, Tone};
use super::status::transitioned;
use crate::api::conditions::{self, Condition, ConditionStatus, DesiredCondition, READY, SYNCED};
use crate::api::managed::{
    CallPending, CreatePending, Drift, DriftAction, InFlightCall, ManagedStatus, PlannedCall,
};

/// `Synced` reason when the cloud object matches the spec.
pub const MATCHES: &str = "ReconcileSuccess";
/// `Synced` reason while observing only.
pub const OBSERVE_ONLY: &str = "ObserveOnly";
/// `Synced` reason while paused.
pub const PAUSED: &str = "ReconcilePaused";
/// `Ready` reason while the cloud object is being deleted.
pub const DELETING: &str = "Deleting";

/// Every condition reason the engine itself shows, for any kind: the
/// reasons above, [`Error::reason`]'s (the provider's and the
/// ProviderConfig's among them) and the health of a cloud object found or
/// not. A kind adds its own in [`super::Managed::REASONS`]; together they
/// are the fixed set the `reason` label of `coffer_objects_by_condition`
/// takes (any other is counted as `Other`).
pub const REASONS: &[&str] = &[
    "Available",
    "NotFound",
    MATCHES,
    OBSERVE_ONLY,
    PAUSED,
    DELETING,
    "AmbiguousAdoption",
    "AlreadyExists",
    "CreateOutcomeUnknown",
    "CallOutcomeUnknown",
    "KubernetesError",
    "InvalidObject",
    "InvalidSpec",
    "InvalidAnnotation",
    "Conflict",
    "Throttled",
    "InvalidRequest",
    "Unauthorized",
    "ProviderUnavailable",
    "ProviderConfigNotFound",
    "ProviderConfigInvalid",
    "SecretNotFound",
    "SecretKeyMissing",
    "ListTooLarge",
    super::error::DEADLINE_EXCEEDED,
    "EndpointNotAllowed",
];

/// A plan as status shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlanView {
    pub calls: Vec<PlannedCall>,
    pub drift: Vec<Drift>,
    pub blocked: Vec<Blocked>,
    pub awaiting: Vec<String>,
}

impl PlanView {
    /// `calls; …` for an Event or a message.
    pub fn summary(&self) -> String {
        if self.calls.is_empty() {
            return "no changes".to_string();
        }
        self.calls
            .iter()
            .map(|c| match c.fields.is_empty() {
                true => format!("{} {}", c.operation, c.target),
                false => format!("{} {}: {}", c.operation, c.target, c.fields.join(", ")),
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The plan once its calls were made: nothing left to call, and only
    /// the differences no call fixes.
    pub fn acted(mut self, awaiting: Vec<String>) -> Self {
        self.calls.clear();
        self.drift.retain(|d| d.action != DriftAction::Update);
        self.awaiting.extend(awaiting);
        self
    }
}

/// What one reconcile learned.
#[derive(Clone, Debug)]
pub struct Outcome<'a, A> {
    /// The id as now known; `None` when there is no cloud object (yet).
    pub external_id: Option<&'a str>,
    /// The object's view and health, when it was read (or returned) this time.
    pub observed: Option<(&'a A, &'a Health)>,
    /// The plan, when the reconcile got as far as making one.
    pub plan: Option<&'a PlanView>,
    pub in_flight: &'a [InFlightCall],
    pub create_pending: Option<&'a CreatePending>,
    pub call_pending: Option<&'a CallPending>,
    /// When coffer started deleting the cloud object.
    pub delete_started: Option<&'a str>,
    pub error: Option<&'a Error>,
    /// A retryable error that has not persisted long enough to be shown.
    pub quiet: bool,
    /// The error is retryable and coffer retries it, waiting at most this
    /// long between tries: said in the message once it is shown.
    pub retrying: Option<Duration>,
    /// The object is being deleted.
    pub cleanup: bool,
    pub paused: bool,
    pub observe_only: bool,
    /// `coffer.dev/reconcile-requested-at`, answered by this reconcile.
    pub requested_at: Option<&'a str>,
    /// What the cloud object is called in messages.
    pub noun: &'static str,
}

impl<A> Outcome<'_, A> {
    /// An outcome that learned nothing yet.
    pub fn empty(noun: &'static str) -> Self {
        Outcome {
            external_id: None,
            observed: None,
            plan: None,
            in_flight: &[],
            create_pending: None,
            call_pending: None,
            delete_started: None,
            error: None,
            quiet: false,
            retrying: None,
            cleanup: false,
            paused: false,
            observe_only: false,
            requested_at: None,
            noun,
        }
    }
}

/// The status `current` becomes after `outcome`.
pub fn status<A: Clone>(
    current: &ManagedStatus<A>,
    generation: Option<i64>,
    outcome: &Outcome<'_, A>,
    now: Timestamp,
) -> ManagedStatus<A> {
    let mut desired = Vec::new();
    desired.extend(ready(&current.conditions, outcome));
    desired.extend(synced(&current.conditions, outcome));
    let same_object = outcome.external_id == current.external_id.as_deref();
    let keep_or_clear = |kept: &A| same_object.then(|| kept.clone());
    ManagedStatus {
        external_id: outcome.external_id.map(str::to_owned),
        at_provider: match outcome.observed {
            Some((view, _)) => Some(view.clone()),
            // Nothing new was learned about the same object: keep what was known.
            None => current.at_provider.as_ref().and_then(keep_or_clear),
        },
        conditions: conditions::merge(&current.conditions, &desired, generation, now),
        // A quiet failure says nothing about the new generation yet.
        observed_generation: match outcome.quiet {
            true => current.observed_generation,
            false => generation,
        },
        plan: match outcome.plan {
            Some(plan) => plan.calls.clone(),
            None if same_object => current.plan.clone(),
            None => Vec::new(),
        },
        drift: match outcome.plan {
            Some(plan) => plan.drift.clone(),
            None if same_object => current.drift.clone(),
            None => Vec::new(),
        },
        in_flight: outcome.in_flight.to_vec(),
        create_pending: outcome.create_pending.cloned(),
        call_pending: outcome.call_pending.cloned(),
        delete_started: outcome.delete_started.map(str::to_owned),
        last_handled_reconcile_at: outcome
            .requested_at
            .map(str::to_owned)
            .or_else(|| current.last_handled_reconcile_at.clone()),
    }
}

/// `Ready` from the object's own health; from the error when coffer cannot
/// see the object. `None` keeps the current condition: a passing provider
/// hiccup says nothing about the object. Once coffer has started deleting
/// it, `Deleting` until it is gone, whatever else a reconcile meets.
fn ready<A>(current: &[Condition], outcome: &Outcome<'_, A>) -> Option<DesiredCondition> {
    let cond = |status, reason: &str, message: String| {
        Some(DesiredCondition::new(READY, status, reason, message))
    };
    let noun = outcome.noun;
    let id = outcome.external_id.unwrap_or_default();
    if let Some(since) = outcome.delete_started.filter(|_| outcome.cleanup) {
        let message = match outcome.observed {
            Some((_, Health::PartlyDeleted { remaining })) => format!(
                "{noun} {id} is partly deleted (delete started {since}); coffer makes the remaining step: {remaining}"
            ),
            _ => format!(
                "deleting {noun} {id} (started {since}); the finalizer stays until the provider no longer has it"
            ),
        };
        return cond(ConditionStatus::False, DELETING, message);
    }
    if let Some((_, health)) = outcome.observed {
        return match health {
            Health::Available { message } => {
                cond(ConditionStatus::True, "Available", message.clone())
            }
            Health::Progressing { reason, message } | Health::Degraded { reason, message } => {
                cond(ConditionStatus::False, reason, message.clone())
            }
            Health::Deleting => cond(
                ConditionStatus::False,
                DELETING,
                format!("{noun} {id} is being deleted"),
            ),
            Health::PartlyDeleted { remaining } => cond(
                ConditionStatus::False,
                DELETING,
                format!("{noun} {id} is partly deleted: {remaining} remains"),
            ),
        };
    }
    match outcome.error {
        Some(_) if outcome.quiet => None,
        // A retried error already shown with its reason is left as written,
        // as Synced's is: its message may differ with every try.
        Some(e) if outcome.retrying.is_some() && ready_says(current, e.reason()) => None,
        Some(e)
            if e.blinds()
                || conditions::find(current, READY).is_none()
                || follows_an_error(current) =>
        {
            cond(ConditionStatus::False, e.reason(), shown(e, outcome))
        }
        Some(_) => None,
        None if outcome.paused => None,
        None if outcome.cleanup => cond(
            ConditionStatus::False,
            DELETING,
            format!("waiting for the {noun} to be gone"),
        ),
        None if outcome.observe_only => cond(
            ConditionStatus::False,
            "NotFound",
            format!(
                "no {noun} to observe: set annotation coffer.dev/external-id to the id of an existing one, \
                 or managementPolicy Full to let coffer create it"
            ),
        ),
        None => cond(ConditionStatus::False, "NotFound", format!("no {noun} yet")),
    }
}

/// `Synced`: whether this reconcile made the object match the spec, and if
/// not, why and what was planned. Left alone while deleting succeeds.
fn synced<A>(current: &[Condition], outcome: &Outcome<'_, A>) -> Option<DesiredCondition> {
    let cond = |status, reason: &str, message: String| {
        Some(DesiredCondition::new(SYNCED, status, reason, message))
    };
    let noun = outcome.noun;
    if outcome.paused {
        return cond(
            ConditionStatus::False,
            PAUSED,
            "reconciling is paused by annotation coffer.dev/paused; no provider call is made until it is removed"
                .into(),
        );
    }
    if let Some(e) = outcome.error {
        if outcome.quiet || still_shown(current, e, outcome) {
            return None;
        }
        let mut message = shown(e, outcome);
        if let Some(plan) = outcome.plan.filter(|p| !p.calls.is_empty()) {
            message.push_str(&format!(" (planned: {})", plan.summary()));
        }
        if outcome.cleanup {
            message.push_str(&format!(
                "; the {noun} cannot be deleted until this is fixed, or set spec.deletionPolicy to Orphan to keep it"
            ));
        }
        return cond(ConditionStatus::False, e.reason(), message);
    }
    if outcome.cleanup {
        return None;
    }
    if outcome.observe_only {
        let differs = outcome.plan.map_or(0, |p| p.drift.len());
        return cond(
            ConditionStatus::True,
            OBSERVE_ONLY,
            format!(
                "observing only: {differs} field(s) differ from the spec (see status.drift and status.plan); \
                 set managementPolicy Full to let coffer act"
            ),
        );
    }
    let plan = outcome.plan?;
    if let Some(first) = plan.blocked.first() {
        let message = plan
            .blocked
            .iter()
            .map(|b| b.message.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        return cond(ConditionStatus::False, first.reason, message);
    }
    let mut message = format!("the {noun} matches the spec");
    if !plan.awaiting.is_empty() {
        message.push_str(&format!(
            "; waiting for the provider to show {}",
            plan.awaiting.join(", ")
        ));
    }
    cond(ConditionStatus::True, MATCHES, message)
}

/// An error as a condition shows it; a retried one says that coffer keeps
/// trying and how soon. The delay is the backoff's ceiling, not the next
/// try's time: a message that changed with every try would be a status
/// write per try.
fn shown<A>(e: &Error, outcome: &Outcome<'_, A>) -> String {
    match outcome.retrying {
        Some(ceiling) => format!(
            "{e}; coffer keeps retrying with backoff: the next try comes within {}, or at once when the object changes",
            humantime(ceiling)
        ),
        None => e.to_string(),
    }
}

/// Whether `Ready` is `False` with `reason`.
fn ready_says(current: &[Condition], reason: &str) -> bool {
    conditions::find(current, READY).is_some_and(|c| c.status == "False" && c.reason == reason)
}

/// Whether `Ready` was last set by an error rather than by the object's
/// own health: `False` with the reason `Synced` shows. Such a `Ready`
/// tells the error's cause, so it follows when the cause changes; one the
/// object's health set stays until the object is read again.
fn follows_an_error(current: &[Condition]) -> bool {
    let (Some(ready), Some(synced)) = (
        conditions::find(current, READY),
        conditions::find(current, SYNCED),
    ) else {
        return false;
    };
    ready.status == "False" && synced.status == "False" && ready.reason == synced.reason
}

/// A retried error already shown with the same reason is left as it was
/// written: only a new reason, or recovering, is worth a write.
fn still_shown<A>(current: &[Condition], e: &Error, outcome: &Outcome<'_, A>) -> bool {
    outcome.retrying.is_some()
        && !outcome.cleanup
        && conditions::find(current, SYNCED)
            .is_some_and(|c| c.status == "False" && c.reason == e.reason())
}

/// `90s` as `1m30s`, for messages.
fn humantime(d: Duration) -> String {
    let secs = d.as_secs();
    match (secs / 60, secs % 60) {
        (0, s) => format!("{s}s"),
        (m, 0) => format!("{m}m"),
        (m, s) => format!("{m}m{s}s"),
    }
}

/// The Events the conditions' transitions from `before` to `after` deserve.
/// `ready_tone` says whether a `Ready=False` that the object's own health
/// set is progress (a Normal Event) or trouble (a Warning).
pub fn transition_notes(
    noun: &str,
    before: &[Condition],
    after: &[Condition],
    ready_tone: Tone,
) -> Vec<Note> {
    let mut notes = Vec::new();
    let synced = conditions::find(after, SYNCED);
    if transitioned(before, after, SYNCED)
        && let Some(now) = synced
    {
        let was = conditions::find(before, SYNCED);
        if now.status == "False" && now.reason == PAUSED {
            notes.push(Note::normal(PAUSED, "Reconcile", &now.message));
        } else if now.status == "False" {
            notes.push(Note::warning(&now.reason, "Reconcile", &now.message));
        } else if was.is_some() {
            notes.push(Note::normal(
                reason::SYNCED,
                "Reconcile",
                format!("the {noun} matches the spec again"),
            ));
        }
    }
    // Ready moves by itself only when the object's own state changed; when
    // it follows an error, the Synced Event already told the story.
    if transitioned(before, after, READY)
        && let Some(now) = conditions::find(after, READY)
    {
        let was = conditions::find(before, READY);
        let follows_error = synced.is_some_and(|s| s.status == "False" && s.reason == now.reason);
        if !follows_error && now.reason != DELETING {
            if now.status == "False" && ready_tone == Tone::Progress {
                notes.push(Note::normal(&now.reason, "Observe", &now.message));
            } else if now.status == "False" {
                notes.push(Note::warning(&now.reason, "Observe", &now.message));
            } else if was.is_some() {
                notes.push(Note::normal(reason::READY, "Observe", &now.message));
            }
        }
    }
    notes
}

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;
