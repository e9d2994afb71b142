//! The integration-test harness: one real etcd and kube-apiserver per test
//! binary, coffer's CRDs installed from `crds/`, a namespace per test, and
//! kubectl and helm pointed at the same server.
//!
//! The control plane is started by the first test that asks for it and stopped
//! when the test binary exits (an `atexit` hook, backed by PR_SET_PDEATHSIG on
//! the children). If it cannot start, the test fails with the missing piece
//! and the command that installs it; it never skips.

#![allow(dead_code)]

pub mod credentials;
pub mod cut;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};

use coffer::controlplane::{Binaries, ControlPlane, crds};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, PostParams};

/// What tests need from the shared control plane; plain data, so every
/// test's own tokio runtime can build its own client from it.
pub struct Env {
    pub kubeconfig: PathBuf,
    pub url: String,
    pub binaries: Binaries,
    pub etcd_pid: u32,
    pub apiserver_pid: u32,
}

static ENV: OnceLock<Env> = OnceLock::new();
static RUNNING: Mutex<Option<ControlPlane>> = Mutex::new(None);

extern "C" fn stop_control_plane() {
    if let Ok(mut guard) = RUNNING.lock() {
        guard.take();
    }
}

/// The credentials check, once every test of the binary has run, while
/// the control plane is still up (`atexit` runs the last registered
/// first). A credential found, or a check that could not search every
/// place it must, stops the control plane and exits non-zero, which fails
/// the run.
extern "C" fn check_credentials() {
    let Some(env) = ENV.get() else {
        // No test used the cluster: nothing reached it to leak.
        return;
    };
    let checked = std::thread::spawn(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("no tokio runtime: {e}"))?;
        rt.block_on(async { credentials::check(env.client().await).await })
    })
    .join();
    let report = match checked {
        Ok(Ok(report)) => report,
        Ok(Err(why)) => fail_run(&format!("the credentials check could not run: {why}")),
        Err(_) => fail_run("the credentials check panicked"),
    };
    if report.places < credentials::MIN_PLACES || report.credentials == 0 || report.log_bytes == 0 {
        fail_run(&format!(
            "the credentials check searched too little to mean anything: {report}"
        ));
    }
    if report.found.is_empty() {
        eprintln!("e2e: credentials check: none found ({report})");
        return;
    }
    for finding in &report.found {
        eprintln!("e2e: credentials check: {finding}");
    }
    fail_run(&format!(
        "credentials check FAILED: {} finding(s) ({report})",
        report.found.len()
    ));
}

/// Ends the run as failed, from the `atexit` hook where a panic cannot.
fn fail_run(why: &str) -> ! {
    eprintln!("e2e: {why}");
    stop_control_plane();
    // SAFETY: ends the process at once, as exit() would, with a failure.
    unsafe { libc::_exit(1) }
}

/// The shared control plane, started on first use.
pub fn env() -> &'static Env {
    ENV.get_or_init(|| {
        credentials::capture_logs();
        // Start on a thread with its own runtime: the processes outlive it,
        // and each test later builds clients on its own runtime.
        let started = std::thread::spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("tokio runtime");
            rt.block_on(async {
                let cp = ControlPlane::start(None).await?;
                let client = cp.client().await?;
                let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("crds");
                crds::install(&client, &crds::read_dir(&dir)?).await?;
                Ok::<_, coffer::controlplane::ControlPlaneError>(cp)
            })
        })
        .join()
        .expect("control-plane start-up thread panicked");
        let cp = match started {
            Ok(cp) => cp,
            Err(e) => panic!("the test control plane could not start: {e}"),
        };
        let (etcd_pid, apiserver_pid) = cp.pids();
        let times = cp.start_times;
        let env = Env {
            kubeconfig: cp.kubeconfig_path().to_path_buf(),
            url: cp.url().to_string(),
            binaries: cp.binaries.clone(),
            etcd_pid,
            apiserver_pid,
        };
        *RUNNING.lock().expect("control-plane lock") = Some(cp);
        // SAFETY: registering plain extern "C" functions with no captures;
        // the check, registered last, runs first.
        unsafe {
            libc::atexit(stop_control_plane);
            libc::atexit(check_credentials);
        }
        eprintln!(
            "e2e: kube-apiserver at {} (kubeconfig {}), ready in {:.1}s; kube-controller-manager {:.1}s after",
            env.url,
            env.kubeconfig.display(),
            times.apiserver.as_secs_f64(),
            times.controller_manager.as_secs_f64(),
        );
        env
    })
}

impl Env {
    /// A client on the calling test's runtime.
    pub async fn client(&self) -> kube::Client {
        let kubeconfig = kube::config::Kubeconfig::read_from(&self.kubeconfig)
            .expect("reading the test kubeconfig");
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
            .await
            .expect("test kubeconfig");
        kube::Client::try_from(config).expect("kube client")
    }

    /// Creates a fresh namespace `prefix-xxxxxx` for one test. Namespaces are
    /// never deleted: without a controller-manager they would stay Terminating.
    pub async fn namespace(&self, prefix: &str) -> String {
        let name = format!(
            "{prefix}-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..6]
        );
        let ns: Namespace = serde_json::from_value(serde_json::json!({"metadata": {"name": name}}))
            .expect("namespace");
        Api::<Namespace>::all(self.client().await)
            .create(&PostParams::default(), &ns)
            .await
            .expect("creating a namespace");
        name
    }

    /// Runs kubectl against the test server, with `stdin` piped in.
    pub fn kubectl(&self, args: &[&str], stdin: Option<&str>) -> Output {
        run_with_kubeconfig(&self.binaries.kubectl, &self.kubeconfig, args, stdin)
    }

    /// Runs helm against the test server.
    pub fn helm(&self, args: &[&str]) -> Output {
        run_with_kubeconfig(&self.binaries.helm, &self.kubeconfig, args, None)
    }
}

fn run_with_kubeconfig(
    program: &Path,
    kubeconfig: &Path,
    args: &[&str],
    stdin: Option<&str>,
) -> Output {
    use std::io::Write;
    let mut child = Command::new(program)
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .env(
            "HELM_CACHE_HOME",
            std::env::temp_dir().join("coffer-helm-cache"),
        )
        .env(
            "HELM_CONFIG_HOME",
            std::env::temp_dir().join("coffer-helm-config"),
        )
        .env(
            "HELM_DATA_HOME",
            std::env::temp_dir().join("coffer-helm-data"),
        )
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("running {}: {e}", program.display()));
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("writing stdin");
    }
    child.wait_with_output().expect("waiting for a child")
}

/// Standard output and error of a finished command, for assertion messages.
pub fn output_text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
