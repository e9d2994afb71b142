//! One replica of the chart's Deployment, run by podman the way a kubelet
//! would run the pod: the container's image, args and env (the downward API's
//! POD_NAMESPACE and POD_NAME resolved), its user and group, a read-only root
//! filesystem, the capabilities dropped, no privilege escalation, the default
//! seccomp profile, the emptyDir volumes, the service-account token mounted
//! where in-cluster clients look for it, `KUBERNETES_SERVICE_HOST`/`PORT`,
//! and its own network namespace with the declared ports published.
//!
//! Two facts of this machine kind shape the command line (said again where
//! it runs): the runtime is runc with the host's cgroups (hybrid, v1), and a
//! resource limit may not be raised, so the host's own limits are passed
//! explicitly instead of podman's higher defaults. The pod's network is slirp4netns: the host's loopback,
//! where the API server and the emulator listen, is 10.0.2.2 inside it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Container, PodSpec, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// The host's loopback as the pod sees it (slirp4netns' default gateway).
pub const HOST_FROM_POD: &str = "10.0.2.2";
/// The API server's name in its own serving certificate; the pod resolves
/// it to the host, so TLS is checked against the cluster CA as in a cluster.
pub const API_SERVER_NAME: &str = "kubernetes.default.svc";

/// `podman` with the arguments given, its output collected.
pub fn podman(args: &[&str]) -> Output {
    Command::new("podman")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("podman could not be run ({e}): `make image` installs it"))
}

/// Fails, saying why, when podman cannot run a container here; never skips.
pub fn require_image(image: &str) {
    let version = podman(&["version", "--format", "{{.Client.Version}}"]);
    assert!(
        version.status.success(),
        "podman does not run here: {}",
        String::from_utf8_lossy(&version.stderr)
    );
    let exists = podman(&["image", "exists", image]);
    assert!(
        exists.status.success(),
        "the image {image} is not in the local store: run `make image` first"
    );
}

/// What a replica needs besides the pod spec.
pub struct Replica {
    pub pod_name: String,
    pub namespace: String,
    pub api_port: u16,
    /// A directory holding `token`, `ca.crt` and `namespace`.
    pub service_account_dir: PathBuf,
}

/// A running container; removed when dropped.
pub struct Pod {
    pub name: String,
    /// Container port → the host port it is published on.
    pub ports: BTreeMap<i32, u16>,
    pub started: Instant,
    pub container: Container,
}

impl Pod {
    /// `podman run -d` for `spec`'s only container.
    pub fn run(spec: &PodSpec, replica: &Replica) -> Self {
        assert_eq!(
            spec.containers.len(),
            1,
            "the chart's pod runs one container"
        );
        let container = spec.containers[0].clone();
        let mut args: Vec<String> = vec![
            "run".into(),
            "--detach".into(),
            "--name".into(),
            replica.pod_name.clone(),
            "--hostname".into(),
            replica.pod_name.clone(),
            // runc is the runtime this machine kind runs containers with.
            "--runtime".into(),
            "runc".into(),
            // This machine kind refuses to raise a resource limit, and
            // podman's defaults (and its `--ulimit host`) ask for more than
            // the host has: pass the host's own limits explicitly.
            "--ulimit".into(),
            format!("nofile={}", host_limit(libc::RLIMIT_NOFILE, u64::MAX)),
            "--ulimit".into(),
            // podman runs conmon and runc with RLIMIT_NPROC lowered to
            // 32768, which is then the most runc may set.
            format!("nproc={}", host_limit(libc::RLIMIT_NPROC, 32768)),
            "--network".into(),
            "slirp4netns:allow_host_loopback=true".into(),
            "--add-host".into(),
            format!("{API_SERVER_NAME}:{HOST_FROM_POD}"),
            // Logs in a file that `podman logs` reads back, as a kubelet
            // keeps a container's; no journald is needed.
            "--log-driver".into(),
            "k8s-file".into(),
        ];
        args.extend(security_args(spec, &container));
        args.extend(volume_args(spec, &container, &replica.service_account_dir));
        for (name, value) in env(&container, replica) {
            args.push("--env".into());
            args.push(format!("{name}={value}"));
        }
        let mut ports = BTreeMap::new();
        for port in container.ports.iter().flatten() {
            let host = free_port();
            ports.insert(port.container_port, host);
            args.push("--publish".into());
            args.push(format!("127.0.0.1:{host}:{}", port.container_port));
        }
        let image = container
            .image
            .clone()
            .expect("the container names an image");
        args.push(image);
        // A container's `command` replaces the entrypoint, `args` the CMD.
        assert!(
            container.command.is_none(),
            "the chart runs the image's entrypoint"
        );
        args.extend(container.args.iter().flatten().cloned());

        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let started = Instant::now();
        let out = podman(&refs);
        assert!(
            out.status.success(),
            "podman run {}: {}",
            replica.pod_name,
            String::from_utf8_lossy(&out.stderr)
        );
        Self {
            name: replica.pod_name.clone(),
            ports,
            started,
            container,
        }
    }

    /// The host port a probe's port (a name or a number) is published on.
    pub fn probe_url(&self, probe: &Probe) -> String {
        let get = probe.http_get.as_ref().expect("an HTTP probe");
        let port = match &get.port {
            IntOrString::Int(n) => *n,
            IntOrString::String(name) => {
                self.container
                    .ports
                    .iter()
                    .flatten()
                    .find(|p| p.name.as_deref() == Some(name))
                    .unwrap_or_else(|| panic!("no container port named {name}"))
                    .container_port
            }
        };
        let host = self.ports[&port];
        format!(
            "http://127.0.0.1:{host}{}",
            get.path.as_deref().unwrap_or("/")
        )
    }

    pub fn logs(&self) -> String {
        let out = podman(&["logs", &self.name]);
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }

    pub fn running(&self) -> bool {
        let out = podman(&["inspect", "--format", "{{.State.Running}}", &self.name]);
        String::from_utf8_lossy(&out.stdout).trim() == "true"
    }

    /// Sends a signal to the container's main process, as the kubelet does
    /// on a pod's deletion.
    pub fn signal(&self, signal: &str) {
        let out = podman(&["kill", "--signal", signal, &self.name]);
        assert!(
            out.status.success(),
            "podman kill {}: {}",
            self.name,
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Waits up to `limit` for the container to exit; its exit code.
    pub fn wait_exit(&self, limit: Duration) -> Option<i32> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if !self.running() {
                let out = podman(&["inspect", "--format", "{{.State.ExitCode}}", &self.name]);
                return String::from_utf8_lossy(&out.stdout).trim().parse().ok();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Pod {
    fn drop(&mut self) {
        let _ = podman(&["rm", "--force", "--time", "0", &self.name]);
    }
}

/// The pod's and the container's securityContext as podman flags. Only
/// what the chart sets is translated; anything else fails the test, so a
/// new setting in the chart cannot go untested.
fn security_args(spec: &PodSpec, container: &Container) -> Vec<String> {
    let pod = spec.security_context.clone().unwrap_or_default();
    let ctx = container.security_context.clone().unwrap_or_default();
    let user = ctx.run_as_user.or(pod.run_as_user);
    let group = ctx.run_as_group.or(pod.run_as_group);
    let non_root = ctx.run_as_non_root.or(pod.run_as_non_root) == Some(true);
    let mut args = Vec::new();
    if let Some(user) = user {
        assert!(!non_root || user != 0, "runAsNonRoot with uid 0");
        args.push("--user".into());
        args.push(match group {
            Some(g) => format!("{user}:{g}"),
            None => user.to_string(),
        });
    } else {
        // The kubelet checks the image's USER against runAsNonRoot; the
        // chart always sets the uid, so this is not reached.
        assert!(!non_root, "runAsNonRoot without runAsUser");
    }
    if ctx.read_only_root_filesystem == Some(true) {
        // Only the pod's own volumes are writable, not podman's extra tmpfs.
        args.push("--read-only".into());
        args.push("--read-only-tmpfs=false".into());
    }
    if ctx.allow_privilege_escalation == Some(false) {
        args.push("--security-opt".into());
        args.push("no-new-privileges".into());
    }
    if let Some(caps) = &ctx.capabilities {
        for cap in caps.drop.iter().flatten() {
            args.push(format!("--cap-drop={}", cap.to_lowercase()));
        }
        for cap in caps.add.iter().flatten() {
            args.push(format!("--cap-add={}", cap.to_lowercase()));
        }
    }
    let seccomp = ctx.seccomp_profile.or(pod.seccomp_profile);
    if let Some(profile) = seccomp {
        // RuntimeDefault is podman's default profile, which applies unless
        // told otherwise.
        assert_eq!(profile.type_, "RuntimeDefault", "only RuntimeDefault");
    }
    args
}

/// The pod's volumes as mounts: an emptyDir is a fresh tmpfs (world-
/// writable, as the kubelet makes it); the service-account token is
/// mounted read-only where in-cluster clients read it.
fn volume_args(spec: &PodSpec, container: &Container, sa_dir: &Path) -> Vec<String> {
    let mut args = Vec::new();
    for mount in container.volume_mounts.iter().flatten() {
        let volume = spec
            .volumes
            .iter()
            .flatten()
            .find(|v| v.name == mount.name)
            .unwrap_or_else(|| panic!("no volume {}", mount.name));
        assert!(
            volume.empty_dir.is_some(),
            "volume {} is not an emptyDir: teach the pod test to mount it",
            volume.name
        );
        args.push("--mount".into());
        args.push(format!(
            "type=tmpfs,destination={},tmpfs-mode=1777",
            mount.mount_path
        ));
    }
    if spec.automount_service_account_token != Some(false) {
        args.push("--volume".into());
        args.push(format!(
            "{}:/var/run/secrets/kubernetes.io/serviceaccount:ro",
            sa_dir.display()
        ));
    }
    args
}

/// The container's environment as the kubelet sets it: the service
/// variables, then the declared env with the downward API resolved.
fn env(container: &Container, replica: &Replica) -> Vec<(String, String)> {
    let mut env = vec![
        (
            "KUBERNETES_SERVICE_HOST".to_string(),
            API_SERVER_NAME.to_string(),
        ),
        (
            "KUBERNETES_SERVICE_PORT".to_string(),
            replica.api_port.to_string(),
        ),
    ];
    for var in container.env.iter().flatten() {
        let value = match (&var.value, &var.value_from) {
            (Some(v), None) => v.clone(),
            (None, Some(from)) => {
                let field = from
                    .field_ref
                    .as_ref()
                    .unwrap_or_else(|| panic!("{}: only fieldRef is supported", var.name));
                match field.field_path.as_str() {
                    "metadata.namespace" => replica.namespace.clone(),
                    "metadata.name" => replica.pod_name.clone(),
                    other => panic!("{}: fieldRef {other} is not supported", var.name),
                }
            }
            (None, None) => String::new(),
            (Some(_), Some(_)) => panic!("{}: both value and valueFrom", var.name),
        };
        env.push((var.name.clone(), value));
    }
    env
}

/// The host's `soft:hard` limit of `resource`, at most `cap`.
fn host_limit(resource: libc::__rlimit_resource_t, cap: u64) -> String {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we pass and nothing else.
    let ok = unsafe { libc::getrlimit(resource, &mut limit) } == 0;
    assert!(ok, "getrlimit: {}", std::io::Error::last_os_error());
    format!("{}:{}", limit.rlim_cur.min(cap), limit.rlim_max.min(cap))
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
