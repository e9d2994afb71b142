//! Sets `COFFER_REVISION`, the git revision `coffer_build_info` reports:
//! the variable of the same name when the build sets it (a container build
//! without `.git`), else `git rev-parse`, else `unknown`.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=COFFER_REVISION");
    let revision = std::env::var("COFFER_REVISION")
        .ok()
        .filter(|r| !r.trim().is_empty())
        .or_else(git_revision)
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=COFFER_REVISION={}", revision.trim());
}

/// The short hash of HEAD, and a rerun whenever HEAD moves.
fn git_revision() -> Option<String> {
    let git = |args: &[&str]| {
        let out = Command::new("git").args(args).output().ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    // A worktree's HEAD and the branch it points at both live in git's own
    // directories, which `--git-path` names wherever they are.
    for path in ["HEAD", "logs/HEAD"] {
        if let Some(file) = git(&["rev-parse", "--git-path", path]) {
            println!("cargo:rerun-if-changed={file}");
        }
    }
    git(&["rev-parse", "--short=12", "HEAD"]).filter(|r| !r.is_empty())
}
