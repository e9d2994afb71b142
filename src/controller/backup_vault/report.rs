//! From what a reconcile saw and did to the status it shows: `externalId`,
//! `atProvider`, the `Ready` and `Synced` conditions and `observedGeneration`,
//! plus the Events that condition transitions deserve. Pure: the same
//! outcome on the same status gives the same status, which is what lets a
//! reconcile that changed nothing skip the write.

use jiff::Timestamp;

use super::diff::Plan;
use super::error::Error;
use super::observe::DELETING;
use crate::api::BackupVaultStatus;
use crate::api::backup_vault::{ObservedResource, VaultObservation};
use crate::api::conditions::{self, Condition, ConditionStatus, DesiredCondition, READY, SYNCED};
use crate::controller::events::{Note, reason};
use crate::controller::status::transitioned;
use crate::provider::Vault;

/// `Synced` reason when the vault matches the spec.
pub const MATCHES: &str = "ReconcileSuccess";
/// `Ready` reason while the vault is being deleted.
pub const DELETING_REASON: &str = "Deleting";

/// What one reconcile learned.
#[derive(Clone, Copy, Debug, Default)]
pub struct Outcome<'a> {
    /// The vault's id as now known; `None` when there is no vault (yet).
    pub external_id: Option<&'a str>,
    /// The vault as last read or returned by the provider.
    pub vault: Option<&'a Vault>,
    /// The plan, when the reconcile got as far as making one.
    pub plan: Option<&'a Plan>,
    pub error: Option<&'a Error>,
    /// The object is being deleted.
    pub cleanup: bool,
}

/// The status `current` becomes after `outcome`.
pub fn status(
    current: &BackupVaultStatus,
    generation: Option<i64>,
    outcome: &Outcome<'_>,
    now: Timestamp,
) -> BackupVaultStatus {
    let mut desired = Vec::new();
    desired.extend(ready(&current.conditions, outcome));
    desired.extend(synced(outcome));
    let unchanged_vault = outcome.external_id == current.external_id.as_deref();
    BackupVaultStatus {
        external_id: outcome.external_id.map(str::to_owned),
        at_provider: match outcome.vault {
            Some(vault) => Some(at_provider(vault)),
            // Nothing new was learned about the same vault: keep what was known.
            None if unchanged_vault => current.at_provider.clone(),
            None => None,
        },
        conditions: conditions::merge(&current.conditions, &desired, generation, now),
        observed_generation: generation,
    }
}

/// The vault's state as status shows it.
pub fn at_provider(vault: &Vault) -> VaultObservation {
    VaultObservation {
        status: Some(vault.status.clone()),
        size_gb: Some(vault.size_gb),
        allocated_gb: vault.allocated_gb,
        used_mb: vault.used_mb,
        spec_code: vault.spec_code.clone(),
        created_at: vault.created_at.clone(),
        resources: vault
            .resources
            .iter()
            .map(|r| ObservedResource {
                id: r.id.clone(),
                type_: r.type_.clone(),
                protect_status: r.protect_status.clone(),
            })
            .collect(),
    }
}

/// `Ready` from the vault's own status; from the error when coffer cannot
/// see the vault. `None` keeps the current condition: a passing provider
/// hiccup says nothing about the vault.
fn ready(current: &[Condition], outcome: &Outcome<'_>) -> Option<DesiredCondition> {
    let cond = |status, reason: &str, message: String| {
        Some(DesiredCondition::new(READY, status, reason, message))
    };
    if let Some(vault) = outcome.vault {
        let id = &vault.id;
        return match vault.status.as_str() {
            "available" => cond(
                ConditionStatus::True,
                "Available",
                format!("vault {id} is available"),
            ),
            DELETING => cond(
                ConditionStatus::False,
                DELETING_REASON,
                format!("vault {id} is being deleted"),
            ),
            other => {
                let reason = match other {
                    "lock" => "Locked",
                    "frozen" => "Frozen",
                    "error" => "Error",
                    _ => "UnexpectedStatus",
                };
                cond(
                    ConditionStatus::False,
                    reason,
                    format!("the provider reports vault {id} as {other:?}"),
                )
            }
        };
    }
    match outcome.error {
        Some(e) if e.blinds() || conditions::find(current, READY).is_none() => {
            cond(ConditionStatus::False, e.reason(), e.to_string())
        }
        Some(_) => None,
        None if outcome.cleanup => cond(
            ConditionStatus::False,
            DELETING_REASON,
            "waiting for the vault to be gone".into(),
        ),
        None => cond(ConditionStatus::False, "NotFound", "no vault yet".into()),
    }
}

/// `Synced`: whether this reconcile made the vault match the spec, and if
/// not, why and what was planned. Left alone while deleting succeeds.
fn synced(outcome: &Outcome<'_>) -> Option<DesiredCondition> {
    let cond = |status, reason: &str, message: String| {
        Some(DesiredCondition::new(SYNCED, status, reason, message))
    };
    if let Some(e) = outcome.error {
        let mut message = e.to_string();
        if let Some(plan) = outcome.plan.filter(|p| !p.is_empty()) {
            message.push_str(&format!(" (planned: {plan})"));
        }
        if outcome.cleanup {
            message.push_str(
                "; the vault cannot be deleted until this is fixed, or set spec.deletionPolicy to Orphan to keep it",
            );
        }
        return cond(ConditionStatus::False, e.reason(), message);
    }
    if outcome.cleanup {
        return None;
    }
    let plan = outcome.plan?;
    if let Some(first) = plan.blocked.first() {
        let message = plan
            .blocked
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        return cond(ConditionStatus::False, first.reason(), message);
    }
    let mut message = "the vault matches the spec".to_string();
    if !plan.awaiting.is_empty() {
        message.push_str(&format!(
            "; waiting for the provider to show the change of resources {}",
            plan.awaiting.join(", ")
        ));
    }
    cond(ConditionStatus::True, MATCHES, message)
}

/// The Events the conditions' transitions from `before` to `after` deserve.
pub fn transition_notes(before: &[Condition], after: &[Condition]) -> Vec<Note> {
    let mut notes = Vec::new();
    let synced = conditions::find(after, SYNCED);
    if transitioned(before, after, SYNCED)
        && let Some(now) = synced
    {
        let was = conditions::find(before, SYNCED);
        if now.status == "False" {
            notes.push(Note::warning(&now.reason, "Reconcile", &now.message));
        } else if was.is_some() {
            notes.push(Note::normal(
                reason::SYNCED,
                "Reconcile",
                "the vault matches the spec again",
            ));
        }
    }
    // Ready moves by itself only when the vault's own state changed; when it
    // follows an error, the Synced Event already told the story.
    if transitioned(before, after, READY)
        && let Some(now) = conditions::find(after, READY)
    {
        let was = conditions::find(before, READY);
        let follows_error = synced.is_some_and(|s| s.status == "False" && s.reason == now.reason);
        if !follows_error && now.reason != DELETING_REASON {
            if now.status == "False" {
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
