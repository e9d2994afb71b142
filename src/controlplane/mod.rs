//! A real kube-apiserver and etcd on loopback, started the way envtest starts
//! them, and a kube-controller-manager beside them. Integration tests and
//! `make demo` both stand on this: schema and CEL validation, server-side
//! apply, watches, Leases and RBAC behave truly only on the real server, and
//! namespace deletion and garbage collection only with the real controllers.

pub mod argocd;
pub mod binaries;
pub mod controller_manager;
pub mod crds;
pub mod process;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use binaries::Binaries;
use process::{Supervised, free_port};

/// Why the control plane could not start.
#[derive(Debug, thiserror::Error)]
pub enum ControlPlaneError {
    #[error("{name} is not installed at {path}; install it with: {install}")]
    MissingBinary {
        name: &'static str,
        path: PathBuf,
        install: &'static str,
    },
    #[error("could not prepare {what}: {source}")]
    Setup {
        what: String,
        source: std::io::Error,
    },
    #[error("could not generate the service-account key: {0}")]
    Key(String),
    #[error("{name} exited during start-up ({status}); its log, {log}, ends with:\n{tail}")]
    Exited {
        name: &'static str,
        status: String,
        log: PathBuf,
        tail: String,
    },
    #[error("kube-apiserver was not ready after {0:?}; its log is {1}")]
    NotReady(Duration, PathBuf),
    #[error(
        "kube-controller-manager had not started its controllers after {0:?} (no default ServiceAccount); its log is {1}"
    )]
    ControllersNotRunning(Duration, PathBuf),
    #[error("kubernetes client: {0}")]
    Client(String),
    #[error("installing CRDs: {0}")]
    Crds(String),
}

/// How many times a start is tried when a picked port was taken meanwhile.
const PORT_ATTEMPTS: u32 = 3;

impl ControlPlaneError {
    /// A process could not listen on the port picked for it.
    pub fn is_port_taken(&self) -> bool {
        matches!(self, Self::Exited { tail, .. } if tail.contains("address already in use"))
    }
}

pub(crate) fn setup<T>(what: &str, r: std::io::Result<T>) -> Result<T, ControlPlaneError> {
    r.map_err(|source| ControlPlaneError::Setup {
        what: what.to_string(),
        source,
    })
}

/// What to start beside etcd and the apiserver.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// kube-controller-manager (namespace deletion, garbage collection).
    pub controller_manager: bool,
    /// etcd's `--quota-backend-bytes`; etcd's own default (2 GiB) when
    /// `None`. Large clusters raise it to 8 GiB, etcd's suggested maximum.
    pub etcd_quota_bytes: Option<u64>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            controller_manager: true,
            etcd_quota_bytes: None,
        }
    }
}

/// How long each part took to become ready.
#[derive(Clone, Copy, Debug, Default)]
pub struct StartTimes {
    /// From the start of etcd to the apiserver's `/readyz`.
    pub apiserver: Duration,
    /// From the apiserver's `/readyz` to the controller manager's first
    /// controller at work; zero when it is not started.
    pub controller_manager: Duration,
}

/// A running etcd, kube-apiserver and (unless turned off)
/// kube-controller-manager. Dropping it stops them all.
pub struct ControlPlane {
    dir: PathBuf,
    _tempdir: Option<tempfile::TempDir>,
    url: String,
    token: String,
    ca_pem: String,
    kubeconfig: PathBuf,
    pub binaries: Binaries,
    pub start_times: StartTimes,
    // Field order is drop order: the controller manager stops before the
    // apiserver, and the apiserver before its etcd.
    controller_manager: Option<Supervised>,
    apiserver: Supervised,
    etcd: Supervised,
}

/// How long the apiserver may take to become ready on two busy cores.
const READY_TIMEOUT: Duration = Duration::from_secs(120);

impl ControlPlane {
    /// Starts etcd and kube-apiserver on free loopback ports. With `dir`, state
    /// and logs go there and stay; without, into a temporary directory that is
    /// removed on drop.
    ///
    /// A port is free when it is picked and taken a moment later by the
    /// process; another process on the machine may take it in between. That
    /// start is thrown away and tried again on new ports.
    pub async fn start(dir: Option<&Path>) -> Result<Self, ControlPlaneError> {
        Self::start_with(dir, Options::default()).await
    }

    /// [`Self::start`] with `options` saying what runs beside the apiserver.
    pub async fn start_with(
        dir: Option<&Path>,
        options: Options,
    ) -> Result<Self, ControlPlaneError> {
        let mut attempt = 1;
        loop {
            match Self::start_once(dir, options).await {
                Err(e) if e.is_port_taken() && attempt < PORT_ATTEMPTS => {
                    eprintln!("control plane: a port was taken meanwhile ({e}); trying new ports");
                    if let Some(dir) = dir {
                        // The next etcd must not find a member advertised on the old port.
                        let _ = std::fs::remove_dir_all(dir.join("etcd"));
                    }
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn start_once(dir: Option<&Path>, options: Options) -> Result<Self, ControlPlaneError> {
        let binaries = Binaries::locate()?;
        let kcm_program = match options.controller_manager {
            true => Some(binaries.controller_manager()?),
            false => None,
        };
        let started = Instant::now();
        let (tempdir, dir) = match dir {
            Some(d) => {
                setup("the state directory", std::fs::create_dir_all(d))?;
                (
                    None,
                    setup("the state directory", std::fs::canonicalize(d))?,
                )
            }
            None => {
                let t = setup(
                    "a temporary directory",
                    tempfile::Builder::new().prefix("coffer-cp-").tempdir(),
                )?;
                let p = t.path().to_path_buf();
                (Some(t), p)
            }
        };
        let etcd_data = dir.join("etcd");
        let certs = dir.join("certs");
        for d in [&etcd_data, &certs] {
            setup("the state directory", std::fs::create_dir_all(d))?;
        }

        let (client_port, peer_port, api_port) = (
            setup("a port", free_port())?,
            setup("a port", free_port())?,
            setup("a port", free_port())?,
        );
        let etcd_url = format!("http://127.0.0.1:{client_port}");
        let peer_url = format!("http://127.0.0.1:{peer_port}");
        let etcd_log = dir.join("etcd.log");
        let mut etcd = setup(
            "etcd",
            Supervised::spawn(
                "etcd",
                &binaries.etcd,
                &[
                    "--name=coffer".into(),
                    format!(
                        "--quota-backend-bytes={}",
                        options.etcd_quota_bytes.unwrap_or(0)
                    ),
                    format!("--data-dir={}", etcd_data.display()),
                    format!("--listen-client-urls={etcd_url}"),
                    format!("--advertise-client-urls={etcd_url}"),
                    format!("--listen-peer-urls={peer_url}"),
                    format!("--initial-advertise-peer-urls={peer_url}"),
                    format!("--initial-cluster=coffer={peer_url}"),
                    "--unsafe-no-fsync".into(),
                    "--log-level=error".into(),
                ],
                &etcd_log,
            ),
        )?;

        let token = uuid::Uuid::new_v4().simple().to_string();
        let kcm_token = uuid::Uuid::new_v4().simple().to_string();
        setup(
            "the token file",
            std::fs::write(
                dir.join("tokens.csv"),
                format!(
                    "{token},admin,admin,system:masters\n{}",
                    controller_manager::token_line(&kcm_token)
                ),
            ),
        )?;
        write_service_account_keys(&dir)?;

        let api_log = dir.join("kube-apiserver.log");
        let mut apiserver = setup(
            "kube-apiserver",
            Supervised::spawn(
                "kube-apiserver",
                &binaries.kube_apiserver,
                &[
                    format!("--etcd-servers={etcd_url}"),
                    "--bind-address=127.0.0.1".into(),
                    "--advertise-address=127.0.0.1".into(),
                    format!("--secure-port={api_port}"),
                    format!("--cert-dir={}", certs.display()),
                    format!("--token-auth-file={}", dir.join("tokens.csv").display()),
                    "--authorization-mode=RBAC".into(),
                    "--service-account-issuer=https://kubernetes.default.svc.cluster.local".into(),
                    format!(
                        "--service-account-key-file={}",
                        dir.join("sa.pub").display()
                    ),
                    format!(
                        "--service-account-signing-key-file={}",
                        dir.join("sa.key").display()
                    ),
                    "--service-cluster-ip-range=10.0.0.0/24".into(),
                    "--disable-admission-plugins=ServiceAccount".into(),
                    "--endpoint-reconciler-type=none".into(),
                    "--allow-privileged=true".into(),
                ],
                &api_log,
            ),
        )?;

        let url = format!("https://127.0.0.1:{api_port}");
        let ca_pem = wait_ready(
            &url,
            &token,
            &certs,
            &mut etcd,
            &mut apiserver,
            &etcd_log,
            &api_log,
        )
        .await?;
        let mut start_times = StartTimes {
            apiserver: started.elapsed(),
            ..StartTimes::default()
        };
        let kubeconfig = dir.join("kubeconfig");
        setup(
            "the kubeconfig",
            std::fs::write(&kubeconfig, kubeconfig_yaml(&url, &token, &ca_pem, "admin")),
        )?;
        let mut cp = Self {
            dir,
            _tempdir: tempdir,
            url,
            token,
            ca_pem,
            kubeconfig,
            binaries,
            start_times,
            controller_manager: None,
            apiserver,
            etcd,
        };
        if let Some(program) = kcm_program {
            let mut kcm =
                controller_manager::spawn(&program, &cp.dir, &cp.url, &kcm_token, &cp.ca_pem)?;
            let client = cp.client().await?;
            let log = cp.dir.join("kube-controller-manager.log");
            start_times.controller_manager =
                controller_manager::wait_running(&client, &mut kcm, &log).await?;
            cp.controller_manager = Some(kcm);
            cp.start_times = start_times;
        }
        Ok(cp)
    }

    /// The apiserver's URL, `https://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A kubeconfig file for kubectl and helm (cluster-admin).
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig
    }

    /// Where state and logs are kept.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A new client. Each tokio runtime needs its own, so tests call this
    /// rather than share one.
    pub async fn client(&self) -> Result<kube::Client, ControlPlaneError> {
        let kubeconfig = kube::config::Kubeconfig::read_from(&self.kubeconfig)
            .map_err(|e| ControlPlaneError::Client(e.to_string()))?;
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
            .await
            .map_err(|e| ControlPlaneError::Client(e.to_string()))?;
        kube::Client::try_from(config).map_err(|e| ControlPlaneError::Client(e.to_string()))
    }

    /// The bearer token of the cluster-admin user.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// PEM of the CA that signed the apiserver's serving certificate.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// Whether kube-controller-manager runs beside the apiserver.
    pub fn has_controller_manager(&self) -> bool {
        self.controller_manager.is_some()
    }

    /// Process ids of etcd and kube-apiserver, for tests of the harness itself.
    pub fn pids(&self) -> (u32, u32) {
        (self.etcd.id(), self.apiserver.id())
    }
}

/// A PKCS#8 private key and its SPKI public key for service-account tokens.
fn write_service_account_keys(dir: &Path) -> Result<(), ControlPlaneError> {
    let key = rcgen::KeyPair::generate().map_err(|e| ControlPlaneError::Key(e.to_string()))?;
    setup(
        "sa.key",
        std::fs::write(dir.join("sa.key"), key.serialize_pem()),
    )?;
    setup(
        "sa.pub",
        std::fs::write(dir.join("sa.pub"), key.public_key_pem()),
    )?;
    Ok(())
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

pub(crate) fn exited(
    name: &'static str,
    status: std::process::ExitStatus,
    log: &Path,
) -> ControlPlaneError {
    ControlPlaneError::Exited {
        name,
        status: status.to_string(),
        log: log.to_path_buf(),
        tail: log_tail(log),
    }
}

/// Polls `/readyz` until it answers 200, failing fast if a process exits.
/// Returns the CA bundle the apiserver generated for itself.
async fn wait_ready(
    url: &str,
    token: &str,
    certs: &Path,
    etcd: &mut Supervised,
    apiserver: &mut Supervised,
    etcd_log: &Path,
    api_log: &Path,
) -> Result<String, ControlPlaneError> {
    let start = Instant::now();
    let cert_file = certs.join("apiserver.crt");
    let mut client: Option<reqwest::Client> = None;
    let mut ca_pem = String::new();
    while start.elapsed() < READY_TIMEOUT {
        if let Some(status) = etcd.exited() {
            return Err(exited("etcd", status, etcd_log));
        }
        if let Some(status) = apiserver.exited() {
            return Err(exited("kube-apiserver", status, api_log));
        }
        if client.is_none()
            && let Ok(pem) = std::fs::read_to_string(&cert_file)
            && pem.contains("END CERTIFICATE")
        {
            // The file holds the serving certificate followed by its CA.
            let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
                .map_err(|e| ControlPlaneError::Client(e.to_string()))?;
            let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(5));
            for c in certs {
                builder = builder.add_root_certificate(c);
            }
            client = Some(
                builder
                    .build()
                    .map_err(|e| ControlPlaneError::Client(e.to_string()))?,
            );
            ca_pem = pem;
        }
        if let Some(c) = &client
            && let Ok(resp) = c
                .get(format!("{url}/readyz"))
                .bearer_auth(token)
                .send()
                .await
            && resp.status().is_success()
        {
            return Ok(ca_pem);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Err(ControlPlaneError::NotReady(
        READY_TIMEOUT,
        api_log.to_path_buf(),
    ))
}

/// A kubeconfig for `user`, signing in with `token`.
pub(crate) fn kubeconfig_yaml(url: &str, token: &str, ca_pem: &str, user: &str) -> String {
    use std::fmt::Write;
    let ca = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, ca_pem);
    let mut s = String::new();
    let _ = write!(
        s,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: coffer\n  cluster:\n    server: {url}\n    certificate-authority-data: {ca}\nusers:\n- name: {user}\n  user:\n    token: {token}\ncontexts:\n- name: coffer\n  context:\n    cluster: coffer\n    user: {user}\ncurrent-context: coffer\n"
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exited(tail: &str) -> ControlPlaneError {
        ControlPlaneError::Exited {
            name: "kube-apiserver",
            status: "exit status: 1".into(),
            log: PathBuf::from("kube-apiserver.log"),
            tail: tail.into(),
        }
    }

    #[test]
    fn only_a_taken_port_is_worth_another_start() {
        assert!(exited("listen tcp 127.0.0.1:46653: bind: address already in use").is_port_taken());
        assert!(!exited("etcdserver: corrupt data").is_port_taken());
        assert!(
            !ControlPlaneError::NotReady(Duration::from_secs(1), PathBuf::new()).is_port_taken()
        );
    }
}
