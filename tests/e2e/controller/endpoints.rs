//! Credentials go only where the cluster admin allows. Each test points
//! coffer at a host outside the allowed endpoints: a TCP listener this test
//! runs, which counts every connection it accepts. What reached it is read
//! from the listener itself, never from coffer's log.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use coffer::api::BackupVault;
use kube::api::PostParams;
use serde_json::json;

use super::rackspace::{create_agent_vault, rackspace_objects};
use super::tls::{config_ready, create_config};
use super::{RESYNC, Running, condition, eventually};

/// A listener on loopback that accepts and counts connections, answering
/// nothing.
struct Outsider {
    port: u16,
    accepted: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Outsider {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let port = listener.local_addr().expect("an address").port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counted = accepted.clone();
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                held.push(stream);
            }
        });
        Self {
            port,
            accepted,
            task,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Connections accepted so far; fails the test if the listener died.
    fn accepted(&self) -> usize {
        assert!(!self.task.is_finished(), "the outside listener stopped");
        self.accepted.load(Ordering::SeqCst)
    }
}

/// Waits until `pc` says `EndpointNotAllowed`, naming the pattern to add.
async fn refused_config(run: &Running, pc: &str, pattern: &str) {
    eventually(&format!("ProviderConfig {pc} refused"), || async {
        let (status, reason, message) = config_ready(run, pc).await?;
        (status == "False" && reason == "EndpointNotAllowed" && message.contains(pattern))
            .then_some(())
    })
    .await;
}

/// Waits until BackupVault `name` says `EndpointNotAllowed` in both
/// conditions, naming the pattern to add.
async fn refused_vault(run: &Running, name: &str, pattern: &str) {
    run.vault_when(name, "refused: EndpointNotAllowed", |bv: &BackupVault| {
        ["Ready", "Synced"].iter().all(|t| {
            condition(bv, t).is_some_and(|(s, r, m)| {
                s == "False" && r == "EndpointNotAllowed" && m.contains(pattern)
            })
        })
    })
    .await;
}

#[tokio::test]
async fn a_provider_config_pointing_outside_the_allowed_endpoints_sends_nothing_there() {
    let run = Running::start_bare("ep-outside").await;
    let outsider = Outsider::start().await;
    let c = run.emulator.config().clone();
    // Labelled Secrets holding real credentials, as a namespace has them.
    run.create_secret(
        "cv",
        &[
            ("username", &c.commvault_username),
            ("password", &c.commvault_password),
        ],
    )
    .await;
    run.create_secret(
        "hw",
        &[("accessKey", &c.access_key), ("secretKey", &c.secret_key)],
    )
    .await;
    run.create_secret(
        "rax",
        &[
            ("username", &c.rackspace.username),
            ("apiKey", &c.rackspace.api_key),
        ],
    )
    .await;
    let url = outsider.url();
    create_config(
        &run,
        json!({"name": "cv"}),
        json!({"commvault": {"apiUrl": format!("{url}/commandcenter/api"),
            "credentials": {"secretRef": {"name": "cv"}}}}),
    )
    .await;
    create_config(
        &run,
        json!({"name": "hw"}),
        json!({"huaweiCloud": {"region": c.region, "projectId": c.project_id,
            "endpoints": {"iam": url, "cbr": url},
            "credentials": {"type": "AccessKey", "secretRef": {"name": "hw"}}}}),
    )
    .await;
    create_config(
        &run,
        json!({"name": "rax"}),
        json!({"rackspace": {"identityEndpoint": format!("{url}/v2.0"), "region": "DFW",
            "credentials": {"secretRef": {"name": "rax"}}}}),
    )
    .await;
    let vault: BackupVault = serde_json::from_value(json!({
        "apiVersion": "coffer.dev/v1alpha1", "kind": "BackupVault",
        "metadata": {"name": "outside"},
        "spec": {"providerConfigRef": {"name": "cv"}, "commvault": {
            "name": "outside", "plan": {"id": 3, "name": "s3-plan"}}},
    }))
    .expect("vault");
    run.api::<BackupVault>()
        .create(&PostParams::default(), &vault)
        .await
        .expect("creating the vault");

    let pattern = format!("http://127.0.0.1:{}", outsider.port);
    for pc in ["cv", "hw", "rax"] {
        refused_config(&run, pc, &pattern).await;
    }
    refused_vault(&run, "outside", &pattern).await;
    // Room for a retry or a drift check to try anyway.
    tokio::time::sleep(RESYNC * 3).await;
    assert_eq!(
        outsider.accepted(),
        0,
        "a host outside the allowed endpoints was connected to"
    );
}

#[tokio::test]
async fn a_rackspace_catalog_url_outside_the_allowed_endpoints_gets_no_token() {
    let run = Running::start_bare("ep-catalog").await;
    let outsider = Outsider::start().await;
    // Identity is the emulator (allowed); its catalog sends Cloud Backup
    // elsewhere.
    run.emulator
        .set_rackspace_catalog_base(Some(outsider.url()));
    rackspace_objects(&run, "correct horse battery staple").await;
    create_agent_vault(&run, "vault", json!({})).await;
    let pattern = format!("http://127.0.0.1:{}", outsider.port);
    refused_vault(&run, "vault", &pattern).await;
    tokio::time::sleep(RESYNC * 3).await;
    assert_eq!(
        outsider.accepted(),
        0,
        "the catalog's URL outside the allowed endpoints was connected to"
    );
    assert!(
        run.emulator
            .requests(Some(coffer::emulator::Operation::RaxCreateToken))
            .iter()
            .any(|r| r.status == 200),
        "Identity, which is allowed, was asked for the token"
    );
}
