//! The pure heart of the BackupVault-on-Rackspace pair: the spec, the
//! desired passphrase, coffer's copy and the agent as observed go in; the
//! calls that make them match come out. No client, no clock.
//!
//! Encryption moves one request at a time: while a request is pending
//! nothing else is asked; a reported failure is not retried until the spec
//! (generation) or the passphrase (fingerprint) changes; a confirmed
//! passphrase is kept in coffer's copy before the next change is sent, so
//! the old passphrase of a change is always known.

use std::collections::BTreeSet;

use crate::api::backup_vault::{
    EncryptionAction, EncryptionRequestState, RackspaceEncryptionRequest, RackspaceVault,
};
use crate::api::managed::{Drift, DriftAction};
use crate::provider::rackspace::{Agent, AgentChange, PublicKey};

use super::passphrase::{FingerprintKey, Kept, Passphrase};

/// The agent, its vault and what coffer knows of its encryption.
#[derive(Clone, Debug)]
pub struct AgentView {
    pub agent: Agent,
    pub online: bool,
    pub kept: Kept,
    /// The fingerprints' key: the kept one, or a new one that the first
    /// write of coffer's copy saves.
    pub key: FingerprintKey,
    /// The last encryption request, with what became of it.
    pub request: Option<RackspaceEncryptionRequest>,
}

/// One call.
#[derive(Clone, Debug)]
pub enum Call {
    /// One JSON Patch with every differing setting.
    UpdateAgent(Vec<AgentChange>),
    /// A vault-encryption request: not idempotent.
    Encrypt(Box<Encrypt>),
    /// Records a confirmed passphrase as the current one in coffer's copy.
    KeepPassphrase(Box<Keep>),
    /// Saves the fingerprints' key in a copy that has a passphrase but no
    /// key yet: a vault encrypted before coffer had keys.
    KeepKey(Box<AgentView>),
}

/// What an encryption request sends, and the view to record it in.
#[derive(Clone, Debug)]
pub struct Encrypt {
    pub action: EncryptionAction,
    /// The passphrase the vault has now (a change only).
    pub old: Option<Passphrase>,
    pub new: Passphrase,
    pub fingerprint: String,
    pub generation: i64,
    pub key: PublicKey,
    pub base: AgentView,
}

/// A passphrase the agent confirmed.
#[derive(Clone, Debug)]
pub struct Keep {
    pub passphrase: Passphrase,
    pub fingerprint: String,
    pub base: AgentView,
}

/// What the plan is made from, besides the observation.
pub struct Desired<'a> {
    pub spec: &'a RackspaceVault,
    /// The user's passphrase, when the spec asks for encryption.
    pub passphrase: Option<&'a Passphrase>,
    /// The object's uid: only to recognise the fingerprints coffer made
    /// before it had keys.
    pub uid: &'a str,
    pub generation: i64,
}

/// A difference no call fixes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blocked {
    pub reason: &'static str,
    pub message: String,
}

/// Calls, drift, blocks and what is awaited.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub calls: Vec<Call>,
    pub drift: Vec<Drift>,
    pub blocked: Vec<Blocked>,
    pub awaiting: Vec<String>,
}

/// The engine's key of the encryption request for `fingerprint`.
pub fn encrypt_key(fingerprint: &str) -> String {
    format!("encrypt/{fingerprint}")
}

/// Awaited while the agent is offline; the engine polls meanwhile.
pub const AGENT_ONLINE: &str = "the agent to come online";

/// Whether `fingerprint` is `passphrase`'s, under the vault's key or as
/// coffer made fingerprints before it had keys.
pub fn fingerprint_of(
    passphrase: &Passphrase,
    fingerprint: &str,
    view: &AgentView,
    uid: &str,
) -> bool {
    passphrase.fingerprint(&view.key) == fingerprint
        || passphrase.legacy_fingerprint(uid) == fingerprint
}

pub fn plan(desired: &Desired<'_>, view: &AgentView, in_flight: &BTreeSet<String>) -> Plan {
    let mut plan = Plan::default();
    if view.kept.needs_key() {
        plan.calls.push(Call::KeepKey(Box::new(view.clone())));
    }
    settings(desired.spec, &view.agent, &mut plan);
    if let Some(passphrase) = desired.passphrase {
        encryption(desired, passphrase, view, in_flight, &mut plan);
    }
    plan
}

/// `enabled`, `useInternal` and `logLevel`: only what the spec sets and differs.
fn settings(spec: &RackspaceVault, agent: &Agent, plan: &mut Plan) {
    let mut changes = Vec::new();
    let mut differs = |field: &str, desired: String, observed: String, change: AgentChange| {
        if desired != observed {
            plan.drift.push(drift(field, desired, observed));
            changes.push(change);
        }
    };
    let shown = |v: Option<bool>| v.map_or("unset".to_string(), |b| b.to_string());
    if let Some(on) = spec.enabled {
        differs(
            "rackspace.enabled",
            on.to_string(),
            shown(agent.enabled),
            AgentChange::Enabled(on),
        );
    }
    if let Some(on) = spec.use_internal {
        let observed = shown(agent.vault.use_internal);
        differs(
            "rackspace.useInternal",
            on.to_string(),
            observed,
            AgentChange::UseInternal(on),
        );
    }
    if let Some(level) = spec.log_level {
        let observed = agent.log_level.clone().unwrap_or_else(|| "unset".into());
        let change = AgentChange::LogLevel(level.as_str().to_string());
        differs(
            "rackspace.logLevel",
            level.as_str().to_string(),
            observed,
            change,
        );
    }
    if !changes.is_empty() {
        plan.calls.push(Call::UpdateAgent(changes));
    }
}

fn drift(field: &str, desired: String, observed: String) -> Drift {
    Drift {
        field: field.to_string(),
        desired,
        observed,
        action: DriftAction::Update,
        reason: None,
    }
}

fn encryption(
    desired: &Desired<'_>,
    passphrase: &Passphrase,
    view: &AgentView,
    in_flight: &BTreeSet<String>,
    plan: &mut Plan,
) {
    let uid = desired.uid;
    let fingerprint = passphrase.fingerprint(&view.key);
    let request = view.request.as_ref();
    if let Some(r) = request.filter(|r| r.state == EncryptionRequestState::Pending) {
        plan.awaiting
            .push(format!("the agent's report of encryption request {}", r.id));
        return;
    }
    // A confirmed passphrase not kept yet is kept first: it is the old one
    // of any change that follows.
    let mut current = view.kept.current.clone();
    let confirmed = request
        .filter(|r| r.state == EncryptionRequestState::Succeeded)
        .and_then(|r| {
            view.kept
                .pending
                .clone()
                .filter(|p| fingerprint_of(p, &r.fingerprint, view, uid))
        });
    // Encrypted with nothing kept: an enable whose result expired unseen.
    let unseen = match (&current, &view.kept.pending) {
        (None, Some(p)) if view.agent.vault.encrypted && p == passphrase => Some(p.clone()),
        _ => None,
    };
    if let Some(keep) = confirmed.or(unseen)
        && current.as_ref() != Some(&keep)
    {
        plan.calls.push(Call::KeepPassphrase(Box::new(Keep {
            fingerprint: keep.fingerprint(&view.key),
            passphrase: keep.clone(),
            base: view.clone(),
        })));
        current = Some(keep);
    }
    // A request the agent reported as succeeded means the vault is
    // encrypted, even when the agent read before that report (in the same
    // observe) still said it was not: enabling again would be a second
    // request for one change.
    let succeeded = request.is_some_and(|r| r.state == EncryptionRequestState::Succeeded);
    let action = match (view.agent.vault.encrypted || succeeded, &current) {
        (false, _) => EncryptionAction::Enable,
        (true, Some(c)) if c == passphrase => return,
        (true, Some(_)) => EncryptionAction::Change,
        (true, None) => {
            plan.blocked.push(Blocked {
                reason: "PassphraseUnknown",
                message: "the vault is already encrypted with a passphrase coffer never saw, so it cannot send the old one a change needs: \
                          put the vault's current passphrase under key `passphrase` of coffer's Secret for this BackupVault \
                          (<name>-coffer-passphrase), or set the passphrase Secret to it"
                    .into(),
            });
            return;
        }
    };
    let failed = request.filter(|r| {
        r.state == EncryptionRequestState::Failed
            && fingerprint_of(passphrase, &r.fingerprint, view, uid)
            && r.generation == desired.generation
    });
    if let Some(r) = failed {
        plan.blocked.push(Blocked {
            reason: "EncryptionFailed",
            message: format!(
                "the agent reported that encryption request {} failed; coffer makes no new request until the spec or the passphrase Secret changes",
                r.id
            ),
        });
        return;
    }
    let observed = match view.agent.vault.encrypted {
        true => "encrypted with another passphrase",
        false => "unencrypted",
    };
    plan.drift.push(drift(
        "rackspace.encryption",
        format!("encrypted (passphrase {fingerprint})"),
        observed.into(),
    ));
    if in_flight.contains(&encrypt_key(&fingerprint)) {
        return;
    }
    if !view.online {
        plan.awaiting.push(AGENT_ONLINE.into());
        return;
    }
    let old = match action {
        EncryptionAction::Enable => None,
        EncryptionAction::Change => current,
    };
    plan.calls.push(Call::Encrypt(Box::new(Encrypt {
        action,
        old,
        new: passphrase.clone(),
        fingerprint,
        generation: desired.generation,
        key: view.agent.public_key.clone(),
        base: view.clone(),
    })));
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
