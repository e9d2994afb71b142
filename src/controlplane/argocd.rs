//! Argo CD's own verdict on coffer's objects: `argocd/health.lua` run by
//! `argocd-health` (tools/argocd-health), which is Argo CD's util/lua and
//! gitops-engine's health code at a pinned release, with the script
//! installed as `argocd-cm` installs it. Tests compare its answers with the
//! cases in `argocd/**/health_test.yaml` and with a live cluster's objects.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use super::ControlPlaneError;

/// What Argo CD shows for one object: a status and message, or why it shows
/// none (no health check for the kind, a script error).
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
pub struct Verdict {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub error: Option<String>,
}

/// Runs `script` through Argo CD over `objects`, one verdict each, in order.
pub fn evaluate(
    script: &Path,
    objects: &[serde_json::Value],
) -> Result<Vec<Verdict>, ControlPlaneError> {
    let program = super::binaries::argocd_health()?;
    let failed = |what: &str, e: &dyn std::fmt::Display| ControlPlaneError::Setup {
        what: format!("argocd-health: {what}"),
        source: std::io::Error::other(e.to_string()),
    };
    let mut child = Command::new(&program)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| failed("start", &e))?;
    let mut input = String::new();
    for object in objects {
        input.push_str(&object.to_string());
        input.push('\n');
    }
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(input.as_bytes())
            .map_err(|e| failed("write", &e))?;
    }
    let out = child.wait_with_output().map_err(|e| failed("wait", &e))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        return Err(failed("run", &err));
    }
    let verdicts = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<Vec<Verdict>, _>>()
        .map_err(|e| failed("read", &e))?;
    if verdicts.len() != objects.len() {
        let n = format!("{} verdicts for {} objects", verdicts.len(), objects.len());
        return Err(failed("count", &n));
    }
    Ok(verdicts)
}
