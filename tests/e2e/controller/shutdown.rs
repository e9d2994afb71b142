//! `coffer run` itself, as a process: SIGTERM lets a running create finish
//! and record its id before the process gives its Lease up and exits.

use std::time::{Duration, Instant};

use coffer::api::BackupVault;
use coffer::controlplane::process::{Supervised, free_port};
use coffer::emulator::{FaultConfig, Operation};
use k8s_openapi::api::coordination::v1::Lease;
use kube::ResourceExt;
use serde_json::json;

use super::{Running, eventually};
use crate::support::env;

/// How long the emulator takes to answer each call.
const LATENCY: Duration = Duration::from_millis(2000);

#[tokio::test]
async fn sigterm_lets_a_running_create_record_its_id_before_the_lease_is_released() {
    // The cloud and the namespace, but no controllers in this process.
    let run =
        Running::start_instead("shutdown", |_| {}, |_, _, _| futures::future::pending()).await;
    let dir = tempfile::tempdir().expect("a log directory");
    let log = dir.path().join("operator.log");
    let port = free_port().expect("a free port");
    let mut operator = Supervised::spawn_with_env(
        "coffer run",
        std::path::Path::new(env!("CARGO_BIN_EXE_coffer")),
        &[
            "run".into(),
            format!("--metrics-addr=127.0.0.1:{port}"),
            format!("--watch-namespace={}", run.ns),
            "--leader-election".into(),
            format!("--leader-election-namespace={}", run.ns),
            "--shutdown-grace=20s".into(),
            run.allowed_endpoints_flag(),
        ],
        &[
            ("KUBECONFIG", env().kubeconfig.as_os_str()),
            ("POD_NAME", "coffer-under-test".as_ref()),
        ],
        &log,
    )
    .expect("starting coffer run");
    // A failed read is a failure, not a Lease given up.
    let lease = || async {
        run.api::<Lease>()
            .get_opt("coffer-leader")
            .await
            .expect("reading the Lease")
            .and_then(|l| l.spec)
            .and_then(|s| s.holder_identity)
    };
    eventually("coffer run holds the lease", || async {
        (lease().await.as_deref() == Some("coffer-under-test")).then_some(())
    })
    .await;

    run.emulator
        .set_faults(FaultConfig {
            latency_ms: LATENCY.as_millis() as u64,
            ..FaultConfig::default()
        })
        .expect("latency");
    run.create_vault("team-a", json!({})).await;
    run.vault_when("team-a", "the finalizer, before the create pass", |bv| {
        !bv.finalizers().is_empty()
    })
    .await;
    // The create pass lists by name (one latency), then creates (another):
    // the signal goes while the emulator holds the create, and the record
    // below confirms it.
    eventually("the create in flight", || async {
        let held = run.emulator.in_flight();
        held.iter()
            .any(|r| r.starts_with("POST ") && r.ends_with("/vaults"))
            .then_some(())
    })
    .await;
    let signalled = jiff::Timestamp::now();
    // SAFETY: a signal to our own child.
    unsafe {
        libc::kill(operator.id() as libc::pid_t, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = operator.exited() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "coffer run did not stop; log: {}",
            log.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        status.success(),
        "coffer run exited with {status}; log: {}",
        log.display()
    );

    assert_eq!(
        run.vault_count(),
        1,
        "the create was not made, or made twice"
    );
    let creates = run.emulator.requests(Some(Operation::CreateVault));
    assert!(
        creates
            .iter()
            .any(|c| c.received_at < signalled && c.answered_at > signalled),
        "the SIGTERM did not come while a create was in flight (sent at {signalled}): {:?}",
        creates
            .iter()
            .map(|c| (c.received_at, c.answered_at))
            .collect::<Vec<_>>()
    );
    let bv = run
        .api::<BackupVault>()
        .get("team-a")
        .await
        .expect("the vault");
    let recorded = bv.status.as_ref().and_then(|s| s.external_id.clone());
    let vaults = run.emulator.vaults();
    let made = vaults["vaults"][0]["id"].as_str().map(str::to_owned);
    assert!(made.is_some(), "{vaults:#}");
    assert_eq!(
        recorded, made,
        "the id of the vault made was not recorded before exit"
    );
    assert_eq!(lease().await, None, "the lease was not given up");
}
