//! `coffer run` as a process against the Rackspace emulator: killed between
//! the encryption POST and recording its request id, the next process finds
//! the request instead of posting a second one; and the passphrase never
//! reaches a log line, even at debug level.

use std::path::Path;
use std::time::{Duration, Instant};

use coffer::api::BackupVault;
use coffer::controlplane::process::{Supervised, free_port};
use serde_json::json;

use super::rackspace::{
    AGENT, create_agent_vault, encrypted, encryption_requests, observation, rackspace_objects,
    set_passphrase, shown,
};
use super::{RESYNC, Running, eventually};
use crate::support::env;

/// `coffer run` for the test's namespace, logging at debug level to `log`.
fn operator(run: &Running, log: &Path) -> Supervised {
    let port = free_port().expect("a free port");
    Supervised::spawn_with_env(
        "coffer run",
        Path::new(env!("CARGO_BIN_EXE_coffer")),
        &[
            "run".into(),
            format!("--metrics-addr=127.0.0.1:{port}"),
            format!("--watch-namespace={}", run.ns),
            "--resync-interval=1s".into(),
            "--log-format=text".into(),
            run.allowed_endpoints_flag(),
        ],
        &[
            ("KUBECONFIG", env().kubeconfig.as_os_str()),
            ("RUST_LOG", "coffer=debug,info".as_ref()),
        ],
        log,
    )
    .expect("starting coffer run")
}

fn requests_at_agent(run: &Running) -> usize {
    run.emulator.rackspace_agents()["agents"]
        .as_array()
        .and_then(|agents| agents.iter().find(|a| a["id"] == AGENT))
        .and_then(|a| a["requests"].as_array().map(Vec::len))
        .unwrap_or(0)
}

fn assert_not_logged(log: &Path, secrets: &[&str]) {
    let text = std::fs::read_to_string(log).expect("the operator's log");
    assert!(!text.is_empty(), "the operator logged nothing");
    for secret in secrets {
        assert!(
            !text.contains(secret),
            "{secret:?} logged in {}",
            log.display()
        );
    }
}

#[tokio::test]
async fn killed_between_the_post_and_its_record_no_second_request_is_made() {
    let run =
        Running::start_instead("rax-kill", |_| {}, |_, _, _| futures::future::pending()).await;
    let dir = tempfile::tempdir().expect("a log directory");
    run.emulator
        .set_rackspace_answer_delay(Duration::from_secs(30));
    rackspace_objects(&run, "crash passphrase").await;
    create_agent_vault(&run, "vault", json!({})).await;

    let first_log = dir.path().join("first.log");
    let mut first = operator(&run, &first_log);
    eventually("the request made at the agent", || async {
        (requests_at_agent(&run) == 1).then_some(())
    })
    .await;
    // SAFETY: a signal to our own child.
    unsafe {
        libc::kill(first.id() as libc::pid_t, libc::SIGKILL);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while first.exited().is_none() {
        assert!(Instant::now() < deadline, "coffer run survived SIGKILL");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let bv = run
        .api::<BackupVault>()
        .get("vault")
        .await
        .expect("the vault");
    let status = bv.status.clone().unwrap_or_default();
    assert!(
        status.call_pending.is_some(),
        "no callPending marker: {status:?}"
    );
    assert!(
        observation(&bv).request.is_none(),
        "the request id was recorded"
    );

    run.emulator.set_rackspace_answer_delay(Duration::ZERO);
    let second_log = dir.path().join("second.log");
    let _second = operator(&run, &second_log);
    let bv = run
        .vault_when("vault", "encrypted after the restart", encrypted)
        .await;
    assert_eq!(bv.status.clone().unwrap_or_default().call_pending, None);
    tokio::time::sleep(RESYNC * 3).await;
    assert_eq!(
        requests_at_agent(&run),
        1,
        "a second request for the same change"
    );
    // The killed request was never answered, so the log has no entry for
    // it; any entry would be a POST by the second process.
    let posted = encryption_requests(&run.emulator);
    assert!(posted.is_empty(), "{posted:#?}");
    assert!(run.has_event("vault", "Recovered").await);
    assert_not_logged(&first_log, &["crash passphrase"]);
    assert_not_logged(&second_log, &["crash passphrase"]);
}

#[tokio::test]
async fn the_passphrase_reaches_no_log_status_or_event() {
    let run =
        Running::start_instead("rax-logs", |_| {}, |_, _, _| futures::future::pending()).await;
    let dir = tempfile::tempdir().expect("a log directory");
    let log = dir.path().join("operator.log");
    let _operator = operator(&run, &log);
    rackspace_objects(&run, "first secret words").await;
    create_agent_vault(&run, "vault", json!({})).await;
    let bv = run.vault_when("vault", "encrypted", encrypted).await;
    let first = observation(&bv).passphrase_fingerprint;
    set_passphrase(&run, "second secret words").await;
    run.vault_when("vault", "changed", |bv| {
        encrypted(bv) && observation(bv).passphrase_fingerprint != first
    })
    .await;
    assert_eq!(encryption_requests(&run.emulator).len(), 2);
    let secrets = ["first secret words", "second secret words"];
    assert_not_logged(&log, &secrets);
    let shown = shown(&run).await;
    for secret in secrets {
        assert!(!shown.contains(secret), "{secret:?} in status or Events");
    }
}
