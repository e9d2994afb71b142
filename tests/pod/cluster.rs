//! What the pods run against: a real etcd and kube-apiserver with coffer's
//! CRDs, the provider emulator, the chart's objects applied as `helm
//! install` would, and a service-account token from the TokenRequest API.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use coffer::controlplane::{ControlPlane, crds};
use coffer::emulator::{self, EmulatorConfig, RunningEmulator};
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use kube::api::{Api, PostParams};

use crate::chart::Render;
use crate::podman::HOST_FROM_POD;

/// The control plane and the emulator, for one test binary.
pub struct Cluster {
    pub cp: ControlPlane,
    pub emulator: RunningEmulator,
    pub client: kube::Client,
}

impl Cluster {
    pub async fn start() -> Self {
        let cp = ControlPlane::start(None)
            .await
            .unwrap_or_else(|e| panic!("the control plane could not start: {e}"));
        let client = cp.client().await.expect("a client");
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("crds");
        crds::install(&client, &crds::read_dir(&dir).expect("crds/"))
            .await
            .expect("installing the CRDs");
        let emulator = emulator::start(EmulatorConfig::default())
            .await
            .expect("starting the emulator");
        Self {
            cp,
            emulator,
            client,
        }
    }

    /// The API server's port on the host's loopback.
    pub fn api_port(&self) -> u16 {
        url::Url::parse(self.cp.url())
            .ok()
            .and_then(|u| u.port())
            .expect("the API server's URL has a port")
    }

    pub fn kubectl(&self, args: &[&str], stdin: Option<&str>) -> Output {
        use std::io::Write;
        let mut child = Command::new(&self.cp.binaries.kubectl)
            .args(args)
            .env("KUBECONFIG", self.cp.kubeconfig_path())
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("running kubectl");
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(input.as_bytes())
                .expect("writing to kubectl");
        }
        child.wait_with_output().expect("kubectl")
    }

    /// kubectl that must succeed; its standard output.
    pub fn kubectl_ok(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.kubectl(args, stdin);
        assert!(
            out.status.success(),
            "kubectl {}: {}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub async fn create_namespace(&self, name: &str) {
        let ns: Namespace = serde_json::from_value(serde_json::json!({"metadata": {"name": name}}))
            .expect("a namespace");
        Api::<Namespace>::all(self.client.clone())
            .create(&PostParams::default(), &ns)
            .await
            .expect("creating a namespace");
    }

    /// What `helm install` would create, but the pods: the release
    /// namespace, then every rendered object, each in the namespace it
    /// names (a watched namespace's Role is in that namespace, which exists
    /// before the install, as the chart asks).
    pub async fn install(&self, render: &Render) {
        self.create_namespace(&render.namespace).await;
        self.kubectl_ok(&["apply", "-f", "-"], Some(&render.objects_yaml()));
    }

    /// The projected service-account volume a kubelet mounts: a token for
    /// the ServiceAccount from the TokenRequest API, the cluster CA and the
    /// namespace, readable by the pod's non-root user.
    pub async fn service_account_volume(&self, render: &Render, dir: &Path) -> PathBuf {
        let api: Api<ServiceAccount> = Api::namespaced(self.client.clone(), &render.namespace);
        let request = TokenRequest {
            spec: TokenRequestSpec {
                audiences: vec![],
                expiration_seconds: Some(3600),
                bound_object_ref: None,
            },
            ..Default::default()
        };
        let token = api
            .create_token_request(&render.service_account(), &PostParams::default(), &request)
            .await
            .expect("a TokenRequest for the chart's ServiceAccount")
            .status
            .expect("the TokenRequest's status")
            .token;
        std::fs::create_dir_all(dir).expect("the token directory");
        for (file, content) in [
            ("token", token.as_str()),
            ("ca.crt", self.cp.ca_pem()),
            ("namespace", render.namespace.as_str()),
        ] {
            std::fs::write(dir.join(file), content).expect("writing the token volume");
        }
        set_mode(dir, 0o755);
        for file in ["token", "ca.crt", "namespace"] {
            set_mode(&dir.join(file), 0o644);
        }
        dir.to_path_buf()
    }

    /// The examples of every kind, as `make demo` applies them (the
    /// emulator overlay, `examples/emulator`), applied to `namespace` with
    /// the emulator's address as the pod reaches it, the one change a user
    /// makes to point them at another emulator.
    pub fn apply_examples(&self, namespace: &str) {
        let overlay = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/emulator");
        let from = "http://127.0.0.1:8780";
        let to = format!("http://{HOST_FROM_POD}:{}", self.emulator.addr().port());
        let stream = self.kubectl_ok(&["kustomize", &overlay.to_string_lossy()], None);
        // The shared-credentials example allows the demo's namespace and
        // reads coffer's own; here the examples and their Secret are in
        // `namespace`.
        let stream = stream.replace(from, &to).replace(
            "  allowedNamespaces:\n    names:\n    - default\n",
            &format!(
                "  credentialsNamespace: {namespace}\n  allowedNamespaces:\n    names:\n    - {namespace}\n"
            ),
        );
        self.kubectl_ok(&["apply", "-n", namespace, "-f", "-"], Some(&stream));
    }

    /// `kubectl wait --for=condition=Ready` on every object of `kind`.
    pub fn wait_ready(&self, namespace: &str, kind: &str, timeout: Duration) {
        self.kubectl_ok(
            &[
                "wait",
                "-n",
                namespace,
                "--for=condition=Ready",
                kind,
                "--all",
                &format!("--timeout={}s", timeout.as_secs()),
            ],
            None,
        );
    }

    /// The backup the BackupShare examples name: a checkpoint of vault
    /// shared-servers, made as its owner, as `make demo` does.
    pub async fn make_backup_to_share(&self, namespace: &str) {
        let config = self.emulator.config();
        let base = self.emulator.base_url();
        let http = reqwest::Client::new();
        let auth = serde_json::json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": config.username, "password": config.password,
                "domain": {"name": config.domain_name}}}},
            "scope": {"project": {"id": config.project_id}}}});
        let resp = http
            .post(format!("{base}/v3/auth/tokens"))
            .json(&auth)
            .send()
            .await
            .expect("signing in to the emulator");
        assert!(resp.status().is_success(), "sign-in: {}", resp.status());
        let token = resp
            .headers()
            .get("x-subject-token")
            .and_then(|v| v.to_str().ok())
            .expect("a token")
            .to_string();
        let vault = self.kubectl_ok(
            &[
                "get",
                "-n",
                namespace,
                "backupvault",
                "shared-servers",
                "-o",
                "jsonpath={.status.externalId}",
            ],
            None,
        );
        let resp = http
            .post(format!("{base}/v3/{}/checkpoints", config.project_id))
            .header("X-Auth-Token", token)
            .json(&serde_json::json!({"checkpoint": {"vault_id": vault}}))
            .send()
            .await
            .expect("a checkpoint");
        assert!(resp.status().is_success(), "checkpoint: {}", resp.status());
        let now = jiff::Timestamp::now().as_second().to_string();
        self.kubectl_ok(
            &[
                "annotate",
                "-n",
                namespace,
                "backupshare",
                "--all",
                "--overwrite",
                &format!("coffer.dev/reconcile-requested-at={now}"),
            ],
            None,
        );
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}
