//! The kubectl plugin as krew installs it: the checked-in manifest template
//! (plugins/coffer.yaml) and what `make release` makes of it
//! (scripts/krew.sh): the rules krew itself checks a manifest by, the
//! archive's sha256, and a `bin` that is a regular file of the archive
//! (krew unpacks regular files and folders only, no links).

use std::path::Path;
use std::process::Command;

use serde_yaml::Value;
use sha2::{Digest, Sha256};

const TEMPLATE: &str = "plugins/coffer.yaml";
const PLACEHOLDERS: [&str; 3] = [
    "__VERSION__",
    "__URI_LINUX_AMD64__",
    "__SHA256_LINUX_AMD64__",
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn text<'a>(v: &'a Value, what: &str) -> Result<&'a str, String> {
    v.as_str()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("{what} is not set"))
}

/// A version krew accepts: `v` and a semantic version.
fn krew_version(version: &str) -> bool {
    let Some(rest) = version.strip_prefix('v') else {
        return false;
    };
    let core = rest.split(['-', '+']).next().unwrap_or_default();
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

/// The checks of krew's `ValidatePlugin` (internal/index/validation), for a
/// manifest saved as `name`.yaml.
fn validate(name: &str, manifest: &Value) -> Result<(), String> {
    if manifest["apiVersion"] != "krew.googlecontainertools.github.com/v1alpha2" {
        return Err(format!("apiVersion is {:?}", manifest["apiVersion"]));
    }
    if manifest["kind"] != "Plugin" {
        return Err(format!("kind is {:?}", manifest["kind"]));
    }
    if text(&manifest["metadata"]["name"], "metadata.name")? != name {
        return Err(format!("metadata.name is not {name}, its file's name"));
    }
    let spec = &manifest["spec"];
    if text(&spec["shortDescription"], "spec.shortDescription")?.contains(['\r', '\n']) {
        return Err("spec.shortDescription has a line break".into());
    }
    let version = text(&spec["version"], "spec.version")?;
    if !krew_version(version) {
        return Err(format!("spec.version {version:?} is not v and a semver"));
    }
    let platforms = spec["platforms"]
        .as_sequence()
        .filter(|p| !p.is_empty())
        .ok_or("spec.platforms is empty")?;
    for p in platforms {
        text(&p["uri"], "uri")?;
        let sha = text(&p["sha256"], "sha256")?;
        if sha.len() != 64 || !sha.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')) {
            return Err(format!("sha256 {sha:?} is not 64 lower-case hex digits"));
        }
        text(&p["bin"], "bin")?;
        let labels = p["selector"]["matchLabels"]
            .as_mapping()
            .filter(|m| !m.is_empty())
            .ok_or("a platform's selector has no matchLabels")?;
        for key in labels.keys() {
            if !matches!(key.as_str(), Some("os" | "arch")) {
                return Err(format!("selector key {key:?}: krew knows os and arch only"));
            }
        }
        if let Some(files) = p.get("files") {
            let files = files
                .as_sequence()
                .filter(|f| !f.is_empty())
                .ok_or("files is set but empty")?;
            for f in files {
                text(&f["from"], "files[].from")?;
                text(&f["to"], "files[].to")?;
            }
        }
    }
    Ok(())
}

#[test]
fn the_checked_in_krew_manifest_is_one_krew_accepts_once_its_marked_placeholders_are_filled() {
    let template = std::fs::read_to_string(root().join(TEMPLATE)).expect("the template");
    for placeholder in PLACEHOLDERS {
        assert_eq!(
            template.matches(placeholder).count(),
            1,
            "{placeholder} should appear once in {TEMPLATE}"
        );
    }
    let as_is: Value = serde_yaml::from_str(&template).expect("the template is YAML");
    assert!(validate("coffer", &as_is).is_err(), "placeholders pass");
    let filled = template
        .replace("__VERSION__", env!("CARGO_PKG_VERSION"))
        .replace(
            "__URI_LINUX_AMD64__",
            "https://downloads.example.com/c.tar.gz",
        )
        .replace("__SHA256_LINUX_AMD64__", &"0".repeat(64));
    let manifest: Value = serde_yaml::from_str(&filled).expect("YAML");
    validate("coffer", &manifest).unwrap_or_else(|e| panic!("{TEMPLATE}: {e}"));
}

#[test]
fn a_release_archive_holds_the_bin_its_manifest_names_as_regular_files_under_its_sha256() {
    let version = env!("CARGO_PKG_VERSION");
    let dir = tempfile::tempdir().expect("a folder");
    let out = dir.path().join("dist");
    // /bin/true stands in for the static binary: the packaging is under test
    // (the plugin tests run the binary as kubectl-coffer).
    let made = Command::new(root().join("scripts/krew.sh"))
        .arg(version)
        .arg("/bin/true")
        .arg(&out)
        .arg("https://downloads.example.com/coffer/x/")
        .output()
        .expect("running scripts/krew.sh");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );

    let manifest: Value = serde_yaml::from_str(
        &std::fs::read_to_string(out.join("coffer.yaml")).expect("the manifest"),
    )
    .expect("YAML");
    validate("coffer", &manifest).unwrap_or_else(|e| panic!("coffer.yaml: {e}"));
    assert_eq!(manifest["spec"]["version"], format!("v{version}").as_str());
    let name = format!("coffer-{version}-linux-amd64.tar.gz");
    let platform = &manifest["spec"]["platforms"][0];
    assert_eq!(
        platform["uri"],
        format!("https://downloads.example.com/coffer/x/{name}").as_str()
    );
    let archive = std::fs::read(out.join(&name)).expect("the archive");
    assert_eq!(
        platform["sha256"],
        hex::encode(Sha256::digest(&archive)).as_str()
    );

    // What the archive holds: `tar -tv` marks a regular file with `-`.
    let listing = Command::new("tar")
        .arg("-tvzf")
        .arg(out.join(&name))
        .output()
        .expect("tar");
    assert!(listing.status.success());
    let listing = String::from_utf8_lossy(&listing.stdout).to_string();
    let entries: Vec<(char, String)> = listing
        .lines()
        .filter_map(|l| {
            let kind = l.chars().next()?;
            let name = l.split_whitespace().last()?.to_string();
            Some((kind, name))
        })
        .collect();
    assert!(
        entries.iter().all(|(kind, _)| *kind == '-'),
        "krew unpacks regular files only: {listing}"
    );
    let names: Vec<&str> = entries.iter().map(|(_, n)| n.as_str()).collect();
    for wanted in ["coffer", "kubectl-coffer"] {
        assert!(names.contains(&wanted), "{wanted} missing: {listing}");
    }
    let bin = platform["bin"].as_str().expect("bin");
    let installed: Vec<&str> = platform["files"]
        .as_sequence()
        .into_iter()
        .flatten()
        .filter_map(|f| f["from"].as_str())
        .collect();
    assert!(names.contains(&bin), "bin {bin} is not in the archive");
    assert!(installed.contains(&bin), "bin {bin} is not installed");
    for from in installed {
        assert!(names.contains(&from), "files: {from} is not in the archive");
    }
}
