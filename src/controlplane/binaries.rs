//! Finding the kube-apiserver, kube-controller-manager, etcd, kubectl and
//! helm binaries that `scripts/install-tools.sh` installs into the versioned
//! cache.

use std::path::{Path, PathBuf};

use super::ControlPlaneError;

/// Versions `scripts/install-tools.sh` pins; the cache layout is keyed by
/// them, and a test keeps the two in step.
pub const KUBE_VERSION: &str = "1.34.12";
pub const KUBECTL_LAYER: &str = "2.2.2";
pub const ETCD_VERSION: &str = "3.6.15";
/// The Argo CD release whose health evaluation `argocd-health` is built from.
pub const ARGOCD_VERSION: &str = "3.2.12";

/// Paths of the control-plane tools.
#[derive(Debug, Clone)]
pub struct Binaries {
    pub kube_apiserver: PathBuf,
    /// Checked only when a control plane starts one: [`Self::controller_manager`].
    pub kube_controller_manager: PathBuf,
    pub etcd: PathBuf,
    pub kubectl: PathBuf,
    pub helm: PathBuf,
}

type Lookup<'a> = &'a dyn Fn(&str) -> Option<std::ffi::OsString>;

fn cache_dir(var: Lookup<'_>) -> PathBuf {
    if let Some(dir) = var("COFFER_CACHE") {
        return PathBuf::from(dir);
    }
    let home = var("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/root"));
    home.join(".cache/coffer")
}

fn require(
    name: &'static str,
    path: PathBuf,
    install: &'static str,
) -> Result<PathBuf, ControlPlaneError> {
    if is_executable(&path) {
        Ok(path)
    } else {
        Err(ControlPlaneError::MissingBinary {
            name,
            path,
            install,
        })
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

impl Binaries {
    /// Reads `KUBE_APISERVER`, `ETCD`, `KUBECTL` and `HELM`, falling back to the
    /// cache the install script fills. Names the missing piece and the command
    /// that installs it.
    pub fn locate() -> Result<Self, ControlPlaneError> {
        Self::locate_with(&|name| std::env::var_os(name))
    }

    /// `locate` with the environment looked up through `var`.
    pub fn locate_with(var: Lookup<'_>) -> Result<Self, ControlPlaneError> {
        let cache = cache_dir(var);
        let pick = |env: &str, default: PathBuf| var(env).map(PathBuf::from).unwrap_or(default);
        Ok(Self {
            kube_apiserver: require(
                "kube-apiserver",
                pick(
                    "KUBE_APISERVER",
                    cache.join(format!("kube-apiserver-v{KUBE_VERSION}/kube-apiserver")),
                ),
                "scripts/install-tools.sh kube-apiserver (or make tools)",
            )?,
            kube_controller_manager: pick(
                "KUBE_CONTROLLER_MANAGER",
                cache.join(format!(
                    "kube-controller-manager-v{KUBE_VERSION}/kube-controller-manager"
                )),
            ),
            etcd: require(
                "etcd",
                pick("ETCD", cache.join(format!("etcd-v{ETCD_VERSION}/etcd"))),
                "scripts/install-tools.sh etcd (or make tools)",
            )?,
            kubectl: require(
                "kubectl",
                pick(
                    "KUBECTL",
                    cache.join(format!("kubectl-layer-{KUBECTL_LAYER}/kubectl")),
                ),
                "scripts/install-tools.sh kubectl-helm (or make tools)",
            )?,
            helm: require(
                "helm",
                pick(
                    "HELM",
                    cache.join(format!("kubectl-layer-{KUBECTL_LAYER}/helm")),
                ),
                "scripts/install-tools.sh kubectl-helm (or make tools)",
            )?,
        })
    }
}

/// Where `scripts/install-tools.sh env` says the tool `name` is installed.
fn installed(name: &str) -> Option<PathBuf> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/install-tools.sh");
    let out = std::process::Command::new("bash")
        .arg(script)
        .arg("env")
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let prefix = format!("{name}=");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix(&prefix).map(PathBuf::from))
}

/// `argocd-health` (tools/argocd-health): Argo CD's own Lua health
/// evaluation. `ARGOCD_HEALTH`, else the cache the install script fills.
pub fn argocd_health() -> Result<PathBuf, ControlPlaneError> {
    let var = |name: &str| std::env::var_os(name);
    // Its cache key carries a hash of its source, which only the install
    // script computes: ask it rather than guess a stale path.
    let path = var("ARGOCD_HEALTH")
        .map(PathBuf::from)
        .or_else(|| installed("ARGOCD_HEALTH"))
        .unwrap_or_else(|| {
            cache_dir(&var).join(format!("argocd-health-v{ARGOCD_VERSION}/argocd-health"))
        });
    require(
        "argocd-health",
        path,
        "scripts/install-tools.sh argocd-health (or make tools)",
    )
}

impl Binaries {
    /// kube-controller-manager, or what installs it.
    pub fn controller_manager(&self) -> Result<PathBuf, ControlPlaneError> {
        require(
            "kube-controller-manager",
            self.kube_controller_manager.clone(),
            "scripts/install-tools.sh kube-controller-manager (or make tools)",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The script installs where this module looks: same versions, same paths.
    #[test]
    fn versions_match_the_install_script() {
        let script = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/install-tools.sh"),
        )
        .expect("scripts/install-tools.sh");
        let pinned = |name: &str| {
            script
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{name}=")))
                .and_then(|rest| rest.split_whitespace().next())
                .map(str::to_string)
        };
        assert_eq!(pinned("KUBE_VERSION").as_deref(), Some(KUBE_VERSION));
        assert_eq!(pinned("KUBECTL_LAYER").as_deref(), Some(KUBECTL_LAYER));
        assert_eq!(pinned("ETCD_VERSION").as_deref(), Some(ETCD_VERSION));
        assert_eq!(pinned("ARGOCD_VERSION").as_deref(), Some(ARGOCD_VERSION));
        let argocd_mod = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/argocd-health/go.mod"),
        )
        .expect("tools/argocd-health/go.mod");
        assert!(
            argocd_mod.contains(&format!("github.com/argoproj/argo-cd/v3 v{ARGOCD_VERSION}")),
            "tools/argocd-health/go.mod pins another Argo CD"
        );
        // The wrapper module builds that kube-apiserver, staging modules included.
        let go_mod = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/kube-apiserver/go.mod"),
        )
        .expect("tools/kube-apiserver/go.mod");
        assert!(
            go_mod.contains(&format!("k8s.io/kubernetes v{KUBE_VERSION}")),
            "go.mod pins another kubernetes"
        );
        let staging = format!(
            "k8s.io/api => k8s.io/api v0.{}",
            KUBE_VERSION.trim_start_matches("1.")
        );
        assert!(
            go_mod.contains(&staging),
            "go.mod maps the staging modules to another release"
        );
    }

    #[test]
    fn a_missing_binary_names_itself_and_its_install_command() {
        let empty = tempfile::tempdir().expect("tempdir");
        let cache = empty.path().as_os_str().to_owned();
        let err = Binaries::locate_with(&|name| (name == "COFFER_CACHE").then(|| cache.clone()))
            .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("kube-apiserver is not installed at"),
            "{msg}"
        );
        assert!(
            msg.contains("scripts/install-tools.sh kube-apiserver"),
            "{msg}"
        );
    }
}
