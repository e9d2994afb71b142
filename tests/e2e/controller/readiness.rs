//! `/readyz` answers 200 only once every cache is filled, the managed
//! kinds' too. A replica that said ready sooner would, restarted, claim
//! objects it has not seen; standing by, it would let a rolling update stop
//! the leader for a standby that must list everything again.
//!
//! The operator runs as a ServiceAccount that may do all coffer does in the
//! namespace but list and watch BackupVaults: its other caches fill, the
//! BackupVaults' cannot, until the test grants that too.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use coffer::controlplane::process::{Supervised, free_port};

use super::Running;
use super::plugin::kubeconfig_as;
use crate::support::env;
use crate::support::output_text;

/// What coffer's chart grants in a watched namespace (`coffer.rules`),
/// with BackupVaults' verbs as the test gives them.
fn role(ns: &str, vault_verbs: &str) -> String {
    format!(
        r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {{name: coffer-half-blind, namespace: {ns}}}
rules:
  - apiGroups: [coffer.dev]
    resources: [backupvaults]
    verbs: [{vault_verbs}]
  - apiGroups: [coffer.dev]
    resources: [providerconfigs, agencies, backupshares]
    verbs: [get, list, watch, patch, update]
  - apiGroups: [coffer.dev]
    resources: [backupvaults/status, providerconfigs/status, agencies/status, backupshares/status]
    verbs: [get, patch, update]
  - apiGroups: [""]
    resources: [secrets]
    verbs: [get, list, watch, create, patch]
  - apiGroups: [""]
    resources: [configmaps]
    verbs: [get, list, watch, patch]
  - apiGroups: [""]
    resources: [events]
    verbs: [create, patch]
"#
    )
}

fn apply(yaml: &str) {
    let applied = env().kubectl(&["apply", "-f", "-"], Some(yaml));
    assert!(applied.status.success(), "{}", output_text(&applied));
}

/// A kubeconfig like the admin's, signed in as ServiceAccount
/// `half-blind` of `ns`, bound to [`role`].
fn half_blind_kubeconfig(ns: &str, dir: &Path) -> PathBuf {
    apply(&format!(
        r#"
apiVersion: v1
kind: ServiceAccount
metadata: {{name: half-blind, namespace: {ns}}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {{name: coffer-half-blind, namespace: {ns}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: coffer-half-blind}}
subjects: [{{kind: ServiceAccount, name: half-blind, namespace: {ns}}}]
"#
    ));
    apply(&role(ns, "get, patch, update"));
    kubeconfig_as(ns, "half-blind", dir)
}

/// The log's last lines: the temporary directory holding it is gone by
/// the time anyone reads a failure.
fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

async fn status_of(http: &reqwest::Client, url: &str) -> Option<u16> {
    let answer = http.get(url).send().await.ok()?;
    Some(answer.status().as_u16())
}

/// Waits until `url` answers 200, failing with `never` and the log's tail
/// past `within`.
async fn until_ok(http: &reqwest::Client, url: &str, within: Duration, never: &str, log: &Path) {
    let since = Instant::now();
    while status_of(http, url).await != Some(200) {
        assert!(since.elapsed() < within, "{never}; log:\n{}", tail(log));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn ready_waits_for_every_kinds_cache() {
    let run = Running::start_bare("ready-wait").await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let kubeconfig = half_blind_kubeconfig(&run.ns, dir.path());
    let port = free_port().expect("a free port");
    let log = dir.path().join("coffer.log");
    let mut operator = Supervised::spawn_with_env(
        "coffer run",
        Path::new(env!("CARGO_BIN_EXE_coffer")),
        &[
            "run".into(),
            format!("--metrics-addr=127.0.0.1:{port}"),
            format!("--watch-namespace={}", run.ns),
            run.allowed_endpoints_flag(),
            "--leader-election=false".into(),
            "--cluster-provider-configs=false".into(),
            "--log-format=text".into(),
        ],
        // Its own namespace is the test's: it is watched too.
        &[
            ("KUBECONFIG", kubeconfig.as_os_str()),
            ("POD_NAMESPACE", run.ns.as_ref()),
        ],
        &log,
    )
    .expect("starting coffer run");
    let http = reqwest::Client::new();
    let (healthz, readyz) = (
        format!("http://127.0.0.1:{port}/healthz"),
        format!("http://127.0.0.1:{port}/readyz"),
    );

    // Up, with every cache but the BackupVaults' filled, and not ready:
    // for long enough that the other caches (a moment) are surely in.
    let never_up = "coffer run never answered /healthz";
    until_ok(&http, &healthz, Duration::from_secs(30), never_up, &log).await;
    let watched = Instant::now();
    while watched.elapsed() < Duration::from_secs(5) {
        assert_eq!(
            status_of(&http, &readyz).await,
            Some(503),
            "ready while the BackupVaults' cache cannot fill; log:\n{}",
            tail(&log)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(operator.exited().is_none(), "coffer run exited");

    // Allowed to list and watch them, it fills that cache and is ready.
    apply(&role(&run.ns, "get, list, watch, patch, update"));
    let never_ready = "never ready once BackupVaults could be listed";
    until_ok(&http, &readyz, Duration::from_secs(90), never_ready, &log).await;
}
