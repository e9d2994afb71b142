//! `argocd/health.lua` through Argo CD's own health code (util/lua and
//! gitops-engine at the release `scripts/install-tools.sh` pins, built as
//! `tools/argocd-health`), installed as `argocd-cm` installs it (no open
//! libraries), against every case of every `argocd/**/health_test.yaml`
//! (upstream's format). What the application controller would show, not a
//! Lua of our own choosing.

use std::path::{Path, PathBuf};

use coffer::controlplane::argocd::evaluate;

#[derive(serde::Deserialize)]
struct Cases {
    tests: Vec<Case>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Case {
    health_status: Expected,
    input_path: String,
}

#[derive(serde::Deserialize, Debug, PartialEq)]
struct Expected {
    status: String,
    message: String,
}

/// Every `health_test.yaml` under `dir`, sorted.
fn case_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            found.extend(case_files(&path));
        } else if path.file_name().is_some_and(|n| n == "health_test.yaml") {
            found.push(path);
        }
    }
    found.sort();
    found
}

#[test]
fn argo_cd_gives_the_expected_status_for_every_case() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("argocd");
    let script = root.join("health.lua");
    let files = case_files(&root);
    assert!(!files.is_empty(), "no health_test.yaml under argocd/");
    let mut checked = 0;
    for file in files {
        let dir = file.parent().expect("a folder");
        let cases: Cases =
            serde_yaml::from_str(&std::fs::read_to_string(&file).expect("cases")).expect("yaml");
        let objects: Vec<serde_json::Value> = cases
            .tests
            .iter()
            .map(|case| {
                let text = std::fs::read_to_string(dir.join(&case.input_path))
                    .unwrap_or_else(|e| panic!("{}: {e}", case.input_path));
                serde_yaml::from_str(&text).expect("yaml")
            })
            .collect();
        let verdicts = evaluate(&script, &objects).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            verdicts.len(),
            cases.tests.len(),
            "{}: one verdict per case",
            file.display()
        );
        for (case, verdict) in cases.tests.iter().zip(verdicts) {
            assert_eq!(verdict.error, None, "{}", case.input_path);
            let shown = Expected {
                status: verdict.status,
                message: verdict.message,
            };
            assert_eq!(shown, case.health_status, "{}", case.input_path);
            checked += 1;
        }
    }
    assert!(checked > 0);
}

/// Argo CD decides about an object being deleted before any script runs;
/// the script's own `Deleting` reading applies only without the timestamp.
#[test]
fn argo_cd_shows_an_object_being_deleted_as_pending_deletion() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("argocd/health.lua");
    let object = serde_json::json!({
        "apiVersion": "coffer.dev/v1alpha1", "kind": "BackupVault",
        "metadata": {"name": "v", "generation": 1, "deletionTimestamp": "2026-01-01T00:00:00Z",
                     "finalizers": ["coffer.dev/finalizer"]},
        "status": {"observedGeneration": 1, "conditions": [
            {"type": "Ready", "status": "False", "reason": "Deleting", "message": "waiting"}]},
    });
    let verdicts = evaluate(&script, &[object]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(verdicts[0].status, "Progressing");
    assert_eq!(verdicts[0].message, "Pending deletion");
}
