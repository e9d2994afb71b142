//! Both share pairs against an in-memory CBR share fake: which calls each
//! step makes, and what get and find report for each side.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::receiver::vault_of;
use super::receiver_plan::{Desired, Vault};
use super::{OwnerShare, ReceiverShare};
use crate::api::BackupVault;
use crate::api::backup_share::{Decision, LocalVaultRef, ReceiverShare as ReceiverSpec};
use crate::controller::engine::External;
use crate::provider::ProviderError;
use crate::provider::huawei::share::{Backup, CbrShareApi, Member, MemberStatus};

/// One backup's members, or no backup at all; every call is logged.
#[derive(Default)]
struct Fake {
    backup: Mutex<Option<Vec<Member>>>,
    calls: Mutex<Vec<String>>,
}

impl Fake {
    fn with(members: &[&str]) -> Arc<Self> {
        let fake = Self::default();
        *fake.backup.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(members.iter().map(|p| member(p, "pending")).collect());
        Arc::new(fake)
    }

    fn log(&self, call: String) {
        self.calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(call);
    }

    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn members(&self) -> Result<Vec<Member>, ProviderError> {
        self.backup
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| ProviderError::NotFound {
                what: "backup b1".into(),
                message: "gone".into(),
            })
    }
}

fn member(project: &str, status: &str) -> Member {
    Member {
        project_id: project.into(),
        status: status.into(),
        vault_id: None,
        image_id: None,
        updated_at: None,
    }
}

#[async_trait]
impl CbrShareApi for Fake {
    fn project_id(&self) -> &str {
        "p2"
    }
    async fn show_backup(&self, id: &str) -> Result<Backup, ProviderError> {
        self.members().map(|_| Backup {
            id: id.into(),
            status: "available".into(),
            resource_type: "OS::Nova::Server".into(),
            project_id: "p1".into(),
        })
    }
    async fn list_members(&self, _: &str) -> Result<Vec<Member>, ProviderError> {
        self.members()
    }
    async fn add_members(
        &self,
        _: &str,
        projects: &[String],
    ) -> Result<Vec<Member>, ProviderError> {
        self.log(format!("add {}", projects.len()));
        let added: Vec<Member> = projects.iter().map(|p| member(p, "pending")).collect();
        if let Some(members) = self
            .backup
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
        {
            members.extend(added.clone());
        }
        Ok(added)
    }
    async fn remove_member(&self, _: &str, project: &str) -> Result<(), ProviderError> {
        self.log(format!("remove {project}"));
        if let Some(members) = self
            .backup
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
        {
            members.retain(|m| m.project_id != project);
        }
        Ok(())
    }
    async fn show_member(&self, _: &str, project: &str) -> Result<Member, ProviderError> {
        self.members()?
            .into_iter()
            .find(|m| m.project_id == project)
            .ok_or_else(|| ProviderError::NotFound {
                what: "member".into(),
                message: project.into(),
            })
    }
    async fn update_member(
        &self,
        _: &str,
        project: &str,
        status: MemberStatus,
        _: Option<&str>,
    ) -> Result<Member, ProviderError> {
        self.log(format!("update {}", status.as_str()));
        Ok(member(project, status.as_str()))
    }
}

fn owner(fake: &Arc<Fake>, members: &[&str], deleting: bool) -> OwnerShare {
    let members: BTreeSet<String> = members.iter().map(|s| s.to_string()).collect();
    OwnerShare::new("b1".into(), members, deleting, fake.clone())
}

#[tokio::test]
async fn nothing_shared_yet_is_a_create_that_adds_in_calls_of_ten() {
    let fake = Fake::with(&[]);
    let many: Vec<String> = (0..23).map(|i| format!("p{i:02}")).collect();
    let refs: Vec<&str> = many.iter().map(String::as_str).collect();
    let pair = owner(&fake, &refs, false);
    assert!(
        pair.find().await.expect("find").is_empty(),
        "nothing to adopt"
    );
    let created = pair.create().await.expect("created");
    assert_eq!(created.observed.members.len(), 23);
    assert_eq!(fake.calls(), ["add 10", "add 10", "add 3"]);
}

#[tokio::test]
async fn a_deleted_backup_is_observed_not_missing_until_the_object_is_deleted() {
    let fake = Arc::new(Fake::default());
    let observed = owner(&fake, &["a"], false).get("b1").await.expect("read");
    assert!(observed.is_some_and(|o| o.backup.is_none()));
    assert!(
        owner(&fake, &["a"], true)
            .get("b1")
            .await
            .expect("read")
            .is_none()
    );
}

#[tokio::test]
async fn deleting_removes_only_the_spec_members_then_reports_the_share_gone() {
    let fake = Fake::with(&["a", "stranger"]);
    let pair = owner(&fake, &["a"], true);
    let observed = pair.get("b1").await.expect("read").expect("still shared");
    pair.delete(&observed).await.expect("deleted");
    assert_eq!(fake.calls(), ["remove a"]);
    assert!(pair.get("b1").await.expect("read").is_none());
}

#[tokio::test]
async fn a_receiver_always_finds_its_record_and_never_creates() {
    let desired = Desired {
        backup_id: "b1".into(),
        project_id: "p2".into(),
        decision: Decision::Reject,
        vault: Vault::None,
    };
    let pair = ReceiverShare::new(desired.clone(), Fake::with(&[]));
    let found = pair.find().await.expect("find");
    assert!(found.len() == 1 && found[0].owned && found[0].observed.member.is_none());
    let pair = ReceiverShare::new(desired, Fake::with(&["p2"]));
    let found = pair.find().await.expect("find");
    assert!(found[0].observed.member.is_some());
}

fn receiver_spec(
    decision: Decision,
    vault_ref: Option<&str>,
    vault_id: Option<&str>,
) -> ReceiverSpec {
    ReceiverSpec {
        backup_id: "b1".into(),
        decision,
        vault_ref: vault_ref.map(|n| LocalVaultRef { name: n.into() }),
        vault_id: vault_id.map(str::to_string),
    }
}

fn backup_vault(ready: bool) -> BackupVault {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "coffer.dev/v1alpha1", "kind": "BackupVault",
        "metadata": {"name": "in", "namespace": "ns"},
        "spec": {"providerConfigRef": {"name": "c"}},
        "status": {"externalId": "v-in", "conditions": [{
            "type": "Ready", "status": if ready { "True" } else { "False" },
            "reason": "r", "message": "", "lastTransitionTime": "2026-01-01T00:00:00Z"}]},
    }))
    .expect("a BackupVault")
}

#[test]
fn the_vault_to_accept_into_comes_from_the_spec_or_a_ready_vault_ref() {
    let reject = receiver_spec(Decision::Reject, None, None);
    assert_eq!(vault_of(&reject, None), Vault::None);
    let by_id = receiver_spec(Decision::Accept, None, Some("v1"));
    assert_eq!(vault_of(&by_id, None), Vault::Id("v1".into()));
    let by_ref = receiver_spec(Decision::Accept, Some("in"), None);
    assert!(matches!(vault_of(&by_ref, None), Vault::Waiting { .. }));
    assert!(matches!(
        vault_of(&by_ref, Some(&backup_vault(false))),
        Vault::Waiting { .. }
    ));
    assert_eq!(
        vault_of(&by_ref, Some(&backup_vault(true))),
        Vault::Id("v-in".into())
    );
}
