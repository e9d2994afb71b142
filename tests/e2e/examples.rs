//! The manifests in `examples/` are accepted by the API server with the
//! current CRDs, so they never rot: every YAML file, server-side dry run.

use std::path::{Path, PathBuf};

use crate::support::{env, output_text};

/// Every `.yaml`/`.yml` file under `dir`, sorted.
fn manifests(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
    {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            found.extend(manifests(&path));
        } else if path.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            found.push(path);
        }
    }
    found.sort();
    found
}

#[tokio::test]
async fn every_example_passes_a_server_side_dry_run() {
    let env = env();
    let ns = env.namespace("examples").await;
    let files = manifests(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"));
    assert!(
        files.len() >= 3,
        "expected the Huawei Cloud Secret, ProviderConfig and BackupVault: {files:?}"
    );
    for file in files {
        let path = file.to_string_lossy();
        let out = env.kubectl(&["apply", "--dry-run=server", "-n", &ns, "-f", &path], None);
        let text = output_text(&out);
        assert!(out.status.success(), "{path} was rejected: {text}");
        assert!(text.contains("(server dry run)"), "{path}: {text}");
    }
}
