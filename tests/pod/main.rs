//! coffer as its users run it: the image `make image` built, started the way
//! the chart's Deployment says (read from `helm template`, never copied by
//! hand), with the chart's ServiceAccount, RBAC and in-cluster
//! configuration, against a real API server and the emulator.
//!
//! Needs podman and the image in the local store (`make image`; `make test`
//! builds it first). Where podman cannot run a container the test fails and
//! says why; it never skips. `release.rs` releases the image and the chart
//! (`make release`) to an OCI registry on loopback and installs from there.

mod chart;
mod cluster;
mod podman;
mod release;

use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::Lease;
use kube::api::Api;

use chart::Render;
use cluster::Cluster;
use podman::{Pod, Replica};

/// The image under test: `COFFER_IMAGE`, or what `make image` tags.
fn image() -> String {
    std::env::var("COFFER_IMAGE")
        .unwrap_or_else(|_| format!("localhost/coffer:{}", env!("CARGO_PKG_VERSION")))
}

/// The chart's values that point it at `image`, and `replicas` pods.
fn image_values(image: &str, replicas: usize) -> Vec<String> {
    let (repository, tag) = image.rsplit_once(':').expect("an image name with a tag");
    vec![
        format!("image.repository={repository}"),
        format!("image.tag={tag}"),
        format!("replicaCount={replicas}"),
        // The emulator, as the pods reach it: an admin's private endpoint.
        format!("allowedEndpoints={{http://{}}}", podman::HOST_FROM_POD),
    ]
}

/// One more replica of the rendered Deployment, named as a ReplicaSet
/// names its pods, with the token volume at `token`.
fn start_replica(render: &Render, cluster: &Cluster, token: &std::path::Path) -> Pod {
    let deployment = render.deployment.metadata.name.as_deref().expect("a name");
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..5];
    Pod::run(
        render.pod_spec(),
        &Replica {
            pod_name: format!("{deployment}-7d9f8c6b5-{suffix}"),
            namespace: render.namespace.clone(),
            api_port: cluster.api_port(),
            service_account_dir: token.to_path_buf(),
        },
    )
}

/// An HTTP client with the kubelet's default probe timeout of one second.
fn prober() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(1))
        .build()
        .expect("an HTTP client")
}

/// GETs `url` as the kubelet's HTTP probe does; true on 2xx or 3xx.
async fn probe(http: &reqwest::Client, url: &str) -> bool {
    http.get(url)
        .header("User-Agent", "kube-probe/1.34")
        .header("Accept", "*/*")
        .send()
        .await
        .is_ok_and(|r| r.status().is_success() || r.status().is_redirection())
}

/// Polls the pod's readiness probe every 50 ms; how long it took from
/// `podman run` to the first success.
async fn wait_ready(http: &reqwest::Client, pod: &Pod, limit: Duration) -> Duration {
    let readiness = pod
        .container
        .readiness_probe
        .as_ref()
        .expect("the chart's container has a readiness probe");
    let url = pod.probe_url(readiness);
    while pod.started.elapsed() < limit {
        if probe(http, &url).await {
            return pod.started.elapsed();
        }
        assert!(pod.running(), "{} exited:\n{}", pod.name, pod.logs());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "{} was not ready after {limit:?}:\n{}",
        pod.name,
        pod.logs()
    );
}

async fn holder(leases: &Api<Lease>) -> Option<String> {
    leases
        .get_opt("coffer-leader")
        .await
        .ok()
        .flatten()
        .and_then(|l| l.spec)
        .and_then(|s| s.holder_identity)
}

/// Nothing in a pod's log is a refusal by the API server: the chart's RBAC
/// grants all coffer does.
fn assert_no_forbidden(pod: &Pod, logs: &str) {
    for line in logs.lines() {
        let lower = line.to_lowercase();
        assert!(
            !lower.contains("forbidden") && !lower.contains(" 403"),
            "{} was refused something the chart's RBAC should grant:\n{line}",
            pod.name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_charts_pods_run_every_example_and_hand_over_on_sigterm() {
    let image = image();
    podman::require_image(&image);
    let cluster = Cluster::start().await;
    // Namespaced mode: the examples' namespace is the one coffer watches,
    // with a Role there and no rights anywhere else.
    let ns = "examples";
    cluster.create_namespace(ns).await;
    let mut values = image_values(&image, 2);
    values.push(format!("watchNamespaces={{{ns}}}"));
    // The shared-credentials example too: ClusterProviderConfigs are off
    // by default with watchNamespaces, and this install turns them on.
    values.push("clusterProviderConfigs.enabled=true".to_string());
    let render = Render::new(
        &cluster.cp.binaries.helm,
        "coffer",
        "coffer-system",
        &values,
    );
    assert_eq!(render.replicas(), 2);
    // Namespaced mode grants nothing cluster-wide but what serving
    // ClusterProviderConfigs needs: reading them and Namespaces.
    let cluster_roles: Vec<_> = render
        .objects
        .iter()
        .filter(|o| o["kind"] == "ClusterRole")
        .filter_map(|o| o["metadata"]["name"].as_str())
        .collect();
    assert_eq!(
        cluster_roles,
        ["coffer-cluster-configs"],
        "namespaced mode rendered another ClusterRole"
    );
    cluster.install(&render).await;
    let workdir = tempfile::tempdir().expect("a temporary directory");
    let token = cluster
        .service_account_volume(&render, &workdir.path().join("serviceaccount"))
        .await;
    let http = prober();

    // Two replicas, as the Deployment asks: one leads, one waits.
    let pods: Vec<Pod> = (0..render.replicas())
        .map(|_| start_replica(&render, &cluster, &token))
        .collect();
    let mut start_to_ready = Vec::new();
    for pod in &pods {
        start_to_ready.push(wait_ready(&http, pod, Duration::from_secs(60)).await);
        let liveness = pod
            .container
            .liveness_probe
            .as_ref()
            .expect("a liveness probe");
        assert!(
            probe(&http, &pod.probe_url(liveness)).await,
            "{} is not live",
            pod.name
        );
    }

    let leases: Api<Lease> = Api::namespaced(cluster.client.clone(), &render.namespace);
    let deadline = Instant::now() + Duration::from_secs(30);
    let leader_name = loop {
        if let Some(h) = holder(&leases).await {
            break h;
        }
        assert!(
            Instant::now() < deadline,
            "no replica took the Lease in 30 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let leader = pods
        .iter()
        .position(|p| p.name == leader_name)
        .unwrap_or_else(|| panic!("the Lease is held by {leader_name}, not a pod of the test"));
    let follower = 1 - leader;

    // The examples of every kind, in the watched namespace, go Ready.
    cluster.apply_examples(ns);
    cluster.wait_ready(ns, "providerconfig", Duration::from_secs(90));
    cluster.wait_ready(ns, "backupvault", Duration::from_secs(120));
    cluster.wait_ready(ns, "agency", Duration::from_secs(120));
    cluster.make_backup_to_share(ns).await;
    cluster.wait_ready(ns, "backupshare", Duration::from_secs(120));
    assert!(
        !pods[follower].logs().contains("\"leading\""),
        "the follower led too:\n{}",
        pods[follower].logs()
    );

    // SIGTERM to the leader, as a kubelet deleting its pod sends: it ends
    // within the grace period and gives the Lease up, and the follower takes
    // over long before the Lease would have expired.
    let signalled = Instant::now();
    pods[leader].signal("SIGTERM");
    let grace = render.termination_grace();
    let code = pods[leader].wait_exit(grace);
    let exited_after = signalled.elapsed();
    assert_eq!(
        code,
        Some(0),
        "the leader did not exit cleanly within {grace:?}:\n{}",
        pods[leader].logs()
    );
    let lease_duration = Duration::from_secs(15);
    let takeover = loop {
        if holder(&leases).await.as_deref() == Some(pods[follower].name.as_str()) {
            break signalled.elapsed();
        }
        assert!(
            signalled.elapsed() < lease_duration,
            "the follower had not taken the Lease {lease_duration:?} after SIGTERM:\n{}",
            pods[follower].logs()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(
        takeover < lease_duration / 2,
        "takeover took {takeover:?}, not well under the {lease_duration:?} Lease"
    );

    // The new leader acts: a requested reconcile is answered.
    let token_value = format!("pod-test-{}", jiff::Timestamp::now().as_second());
    cluster.kubectl_ok(
        &[
            "annotate",
            "-n",
            ns,
            "backupvault",
            "web-servers",
            "--overwrite",
            &format!("coffer.dev/reconcile-requested-at={token_value}"),
        ],
        None,
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let handled = cluster.kubectl_ok(
            &[
                "get",
                "-n",
                ns,
                "backupvault",
                "web-servers",
                "-o",
                "jsonpath={.status.lastHandledReconcileAt}",
            ],
            None,
        );
        if handled == token_value {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new leader did not answer a reconcile request:\n{}",
            pods[follower].logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    pods[follower].signal("SIGTERM");
    assert_eq!(
        pods[follower].wait_exit(grace),
        Some(0),
        "the second leader's exit"
    );
    for pod in &pods {
        assert_no_forbidden(pod, &pod.logs());
    }
    let figures = serde_json::json!({
        "image": image,
        "container_start_to_readyz_ms": start_to_ready.iter().map(|d| d.as_millis()).collect::<Vec<_>>(),
        "sigterm_to_leader_exit_ms": exited_after.as_millis(),
        "sigterm_to_follower_leading_ms": takeover.as_millis(),
        "termination_grace_s": grace.as_secs(),
    });
    eprintln!("pod test figures: {figures}");
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/image");
    let _ = std::fs::create_dir_all(&out);
    let _ = std::fs::write(out.join("pod-test-figures.json"), figures.to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_missing_from_the_role_is_named_in_the_log_not_a_crash_loop() {
    let image = image();
    podman::require_image(&image);
    let cluster = Cluster::start().await;
    let mut render = Render::new(
        &cluster.cp.binaries.helm,
        "coffer-trimmed",
        "coffer-trimmed",
        &image_values(&image, 1),
    );
    // The Role's one rule: the leader-election Lease.
    render.remove_role_rule("leases");
    cluster.install(&render).await;
    let workdir = tempfile::tempdir().expect("a temporary directory");
    let token = cluster
        .service_account_volume(&render, &workdir.path().join("serviceaccount"))
        .await;
    let pod = start_replica(&render, &cluster, &token);
    let http = prober();
    let deadline = Instant::now() + Duration::from_secs(30);
    let line = loop {
        let logs = pod.logs();
        if let Some(line) = logs
            .lines()
            .find(|l| l.contains("forbidden") && l.contains("leases"))
        {
            break line.to_string();
        }
        assert!(pod.running(), "coffer exited:\n{logs}");
        assert!(
            Instant::now() < deadline,
            "no log line names the missing permission:\n{logs}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        line.contains("cannot get resource \\\"leases\\\"")
            || line.contains("cannot get resource \"leases\""),
        "the line does not say which verb on which resource: {line}"
    );
    assert!(
        line.contains("coordination.k8s.io"),
        "nor the API group: {line}"
    );
    // Not a crash loop: still running, still live, a while later.
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert!(pod.running(), "coffer exited:\n{}", pod.logs());
    let liveness = pod
        .container
        .liveness_probe
        .as_ref()
        .expect("a liveness probe");
    assert!(probe(&http, &pod.probe_url(liveness)).await, "not live");
}
