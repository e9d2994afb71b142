//! Argo CD's own verdict on a live cluster: every example in `examples/`
//! applied as `make demo` applies it (through `examples/emulator`) (endpoints pointed at this test's
//! emulator), brought to Ready by coffer's controllers, then every object
//! of the namespace, as the API server returns it, run through Argo CD's
//! health code (`argocd-health`) with `argocd/health.lua` installed as
//! `argocd-cm` installs it. Each coffer object must show Healthy, and every
//! other kind no health at all (Argo CD has no check for a Secret).

use std::path::Path;
use std::time::Duration;

use coffer::controlplane::argocd::evaluate;
use coffer::provider::huawei::client::Call;
use reqwest::Method;
use serde_json::{Value, json};

use super::backup_share::{is_ready as share_ready, json_of, owner_client, share_when};
use super::{Running, eventually, is_ready};
use crate::support::{env, output_text};

/// Where the examples expect the emulator (`make demo` starts it there).
const DEMO_EMULATOR: &str = "http://127.0.0.1:8780";
const COFFER_KINDS: [&str; 5] = [
    "ProviderConfig",
    "ClusterProviderConfig",
    "BackupVault",
    "Agency",
    "BackupShare",
];
/// The example ClusterProviderConfig's name, cluster-wide, made this
/// test's own so that no other test's coffer or examples meet it.
const SHARED: &str = "shared-huawei";

fn shared_name(run: &Running) -> String {
    format!("{}-{SHARED}", run.ns)
}

/// Every example, as `make demo` applies it (the emulator overlay), with
/// its endpoints on this test's emulator.
fn apply_examples(run: &Running) {
    let overlay = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/emulator");
    let out = env().kubectl(&["kustomize", &overlay.to_string_lossy()], None);
    assert!(
        out.status.success(),
        "kubectl kustomize: {}",
        output_text(&out)
    );
    // The shared config allows the demo's namespace; here, the test's.
    let text = String::from_utf8_lossy(&out.stdout)
        .replace(DEMO_EMULATOR, &run.emulator.base_url())
        .replace(SHARED, &shared_name(run))
        .replace(
            "    names:\n    - default\n",
            &format!("    names:\n    - {}\n", run.ns),
        )
        // Named outright: a config that names none is read from the
        // namespace of every coffer that runs, and every test runs one.
        .replace(
            "  allowedNamespaces:\n",
            &format!("  credentialsNamespace: {}\n  allowedNamespaces:\n", run.ns),
        );
    let out = env().kubectl(&["apply", "-n", &run.ns, "-f", "-"], Some(&text));
    assert!(out.status.success(), "{}", output_text(&out));
}

/// The backup the share examples name: a checkpoint of vault
/// `shared-servers`, as `make demo` makes it.
async fn make_the_shared_backup(run: &Running) {
    let vault = run
        .vault_when("shared-servers", "Ready", is_ready)
        .await
        .status
        .and_then(|s| s.external_id)
        .expect("an id");
    let checkpoint = Call::new("create_checkpoint", Method::POST, "checkpoint")
        .path(&["checkpoints"])
        .json(&json!({"checkpoint": {"vault_id": vault, "parameters": {}}}))
        .expect("body");
    owner_client(run)
        .call(&checkpoint, json_of)
        .await
        .expect("a checkpoint");
}

/// Every object in the namespace, as `kubectl get -o json` gives it.
fn dump(run: &Running) -> Vec<Value> {
    let out = env().kubectl(
        &[
            "get",
            "providerconfigs,backupvaults,agencies,backupshares,secrets",
            "-n",
            &run.ns,
            "-o",
            "json",
        ],
        None,
    );
    assert!(out.status.success(), "{}", output_text(&out));
    let list: Value = serde_json::from_slice(&out.stdout).expect("a List");
    let mut items = list["items"].as_array().cloned().unwrap_or_default();
    // Cluster-scoped: only this test's own.
    let out = env().kubectl(
        &[
            "get",
            "clusterproviderconfig",
            &shared_name(run),
            "-o",
            "json",
        ],
        None,
    );
    assert!(out.status.success(), "{}", output_text(&out));
    items.push(serde_json::from_slice(&out.stdout).expect("a ClusterProviderConfig"));
    items
}

#[tokio::test]
async fn argo_cd_shows_every_object_of_the_examples_healthy() {
    let run = Running::start_bare("argocd-live").await;
    apply_examples(&run);
    make_the_shared_backup(&run).await;
    let names = |kind: &str| -> Vec<String> {
        dump(&run)
            .iter()
            .filter(|o| o["kind"] == kind)
            .filter_map(|o| o["metadata"]["name"].as_str().map(str::to_string))
            .collect()
    };
    for name in names("BackupVault") {
        run.vault_when(&name, "Ready", is_ready).await;
    }
    for name in names("BackupShare") {
        share_when(&run, &name, "Ready", share_ready).await;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("argocd/health.lua");
    // Agencies and ProviderConfigs settle on their own; Argo CD's verdict is
    // what is waited for, so a slow one shows as what Argo CD shows.
    let (objects, verdicts) = eventually("Argo CD shows every coffer object Healthy", || async {
        let objects = dump(&run);
        let verdicts = evaluate(&script, &objects).expect("argocd-health");
        let healthy = objects.iter().zip(&verdicts).all(|(o, v)| {
            !COFFER_KINDS.contains(&o["kind"].as_str().unwrap_or_default()) || v.status == "Healthy"
        });
        if !healthy {
            tokio::time::sleep(Duration::from_millis(400)).await;
        }
        healthy.then_some((objects, verdicts))
    })
    .await;
    let mut shown = Vec::new();
    for (object, verdict) in objects.iter().zip(&verdicts) {
        let kind = object["kind"].as_str().unwrap_or_default();
        let name = object["metadata"]["name"].as_str().unwrap_or_default();
        shown.push(format!(
            "{kind}/{name}: {} {}",
            verdict.status, verdict.message
        ));
        if COFFER_KINDS.contains(&kind) {
            assert_eq!(verdict.error, None, "{kind}/{name}");
        } else {
            assert!(
                verdict
                    .error
                    .as_deref()
                    .is_some_and(|e| e.contains("no health check")),
                "Argo CD shows a health for {kind}/{name}: {verdict:?}"
            );
        }
    }
    for kind in COFFER_KINDS {
        assert!(
            objects.iter().any(|o| o["kind"] == kind),
            "the examples hold no {kind}"
        );
    }
    eprintln!("argocd-live: {}", shown.join("; "));
}
