//! Test fixtures: a spec, the vault that matches it, and an in-memory
//! [`VaultApi`] that records every call.

use std::sync::Mutex;

use async_trait::async_trait;

use super::diff::owner_tag;
use crate::api::backup_vault::{
    ConsistentLevel, HuaweiBilling, HuaweiVault, ObjectType, ProtectType,
};
use crate::provider::vault::ObservedVaultResource;
use crate::provider::{
    ProviderError, Tag, Vault, VaultApi, VaultCreate, VaultResource, VaultUpdate,
};

pub const UID: &str = "6f1d2c3b-0000-4000-8000-000000000001";

/// A small server-backup vault with everything optional left out.
pub fn spec() -> HuaweiVault {
    HuaweiVault {
        name: "team-a-vault".into(),
        description: None,
        billing: HuaweiBilling {
            consistent_level: ConsistentLevel::CrashConsistent,
            object_type: ObjectType::Server,
            protect_type: ProtectType::Backup,
            size: 100,
            cloud_type: None,
            is_multi_az: None,
        },
        auto_bind: None,
        bind_rules: None,
        auto_expand: None,
        smn_notify: None,
        threshold: None,
        locked: None,
        tags: None,
        resources: None,
        enterprise_project_id: None,
    }
}

/// The vault CBR reports for [`spec`], with its defaults and the ownership tag.
pub fn vault(id: &str) -> Vault {
    Vault {
        id: id.into(),
        name: "team-a-vault".into(),
        description: None,
        status: "available".into(),
        consistent_level: "crash_consistent".into(),
        object_type: "server".into(),
        protect_type: "backup".into(),
        cloud_type: Some("public".into()),
        is_multi_az: false,
        size_gb: 100,
        allocated_gb: Some(0),
        used_mb: Some(0),
        spec_code: Some("vault.backup.server.normal".into()),
        created_at: Some("2026-01-02T03:04:05Z".into()),
        auto_bind: false,
        bind_rules: vec![],
        auto_expand: false,
        smn_notify: true,
        threshold: 80,
        locked: false,
        tags: vec![owner_tag(UID)],
        resources: vec![],
        enterprise_project_id: Some("0".into()),
    }
}

pub fn resource(id: &str) -> ObservedVaultResource {
    ObservedVaultResource {
        id: id.into(),
        type_: "OS::Nova::Server".into(),
        exclude_volumes: vec![],
        protect_status: Some("available".into()),
    }
}

/// An in-memory vault API. Calls are recorded as short strings (`get v1`,
/// `update v1`) so tests can assert exactly which requests were made.
#[derive(Default)]
pub struct FakeVaults {
    vaults: Mutex<Vec<Vault>>,
    calls: Mutex<Vec<String>>,
    fail_next: Mutex<Option<ProviderError>>,
}

impl FakeVaults {
    pub fn with(vaults: Vec<Vault>) -> Self {
        Self {
            vaults: Mutex::new(vaults),
            ..Self::default()
        }
    }

    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().expect("lock").clone()
    }

    /// Makes the next call fail with `error`.
    pub fn fail_next(&self, error: ProviderError) {
        *self.fail_next.lock().expect("lock") = Some(error);
    }

    fn call(&self, what: String) -> Result<(), ProviderError> {
        self.calls.lock().expect("lock").push(what);
        match self.fail_next.lock().expect("lock").take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn with_vault<T>(&self, id: &str, f: impl FnOnce(&mut Vault) -> T) -> Result<T, ProviderError> {
        let mut vaults = self.vaults.lock().expect("lock");
        let vault =
            vaults
                .iter_mut()
                .find(|v| v.id == id)
                .ok_or_else(|| ProviderError::NotFound {
                    what: "vault".into(),
                    message: id.into(),
                })?;
        Ok(f(vault))
    }
}

#[async_trait]
impl VaultApi for FakeVaults {
    async fn create(&self, req: &VaultCreate) -> Result<Vault, ProviderError> {
        self.call(format!("create {}", req.name))?;
        let mut vaults = self.vaults.lock().expect("lock");
        let mut v = vault(&format!("v{}", vaults.len() + 1));
        v.name = req.name.clone();
        v.size_gb = req.size_gb;
        v.tags = req.tags.clone();
        vaults.push(v.clone());
        Ok(v)
    }

    async fn get(&self, id: &str) -> Result<Vault, ProviderError> {
        self.call(format!("get {id}"))?;
        self.with_vault(id, |v| v.clone())
    }

    async fn find_by_name(&self, name: &str) -> Result<Vec<Vault>, ProviderError> {
        self.call(format!("find {name}"))?;
        Ok(self
            .vaults
            .lock()
            .expect("lock")
            .iter()
            .filter(|v| v.name == name)
            .cloned()
            .collect())
    }

    async fn update(&self, id: &str, u: &VaultUpdate) -> Result<Vault, ProviderError> {
        self.call(format!("update {id}"))?;
        self.with_vault(id, |v| {
            if let Some(size) = u.size_gb {
                v.size_gb = size;
            }
            if let Some(t) = u.threshold {
                v.threshold = t;
            }
            if let Some(name) = &u.name {
                v.name = name.clone();
            }
            v.clone()
        })
    }

    async fn delete(&self, id: &str) -> Result<(), ProviderError> {
        self.call(format!("delete {id}"))?;
        self.vaults.lock().expect("lock").retain(|v| v.id != id);
        Ok(())
    }

    async fn add_tags(&self, id: &str, tags: &[Tag]) -> Result<(), ProviderError> {
        self.call(format!("add_tags {id}"))?;
        self.with_vault(id, |v| {
            for t in tags {
                v.tags.retain(|have| have.key != t.key);
                v.tags.push(t.clone());
            }
        })
    }

    async fn remove_tags(&self, id: &str, tags: &[Tag]) -> Result<(), ProviderError> {
        self.call(format!("remove_tags {id}"))?;
        self.with_vault(id, |v| {
            v.tags.retain(|t| !tags.iter().any(|r| r.key == t.key))
        })
    }

    async fn add_resources(&self, id: &str, r: &[VaultResource]) -> Result<(), ProviderError> {
        self.call(format!("add_resources {id}"))?;
        // Like CBR, the association shows up later: nothing changes now.
        let _ = r;
        Ok(())
    }

    async fn remove_resources(&self, id: &str, ids: &[String]) -> Result<(), ProviderError> {
        self.call(format!("remove_resources {id}"))?;
        self.with_vault(id, |v| v.resources.retain(|r| !ids.contains(&r.id)))
    }

    async fn check_credentials(&self) -> Result<(), ProviderError> {
        self.call("check".into())
    }
}
