//! The shared TLS client against the emulator's HTTPS listener: each
//! certificate the emulator can serve, and each CA bundle a user can write,
//! read back as the failure a user must see.

use super::*;
use crate::emulator::{self, EmulatorConfig, RunningEmulator, ServedCertificate, TlsConfig};

async fn emulator() -> RunningEmulator {
    emulator::start(EmulatorConfig {
        tls: Some(TlsConfig::loopback()),
        ..EmulatorConfig::default()
    })
    .await
    .expect("the emulator starts with HTTPS")
}

/// One GET of the admin API over HTTPS with `ca_bundle`.
async fn get(emulator: &RunningEmulator, ca_bundle: Option<&str>) -> Result<(), ProviderError> {
    let url = format!(
        "{}/_emulator/counters",
        emulator.https_url().expect("https")
    );
    let client = http_client(ca_bundle)?;
    let response = client.get(url).send().await.map_err(|e| {
        classify(&e).unwrap_or(ProviderError::Transient {
            message: format!("{e:?}"),
        })
    })?;
    assert!(response.status().is_success(), "{}", response.status());
    Ok(())
}

fn problem(result: Result<(), ProviderError>) -> (TlsProblem, String) {
    match result {
        Err(ProviderError::Tls(failure)) => (failure.problem, failure.to_string()),
        other => panic!("expected a TLS failure, got {other:?}"),
    }
}

#[tokio::test]
async fn the_emulators_ca_in_the_bundle_is_trusted() {
    let emulator = emulator().await;
    get(&emulator, emulator.ca_pem()).await.expect("trusted");
}

#[tokio::test]
async fn without_the_ca_the_certificate_is_untrusted_and_the_message_names_the_host() {
    let emulator = emulator().await;
    let (problem, message) = problem(get(&emulator, None).await);
    assert_eq!(problem, TlsProblem::Untrusted);
    assert!(message.contains("127.0.0.1"), "{message}");
    assert!(message.contains("set caBundle"), "{message}");
}

#[tokio::test]
async fn another_ca_is_untrusted_too() {
    let emulator = emulator().await;
    let other =
        crate::emulator::tls::Certificates::generate(ServedCertificate::Valid).expect("another CA");
    let (problem, _) = problem(get(&emulator, Some(other.ca_pem())).await);
    assert_eq!(problem, TlsProblem::Untrusted);
}

#[tokio::test]
async fn a_certificate_for_another_name_is_a_hostname_mismatch() {
    let emulator = emulator().await;
    emulator.serve_certificate(ServedCertificate::WrongName);
    let (problem, message) = problem(get(&emulator, emulator.ca_pem()).await);
    assert_eq!(problem, TlsProblem::HostnameMismatch);
    assert_eq!(
        ProviderError::Tls(TlsFailure {
            problem,
            host: String::new(),
            detail: String::new()
        })
        .reason(),
        "CertificateHostnameMismatch"
    );
    assert!(message.contains("does not name 127.0.0.1"), "{message}");
}

#[tokio::test]
async fn an_expired_certificate_is_named_expired() {
    let emulator = emulator().await;
    emulator.serve_certificate(ServedCertificate::Expired);
    let (problem, message) = problem(get(&emulator, emulator.ca_pem()).await);
    assert_eq!(problem, TlsProblem::Expired);
    assert!(message.contains("renewed"), "{message}");
}

#[test]
fn a_bundle_without_a_certificate_is_refused_before_any_call() {
    let garbage_in_markers =
        "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";
    for bundle in ["", "not a pem", garbage_in_markers] {
        let error = http_client(Some(bundle)).expect_err(bundle);
        assert_eq!(error.reason(), "CaBundleInvalid", "{bundle:?}: {error}");
        assert!(!error.is_retryable());
        assert!(error.to_string().contains("BEGIN CERTIFICATE"), "{error}");
    }
}

#[test]
fn a_tls_failure_is_terminal() {
    let failure = ProviderError::Tls(TlsFailure {
        problem: TlsProblem::Untrusted,
        host: "cc.example.com".into(),
        detail: "invalid peer certificate: UnknownIssuer".into(),
    });
    assert!(!failure.is_retryable());
    assert!(!failure.leaves_doubt());
    assert_eq!(failure.reason(), "CertificateUntrusted");
    assert_eq!(failure.metric_label(), "tls");
}

#[test]
fn every_tls_reason_is_in_the_set_metrics_label_by() {
    for problem in TlsProblem::ALL {
        assert!(
            TlsProblem::REASONS.contains(&problem.reason()),
            "{} would be counted as Other",
            problem.reason()
        );
    }
}
