//! The manifests in `examples/` are accepted by the API server with the
//! current CRDs, so they never rot: every manifest as written for a real
//! cloud (placeholders and all), and the emulator overlay `make demo`
//! applies, each by a server-side dry run.

use std::path::{Path, PathBuf};

use crate::support::{env, output_text};

/// The mark on every value a user must replace.
const PLACEHOLDER: &str = "REPLACE";

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// Every manifest (`.yaml`/`.yml`, not a kustomization) under `dir`, sorted.
fn manifests(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
    {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            found.extend(manifests(&path));
        } else if path.extension().is_some_and(|x| x == "yaml" || x == "yml")
            && path.file_stem().is_some_and(|s| s != "kustomization")
        {
            found.push(path);
        }
    }
    found.sort();
    found
}

fn dry_run(ns: &str, what: &str, args: &[&str], stdin: Option<&str>) {
    let mut all = vec!["apply", "--dry-run=server", "-n", ns];
    all.extend_from_slice(args);
    let out = env().kubectl(&all, stdin);
    let text = output_text(&out);
    assert!(out.status.success(), "{what} was rejected: {text}");
    assert!(text.contains("(server dry run)"), "{what}: {text}");
}

#[tokio::test]
async fn every_example_passes_a_server_side_dry_run() {
    let ns = env().namespace("examples").await;
    let files = manifests(&examples());
    assert!(
        files.len() >= 3,
        "expected the Huawei Cloud Secret, ProviderConfig and BackupVault: {files:?}"
    );
    for file in files {
        let path = file.to_string_lossy();
        dry_run(&ns, &path, &["-f", &path], None);
    }
}

/// Each cloud's folder is one `kubectl apply -k`, with every manifest of
/// the folder in it, and shows the user what to replace.
#[tokio::test]
async fn every_cloud_folder_applies_with_kustomize_and_marks_its_placeholders() {
    let ns = env().namespace("examples-k").await;
    for dir in [
        "huaweicloud",
        "huaweicloud/backup-share",
        "rackspace",
        "commvault",
        "shared/platform",
        "shared/team",
    ] {
        let path = examples().join(dir);
        let out = env().kubectl(&["kustomize", &path.to_string_lossy()], None);
        assert!(out.status.success(), "{dir}: {}", output_text(&out));
        let rendered = String::from_utf8_lossy(&out.stdout);
        assert!(rendered.contains(PLACEHOLDER), "{dir} marks no placeholder");
        let listed =
            std::fs::read_to_string(path.join("kustomization.yaml")).expect("kustomization");
        for file in std::fs::read_dir(&path).expect("the folder") {
            let name = file
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .to_string();
            if name.ends_with(".yaml") && name != "kustomization.yaml" {
                assert!(
                    listed.contains(&name),
                    "{dir}/kustomization.yaml leaves out {name}"
                );
            }
        }
        dry_run(&ns, dir, &["-k", &path.to_string_lossy()], None);
    }
}

/// `make demo`'s overlay replaces every placeholder with what the emulator
/// knows, and the result is accepted.
#[tokio::test]
async fn the_emulator_overlay_fills_every_placeholder() {
    let ns = env().namespace("examples-emulator").await;
    let overlay = examples().join("emulator");
    let out = env().kubectl(&["kustomize", &overlay.to_string_lossy()], None);
    assert!(
        out.status.success(),
        "kubectl kustomize: {}",
        output_text(&out)
    );
    let rendered = String::from_utf8_lossy(&out.stdout).to_string();
    let left: Vec<&str> = rendered
        .lines()
        .filter(|l| l.contains(PLACEHOLDER))
        .collect();
    assert!(
        left.is_empty(),
        "the overlay leaves placeholders: {left:#?}"
    );
    dry_run(&ns, "examples/emulator", &["-f", "-"], Some(&rendered));
}

/// The README's first BackupVault (and its ProviderConfig), as a new user
/// copies it: every ```yaml block of README.md.
#[tokio::test]
async fn the_readmes_first_vault_passes_a_server_side_dry_run() {
    let ns = env().namespace("readme").await;
    let readme = std::fs::read_to_string(examples().join("../README.md")).expect("README.md");
    let blocks: Vec<&str> = readme
        .split("```yaml\n")
        .skip(1)
        .filter_map(|rest| rest.split("```").next())
        .collect();
    assert!(!blocks.is_empty(), "README.md has no YAML");
    for block in blocks {
        // Its placeholders (`<...>`) as a user fills them in.
        let filled = block
            .replace("namespace: my-team", &format!("namespace: {ns}"))
            .replace(
                "<the region's project id, 32 hex characters>",
                "0123456789abcdef0123456789abcdef",
            );
        assert!(!filled.contains('<'), "an unfilled placeholder: {filled}");
        dry_run(&ns, "README.md", &["-f", "-"], Some(&filled));
    }
}
