//! BackupVault on Rackspace Cloud Backup, end to end: the real API server,
//! coffer's Rackspace client, and the emulator's Identity, Cloud Backup and
//! simulated agent. The agent decrypts what coffer sends with its private
//! key, so a wrong padding or encoding fails here.

use std::collections::BTreeMap;
use std::time::Duration;

use coffer::api::BackupVault;
use coffer::api::backup_vault::{EncryptionRequestState, RackspaceVaultObservation};
use coffer::emulator::{AgentBehaviour, Operation, RecordedRequest, RunningEmulator};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::events::v1::Event;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use rsa::Pkcs1v15Encrypt;
use serde_json::{Value, json};

use super::engine::has_condition;
use super::{RESYNC, Running, condition};

/// The agent every emulator starts with.
pub const AGENT: &str = coffer::emulator::DEFAULT_RAX_AGENT_ID;

/// The Secret, ProviderConfig `rax` and passphrase Secret `pass` a test needs.
pub async fn rackspace_objects(run: &Running, passphrase: &str) {
    let c = run.emulator.config().rackspace.clone();
    run.create_secret(
        "rax-creds",
        &[("username", &c.username), ("apiKey", &c.api_key)],
    )
    .await;
    let pc = json!({
        "apiVersion": "coffer.dev/v1alpha1", "kind": "ProviderConfig",
        "metadata": {"name": "rax"},
        "spec": {"rackspace": {
            "identityEndpoint": format!("{}/v2.0", run.emulator.base_url()),
            "region": c.region,
            "credentials": {"secretRef": {"name": "rax-creds"}},
        }},
    });
    run.api::<coffer::api::ProviderConfig>()
        .create(
            &PostParams::default(),
            &serde_json::from_value(pc).expect("pc"),
        )
        .await
        .expect("creating the ProviderConfig");
    run.create_secret("pass", &[("passphrase", passphrase)])
        .await;
}

/// A BackupVault for the default agent's vault, with `extra` merged into `rackspace`.
pub async fn create_agent_vault(run: &Running, name: &str, extra: Value) {
    let mut rackspace = json!({
        "agentId": AGENT,
        "encryption": {"passphraseSecretRef": {"name": "pass", "key": "passphrase"}},
    });
    if let (Some(base), Some(extra)) = (rackspace.as_object_mut(), extra.as_object()) {
        base.extend(extra.clone());
    }
    let bv = json!({
        "apiVersion": "coffer.dev/v1alpha1", "kind": "BackupVault",
        "metadata": {"name": name},
        "spec": {"providerConfigRef": {"name": "rax"}, "rackspace": rackspace},
    });
    run.api::<BackupVault>()
        .create(
            &PostParams::default(),
            &serde_json::from_value(bv).expect("bv"),
        )
        .await
        .expect("creating the BackupVault");
}

/// Replaces the passphrase in Secret `pass`.
pub async fn set_passphrase(run: &Running, passphrase: &str) {
    let patch = json!({"stringData": {"passphrase": passphrase}});
    run.api::<Secret>()
        .patch("pass", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("changing the passphrase");
}

pub fn observation(bv: &BackupVault) -> RackspaceVaultObservation {
    bv.status
        .as_ref()
        .and_then(|s| s.at_provider.as_ref())
        .and_then(|a| a.rackspace.as_deref().cloned())
        .unwrap_or_default()
}

/// Ready and Synced with the vault encrypted and no request pending.
pub fn encrypted(bv: &BackupVault) -> bool {
    let o = observation(bv);
    has_condition(bv, "Ready", "True", "Available")
        && has_condition(bv, "Synced", "True", "ReconcileSuccess")
        && o.encrypted
        && o.request
            .is_some_and(|r| r.state == EncryptionRequestState::Succeeded)
}

/// The encryption requests the emulator received (answered or not).
pub fn encryption_requests(emulator: &RunningEmulator) -> Vec<RecordedRequest> {
    emulator.requests(Some(Operation::RaxRequestVaultEncryption))
}

/// What the agent's private key reads from one hex ciphertext.
pub fn decrypt(emulator: &RunningEmulator, hex_text: &str) -> String {
    let key = emulator
        .rackspace_private_key(AGENT)
        .expect("the agent's key");
    let bytes = hex::decode(hex_text).expect("the ciphertext is hex");
    let plain = key
        .decrypt(Pkcs1v15Encrypt, &bytes)
        .expect("PKCS#1 v1.5 for the agent's key");
    String::from_utf8(plain).expect("UTF-8")
}

/// coffer's copy of the passphrase of BackupVault `name`.
pub async fn owned_copy(run: &Running, name: &str) -> BTreeMap<String, String> {
    let secret = run
        .api::<Secret>()
        .get(&format!("{name}-coffer-passphrase"))
        .await
        .expect("coffer's copy of the passphrase");
    secret
        .data
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, String::from_utf8(v.0).expect("text")))
        .collect()
}

/// Every status and Event about the namespace's objects, as text.
pub async fn shown(run: &Running) -> String {
    let vaults = run
        .api::<BackupVault>()
        .list(&ListParams::default())
        .await
        .expect("list");
    let events = run
        .api::<Event>()
        .list(&ListParams::default())
        .await
        .expect("events");
    let statuses: Vec<_> = vaults.items.iter().map(|v| json!(v.status)).collect();
    let notes: Vec<_> = events
        .items
        .iter()
        .map(|e| json!([e.reason, e.note]))
        .collect();
    format!("{statuses:?}{notes:?}")
}

fn behaviour(run: &Running) -> AgentBehaviour {
    run.emulator.rackspace_behaviour(AGENT).expect("the agent")
}

#[tokio::test]
async fn enabling_sends_one_request_the_agent_can_decrypt() {
    let run = Running::start_bare("rax-enable").await;
    rackspace_objects(&run, "correct horse battery").await;
    create_agent_vault(&run, "vault", json!({})).await;
    let bv = run
        .vault_when("vault", "Ready and encrypted", encrypted)
        .await;

    let requests = encryption_requests(&run.emulator);
    assert_eq!(requests.len(), 1, "{requests:#?}");
    assert_eq!(requests[0].status, 202);
    let body = &requests[0].body;
    assert_eq!(body["old_encrypted_password_hex"], Value::Null);
    let sealed = body["new_encrypted_password_hex"].as_str().expect("hex");
    assert_eq!(decrypt(&run.emulator, sealed), "correct horse battery");
    assert_eq!(
        run.emulator.rackspace_agent_passphrase(AGENT).as_deref(),
        Some("correct horse battery")
    );
    assert_eq!(
        owned_copy(&run, "vault").await["passphrase"],
        "correct horse battery"
    );
    let o = observation(&bv);
    assert!(o.online && o.passphrase_fingerprint.is_some());
    tokio::time::sleep(RESYNC * 3).await;
    assert_eq!(encryption_requests(&run.emulator).len(), 1, "asked again");
}

#[tokio::test]
async fn a_new_passphrase_is_one_change_carrying_old_and_new() {
    let run = Running::start_bare("rax-change").await;
    rackspace_objects(&run, "first passphrase").await;
    create_agent_vault(&run, "vault", json!({})).await;
    let before = run.vault_when("vault", "encrypted", encrypted).await;
    let first = observation(&before).passphrase_fingerprint;

    set_passphrase(&run, "second passphrase").await;
    run.vault_when("vault", "encrypted with the new passphrase", |bv| {
        encrypted(bv) && observation(bv).passphrase_fingerprint != first
    })
    .await;
    tokio::time::sleep(RESYNC * 3).await;

    let requests = encryption_requests(&run.emulator);
    assert_eq!(requests.len(), 2, "{requests:#?}");
    let change = &requests[1].body;
    let old = change["old_encrypted_password_hex"].as_str().expect("old");
    let new = change["new_encrypted_password_hex"].as_str().expect("new");
    assert_eq!(decrypt(&run.emulator, old), "first passphrase");
    assert_eq!(decrypt(&run.emulator, new), "second passphrase");
    let copy = owned_copy(&run, "vault").await;
    assert_eq!(
        copy.get("passphrase").map(String::as_str),
        Some("second passphrase")
    );
    assert_eq!(copy.get("pending"), None);
    let shown = shown(&run).await;
    for secret in ["first passphrase", "second passphrase"] {
        assert!(
            !shown.contains(secret),
            "{secret:?} shown in status or Events: {shown}"
        );
    }
}

#[tokio::test]
async fn an_offline_agent_is_polled_at_a_bounded_rate_then_completes() {
    let run = Running::start_bare("rax-offline").await;
    run.emulator.set_rackspace_behaviour(
        AGENT,
        AgentBehaviour {
            online: false,
            ..behaviour(&run)
        },
    );
    rackspace_objects(&run, "offline passphrase").await;
    create_agent_vault(&run, "vault", json!({})).await;
    run.vault_when("vault", "Ready=False AgentOffline", |bv| {
        has_condition(bv, "Ready", "False", "AgentOffline")
    })
    .await;
    let reads = |run: &Running| run.emulator.requests(Some(Operation::RaxGetAgent)).len();
    let start = reads(&run);
    let window = Duration::from_secs(3);
    tokio::time::sleep(window).await;
    let polled = reads(&run) - start;
    // The tests' poll interval is 300 ms: ten polls, and room for one wake-up.
    let bound = (window.as_millis() / 300) as usize + 2;
    assert!(polled <= bound, "{polled} agent reads in {window:?}");
    assert!(polled >= 2, "the offline agent was not polled: {polled}");
    assert!(
        encryption_requests(&run.emulator).is_empty(),
        "asked an offline agent"
    );

    run.emulator.set_rackspace_behaviour(
        AGENT,
        AgentBehaviour {
            online: true,
            ..behaviour(&run)
        },
    );
    run.vault_when("vault", "encrypted once online", encrypted)
        .await;
    assert_eq!(encryption_requests(&run.emulator).len(), 1);
}

#[tokio::test]
async fn a_reported_failure_is_not_retried_until_the_secret_changes() {
    let run = Running::start_bare("rax-fail").await;
    run.emulator.set_rackspace_behaviour(
        AGENT,
        AgentBehaviour {
            fail_reports: true,
            ..behaviour(&run)
        },
    );
    rackspace_objects(&run, "doomed passphrase").await;
    create_agent_vault(&run, "vault", json!({})).await;
    let bv = run
        .vault_when("vault", "Synced=False EncryptionFailed", |bv| {
            has_condition(bv, "Synced", "False", "EncryptionFailed")
        })
        .await;
    let (_, _, message) = condition(&bv, "Synced").expect("Synced");
    assert!(
        message.contains("until the spec or the passphrase Secret changes"),
        "{message}"
    );
    tokio::time::sleep(RESYNC * 4).await;
    assert_eq!(
        encryption_requests(&run.emulator).len(),
        1,
        "retried a failure"
    );

    run.emulator.set_rackspace_behaviour(
        AGENT,
        AgentBehaviour {
            fail_reports: false,
            ..behaviour(&run)
        },
    );
    set_passphrase(&run, "better passphrase").await;
    run.vault_when("vault", "encrypted after the Secret changed", encrypted)
        .await;
    assert_eq!(encryption_requests(&run.emulator).len(), 2);
}

#[tokio::test]
async fn a_lost_answer_makes_no_second_request() {
    let run = Running::start_bare("rax-lost").await;
    run.emulator
        .set_faults(coffer::emulator::FaultConfig {
            lost_response_rate: 1.0,
            ..Default::default()
        })
        .expect("faults");
    rackspace_objects(&run, "lost passphrase").await;
    create_agent_vault(&run, "vault", json!({})).await;
    run.vault_when("vault", "encrypted", encrypted).await;
    assert!(run.has_event("vault", "Recovered").await);
    tokio::time::sleep(RESYNC * 3).await;
    let requests = encryption_requests(&run.emulator);
    assert_eq!(requests.len(), 1, "{requests:#?}");
}

#[tokio::test]
async fn agent_settings_are_one_json_patch_of_what_differs() {
    let run = Running::start_bare("rax-patch").await;
    rackspace_objects(&run, "unused").await;
    let machine = run.emulator.config().rackspace.agent_machine_id.clone();
    let bv = json!({
        "apiVersion": "coffer.dev/v1alpha1", "kind": "BackupVault",
        "metadata": {"name": "settings"},
        "spec": {"providerConfigRef": {"name": "rax"}, "rackspace": {
            "hostMachineId": machine, "enabled": true, "useInternal": true, "logLevel": "debug",
        }},
    });
    run.api::<BackupVault>()
        .create(
            &PostParams::default(),
            &serde_json::from_value(bv).expect("bv"),
        )
        .await
        .expect("creating");
    run.vault_when("settings", "Ready", |bv| {
        has_condition(bv, "Ready", "True", "Available")
            && has_condition(bv, "Synced", "True", "ReconcileSuccess")
            && observation(bv).log_level.as_deref() == Some("debug")
    })
    .await;
    tokio::time::sleep(RESYNC * 2).await;
    let patches = run.emulator.requests(Some(Operation::RaxUpdateAgent));
    assert_eq!(patches.len(), 1, "{patches:#?}");
    assert_eq!(patches[0].status, 204);
    assert_eq!(
        patches[0].body,
        json!([
            {"op": "replace", "path": "/vault/use_internal", "value": true},
            {"op": "replace", "path": "/log_level", "value": "debug"},
        ])
    );
    assert!(encryption_requests(&run.emulator).is_empty());
}

#[tokio::test]
async fn deleting_leaves_the_vault_and_says_so() {
    let run = Running::start_bare("rax-delete").await;
    rackspace_objects(&run, "kept passphrase").await;
    create_agent_vault(&run, "vault", json!({})).await;
    run.vault_when("vault", "encrypted", encrypted).await;
    run.api::<BackupVault>()
        .delete("vault", &Default::default())
        .await
        .expect("deleting");
    super::eventually("the BackupVault gone", || async {
        run.api::<BackupVault>()
            .get_opt("vault")
            .await
            .expect("reading the BackupVault")
            .is_none()
            .then_some(())
    })
    .await;
    let events = run
        .api::<Event>()
        .list(&ListParams::default())
        .await
        .expect("events");
    let orphaned = events
        .items
        .iter()
        .find(|e| e.reason.as_deref() == Some("Orphaned"))
        .and_then(|e| e.note.clone())
        .expect("an Orphaned Event");
    assert!(
        orphaned.contains("leave the vault and its encryption in place"),
        "{orphaned}"
    );
    let agents = run.emulator.rackspace_agents();
    assert_eq!(agents["agents"][0]["encrypted"], json!(true));
}
