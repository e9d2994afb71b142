//! An in-memory [`CbrVaultApi`] for unit tests: vaults in a `Vec`, every call
//! recorded as `verb id` so a test can assert exactly which requests a step
//! made, and a way to make the next call fail. End-to-end tests use the
//! emulator instead, which speaks CBR over HTTP.

use std::sync::Mutex;

use async_trait::async_trait;

use super::ProviderError;
use super::huawei::cbr::{CbrVaultApi, Tag, Vault, VaultCreate, VaultResource, VaultUpdate};

#[derive(Default)]
struct State {
    vaults: Vec<Vault>,
    calls: Vec<String>,
    fail_next: Option<ProviderError>,
}

/// Vaults in memory.
#[derive(Default)]
pub struct MemoryVaults {
    state: Mutex<State>,
}

impl MemoryVaults {
    /// A fake that already holds `vaults`.
    pub fn with(vaults: Vec<Vault>) -> Self {
        let fake = Self::default();
        fake.lock().vaults = vaults;
        fake
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every call so far, as `verb id`.
    pub fn calls(&self) -> Vec<String> {
        self.lock().calls.clone()
    }

    /// Makes the next call fail with `error`.
    pub fn fail_next(&self, error: ProviderError) {
        self.lock().fail_next = Some(error);
    }

    /// Records `call` and fails it if asked to.
    fn begin(&self, call: String) -> Result<std::sync::MutexGuard<'_, State>, ProviderError> {
        let mut state = self.lock();
        state.calls.push(call);
        match state.fail_next.take() {
            Some(error) => Err(error),
            None => Ok(state),
        }
    }
}

fn find<'a>(state: &'a mut State, id: &str) -> Result<&'a mut Vault, ProviderError> {
    state
        .vaults
        .iter_mut()
        .find(|v| v.id == id)
        .ok_or_else(|| ProviderError::NotFound {
            what: format!("vault {id}"),
            message: "BackupService.6105 Vault Not Found".into(),
        })
}

/// Sets `field` to `value` when there is one, as a partial update does.
fn set<T: Clone>(field: &mut T, value: &Option<T>) {
    if let Some(value) = value {
        *field = value.clone();
    }
}

#[async_trait]
impl CbrVaultApi for MemoryVaults {
    async fn create(&self, req: &VaultCreate) -> Result<Vault, ProviderError> {
        let mut state = self.begin(format!("create {}", req.name))?;
        let vault = Vault {
            id: format!("v{}", state.vaults.len() + 1),
            name: req.name.clone(),
            status: "available".into(),
            size_gb: req.size_gb,
            tags: req.tags.clone(),
            ..Vault::default()
        };
        state.vaults.push(vault.clone());
        Ok(vault)
    }

    async fn get(&self, id: &str) -> Result<Vault, ProviderError> {
        let mut state = self.begin(format!("get {id}"))?;
        find(&mut state, id).map(|v| v.clone())
    }

    async fn find_by_name(&self, name: &str) -> Result<Vec<Vault>, ProviderError> {
        let state = self.begin(format!("find {name}"))?;
        Ok(state
            .vaults
            .iter()
            .filter(|v| v.name == name)
            .cloned()
            .collect())
    }

    async fn update(&self, id: &str, u: &VaultUpdate) -> Result<Vault, ProviderError> {
        let mut state = self.begin(format!("update {id}"))?;
        let v = find(&mut state, id)?;
        set(&mut v.name, &u.name);
        set(&mut v.consistent_level, &u.consistent_level);
        set(&mut v.size_gb, &u.size_gb);
        set(&mut v.auto_bind, &u.auto_bind);
        set(&mut v.bind_rules, &u.bind_rules);
        set(&mut v.auto_expand, &u.auto_expand);
        set(&mut v.smn_notify, &u.smn_notify);
        set(&mut v.threshold, &u.threshold);
        set(&mut v.locked, &u.locked);
        Ok(v.clone())
    }

    async fn delete(&self, id: &str) -> Result<(), ProviderError> {
        let mut state = self.begin(format!("delete {id}"))?;
        find(&mut state, id)?;
        state.vaults.retain(|v| v.id != id);
        Ok(())
    }

    async fn add_tags(&self, id: &str, tags: &[Tag]) -> Result<(), ProviderError> {
        let mut state = self.begin(format!("add_tags {id}"))?;
        let v = find(&mut state, id)?;
        for tag in tags {
            v.tags.retain(|t| t.key != tag.key);
            v.tags.push(tag.clone());
        }
        Ok(())
    }

    async fn remove_tags(&self, id: &str, tags: &[Tag]) -> Result<(), ProviderError> {
        let mut state = self.begin(format!("remove_tags {id}"))?;
        find(&mut state, id)?
            .tags
            .retain(|t| !tags.iter().any(|r| r.key == t.key));
        Ok(())
    }

    async fn add_resources(&self, id: &str, _r: &[VaultResource]) -> Result<(), ProviderError> {
        // Like CBR, the association shows up later; this fake never shows it.
        let mut state = self.begin(format!("add_resources {id}"))?;
        find(&mut state, id).map(|_| ())
    }

    async fn remove_resources(&self, id: &str, ids: &[String]) -> Result<(), ProviderError> {
        let mut state = self.begin(format!("remove_resources {id}"))?;
        find(&mut state, id)?
            .resources
            .retain(|r| !ids.contains(&r.id));
        Ok(())
    }

    async fn check_credentials(&self) -> Result<(), ProviderError> {
        self.begin("check".into()).map(|_| ())
    }
}
