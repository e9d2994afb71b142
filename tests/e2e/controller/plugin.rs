//! `kubectl coffer`, run by the real kubectl through its plugin discovery
//! (a `kubectl-coffer` link to the coffer binary on `PATH`), against
//! objects coffer reconciled: its table and JSON checked field by field
//! against the objects, its exit codes, and a user with read-only RBAC.

use std::path::{Path, PathBuf};
use std::process::Output;

use coffer::api::BackupVault;
use kube::api::{Patch, PatchParams};
use serde_json::{Value, json};

use super::{Running, condition, is_ready};
use crate::support::{env, output_text};

/// A folder holding `kubectl-coffer`, a link to the coffer binary.
pub(super) fn plugin_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a folder");
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_coffer"),
        dir.path().join("kubectl-coffer"),
    )
    .expect("linking kubectl-coffer");
    dir
}

/// `kubectl coffer ARGS` with `kubeconfig`, finding the plugin in `dir`.
/// Awaited, not blocking: the test's own controllers run on this thread and
/// must answer `reconcile` meanwhile.
pub(super) async fn kubectl_coffer(dir: &Path, kubeconfig: &Path, args: &[&str]) -> Output {
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    tokio::process::Command::new(&env().binaries.kubectl)
        .arg("coffer")
        .args(args)
        .env("PATH", path)
        .env("KUBECONFIG", kubeconfig)
        .output()
        .await
        .expect("running kubectl coffer")
}

pub(super) fn json_of(out: &Output) -> Value {
    assert!(out.status.success(), "{}", output_text(out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", output_text(out)))
}

/// A kubeconfig like the admin's, signed in as ServiceAccount `viewer` of
/// `ns`, which may only get, list and watch coffer's kinds and Events there
/// (what kubectl's own `view` role allows of them: no Secrets).
pub(super) fn viewer_kubeconfig(run: &Running, dir: &Path) -> PathBuf {
    let ns = run.ns.as_str();
    let rbac = format!(
        r#"
apiVersion: v1
kind: ServiceAccount
metadata: {{name: viewer, namespace: {ns}}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {{name: coffer-viewer, namespace: {ns}}}
rules:
  - apiGroups: [coffer.dev]
    resources: [backupvaults, backupshares, agencies, providerconfigs]
    verbs: [get, list, watch]
  - apiGroups: [""]
    resources: [events]
    verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {{name: coffer-viewer, namespace: {ns}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: coffer-viewer}}
subjects: [{{kind: ServiceAccount, name: viewer, namespace: {ns}}}]
"#
    );
    let applied = env().kubectl(&["apply", "-f", "-"], Some(&rbac));
    assert!(applied.status.success(), "{}", output_text(&applied));
    kubeconfig_as(ns, "viewer", dir)
}

/// A kubeconfig in `dir` like the admin's, signed in with a token of
/// ServiceAccount `account` of `ns`.
pub(super) fn kubeconfig_as(ns: &str, account: &str, dir: &Path) -> PathBuf {
    let token = env().kubectl(&["create", "token", account, "-n", ns], None);
    assert!(token.status.success(), "{}", output_text(&token));
    let token = String::from_utf8_lossy(&token.stdout).trim().to_string();
    let admin = std::fs::read_to_string(&env().kubeconfig).expect("the kubeconfig");
    let mut config: serde_yaml::Value = serde_yaml::from_str(&admin).expect("yaml");
    for user in config["users"].as_sequence_mut().expect("users") {
        user["user"] = serde_yaml::to_value(json!({"token": token})).expect("yaml");
    }
    let path = dir.join(format!("{account}.kubeconfig"));
    std::fs::write(&path, serde_yaml::to_string(&config).expect("yaml")).expect("writing");
    path
}

#[tokio::test]
async fn kubectl_coffer_shows_the_fleet_plans_drift_and_reconciles_on_demand() {
    let run = Running::start("plugin").await;
    run.ready_vault("good", json!({})).await;
    // Broken: its ProviderConfig does not exist.
    run.create_vault("orphaned", json!({})).await;
    run.api::<BackupVault>()
        .patch(
            "orphaned",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"providerConfigRef": {"name": "nowhere"}}})),
        )
        .await
        .expect("patch");
    // Observed only, with a spec that differs: a plan and a drifted field.
    run.ready_vault("watched", json!({})).await;
    run.api::<BackupVault>()
        .patch(
            "watched",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"managementPolicy": "ObserveOnly",
                "huaweiCloud": {"billing": {"size": 200}}}})),
        )
        .await
        .expect("patch");
    run.vault_when("orphaned", "ProviderConfigNotFound", |bv| {
        condition(bv, "Synced")
            .is_some_and(|(s, r, _)| s == "False" && r == "ProviderConfigNotFound")
    })
    .await;
    run.vault_when("watched", "drift shown", |bv| {
        bv.status
            .as_ref()
            .is_some_and(|s| !s.drift.is_empty() && !s.plan.is_empty())
    })
    .await;

    let dir = plugin_dir();
    let admin = env().kubeconfig.clone();
    let ns = run.ns.as_str();

    // status, as JSON: field by field against the objects.
    let shown =
        json_of(&kubectl_coffer(dir.path(), &admin, &["status", "-n", ns, "-o", "json"]).await);
    let items = shown["items"].as_array().expect("items");
    let vaults = run
        .api::<BackupVault>()
        .list(&Default::default())
        .await
        .expect("list");
    assert_eq!(
        items.iter().filter(|i| i["kind"] == "BackupVault").count(),
        vaults.items.len()
    );
    for bv in &vaults.items {
        let name = bv.metadata.name.as_deref().expect("a name");
        let item = items
            .iter()
            .find(|i| i["kind"] == "BackupVault" && i["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing: {shown:#}"));
        let (ready, _, _) = condition(bv, "Ready").expect("Ready");
        let (synced, _, _) = condition(bv, "Synced").expect("Synced");
        assert_eq!(item["ready"], ready.as_str(), "{name}");
        assert_eq!(item["synced"], synced.as_str(), "{name}");
        assert_eq!(item["namespace"], ns);
        assert_eq!(
            item["provider"],
            bv.spec.provider_config_ref.name.as_str(),
            "{name}"
        );
    }
    let first = &items[0];
    assert_eq!(
        (
            first["name"].as_str(),
            first["state"].as_str(),
            first["reason"].as_str()
        ),
        (
            Some("orphaned"),
            Some("failing"),
            Some("ProviderConfigNotFound")
        ),
        "failing first: {shown:#}"
    );
    assert_eq!(
        shown["summary"]["failingByReason"]["ProviderConfigNotFound"],
        1
    );

    // The table, piped: every name, no colour, the summary line.
    let table = kubectl_coffer(dir.path(), &admin, &["status", "-n", ns]).await;
    let text = output_text(&table);
    assert!(table.status.success(), "{text}");
    assert!(text.starts_with("KIND"), "{text}");
    for name in ["good", "orphaned", "watched", "cloud"] {
        assert!(text.contains(name), "{name} missing: {text}");
    }
    assert!(!text.contains('\x1b'), "colour in a pipe: {text:?}");
    assert!(text.contains("failing: 1 ProviderConfigNotFound"), "{text}");

    // plan and drift, with and without --exit-code.
    let plan = kubectl_coffer(dir.path(), &admin, &["plan", "-n", ns, "--exit-code"]).await;
    assert_eq!(plan.status.code(), Some(1), "{}", output_text(&plan));
    assert!(
        output_text(&plan).contains("watched"),
        "{}",
        output_text(&plan)
    );
    let drift =
        json_of(&kubectl_coffer(dir.path(), &admin, &["drift", "-n", ns, "-o", "json"]).await);
    let watched = run.api::<BackupVault>().get("watched").await.expect("get");
    let recorded = &watched.status.as_ref().expect("status").drift;
    assert_eq!(
        drift.as_array().map(Vec::len),
        Some(recorded.len()),
        "{drift:#}"
    );
    assert!(
        drift[0]["text"]
            .as_str()
            .is_some_and(|t| t.starts_with(&recorded[0].field))
    );
    let other = env().namespace("plugin-empty").await;
    let none = kubectl_coffer(dir.path(), &admin, &["drift", "-n", &other, "--exit-code"]).await;
    assert_eq!(none.status.code(), Some(0), "{}", output_text(&none));

    // reconcile: set, answered, printed.
    let done = kubectl_coffer(dir.path(), &admin, &["reconcile", "bv/good", "-n", ns]).await;
    assert!(done.status.success(), "{}", output_text(&done));
    assert!(
        output_text(&done).contains("Ready=True"),
        "{}",
        output_text(&done)
    );
    let good = run.api::<BackupVault>().get("good").await.expect("get");
    let asked = good
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get("coffer.dev/reconcile-requested-at"))
        .cloned();
    assert!(asked.is_some());
    assert_eq!(
        good.status
            .as_ref()
            .and_then(|s| s.last_handled_reconcile_at.clone()),
        asked
    );
    assert!(is_ready(&good));

    // A read-only user: every read command works, reconcile is refused
    // with what it needs.
    let viewer = viewer_kubeconfig(&run, dir.path());
    for args in [
        &["status", "-n", ns][..],
        &["plan", "-n", ns],
        &["drift", "-n", ns],
        &["trace", "bv/good", "-n", ns],
    ] {
        let out = kubectl_coffer(dir.path(), &viewer, args).await;
        assert!(out.status.success(), "{args:?}: {}", output_text(&out));
    }
    // Its trace: all but the Secret, which it may not read, and says so.
    let traced = json_of(
        &kubectl_coffer(
            dir.path(),
            &viewer,
            &["trace", "bv/good", "-n", ns, "-o", "json"],
        )
        .await,
    );
    let config = &traced["children"][0];
    assert_eq!(
        (&config["name"], &config["presence"]),
        (&json!("cloud"), &json!("found")),
        "{traced:#}"
    );
    let secret = &config["children"][0];
    assert_eq!(
        (&secret["role"], &secret["presence"]),
        (&json!("credentials"), &json!("forbidden")),
        "{traced:#}"
    );
    assert!(secret.get("keys").is_none(), "{traced:#}");
    let events = traced["children"]
        .as_array()
        .and_then(|c| c.last())
        .expect("an Events node");
    assert_eq!(
        (&events["role"], &events["presence"]),
        (&json!("events"), &json!("notApplicable")),
        "the viewer may list Events: {traced:#}"
    );
    let refused = kubectl_coffer(dir.path(), &viewer, &["reconcile", "bv/good", "-n", ns]).await;
    assert_eq!(refused.status.code(), Some(2), "{}", output_text(&refused));
    assert!(
        output_text(&refused).contains("needs `patch` on backupvaults"),
        "{}",
        output_text(&refused)
    );

    // No credential in any output.
    let c = run.emulator.config();
    for out in [&table, &plan, &done, &refused] {
        let text = output_text(out);
        for secret in [&c.access_key, &c.secret_key] {
            assert!(!text.contains(secret.as_str()), "a credential in: {text}");
        }
    }
}
