//! An in-memory [`VaultApi`]: the provider that unit and integration tests
//! run the controllers against when HTTP is beside the point. It behaves
//! like CBR where a controller can tell — deletion and resource association
//! finish a call later, a create can succeed while its answer is lost — and
//! it records every call, typed, so a test can assert exactly which requests
//! were made.

use std::sync::Mutex;

use async_trait::async_trait;
use rand::Rng;

use super::vault::ObservedVaultResource;
use super::{ProviderError, Tag, Vault, VaultApi, VaultCreate, VaultResource, VaultUpdate};

/// A call the fake received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recorded {
    Create(VaultCreate),
    Get(String),
    FindByName(String),
    Update(String, VaultUpdate),
    Delete(String),
    AddTags(String, Vec<Tag>),
    RemoveTags(String, Vec<Tag>),
    AddResources(String, Vec<VaultResource>),
    RemoveResources(String, Vec<String>),
    CheckCredentials,
}

impl Recorded {
    /// Whether the call changes something at the provider.
    pub fn is_write(&self) -> bool {
        !matches!(
            self,
            Self::Get(_) | Self::FindByName(_) | Self::CheckCredentials
        )
    }

    /// `verb id`, for compact assertions.
    pub fn short(&self) -> String {
        match self {
            Self::Create(c) => format!("create {}", c.name),
            Self::Get(id) => format!("get {id}"),
            Self::FindByName(name) => format!("find {name}"),
            Self::Update(id, _) => format!("update {id}"),
            Self::Delete(id) => format!("delete {id}"),
            Self::AddTags(id, _) => format!("add_tags {id}"),
            Self::RemoveTags(id, _) => format!("remove_tags {id}"),
            Self::AddResources(id, _) => format!("add_resources {id}"),
            Self::RemoveResources(id, _) => format!("remove_resources {id}"),
            Self::CheckCredentials => "check".to_string(),
        }
    }
}

/// Sets `field` to `value` when there is one, as a partial update does.
fn set<T: Clone>(field: &mut T, value: &Option<T>) {
    if let Some(value) = value {
        *field = value.clone();
    }
}

#[derive(Default)]
struct State {
    vaults: Vec<Vault>,
    /// Resources added, shown from the next read on.
    associating: Vec<(String, VaultResource)>,
    calls: Vec<Recorded>,
    fail_next: Option<ProviderError>,
    /// Share of calls (0.0 to 1.0) that fail with a retryable error.
    failure_ratio: f64,
    lose_next_create_answer: bool,
}

/// Vaults in memory.
#[derive(Default)]
pub struct MemoryVaults {
    state: Mutex<State>,
}

impl MemoryVaults {
    pub fn new() -> Self {
        Self::default()
    }

    /// A fake that already holds `vaults`.
    pub fn with(vaults: Vec<Vault>) -> Self {
        let fake = Self::default();
        fake.lock().vaults = vaults;
        fake
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every call so far, in order.
    pub fn recorded(&self) -> Vec<Recorded> {
        self.lock().calls.clone()
    }

    /// Every call so far as `verb id`.
    pub fn calls(&self) -> Vec<String> {
        self.lock().calls.iter().map(Recorded::short).collect()
    }

    /// The calls that changed something.
    pub fn writes(&self) -> Vec<Recorded> {
        self.lock()
            .calls
            .iter()
            .filter(|c| c.is_write())
            .cloned()
            .collect()
    }

    /// The vaults as they are now.
    pub fn vaults(&self) -> Vec<Vault> {
        self.lock().vaults.clone()
    }

    /// Changes a vault behind the controller's back, as a console user would.
    pub fn edit(&self, id: &str, f: impl FnOnce(&mut Vault)) {
        if let Some(v) = self.lock().vaults.iter_mut().find(|v| v.id == id) {
            f(v);
        }
    }

    /// Deletes a vault behind the controller's back.
    pub fn remove(&self, id: &str) {
        self.lock().vaults.retain(|v| v.id != id);
    }

    /// Makes the next call fail with `error`.
    pub fn fail_next(&self, error: ProviderError) {
        self.lock().fail_next = Some(error);
    }

    /// Makes a share of all calls fail with a 5xx or a throttle.
    pub fn fail_randomly(&self, ratio: f64) {
        self.lock().failure_ratio = ratio;
    }

    /// The next create makes the vault but reports a timeout, as when the
    /// answer is lost on the way back.
    pub fn lose_next_create_answer(&self) {
        self.lock().lose_next_create_answer = true;
    }

    /// Records `call`, lets deferred work finish (reads see it from the call
    /// after the one that caused it), and decides whether this call fails.
    fn begin(&self, call: Recorded) -> Result<std::sync::MutexGuard<'_, State>, ProviderError> {
        let mut state = self.lock();
        let reads = matches!(call, Recorded::Get(_) | Recorded::FindByName(_));
        state.calls.push(call);
        if reads {
            settle(&mut state);
        }
        if let Some(error) = state.fail_next.take() {
            return Err(error);
        }
        let ratio = state.failure_ratio;
        if ratio > 0.0 && rand::rng().random_bool(ratio.clamp(0.0, 1.0)) {
            return Err(if rand::rng().random_bool(0.5) {
                ProviderError::Transient {
                    message: "injected 500 Internal Server Error".into(),
                }
            } else {
                ProviderError::Throttled {
                    code: "APIGW.0308".into(),
                    message: "injected 429 Too Many Requests".into(),
                    retry_after: Some(std::time::Duration::from_millis(200)),
                }
            });
        }
        Ok(state)
    }
}

/// Finishes deletions and associations started by earlier calls.
fn settle(state: &mut State) {
    state.vaults.retain(|v| v.status != "deleting");
    for (id, resource) in std::mem::take(&mut state.associating) {
        if let Some(v) = state.vaults.iter_mut().find(|v| v.id == id)
            && !v.resources.iter().any(|r| r.id == resource.id)
        {
            v.resources.push(ObservedVaultResource {
                id: resource.id,
                type_: resource.type_,
                exclude_volumes: resource.exclude_volumes,
                protect_status: Some("available".into()),
            });
        }
    }
}

fn not_found(id: &str) -> ProviderError {
    ProviderError::NotFound {
        what: format!("vault {id}"),
        message: "BackupService.6105 Vault Not Found".into(),
    }
}

fn find<'a>(state: &'a mut State, id: &str) -> Result<&'a mut Vault, ProviderError> {
    state
        .vaults
        .iter_mut()
        .find(|v| v.id == id)
        .ok_or_else(|| not_found(id))
}

fn vault_from(req: &VaultCreate) -> Vault {
    Vault {
        id: uuid::Uuid::new_v4().to_string(),
        name: req.name.clone(),
        description: req.description.clone(),
        status: "available".into(),
        consistent_level: req.consistent_level.clone(),
        object_type: req.object_type.clone(),
        protect_type: req.protect_type.clone(),
        cloud_type: Some(req.cloud_type.clone().unwrap_or_else(|| "public".into())),
        is_multi_az: req.is_multi_az.unwrap_or(false),
        size_gb: req.size_gb,
        allocated_gb: Some(0),
        used_mb: Some(0),
        spec_code: Some(format!(
            "vault.{}.{}.normal",
            req.protect_type, req.object_type
        )),
        created_at: Some(jiff::Timestamp::now().to_string()),
        auto_bind: req.auto_bind.unwrap_or(false),
        bind_rules: req.bind_rules.clone().unwrap_or_default(),
        auto_expand: req.auto_expand.unwrap_or(false),
        smn_notify: req.smn_notify.unwrap_or(true),
        threshold: req.threshold.unwrap_or(80),
        locked: req.locked.unwrap_or(false),
        tags: req.tags.clone(),
        resources: Vec::new(),
        enterprise_project_id: Some(
            req.enterprise_project_id
                .clone()
                .unwrap_or_else(|| "0".into()),
        ),
    }
}

#[async_trait]
impl VaultApi for MemoryVaults {
    async fn create(&self, req: &VaultCreate) -> Result<Vault, ProviderError> {
        let mut state = self.begin(Recorded::Create(req.clone()))?;
        let vault = vault_from(req);
        state.vaults.push(vault.clone());
        state
            .associating
            .extend(req.resources.iter().map(|r| (vault.id.clone(), r.clone())));
        if std::mem::take(&mut state.lose_next_create_answer) {
            return Err(ProviderError::Transient {
                message: "timed out waiting for the answer".into(),
            });
        }
        Ok(vault)
    }

    async fn get(&self, id: &str) -> Result<Vault, ProviderError> {
        let mut state = self.begin(Recorded::Get(id.into()))?;
        find(&mut state, id).map(|v| v.clone())
    }

    async fn find_by_name(&self, name: &str) -> Result<Vec<Vault>, ProviderError> {
        let state = self.begin(Recorded::FindByName(name.into()))?;
        Ok(state
            .vaults
            .iter()
            .filter(|v| v.name == name)
            .cloned()
            .collect())
    }

    async fn update(&self, id: &str, u: &VaultUpdate) -> Result<Vault, ProviderError> {
        let mut state = self.begin(Recorded::Update(id.into(), u.clone()))?;
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
        let mut state = self.begin(Recorded::Delete(id.into()))?;
        find(&mut state, id)?.status = "deleting".into();
        Ok(())
    }

    async fn add_tags(&self, id: &str, tags: &[Tag]) -> Result<(), ProviderError> {
        let mut state = self.begin(Recorded::AddTags(id.into(), tags.to_vec()))?;
        let v = find(&mut state, id)?;
        for tag in tags {
            v.tags.retain(|t| t.key != tag.key);
            v.tags.push(tag.clone());
        }
        Ok(())
    }

    async fn remove_tags(&self, id: &str, tags: &[Tag]) -> Result<(), ProviderError> {
        let mut state = self.begin(Recorded::RemoveTags(id.into(), tags.to_vec()))?;
        find(&mut state, id)?
            .tags
            .retain(|t| !tags.iter().any(|r| r.key == t.key));
        Ok(())
    }

    async fn add_resources(&self, id: &str, r: &[VaultResource]) -> Result<(), ProviderError> {
        let mut state = self.begin(Recorded::AddResources(id.into(), r.to_vec()))?;
        find(&mut state, id)?;
        state
            .associating
            .extend(r.iter().map(|r| (id.to_string(), r.clone())));
        Ok(())
    }

    async fn remove_resources(&self, id: &str, ids: &[String]) -> Result<(), ProviderError> {
        let mut state = self.begin(Recorded::RemoveResources(id.into(), ids.to_vec()))?;
        find(&mut state, id)?
            .resources
            .retain(|r| !ids.contains(&r.id));
        Ok(())
    }

    async fn check_credentials(&self) -> Result<(), ProviderError> {
        self.begin(Recorded::CheckCredentials).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(name: &str) -> VaultCreate {
        VaultCreate {
            name: name.into(),
            consistent_level: "crash_consistent".into(),
            object_type: "server".into(),
            protect_type: "backup".into(),
            size_gb: 100,
            resources: vec![VaultResource {
                id: "srv-1".into(),
                type_: "OS::Nova::Server".into(),
                exclude_volumes: vec![],
            }],
            ..VaultCreate::default()
        }
    }

    #[tokio::test]
    async fn deletion_and_association_finish_one_read_later() {
        let fake = MemoryVaults::new();
        let v = fake.create(&request("a")).await.expect("created");
        assert!(v.resources.is_empty());
        assert_eq!(fake.get(&v.id).await.expect("read").resources.len(), 1);
        fake.delete(&v.id).await.expect("deleting");
        assert!(fake.get(&v.id).await.is_err_and(|e| e.is_not_found()));
    }

    #[tokio::test]
    async fn a_lost_create_answer_still_creates() {
        let fake = MemoryVaults::new();
        fake.lose_next_create_answer();
        assert!(fake.create(&request("a")).await.is_err());
        assert_eq!(fake.find_by_name("a").await.expect("listed").len(), 1);
    }
}
