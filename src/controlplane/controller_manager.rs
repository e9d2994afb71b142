//! kube-controller-manager beside the apiserver, so the test cluster does
//! what a real one does when a namespace is deleted (its namespace
//! controller deletes everything in it) and when an owner goes away (its
//! garbage collector deletes what the owner owned). Without it a deleted
//! namespace stays Terminating for ever, and an owned Secret outlives its
//! owner.
//!
//! It signs in with a token of its own, as the user
//! `system:kube-controller-manager` that the apiserver's bootstrap RBAC
//! already binds, and each controller then acts as its own ServiceAccount
//! in `kube-system` (`--use-service-account-credentials`), as kubeadm sets
//! it up: a controller's rights are those of its bootstrap role, not
//! cluster-admin, so a controller that needs a right the cluster lacks
//! fails here as it would in production.

use std::path::Path;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ServiceAccount;
use kube::api::Api;

use super::process::Supervised;
use super::{ControlPlaneError, exited, setup};

/// The controllers a cluster without nodes can run, and that coffer's
/// users rely on: namespace deletion, garbage collection of owned objects,
/// the `default` ServiceAccount of each namespace and its tokens, and the
/// aggregation of ClusterRoles (a chart may ship aggregated roles). Nothing
/// that needs nodes, routes, a cloud or running pods.
pub const CONTROLLERS: &str =
    "namespace,garbagecollector,serviceaccount,serviceaccount-token,clusterrole-aggregation";

/// The user the controller manager signs in as; bootstrap RBAC binds it to
/// the `system:kube-controller-manager` ClusterRole.
pub const USER: &str = "system:kube-controller-manager";

/// How long the controller manager may take to start its controllers on
/// two busy cores.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// The line of the apiserver's static token file for the controller manager.
pub fn token_line(token: &str) -> String {
    format!("{token},{USER},{USER}\n")
}

/// Starts kube-controller-manager against the apiserver at `url`, with its
/// own kubeconfig (written to `dir`) holding `token`.
pub fn spawn(
    program: &Path,
    dir: &Path,
    url: &str,
    token: &str,
    ca_pem: &str,
) -> Result<Supervised, ControlPlaneError> {
    let kubeconfig = dir.join("kube-controller-manager.kubeconfig");
    setup(
        "the controller manager's kubeconfig",
        std::fs::write(
            &kubeconfig,
            super::kubeconfig_yaml(url, token, ca_pem, "kube-controller-manager"),
        ),
    )?;
    let ca_file = dir.join("ca.crt");
    setup("ca.crt", std::fs::write(&ca_file, ca_pem))?;
    setup(
        "kube-controller-manager",
        Supervised::spawn(
            "kube-controller-manager",
            program,
            &[
                format!("--kubeconfig={}", kubeconfig.display()),
                format!("--controllers={CONTROLLERS}"),
                "--use-service-account-credentials=true".into(),
                // One instance: nothing to elect, and no Lease writes.
                "--leader-elect=false".into(),
                // Nothing reads its metrics or health endpoints here; no port
                // to pick means no port to lose to another process.
                "--secure-port=0".into(),
                // The legacy token controller signs with the apiserver's key.
                format!(
                    "--service-account-private-key-file={}",
                    dir.join("sa.key").display()
                ),
                format!("--root-ca-file={}", ca_file.display()),
            ],
            &dir.join("kube-controller-manager.log"),
        ),
    )
}

/// Waits until the controller manager runs its controllers: its
/// ServiceAccount controller has made the `default` ServiceAccount of the
/// `default` namespace, which it can only do once it signed in, got its
/// controllers' credentials and started them.
pub async fn wait_running(
    client: &kube::Client,
    kcm: &mut Supervised,
    log: &Path,
) -> Result<Duration, ControlPlaneError> {
    let start = Instant::now();
    let api: Api<ServiceAccount> = Api::namespaced(client.clone(), "default");
    while start.elapsed() < READY_TIMEOUT {
        if let Some(status) = kcm.exited() {
            return Err(exited("kube-controller-manager", status, log));
        }
        if let Ok(Some(_)) = api.get_opt("default").await {
            return Ok(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Err(ControlPlaneError::ControllersNotRunning(
        READY_TIMEOUT,
        log.to_path_buf(),
    ))
}
