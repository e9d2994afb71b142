//! What a user sees when TLS fails, end to end: each failure is
//! `Ready=False` on the ProviderConfig (and `Synced=False` on the objects
//! using it) with its own reason and a message that says what to fix, and
//! none is retried in a storm. `caBundleRef` reads the CA from a labelled
//! ConfigMap or Secret, and a rotation there is trusted without touching
//! the ProviderConfig.

use std::time::Duration;

use coffer::api::ProviderConfig;
use coffer::emulator::ServedCertificate;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{Patch, PatchParams, PostParams};
use serde_json::{Value, json};

use super::tls::{ca, config_when, https, huawei_over_https};
use super::{Running, condition, is_ready};

/// A CA the emulator's certificates do not chain to.
fn another_ca() -> String {
    coffer::emulator::tls::Certificates::generate(ServedCertificate::Valid)
        .expect("another CA")
        .ca_pem()
        .to_string()
}

/// Waits until BackupVault `name` shows `Synced=False` with `reason`, and
/// returns the message.
async fn vault_not_synced(run: &Running, name: &str, reason: &str) -> String {
    let bv = run
        .vault_when(name, &format!("{name} Synced=False {reason}"), |bv| {
            condition(bv, "Synced").is_some_and(|(s, r, _)| s == "False" && r == reason)
        })
        .await;
    condition(&bv, "Synced").expect("Synced").2
}

async fn merge_config(run: &Running, name: &str, patch: Value) {
    run.api::<ProviderConfig>()
        .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("patching the ProviderConfig");
}

#[tokio::test]
async fn tls_an_untrusted_certificate_names_the_host_and_ca_bundle_and_is_not_retried() {
    // The drift check far away, so that any retry seen is one coffer chose.
    let run = Running::start_bare_with("tls-untrusted", |s| {
        s.resync_interval = Duration::from_secs(3600);
    })
    .await;
    huawei_over_https(&run, "cloud", json!({})).await;
    let message = config_when(&run, "cloud", "False", "CertificateUntrusted").await;
    assert!(message.contains("127.0.0.1"), "{message}");
    assert!(message.contains("set caBundle"), "{message}");
    run.create_vault("waits", json!({})).await;
    let synced = vault_not_synced(&run, "waits", "CertificateUntrusted").await;
    assert!(synced.contains("set caBundle"), "{synced}");

    // Terminal: nothing knocks again while nothing changes.
    let settled = run.emulator.tls_handshake_failures();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let later = run.emulator.tls_handshake_failures();
    assert!(
        later <= settled + 1,
        "{settled} → {later} handshakes: a retry storm"
    );

    // Another CA is no better; the right one heals the config and its users.
    merge_config(
        &run,
        "cloud",
        json!({"spec": {"huaweiCloud": {"caBundle": another_ca()}}}),
    )
    .await;
    config_when(&run, "cloud", "False", "CertificateUntrusted").await;
    merge_config(
        &run,
        "cloud",
        json!({"spec": {"huaweiCloud": {"caBundle": ca(&run)}}}),
    )
    .await;
    config_when(&run, "cloud", "True", "CredentialsValid").await;
    run.vault_when("waits", "the vault Ready once the CA is trusted", is_ready)
        .await;
}

#[tokio::test]
async fn tls_a_ca_bundle_without_a_certificate_is_refused_before_any_call() {
    let run = Running::start_bare("tls-garbage").await;
    huawei_over_https(
        &run,
        "cloud",
        json!({"caBundle": "this is not a certificate"}),
    )
    .await;
    let message = config_when(&run, "cloud", "False", "CaBundleInvalid").await;
    assert!(message.contains("BEGIN CERTIFICATE"), "{message}");
    run.create_vault("waits", json!({})).await;
    vault_not_synced(&run, "waits", "CaBundleInvalid").await;
    assert_eq!(
        run.emulator.tls_handshake_failures(),
        0,
        "a connection was tried"
    );
    assert!(run.emulator.requests(None).is_empty(), "a call was made");
}

#[tokio::test]
async fn tls_a_certificate_for_another_name_is_a_hostname_mismatch() {
    let run = Running::start_bare("tls-name").await;
    run.emulator.serve_certificate(ServedCertificate::WrongName);
    huawei_over_https(&run, "cloud", json!({"caBundle": ca(&run)})).await;
    let message = config_when(&run, "cloud", "False", "CertificateHostnameMismatch").await;
    assert!(message.contains("does not name 127.0.0.1"), "{message}");
}

#[tokio::test]
async fn tls_an_expired_certificate_is_named_expired() {
    let run = Running::start_bare("tls-expired").await;
    run.emulator.serve_certificate(ServedCertificate::Expired);
    huawei_over_https(&run, "cloud", json!({"caBundle": ca(&run)})).await;
    let message = config_when(&run, "cloud", "False", "CertificateExpired").await;
    assert!(message.contains("renewed"), "{message}");
}

/// A labelled ConfigMap `trust` holding `pem` under `ca.crt`.
fn trust_config_map(pem: &str) -> ConfigMap {
    serde_json::from_value(json!({
        "metadata": {"name": "trust", "labels": {"coffer.dev/credentials": "true"}},
        "data": {"ca.crt": pem},
    }))
    .expect("config map")
}

#[tokio::test]
async fn tls_a_ca_rotated_in_a_config_map_is_trusted_without_editing_the_config() {
    let run = Running::start_bare_with("tls-ref-cm", |s| {
        s.resync_interval = Duration::from_secs(3600);
    })
    .await;
    let config_maps = run.api::<ConfigMap>();
    config_maps
        .create(&PostParams::default(), &trust_config_map(&another_ca()))
        .await
        .expect("creating the ConfigMap");
    let reference = json!({"caBundleRef": {"kind": "ConfigMap", "name": "trust", "key": "ca.crt"}});
    huawei_over_https(&run, "cloud", reference).await;
    config_when(&run, "cloud", "False", "CertificateUntrusted").await;
    run.create_vault("waits", json!({})).await;
    vault_not_synced(&run, "waits", "CertificateUntrusted").await;

    // What trust-manager does when the CA rotates: the ConfigMap changes.
    let patch = json!({"data": {"ca.crt": ca(&run)}});
    config_maps
        .patch("trust", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("rotating the CA");
    config_when(&run, "cloud", "True", "CredentialsValid").await;
    run.vault_when("waits", "the vault Ready with the rotated CA", is_ready)
        .await;
}

#[tokio::test]
async fn tls_a_ca_in_a_secret_key_is_trusted_and_a_missing_key_is_named() {
    let run = Running::start_bare("tls-ref-secret").await;
    run.create_secret("issuer-ca", &[("tls.crt", "unused")])
        .await;
    let reference =
        json!({"caBundleRef": {"kind": "Secret", "name": "issuer-ca", "key": "ca.crt"}});
    huawei_over_https(&run, "cloud", reference).await;
    let message = config_when(&run, "cloud", "False", "CaBundleKeyMissing").await;
    assert!(message.contains("\"ca.crt\""), "{message}");

    // What cert-manager does when it writes the CA into its Secret.
    let patch = json!({"stringData": {"ca.crt": ca(&run)}});
    run.api::<Secret>()
        .patch("issuer-ca", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("adding the CA");
    config_when(&run, "cloud", "True", "CredentialsValid").await;
}

#[tokio::test]
async fn tls_ca_bundle_and_ca_bundle_ref_together_are_refused() {
    let run = Running::start_bare("tls-both").await;
    let pc: ProviderConfig = serde_json::from_value(json!({
        "apiVersion": "coffer.dev/v1alpha1", "kind": "ProviderConfig",
        "metadata": {"name": "both"},
        "spec": {"commvault": {
            "apiUrl": format!("{}/commandcenter/api", https(&run)),
            "credentials": {"secretRef": {"name": "creds"}},
            "caBundle": ca(&run),
            "caBundleRef": {"kind": "ConfigMap", "name": "trust", "key": "ca.crt"},
        }},
    }))
    .expect("provider config");
    let refused = run
        .api::<ProviderConfig>()
        .create(&PostParams::default(), &pc)
        .await
        .expect_err("refused");
    assert!(
        refused
            .to_string()
            .contains("set caBundle or caBundleRef, not both"),
        "{refused}"
    );
}
