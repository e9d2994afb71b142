//! The vault store and its time-driven behaviour: DELETE leaves a vault
//! `deleting` for a while, and added or removed resources show up in
//! `vault.resources` only after a delay, as on the real service. Pending
//! changes sit in FIFO queues (the delays are fixed, so due times only grow)
//! and are applied by `settle`, which every caller runs first; no background
//! task is needed and tests control time by passing `now`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use uuid::Uuid;

use super::model::{NewVault, Resource, Tag, VaultRecord};
use super::validate::{self, MAX_RESOURCE_IDS_PER_CALL, MAX_TAGS};
use super::wire::{ResourceCreate, VaultUpdate};
use crate::emulator::huawei::error::CbrError;

/// Most resources one vault holds ("Resources of vault over limit").
pub const MAX_VAULT_RESOURCES: usize = 256;

#[derive(Debug)]
enum Change {
    Add(Resource),
    Remove(String),
}

#[derive(Debug)]
struct Pending {
    due: Instant,
    vault: Uuid,
    change: Change,
}

/// Resource ids queued for one vault, for the admin view.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PendingIds {
    pub add: Vec<String>,
    pub remove: Vec<String>,
}

#[derive(Debug)]
pub struct VaultStore {
    /// By creation sequence, so listing is ordered without sorting.
    vaults: BTreeMap<u64, VaultRecord>,
    seq_by_id: HashMap<Uuid, u64>,
    /// Which vault holds (or is about to hold) each resource: the source of
    /// "already in another vault" and "duplicate resource".
    owners: HashMap<String, Uuid>,
    pending: VecDeque<Pending>,
    deletions: VecDeque<(Instant, Uuid)>,
    next_seq: u64,
    association_delay: Duration,
    delete_delay: Duration,
}

impl VaultStore {
    pub fn new(association_delay: Duration, delete_delay: Duration) -> Self {
        Self {
            vaults: BTreeMap::new(),
            seq_by_id: HashMap::new(),
            owners: HashMap::new(),
            pending: VecDeque::new(),
            deletions: VecDeque::new(),
            next_seq: 0,
            association_delay,
            delete_delay,
        }
    }

    /// Applies every association change and deletion that is due by `now`.
    pub fn settle(&mut self, now: Instant) {
        while self.pending.front().is_some_and(|p| p.due <= now) {
            if let Some(pending) = self.pending.pop_front() {
                self.apply(pending);
            }
        }
        while self.deletions.front().is_some_and(|(due, _)| *due <= now) {
            if let Some((_, id)) = self.deletions.pop_front() {
                self.remove_vault(id);
            }
        }
    }

    fn apply(&mut self, pending: Pending) {
        let Some(vault) = self.get_mut_by_uuid(pending.vault) else {
            // The vault went away first; free a resource it was about to take.
            if let Change::Add(resource) = pending.change {
                self.release(&resource.id, pending.vault);
            }
            return;
        };
        match pending.change {
            Change::Add(resource) => vault.resources.push(resource),
            Change::Remove(id) => {
                vault.resources.retain(|r| r.id != id);
                self.release(&id, pending.vault);
            }
        }
    }

    fn release(&mut self, resource_id: &str, vault: Uuid) {
        if self.owners.get(resource_id) == Some(&vault) {
            self.owners.remove(resource_id);
        }
    }

    /// Drops a vault and frees what it held or was about to hold; only its
    /// own resources and the (short) pending queue are visited.
    fn remove_vault(&mut self, id: Uuid) {
        let Some(record) = self
            .seq_by_id
            .remove(&id)
            .and_then(|seq| self.vaults.remove(&seq))
        else {
            return;
        };
        let mut held: Vec<String> = record.resources.into_iter().map(|r| r.id).collect();
        held.extend(self.pending_ids(id).add);
        for resource_id in held {
            self.release(&resource_id, id);
        }
    }

    /// Newest first, as the list API answers.
    pub fn newest_first(&self) -> impl Iterator<Item = &VaultRecord> {
        self.vaults.values().rev()
    }

    /// A vault of `project` by the id in a path: another project's vault is
    /// not found, as CBR answers.
    pub fn get_in(&self, project: &str, id: &str) -> Result<&VaultRecord, CbrError> {
        self.get(id)
            .ok()
            .filter(|v| v.project_id == project)
            .ok_or(CbrError::VaultNotFound)
    }

    /// Newest first, only `project`'s.
    pub fn newest_first_in<'a>(
        &'a self,
        project: &'a str,
    ) -> impl Iterator<Item = &'a VaultRecord> + 'a {
        self.newest_first().filter(move |v| v.project_id == project)
    }

    /// A vault by the id in a path; an id that is not a UUID names no vault.
    pub fn get(&self, id: &str) -> Result<&VaultRecord, CbrError> {
        let uuid = Uuid::try_parse(id).map_err(|_| CbrError::VaultNotFound)?;
        self.seq_by_id
            .get(&uuid)
            .and_then(|seq| self.vaults.get(seq))
            .ok_or(CbrError::VaultNotFound)
    }

    fn get_mut_by_uuid(&mut self, id: Uuid) -> Option<&mut VaultRecord> {
        let seq = self.seq_by_id.get(&id)?;
        self.vaults.get_mut(seq)
    }

    /// A vault that may be changed: it exists and is not being deleted.
    fn get_changeable(&mut self, id: &str) -> Result<&mut VaultRecord, CbrError> {
        let uuid = self.get(id)?.id;
        let vault = self.get_mut_by_uuid(uuid).ok_or(CbrError::VaultNotFound)?;
        if vault.deleting {
            return Err(CbrError::IllegalStatus {
                allowed: "available",
            });
        }
        Ok(vault)
    }

    /// Refuses resources held by this vault (6104) or another (6103).
    fn check_unowned(&self, resources: &[Resource], vault: Uuid) -> Result<(), CbrError> {
        for resource in resources {
            match self.owners.get(&resource.id) {
                Some(owner) if *owner == vault => {
                    return Err(CbrError::DuplicateResource(resource.id.clone()));
                }
                Some(_) => return Err(CbrError::ResourceInOtherVault(resource.id.clone())),
                None => {}
            }
        }
        Ok(())
    }

    /// Creates a vault; its initial resources are associated at once.
    pub fn create(
        &mut self,
        project_id: &str,
        new: NewVault,
        created_at: Timestamp,
    ) -> Result<&VaultRecord, CbrError> {
        let id = Uuid::new_v4();
        self.check_unowned(&new.resources, id)?;
        for resource in &new.resources {
            self.owners.insert(resource.id.clone(), id);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.seq_by_id.insert(id, seq);
        let record = VaultRecord {
            id,
            project_id: project_id.to_string(),
            created_at,
            deleting: false,
            settings: new.settings,
            resources: new.resources,
            tags: new.tags,
        };
        Ok(self.vaults.entry(seq).or_insert(record))
    }

    pub fn update(&mut self, id: &str, update: VaultUpdate) -> Result<&VaultRecord, CbrError> {
        let vault = self.get_changeable(id)?;
        vault.settings = validate::apply_update(&vault.settings, update)?;
        Ok(vault)
    }

    /// Marks the vault `deleting`; it disappears after the delete delay.
    pub fn delete(&mut self, id: &str, now: Instant) -> Result<(), CbrError> {
        let delay = self.delete_delay;
        let vault = self.get_changeable(id)?;
        vault.deleting = true;
        let uuid = vault.id;
        self.deletions.push_back((now + delay, uuid));
        Ok(())
    }

    /// Queues resources for association and answers their ids at once.
    pub fn add_resources(
        &mut self,
        id: &str,
        bodies: &[ResourceCreate],
        now: Instant,
    ) -> Result<Vec<String>, CbrError> {
        if bodies.is_empty() {
            return Err(CbrError::invalid("resources must not be empty"));
        }
        let vault = self.get_changeable(id)?;
        let (uuid, object_type) = (vault.id, vault.settings.billing.object_type);
        let resources = validate::resources(bodies, object_type, MAX_RESOURCE_IDS_PER_CALL)?;
        self.check_unowned(&resources, uuid)?;
        // Resources on their way out still count until they have left.
        let held = self.get(id)?.resources.len() + self.pending_ids(uuid).add.len();
        if held + resources.len() > MAX_VAULT_RESOURCES {
            return Err(CbrError::TooManyResources {
                limit: MAX_VAULT_RESOURCES,
            });
        }
        let due = now + self.association_delay;
        let ids = resources.iter().map(|r| r.id.clone()).collect();
        for resource in resources {
            self.owners.insert(resource.id.clone(), uuid);
            self.pending.push_back(Pending {
                due,
                vault: uuid,
                change: Change::Add(resource),
            });
        }
        Ok(ids)
    }

    /// Queues resources for dissociation and answers their ids at once.
    /// Each must be held by this vault and not already on its way out.
    pub fn remove_resources(
        &mut self,
        id: &str,
        resource_ids: &[String],
        now: Instant,
    ) -> Result<Vec<String>, CbrError> {
        if !(1..=MAX_RESOURCE_IDS_PER_CALL).contains(&resource_ids.len()) {
            return Err(CbrError::invalid(format!(
                "resource_ids must hold 1 to {MAX_RESOURCE_IDS_PER_CALL} ids"
            )));
        }
        let uuid = self.get_changeable(id)?.id;
        let leaving = self.pending_ids(uuid).remove;
        for (i, resource_id) in resource_ids.iter().enumerate() {
            if resource_ids[..i].contains(resource_id) {
                return Err(CbrError::DuplicateResource(resource_id.clone()));
            }
            if self.owners.get(resource_id) != Some(&uuid) || leaving.contains(resource_id) {
                return Err(CbrError::invalid(format!(
                    "resource {resource_id} is not associated with vault {uuid}"
                )));
            }
        }
        let due = now + self.association_delay;
        for resource_id in resource_ids {
            self.pending.push_back(Pending {
                due,
                vault: uuid,
                change: Change::Remove(resource_id.clone()),
            });
        }
        Ok(resource_ids.to_vec())
    }

    /// Adds tags, replacing the value of a key that exists; at most ten.
    pub fn upsert_tags(&mut self, id: &str, tags: Vec<Tag>) -> Result<(), CbrError> {
        let vault = self.get_changeable(id)?;
        let mut next = vault.tags.clone();
        for tag in tags {
            match next.iter_mut().find(|t| t.key == tag.key) {
                Some(existing) => existing.value = tag.value,
                None => next.push(tag),
            }
        }
        if next.len() > MAX_TAGS {
            return Err(CbrError::invalid(format!(
                "a vault holds at most {MAX_TAGS} tags; this would make {}",
                next.len()
            )));
        }
        vault.tags = next;
        Ok(())
    }

    /// Deletes tags by key; keys that are not there are ignored.
    pub fn delete_tags(&mut self, id: &str, keys: &[String]) -> Result<(), CbrError> {
        let vault = self.get_changeable(id)?;
        vault.tags.retain(|t| !keys.contains(&t.key));
        Ok(())
    }

    /// Resource ids queued for one vault, in queue order.
    pub fn pending_ids(&self, vault: Uuid) -> PendingIds {
        let mut ids = PendingIds::default();
        for pending in self.pending.iter().filter(|p| p.vault == vault) {
            match &pending.change {
                Change::Add(resource) => ids.add.push(resource.id.clone()),
                Change::Remove(id) => ids.remove.push(id.clone()),
            }
        }
        ids
    }
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
