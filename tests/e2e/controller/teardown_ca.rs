//! A namespace torn down while its ProviderConfig reaches the cloud over
//! HTTPS with a CA from a `caBundleRef` ConfigMap (trust-manager's way).
//! The namespace controller deletes the ConfigMap with everything else; a
//! coffer restarted midway has no session in memory and can only trust
//! the endpoint, and so delete the vaults, if the ConfigMap is still there.

use std::time::Instant;

use coffer::api::BackupVault;
use coffer::emulator::FaultConfig;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{ListParams, PostParams};
use serde_json::json;

use super::teardown::{delete_namespace, namespace_gone};
use super::tls::{ca, config_when, huawei_over_https};
use super::{Running, eventually};

const HELD: &str = "coffer.dev/credentials-in-use";

#[tokio::test]
async fn teardown_keeps_a_ca_config_map_until_the_vaults_are_deleted_across_a_restart() {
    let mut run = Running::start_bare("teardown-ca").await;
    let config_maps = run.api::<ConfigMap>();
    let trust: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": "trust", "labels": {"coffer.dev/credentials": "true"}},
        "data": {"ca.crt": ca(&run)},
    }))
    .expect("config map");
    config_maps
        .create(&PostParams::default(), &trust)
        .await
        .expect("creating the ConfigMap");
    let reference = json!({"caBundleRef": {"kind": "ConfigMap", "name": "trust", "key": "ca.crt"}});
    huawei_over_https(&run, "cloud", reference).await;
    config_when(&run, "cloud", "True", "CredentialsValid").await;
    let mut ids = Vec::new();
    for name in ["one", "two"] {
        ids.push(run.ready_vault(name, json!({})).await);
    }
    eventually("the ConfigMap held", || async {
        let cm = config_maps.get_opt("trust").await.ok()??;
        cm.metadata
            .finalizers
            .iter()
            .flatten()
            .any(|f| f == HELD)
            .then_some(())
    })
    .await;

    // The cloud refuses everything until the restart, so no vault can be
    // deleted by the coffer that still has the CA in memory.
    let mut refusing = FaultConfig::default();
    refusing.error_rates.insert(503, 1.0);
    run.emulator.set_faults(refusing).expect("faults");
    let started = Instant::now();
    delete_namespace(&run.ns);
    let vaults = run.api::<BackupVault>();
    eventually("a BackupVault being deleted", || async {
        let list = vaults.list(&ListParams::default()).await.ok()?;
        list.items
            .iter()
            .any(|v| v.metadata.deletion_timestamp.is_some())
            .then_some(())
    })
    .await;
    // Killed once the namespace controller has reached the ConfigMap too:
    // deleted it, or marked it deleted while coffer holds it.
    eventually("the ConfigMap deleted or being deleted", || async {
        match config_maps.get_opt("trust").await.ok()? {
            Some(cm) => cm.metadata.deletion_timestamp.map(|_| ()),
            None => Some(()),
        }
    })
    .await;
    run.restart_controllers().await;
    run.emulator
        .set_faults(FaultConfig::default())
        .expect("faults cleared");
    assert!(
        config_maps.get_opt("trust").await.expect("get").is_some(),
        "the CA ConfigMap went before the vaults that need it to reach the cloud"
    );

    let took = namespace_gone(&run, started).await;
    eprintln!("teardown with a CA ConfigMap: {} gone in {took:?}", run.ns);
    let left = run.emulator.vaults().to_string();
    for id in &ids {
        assert!(!left.contains(id.as_str()), "CBR vault {id} is left");
    }
}
