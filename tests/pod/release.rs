//! The release as a user meets it: `make release` to a real OCI registry on
//! loopback (CNCF Distribution's `registry`, built from its Go module by
//! `scripts/install-tools.sh registry`), then the README's `helm install
//! coffer oci://…` against a real API server, and the installed Deployment's
//! pod run from the image pulled from that registry by digest, until Ready.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::Api;

use crate::chart::Render;
use crate::cluster::Cluster;
use crate::podman::{free_port, podman};
use crate::{prober, start_replica, wait_ready};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The registry binary: `DISTRIBUTION_REGISTRY`, or where
/// `scripts/install-tools.sh` caches it (`make tools` builds it).
fn registry_binary() -> PathBuf {
    if let Ok(path) = std::env::var("DISTRIBUTION_REGISTRY") {
        return PathBuf::from(path);
    }
    let out = Command::new(root().join("scripts/install-tools.sh"))
        .arg("env")
        .output()
        .expect("scripts/install-tools.sh env");
    let env = String::from_utf8_lossy(&out.stdout);
    let path = env
        .lines()
        .find_map(|l| l.strip_prefix("DISTRIBUTION_REGISTRY="))
        .expect("install-tools.sh names the registry binary");
    let path = PathBuf::from(path);
    assert!(
        path.exists(),
        "{} is missing: run `make tools` (scripts/install-tools.sh registry)",
        path.display()
    );
    path
}

/// A registry serving plain HTTP on a loopback port; stopped when dropped.
struct Registry {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Registry {
    async fn start() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let port = free_port();
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
                dir.path().join("data").display()
            ),
        )
        .expect("the registry's config");
        let log = std::fs::File::create(dir.path().join("registry.log")).expect("a log file");
        let child = Command::new(registry_binary())
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("starting the registry");
        let registry = Self {
            child,
            port,
            _dir: dir,
        };
        let http = reqwest::Client::new();
        let url = format!("http://127.0.0.1:{port}/v2/");
        let deadline = Instant::now() + Duration::from_secs(30);
        while !http
            .get(&url)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            assert!(
                Instant::now() < deadline,
                "the registry did not answer {url}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        registry
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_installs_from_an_oci_registry_and_its_pod_pulls_the_image_by_digest() {
    let version = env!("CARGO_PKG_VERSION");
    let registry = Registry::start().await;
    let path = format!("127.0.0.1:{}/platform", registry.port);

    // make release, as a maintainer runs it.
    let started = Instant::now();
    let out = Command::new("make")
        .current_dir(root())
        .args([
            "-s",
            "release",
            &format!("VERSION={version}"),
            &format!("REGISTRY={path}"),
            "PLAIN_HTTP=1",
        ])
        .output()
        .expect("running make release");
    let release_time = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "make release failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let command = stdout.lines().last().unwrap_or_default();
    let chart = format!("oci://{path}/charts/coffer");
    assert_eq!(
        command,
        format!(
            "helm install coffer {chart} --version {version} -n coffer-system --create-namespace"
        )
    );
    // The README's install section is that command, for its example registry.
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    assert!(
        readme
            .replace("registry.example.com/platform", &path)
            .contains(command),
        "README.md does not give the install command `make release` prints: {command}"
    );
    let dist = root().join("target/dist").join(version);
    let sums = Command::new("sha256sum")
        .args(["--check", "--strict", "SHA256SUMS"])
        .current_dir(&dist)
        .output()
        .expect("sha256sum");
    assert!(
        sums.status.success(),
        "{}",
        String::from_utf8_lossy(&sums.stdout)
    );
    // The kubectl plugin: krew's manifest names the archive beside it by the
    // sha256 SHA256SUMS gives it (tests/e2e/krew.rs checks the rest).
    let archive = format!("coffer-{version}-linux-amd64.tar.gz");
    let manifest: serde_yaml::Value = serde_yaml::from_str(
        &std::fs::read_to_string(dist.join("coffer.yaml")).expect("the krew manifest"),
    )
    .expect("the krew manifest is YAML");
    let platform = &manifest["spec"]["platforms"][0];
    assert!(
        platform["uri"]
            .as_str()
            .is_some_and(|uri| uri.ends_with(&format!("/{archive}"))),
        "{platform:?}"
    );
    let listed = std::fs::read_to_string(dist.join("SHA256SUMS")).expect("SHA256SUMS");
    let line = format!("{}  {archive}", platform["sha256"].as_str().unwrap_or("-"));
    assert!(
        listed.lines().any(|l| l == line),
        "{line:?} not in {listed}"
    );
    let sbom: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dist.join(format!("coffer-{version}.cdx.json")))
            .expect("the SBOM"),
    )
    .expect("the SBOM is JSON");
    assert_eq!(sbom["bomFormat"], "CycloneDX");
    let crates = sbom["components"].as_array().expect("components");
    assert!(
        crates.iter().any(|c| c["name"] == "kube-runtime"),
        "the SBOM misses kube-runtime"
    );
    let pinned = std::fs::read_to_string(dist.join(format!("coffer-{version}.image")))
        .expect("the image's reference")
        .trim()
        .to_string();
    let digest = pinned
        .rsplit_once('@')
        .map(|(_, d)| d.to_string())
        .expect("image@digest");

    // The README's install command, against a real API server: the
    // release's own chart, from the registry. The test's control plane
    // already serves the CRDs, so the chart leaves them alone.
    let cluster = Cluster::start().await;
    let helm_home = tempfile::tempdir().expect("a temporary directory");
    let mut helm = Command::new(&cluster.cp.binaries.helm);
    helm.args(["install", "coffer", &chart, "--version", version])
        .args(["-n", "coffer-system", "--create-namespace", "--plain-http"])
        .args(["--set", "crds.install=false", "--wait=false"])
        .env("KUBECONFIG", cluster.cp.kubeconfig_path())
        .env("HELM_CACHE_HOME", helm_home.path().join("cache"))
        .env("HELM_CONFIG_HOME", helm_home.path().join("config"))
        .env("HELM_DATA_HOME", helm_home.path().join("data"));
    let out = helm.output().expect("running helm install");
    assert!(
        out.status.success(),
        "helm install from {chart} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let deployments: Api<Deployment> = Api::namespaced(cluster.client.clone(), "coffer-system");
    let deployment = deployments
        .get("coffer")
        .await
        .expect("the installed Deployment");
    let render = Render {
        namespace: "coffer-system".into(),
        objects: vec![],
        deployment,
    };
    let image = render.pod_spec().containers[0]
        .image
        .clone()
        .expect("an image");
    assert_eq!(
        image, pinned,
        "the chart does not pin the released image by digest"
    );

    // The kubelet's pull, by digest, from the registry (plain HTTP).
    let pull = podman(&["pull", "--quiet", "--tls-verify=false", &image]);
    assert!(
        pull.status.success(),
        "podman could not pull {image}: {}",
        String::from_utf8_lossy(&pull.stderr)
    );
    // The store names the image by every digest it was pulled by; the
    // registry's manifest is among them (the local build's own is another).
    let pulled = podman(&[
        "image",
        "inspect",
        "--format",
        "{{range .RepoDigests}}{{println .}}{{end}}",
        &image,
    ]);
    let names = String::from_utf8_lossy(&pulled.stdout);
    assert!(
        names.lines().any(|n| n == image && n.ends_with(&digest)),
        "the store has not pulled {image}: {names}"
    );

    let workdir = tempfile::tempdir().expect("a temporary directory");
    let token = cluster
        .service_account_volume(&render, &workdir.path().join("serviceaccount"))
        .await;
    let pod = start_replica(&render, &cluster, &token);
    let ready_after = wait_ready(&prober(), &pod, Duration::from_secs(60)).await;
    eprintln!(
        "release test figures: make release {:.1} s, pod start to /readyz {} ms",
        release_time.as_secs_f64(),
        ready_after.as_millis()
    );
}
