//! Garbage collection of what coffer creates in Kubernetes. The one object
//! it creates is its copy of a Rackspace vault's passphrase,
//! `<vault>-coffer-passphrase`; it is owned by its BackupVault, so the
//! garbage collector (kube-controller-manager) deletes it with the vault,
//! and coffer needs no right to delete Secrets.

use coffer::api::BackupVault;
use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use serde_json::json;

use super::rackspace::{create_agent_vault, encrypted, rackspace_objects};
use super::{Running, eventually};

#[tokio::test]
async fn the_passphrase_copy_is_collected_with_its_backup_vault() {
    let run = Running::start_bare("collected").await;
    rackspace_objects(&run, "correct horse battery staple").await;
    create_agent_vault(&run, "rax", json!({})).await;
    let vault = run.vault_when("rax", "encrypted", encrypted).await;
    let secrets = run.api::<Secret>();
    let copy = secrets
        .get("rax-coffer-passphrase")
        .await
        .expect("coffer's copy of the passphrase");
    let owners = copy.owner_references();
    assert_eq!(owners.len(), 1, "{owners:?}");
    assert_eq!(owners[0].kind, "BackupVault");
    assert_eq!(Some(&owners[0].uid), vault.metadata.uid.as_ref());
    assert_eq!(owners[0].controller, Some(true));

    run.api::<BackupVault>()
        .delete("rax", &Default::default())
        .await
        .expect("deleting the BackupVault");
    eventually("the BackupVault gone", || async {
        run.api::<BackupVault>()
            .get_opt("rax")
            .await
            .ok()?
            .is_none()
            .then_some(())
    })
    .await;
    eventually("the collector deleted the passphrase copy", || async {
        secrets
            .get_opt("rax-coffer-passphrase")
            .await
            .ok()?
            .is_none()
            .then_some(())
    })
    .await;
    // The user's own passphrase Secret is the user's: not owned, not collected.
    assert!(secrets.get_opt("pass").await.expect("get").is_some());
}
