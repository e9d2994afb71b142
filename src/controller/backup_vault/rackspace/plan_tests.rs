//! The Rackspace plan from plain fixtures: one request at a time, the old
//! passphrase always known, failures not retried, settings as one patch.

use super::*;
use crate::api::backup_vault::{PassphraseSecretRef, RackspaceEncryption, RackspaceLogLevel};
use crate::provider::rackspace::AgentVault;

const UID: &str = "uid-1";

/// The vault's fingerprint key, as coffer's copy keeps it.
fn key() -> FingerprintKey {
    FingerprintKey::from_bytes(b"a key only coffer's copy holds".to_vec())
}

fn spec() -> RackspaceVault {
    RackspaceVault {
        agent_id: Some("agent-1".into()),
        host_machine_id: None,
        encryption: Some(RackspaceEncryption {
            passphrase_secret_ref: PassphraseSecretRef {
                name: "pass".into(),
                key: "passphrase".into(),
            },
        }),
        enabled: None,
        use_internal: None,
        log_level: None,
    }
}

fn view(encrypted: bool, online: bool) -> AgentView {
    AgentView {
        agent: Agent {
            id: "agent-1".into(),
            name: "a".into(),
            host_machine_id: Some("m".into()),
            enabled: Some(true),
            log_level: Some("warn".into()),
            public_key: PublicKey {
                modulus_hex: "c0ffee".into(),
                exponent_hex: "10001".into(),
            },
            vault: AgentVault {
                id: Some("v".into()),
                state: Some("created".into()),
                encrypted,
                use_internal: Some(false),
            },
        },
        online,
        kept: Kept {
            key: Some(key()),
            ..Kept::default()
        },
        key: key(),
        request: None,
    }
}

fn request(
    state: EncryptionRequestState,
    passphrase: &str,
    generation: i64,
) -> RackspaceEncryptionRequest {
    RackspaceEncryptionRequest {
        id: "r-1".into(),
        action: EncryptionAction::Enable,
        fingerprint: Passphrase::new(passphrase).fingerprint(&key()),
        generation,
        since: "2026-11-30T00:00:00Z".into(),
        state,
    }
}

fn run(spec: &RackspaceVault, passphrase: &str, view: &AgentView) -> Plan {
    let p = Passphrase::new(passphrase);
    let desired = Desired {
        spec,
        passphrase: spec.encryption.as_ref().map(|_| &p),
        uid: UID,
        generation: 1,
    };
    plan(&desired, view, &BTreeSet::new())
}

fn encrypt(plan: &Plan) -> Option<&Encrypt> {
    plan.calls.iter().find_map(|c| match c {
        Call::Encrypt(e) => Some(e.as_ref()),
        _ => None,
    })
}

#[test]
fn an_unencrypted_vault_is_enabled_without_an_old_passphrase() {
    let plan = run(&spec(), "one", &view(false, true));
    let e = encrypt(&plan).expect("an encryption request");
    assert_eq!(e.action, EncryptionAction::Enable);
    assert_eq!(e.old, None);
    assert_eq!(e.new, Passphrase::new("one"));
    assert_eq!(plan.calls.len(), 1);
}

#[test]
fn nothing_is_asked_while_a_request_is_pending() {
    let mut v = view(false, true);
    v.request = Some(request(EncryptionRequestState::Pending, "one", 1));
    let plan = run(&spec(), "one", &v);
    assert!(plan.calls.is_empty());
    assert_eq!(plan.awaiting.len(), 1);
}

#[test]
fn an_offline_agent_is_awaited_not_asked() {
    let plan = run(&spec(), "one", &view(false, false));
    assert!(plan.calls.is_empty());
    assert_eq!(plan.awaiting, [AGENT_ONLINE]);
}

#[test]
fn a_confirmed_enable_is_kept_and_then_nothing_differs() {
    let mut v = view(true, true);
    v.kept.pending = Some(Passphrase::new("one"));
    v.request = Some(request(EncryptionRequestState::Succeeded, "one", 1));
    let plan = run(&spec(), "one", &v);
    assert!(
        matches!(plan.calls.as_slice(), [Call::KeepPassphrase(k)] if k.passphrase == Passphrase::new("one"))
    );
    assert!(plan.drift.is_empty());
}

#[test]
fn a_new_passphrase_is_one_change_carrying_the_old_one() {
    let mut v = view(true, true);
    v.kept.current = Some(Passphrase::new("one"));
    v.request = Some(request(EncryptionRequestState::Succeeded, "one", 1));
    let plan = run(&spec(), "two", &v);
    let e = encrypt(&plan).expect("a change");
    assert_eq!(e.action, EncryptionAction::Change);
    assert_eq!(e.old, Some(Passphrase::new("one")));
    assert_eq!(e.new, Passphrase::new("two"));
    assert_eq!(plan.calls.len(), 1);
}

#[test]
fn a_reported_failure_blocks_until_the_passphrase_or_spec_changes() {
    let mut v = view(false, true);
    v.request = Some(request(EncryptionRequestState::Failed, "one", 1));
    let plan = run(&spec(), "one", &v);
    assert!(plan.calls.is_empty());
    assert_eq!(plan.blocked[0].reason, "EncryptionFailed");
    assert!(
        encrypt(&run(&spec(), "two", &v)).is_some(),
        "new passphrase"
    );
    v.request = Some(request(EncryptionRequestState::Failed, "one", 0));
    assert!(
        encrypt(&run(&spec(), "one", &v)).is_some(),
        "new generation"
    );
}

#[test]
fn only_a_succeeded_request_confirms_the_pending_passphrase() {
    let mut v = view(false, true);
    v.kept.pending = Some(Passphrase::new("one"));
    v.request = Some(request(EncryptionRequestState::Failed, "one", 1));
    let plan = run(&spec(), "one", &v);
    assert!(plan.calls.is_empty(), "{:?}", plan.calls);
    assert_eq!(plan.blocked[0].reason, "EncryptionFailed");
}

#[test]
fn an_enable_whose_answer_expired_unseen_keeps_the_passphrase_it_sent() {
    let mut v = view(true, true);
    v.kept.pending = Some(Passphrase::new("one"));
    let plan = run(&spec(), "one", &v);
    assert!(
        matches!(plan.calls.as_slice(), [Call::KeepPassphrase(k)] if k.passphrase == Passphrase::new("one")),
        "{:?}",
        plan.calls
    );
    assert!(plan.blocked.is_empty() && plan.drift.is_empty());
}

#[test]
fn a_pending_passphrase_is_not_kept_while_the_vault_is_unencrypted() {
    let mut v = view(false, true);
    v.kept.pending = Some(Passphrase::new("one"));
    let plan = run(&spec(), "one", &v);
    assert!(
        !plan
            .calls
            .iter()
            .any(|c| matches!(c, Call::KeepPassphrase(_))),
        "{:?}",
        plan.calls
    );
    let e = encrypt(&plan).expect("an enable");
    assert_eq!(e.action, EncryptionAction::Enable);
}

#[test]
fn a_pending_passphrase_other_than_the_specs_does_not_explain_an_encrypted_vault() {
    let mut v = view(true, true);
    v.kept.pending = Some(Passphrase::new("an earlier attempt"));
    let plan = run(&spec(), "one", &v);
    assert!(plan.calls.is_empty(), "{:?}", plan.calls);
    assert_eq!(plan.blocked[0].reason, "PassphraseUnknown");
}

#[test]
fn a_vault_encrypted_by_someone_else_is_blocked_not_guessed() {
    let plan = run(&spec(), "one", &view(true, true));
    assert!(plan.calls.is_empty());
    assert_eq!(plan.blocked[0].reason, "PassphraseUnknown");
}

#[test]
fn an_in_flight_request_is_not_planned_again() {
    let p = Passphrase::new("one");
    let s = spec();
    let desired = Desired {
        spec: &s,
        passphrase: Some(&p),
        uid: UID,
        generation: 1,
    };
    let in_flight = BTreeSet::from([encrypt_key(&p.fingerprint(&key()))]);
    let plan = plan(&desired, &view(false, true), &in_flight);
    assert!(plan.calls.is_empty());
}

#[test]
fn a_request_in_flight_for_another_passphrase_does_not_hold_back_this_one() {
    let (old, new) = (Passphrase::new("one"), Passphrase::new("two"));
    let s = spec();
    let desired = Desired {
        spec: &s,
        passphrase: Some(&new),
        uid: UID,
        generation: 2,
    };
    let in_flight = BTreeSet::from([encrypt_key(&old.fingerprint(&key()))]);
    let plan = plan(&desired, &view(false, true), &in_flight);
    let asked = encrypt(&plan).expect("an encryption request");
    assert_eq!(asked.fingerprint, new.fingerprint(&key()));
}

#[test]
fn a_request_is_keyed_by_the_fingerprint_that_recovery_reads_back() {
    // observe::recover takes the fingerprint after `encrypt/` in the
    // callPending marker this key becomes.
    assert_eq!(encrypt_key("3f2a9c"), "encrypt/3f2a9c");
}

#[test]
fn settings_are_one_patch_with_only_what_differs() {
    let mut s = spec();
    s.encryption = None;
    s.enabled = Some(true);
    s.use_internal = Some(true);
    s.log_level = Some(RackspaceLogLevel::Debug);
    let plan = run(&s, "", &view(false, true));
    match plan.calls.as_slice() {
        [Call::UpdateAgent(changes)] => assert_eq!(
            changes,
            &[
                AgentChange::UseInternal(true),
                AgentChange::LogLevel("debug".into())
            ]
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(plan.drift.len(), 2);
}

#[test]
fn each_difference_is_one_drift_entry_with_both_values() {
    let mut s = spec();
    s.enabled = Some(false);
    let plan = run(&s, "one", &view(false, true));
    let drift: Vec<_> = plan
        .drift
        .iter()
        .map(|d| {
            (
                d.field.as_str(),
                d.desired.clone(),
                d.observed.as_str(),
                d.action,
            )
        })
        .collect();
    let fingerprint = Passphrase::new("one").fingerprint(&key());
    assert_eq!(
        drift,
        [
            (
                "rackspace.enabled",
                "false".to_string(),
                "true",
                DriftAction::Update
            ),
            (
                "rackspace.encryption",
                format!("encrypted (passphrase {fingerprint})"),
                "unencrypted",
                DriftAction::Update
            ),
        ]
    );
}

#[test]
fn without_encryption_nothing_about_it_is_planned() {
    let mut s = spec();
    s.encryption = None;
    let plan = run(&s, "", &view(false, true));
    assert!(plan.calls.is_empty() && plan.drift.is_empty() && plan.blocked.is_empty());
}

/// A vault encrypted before coffer kept a fingerprint key: its copy holds
/// the passphrase and no key, and status the uid-salted fingerprint.
fn before_keys() -> AgentView {
    let mut v = view(true, true);
    v.kept = Kept {
        current: Some(Passphrase::new("one")),
        pending: None,
        key: None,
    };
    v.key = FingerprintKey::random();
    let mut r = request(EncryptionRequestState::Succeeded, "one", 1);
    r.fingerprint = Passphrase::new("one").legacy_fingerprint(UID);
    v.request = Some(r);
    v
}

#[test]
fn a_vault_encrypted_before_keys_saves_a_key_and_asks_nothing_of_the_agent() {
    let plan = run(&spec(), "one", &before_keys());
    assert!(
        matches!(plan.calls.as_slice(), [Call::KeepKey(_)]),
        "{:?}",
        plan.calls
    );
    assert!(encrypt(&plan).is_none());
    assert!(plan.drift.is_empty() && plan.blocked.is_empty());
}

#[test]
fn a_failure_recorded_before_keys_still_blocks_the_same_passphrase() {
    let mut v = before_keys();
    v.agent.vault.encrypted = false;
    v.kept.current = None;
    let mut r = request(EncryptionRequestState::Failed, "one", 1);
    r.fingerprint = Passphrase::new("one").legacy_fingerprint(UID);
    v.request = Some(r);
    let plan = run(&spec(), "one", &v);
    assert!(encrypt(&plan).is_none(), "{:?}", plan.calls);
    assert_eq!(plan.blocked[0].reason, "EncryptionFailed");
}

#[test]
fn once_the_key_is_saved_status_shows_only_keyed_fingerprints() {
    let mut v = before_keys();
    assert_eq!(
        crate::controller::backup_vault::rackspace::shown_fingerprint(&v),
        None
    );
    // What the KeepKey call leaves.
    v.kept.key = Some(v.key.clone());
    let one = Passphrase::new("one");
    let keyed = one.fingerprint(&v.key);
    assert_eq!(
        crate::controller::backup_vault::rackspace::shown_fingerprint(&v),
        Some(keyed.clone())
    );
    let shown = crate::controller::backup_vault::rackspace::shown_request(&v, UID, Some(&one))
        .expect("the request");
    assert_eq!(shown.fingerprint, keyed);
    assert!(
        run(&spec(), "one", &v).calls.is_empty(),
        "nothing more to do"
    );
}
