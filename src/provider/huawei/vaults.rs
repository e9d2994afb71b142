//! [`CbrVaultApi`] over HTTP: every vault call a BackupVault
//! controller makes, in provider-neutral types.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::Method;
use serde::de::DeserializeOwned;

use super::cbr::{CbrVaultApi, Tag, Vault, VaultCreate, VaultResource, VaultUpdate};
use super::client::{Call, CbrClient, HuaweiConnection};
use super::convert::{
    create_to_wire, resource_to_wire, tags_to_wire, update_to_wire, vault_from_wire,
};
use super::errors::undecodable;
use super::transport::Response;
use super::wire::{
    AddResourcesBody, CreateVaultBody, RemoveResourcesBody, TagsActionBody, UpdateVaultBody,
    VaultEnvelope, VaultPage, WireVault,
};
use crate::provider::ProviderError;
use crate::provider::budget::RateBudget;
use crate::provider::listing::{ListCap, Tally};
use crate::provider::metrics::ProviderMetrics;
use crate::provider::snapshot::{Listed, Packed, Snapshot};

/// The largest page CBR serves.
pub const PAGE_LIMIT: u64 = 1000;
/// A listing not ended after this many pages is broken (the server ignoring
/// `offset`), not large: past the snapshot's cap ([`ListCap::SNAPSHOT`]).
pub const MAX_PAGES: usize = 201;
/// `removeresources` takes at most this many ids per call.
const REMOVE_BATCH: usize = 256;

/// Backup vaults in one Huawei Cloud project, through CBR.
#[derive(Debug)]
pub struct HuaweiVaults {
    cbr: CbrClient,
    /// The last listing of every vault of the project, which answers drift
    /// checks (see [`CbrVaultApi::listed`]).
    snapshot: Snapshot<Vault>,
}

impl HuaweiVaults {
    /// Checks the endpoints and the CA bundle; does not call the network.
    /// Calls are not rate limited by coffer.
    pub fn new(
        conn: HuaweiConnection,
        metrics: Arc<ProviderMetrics>,
    ) -> Result<Self, ProviderError> {
        Self::with_budget(conn, metrics, super::transport::unlimited())
    }

    /// As [`Self::new`], with every call waiting for `budget`.
    pub fn with_budget(
        conn: HuaweiConnection,
        metrics: Arc<ProviderMetrics>,
        budget: Arc<RateBudget>,
    ) -> Result<Self, ProviderError> {
        Ok(Self {
            cbr: CbrClient::new(&conn, metrics, budget)?,
            snapshot: Snapshot::default(),
        })
    }

    /// A page of every vault of the project, the largest CBR serves.
    async fn list_all_page(&self, offset: u64) -> Result<(VaultPage, usize), ProviderError> {
        let call = Call::new("list_vaults", Method::GET, "every vault")
            .path(&["vaults"])
            .query(&[
                ("limit", PAGE_LIMIT.to_string()),
                ("offset", offset.to_string()),
            ]);
        let page = |resp: &Response| json::<VaultPage>(resp).map(|page| (page, resp.body.len()));
        self.cbr.call(&call, page).await
    }

    /// Every vault of the project, by id, across all pages, each vault
    /// packed as its page arrives into a map sized by CBR's count: no
    /// listing of structs, and no second copy while it grows.
    async fn list_all(&self) -> Result<Packed<Vault>, ProviderError> {
        let mut all = Packed::default();
        let mut offset = 0;
        let mut tally = Tally::with_cap(ListCap::SNAPSHOT, "vaults");
        for _ in 0..MAX_PAGES {
            let (page, bytes) = self.list_all_page(offset).await?;
            tally.page(page.vaults.len(), bytes)?;
            if let Some(count) = page.count.and_then(|c| usize::try_from(c).ok()) {
                // A count past the list cap is refused by the tally anyway.
                all.reserve(count.min(ListCap::SNAPSHOT.items).saturating_sub(all.len()));
            }
            let next = next_offset(offset, page.vaults.len(), page.count);
            for vault in page.vaults.into_iter().map(vault_from_wire) {
                all.insert(&vault.id, &vault);
            }
            match next {
                Some(n) => offset = n,
                None => return Ok(all),
            }
        }
        Err(ProviderError::Transient {
            message: format!("listing vaults did not end after {MAX_PAGES} pages"),
        })
    }

    /// `result` of a write to vault `id`: whatever it was, a listing from
    /// before it no longer answers for the vault.
    fn wrote<T>(&self, id: &str, result: Result<T, ProviderError>) -> Result<T, ProviderError> {
        self.snapshot.written(id);
        result
    }

    /// A page of vaults, and how many bytes its answer was.
    async fn list_page(
        &self,
        name: &str,
        offset: u64,
    ) -> Result<(VaultPage, usize), ProviderError> {
        let call = Call::new("list_vaults", Method::GET, format!("vaults named {name:?}"))
            .path(&["vaults"])
            .query(&[
                ("name", name.to_string()),
                ("limit", PAGE_LIMIT.to_string()),
                ("offset", offset.to_string()),
            ]);
        let page = |resp: &Response| json::<VaultPage>(resp).map(|page| (page, resp.body.len()));
        self.cbr.call(&call, page).await
    }

    /// A call that returns `{"vault": …}`.
    async fn vault_call(&self, call: Call) -> Result<Vault, ProviderError> {
        let env = self.cbr.call(&call, json::<VaultEnvelope>).await?;
        Ok(vault_from_wire(env.vault))
    }

    async fn tags_action(
        &self,
        operation: &'static str,
        action: &'static str,
        id: &str,
        tags: &[Tag],
    ) -> Result<(), ProviderError> {
        let id = checked_id(id)?;
        if tags.is_empty() {
            return Ok(());
        }
        // Tag paths say `vault`, not `vaults`.
        let call = Call::new(operation, Method::POST, vault_what(id))
            .path(&["vault", id, "tags", "action"])
            .json(&TagsActionBody {
                action,
                tags: tags_to_wire(tags),
            })?;
        self.wrote(id, self.cbr.call(&call, ignore_body).await)
    }
}

fn vault_what(id: &str) -> String {
    format!("vault {id}")
}

/// Checks an id before it goes into a path. Segments are percent-encoded,
/// but an empty id or a dot segment would still address another resource
/// (`vaults/..` is the project), and a 404 there would read as "deleted".
fn checked_id(id: &str) -> Result<&str, ProviderError> {
    if matches!(id.trim(), "" | "." | "..") {
        return Err(ProviderError::Invalid {
            code: "InvalidVaultId".to_string(),
            message: format!("{id:?} is not a vault id"),
        });
    }
    Ok(id)
}

/// Decodes a JSON answer; one that cannot be read is a transient failure.
pub(super) fn json<T: DeserializeOwned>(resp: &Response) -> Result<T, ProviderError> {
    serde_json::from_slice(&resp.body).map_err(|e| undecodable("CBR", &e, &resp.body))
}

pub(super) fn ignore_body(_: &Response) -> Result<(), ProviderError> {
    Ok(())
}

/// Where the page after the one at `offset` starts, or `None` when that page
/// was the last. The next offset counts what was returned, not the limit
/// asked for, in case the server serves smaller pages. When CBR says how
/// many match in total, that decides; without it, only an empty page ends.
pub fn next_offset(offset: u64, page_len: usize, total: Option<i64>) -> Option<u64> {
    if page_len == 0 {
        return None;
    }
    let next = offset + page_len as u64;
    match total {
        Some(total) if next >= u64::try_from(total).unwrap_or(0) => None,
        _ => Some(next),
    }
}

/// Fetches pages (each with the size of its answer) from offset 0 until
/// [`next_offset`] says stop, within [`ListCap::DEFAULT`].
pub async fn collect_pages<F, Fut>(fetch: F) -> Result<Vec<WireVault>, ProviderError>
where
    F: FnMut(u64) -> Fut,
    Fut: Future<Output = Result<(VaultPage, usize), ProviderError>>,
{
    collect_pages_within(ListCap::DEFAULT, fetch).await
}

/// [`collect_pages`] within `cap`.
pub async fn collect_pages_within<F, Fut>(
    cap: ListCap,
    mut fetch: F,
) -> Result<Vec<WireVault>, ProviderError>
where
    F: FnMut(u64) -> Fut,
    Fut: Future<Output = Result<(VaultPage, usize), ProviderError>>,
{
    let mut all = Vec::new();
    let mut offset = 0;
    let mut tally = Tally::with_cap(cap, "vaults");
    for _ in 0..MAX_PAGES {
        let (page, bytes) = fetch(offset).await?;
        tally.page(page.vaults.len(), bytes)?;
        let next = next_offset(offset, page.vaults.len(), page.count);
        all.extend(page.vaults);
        match next {
            Some(n) => offset = n,
            None => return Ok(all),
        }
    }
    Err(ProviderError::Transient {
        message: format!("listing vaults did not end after {MAX_PAGES} pages"),
    })
}

/// The vaults named exactly `name`, each once: CBR's `name` filter may match
/// fuzzily, and a vault created while paging may show up on two pages.
pub fn exact_name_matches(vaults: Vec<WireVault>, name: &str) -> Vec<WireVault> {
    let mut seen = HashSet::new();
    vaults
        .into_iter()
        .filter(|v| v.name.as_deref() == Some(name))
        .filter(|v| seen.insert(v.id.clone()))
        .collect()
}

#[async_trait]
impl CbrVaultApi for HuaweiVaults {
    async fn create(&self, vault: &VaultCreate) -> Result<Vault, ProviderError> {
        let call = Call::new(
            "create_vault",
            Method::POST,
            format!("vault {:?}", vault.name),
        )
        .path(&["vaults"])
        .json(&CreateVaultBody {
            vault: create_to_wire(vault),
        })?;
        let created = self.vault_call(call).await?;
        self.snapshot.written(&created.id);
        Ok(created)
    }

    async fn get(&self, id: &str) -> Result<Vault, ProviderError> {
        let id = checked_id(id)?;
        self.vault_call(Call::new("get_vault", Method::GET, vault_what(id)).path(&["vaults", id]))
            .await
    }

    async fn find_by_name(&self, name: &str) -> Result<Vec<Vault>, ProviderError> {
        let all = collect_pages(|offset| self.list_page(name, offset)).await?;
        Ok(exact_name_matches(all, name)
            .into_iter()
            .map(vault_from_wire)
            .collect())
    }

    async fn update(&self, id: &str, update: &VaultUpdate) -> Result<Vault, ProviderError> {
        let id = checked_id(id)?;
        // Nothing to change: a PUT of `{"vault":{}}` would only risk a 400.
        if update.is_empty() {
            return self.get(id).await;
        }
        let call = Call::new("update_vault", Method::PUT, vault_what(id))
            .path(&["vaults", id])
            .json(&UpdateVaultBody {
                vault: update_to_wire(update),
            })?;
        self.wrote(id, self.vault_call(call).await)
    }

    async fn delete(&self, id: &str) -> Result<(), ProviderError> {
        let id = checked_id(id)?;
        let call = Call::new("delete_vault", Method::DELETE, vault_what(id)).path(&["vaults", id]);
        match self.wrote(id, self.cbr.call(&call, ignore_body).await) {
            Err(e) if e.is_not_found() => Ok(()),
            other => other,
        }
    }

    async fn add_tags(&self, id: &str, tags: &[Tag]) -> Result<(), ProviderError> {
        self.tags_action("add_tags", "create", id, tags).await
    }

    async fn remove_tags(&self, id: &str, tags: &[Tag]) -> Result<(), ProviderError> {
        self.tags_action("remove_tags", "delete", id, tags).await
    }

    async fn add_resources(
        &self,
        id: &str,
        resources: &[VaultResource],
    ) -> Result<(), ProviderError> {
        let id = checked_id(id)?;
        if resources.is_empty() {
            return Ok(());
        }
        let call = Call::new("add_resources", Method::POST, vault_what(id))
            .path(&["vaults", id, "addresources"])
            .json(&AddResourcesBody {
                resources: resources.iter().map(resource_to_wire).collect(),
            })?;
        self.wrote(id, self.cbr.call(&call, ignore_body).await)
    }

    async fn remove_resources(
        &self,
        id: &str,
        resource_ids: &[String],
    ) -> Result<(), ProviderError> {
        let id = checked_id(id)?;
        for batch in resource_ids.chunks(REMOVE_BATCH) {
            let call = Call::new("remove_resources", Method::POST, vault_what(id))
                .path(&["vaults", id, "removeresources"])
                .json(&RemoveResourcesBody {
                    resource_ids: batch.to_vec(),
                })?;
            self.wrote(id, self.cbr.call(&call, ignore_body).await)?;
        }
        Ok(())
    }

    async fn check_credentials(&self) -> Result<(), ProviderError> {
        let call = Call::new("check_credentials", Method::GET, "vaults")
            .path(&["vaults"])
            .query(&[("limit", "1".to_string())]);
        self.cbr.call(&call, json::<VaultPage>).await.map(|_| ())
    }

    async fn listed(&self, id: &str, max_age: Duration) -> Result<Listed<Vault>, ProviderError> {
        self.snapshot.lookup(id, max_age, || self.list_all()).await
    }
}

#[cfg(test)]
#[path = "vaults_tests.rs"]
mod tests;
