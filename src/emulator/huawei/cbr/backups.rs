//! Backups and their share members, as CBR keeps them: a restore point
//! (checkpoint) makes one backup per resource of a vault, `protecting`
//! until the backup delay has passed and `available` after; the owner
//! project adds and removes members, the member project accepts or
//! rejects. Status is computed from the time, so no background task runs.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use uuid::{Builder, Uuid};

use super::model::Resource;
use super::share_error::ShareError;
use crate::provider::huawei::signer::hex_sha256;

/// CBR's provider id of cloud-server backups, the only kind it shares.
pub const SERVER_PROVIDER_ID: &str = "0daac4c5-6707-4851-97ba-169e36266b66";
/// The resource type of a cloud server.
pub const SERVER_TYPE: &str = "OS::Nova::Server";
/// CBR adds 1 to 10 members per call.
pub const MAX_MEMBERS_PER_ADD: usize = 10;

/// A member's state of a share.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberStatus {
    Pending,
    Accepted,
    Rejected,
}

impl MemberStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "pending" => Some(Self::Pending),
            "accepted" => Some(Self::Accepted),
            "rejected" => Some(Self::Rejected),
            _ => None,
        }
    }
}

/// One member of a backup's share.
#[derive(Clone, Debug)]
pub struct MemberRecord {
    /// The share record's own id (not the member id).
    pub id: Uuid,
    pub dest_project_id: String,
    pub status: MemberStatus,
    pub vault_id: Option<String>,
    pub image_id: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Option<Timestamp>,
}

/// A stored backup.
#[derive(Clone, Debug)]
pub struct BackupRecord {
    pub id: Uuid,
    pub project_id: String,
    pub checkpoint_id: Uuid,
    pub vault_id: String,
    pub resource_id: String,
    pub resource_name: String,
    pub resource_type: String,
    pub name: String,
    pub created_at: Timestamp,
    /// When `protecting` turns into `available`.
    pub available_at: Instant,
    pub members: Vec<MemberRecord>,
}

impl BackupRecord {
    pub fn status(&self, now: Instant) -> &'static str {
        if now >= self.available_at {
            "available"
        } else {
            "protecting"
        }
    }

    /// Whether `project` may see the backup: its owner, or a member.
    pub fn visible_to(&self, project: &str) -> bool {
        self.project_id == project || self.members.iter().any(|m| m.dest_project_id == project)
    }
}

/// A checkpoint and the backups it made.
#[derive(Clone, Debug)]
pub struct Checkpoint {
    pub id: Uuid,
    pub vault_id: String,
    pub created_at: Timestamp,
    pub backups: Vec<Uuid>,
}

#[derive(Debug)]
pub struct BackupStore {
    /// By id; a `BTreeMap` keeps listings stable.
    backups: BTreeMap<Uuid, BackupRecord>,
    /// Backups deleted through the API: their members answer with CBR's
    /// 401 quirk, not a 404.
    deleted: HashSet<Uuid>,
    /// Backups made so far per (project, resource), for stable ids.
    made: HashMap<(String, String), u32>,
    /// The project that created each vault: the vault store knows no
    /// projects, and a receiver may accept only into a vault of its own.
    vault_projects: HashMap<String, String>,
    /// Projects known to be in another region.
    other_region: HashSet<String>,
    backup_delay: Duration,
}

impl BackupStore {
    pub fn new(backup_delay: Duration) -> Self {
        Self {
            backups: BTreeMap::new(),
            deleted: HashSet::new(),
            made: HashMap::new(),
            vault_projects: HashMap::new(),
            other_region: HashSet::new(),
            backup_delay,
        }
    }

    /// Makes `project` one of another region, that nothing is shared with.
    pub fn with_other_region(mut self, project: &str) -> Self {
        self.other_region.insert(project.to_string());
        self
    }

    /// Makes one backup per resource of the vault (or of those listed).
    pub fn checkpoint(
        &mut self,
        project_id: &str,
        vault_id: &str,
        resources: &[Resource],
        now: (Timestamp, Instant),
    ) -> Checkpoint {
        let checkpoint = Checkpoint {
            id: Uuid::new_v4(),
            vault_id: vault_id.to_string(),
            created_at: now.0,
            backups: Vec::new(),
        };
        let mut made = Vec::new();
        for resource in resources {
            let id = self.next_backup_id(project_id, &resource.id);
            let type_ = serde_json::to_value(resource.resource_type)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            self.backups.insert(
                id,
                BackupRecord {
                    id,
                    project_id: project_id.to_string(),
                    checkpoint_id: checkpoint.id,
                    vault_id: vault_id.to_string(),
                    resource_id: resource.id.clone(),
                    resource_name: resource.name.clone(),
                    resource_type: type_,
                    name: format!("autobk_{}", &id.simple().to_string()[..4]),
                    created_at: now.0,
                    available_at: now.1 + self.backup_delay,
                    members: Vec::new(),
                },
            );
            made.push(id);
        }
        Checkpoint {
            backups: made,
            ..checkpoint
        }
    }

    /// Records that `project` created vault `vault_id`.
    pub fn note_vault(&mut self, vault_id: &str, project: &str) {
        self.vault_projects
            .insert(vault_id.to_string(), project.to_string());
    }

    /// Whether `project` created vault `vault_id`.
    pub fn vault_of(&self, vault_id: &str, project: &str) -> bool {
        self.vault_projects.get(vault_id).map(String::as_str) == Some(project)
    }

    /// The id of the next backup of `resource` in `project`: the same in
    /// every emulator run, so an example can name the backup the demo
    /// makes. Shaped like CBR's (random, version 4) UUIDs.
    fn next_backup_id(&mut self, project: &str, resource: &str) -> Uuid {
        let n = self
            .made
            .entry((project.to_string(), resource.to_string()))
            .or_insert(0);
        let digest = hex_sha256(format!("{project}/{resource}/{n}").as_bytes());
        *n += 1;
        let mut bytes = [0u8; 16];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&digest[2 * i..2 * i + 2], 16).unwrap_or_default();
        }
        Builder::from_random_bytes(bytes).into_uuid()
    }

    /// The backups `project` may see: its own (`private`), those shared
    /// with it (`shared`), or both (`all_granted`).
    pub fn visible(&self, project: &str, own_type: OwnType) -> impl Iterator<Item = &BackupRecord> {
        self.backups.values().filter(move |b| {
            let own = b.project_id == project;
            let shared = !own && b.visible_to(project);
            match own_type {
                OwnType::Private => own,
                OwnType::Shared => shared,
                OwnType::AllGranted => own || shared,
            }
        })
    }

    /// A backup `project` may see.
    pub fn get(&self, project: &str, id: &str) -> Result<&BackupRecord, ShareError> {
        let uuid = Uuid::try_parse(id).map_err(|_| ShareError::BackupNotFound(id.to_string()))?;
        self.backups
            .get(&uuid)
            .filter(|b| b.visible_to(project))
            .ok_or_else(|| self.missing(uuid, id))
    }

    /// A backup `project` owns, for the owner-only calls.
    fn owned(&mut self, project: &str, id: &str) -> Result<&mut BackupRecord, ShareError> {
        let uuid = Uuid::try_parse(id).map_err(|_| ShareError::BackupNotFound(id.to_string()))?;
        if self.deleted.contains(&uuid) {
            return Err(ShareError::MalformedUrl);
        }
        match self.backups.get_mut(&uuid) {
            Some(b) if b.project_id == project => Ok(b),
            Some(_) => Err(ShareError::NotOwner(id.to_string())),
            None => Err(ShareError::BackupNotFound(id.to_string())),
        }
    }

    /// Deleted backups answer CBR's 401 quirk on their member paths.
    fn missing(&self, uuid: Uuid, id: &str) -> ShareError {
        match self.deleted.contains(&uuid) {
            true => ShareError::MalformedUrl,
            false => ShareError::BackupNotFound(id.to_string()),
        }
    }

    /// Deletes a backup of `project`, with its share.
    pub fn delete(&mut self, project: &str, id: &str) -> Result<(), ShareError> {
        let uuid = self.owned(project, id)?.id;
        self.backups.remove(&uuid);
        self.deleted.insert(uuid);
        Ok(())
    }

    /// Lists a backup's members, for its owner. A deleted backup answers
    /// with the 401 quirk.
    pub fn members(&mut self, project: &str, id: &str) -> Result<&[MemberRecord], ShareError> {
        Ok(&self.owned(project, id)?.members)
    }

    /// Adds 1 to 10 members to an available server backup of `project`.
    pub fn add_members(
        &mut self,
        project: &str,
        id: &str,
        members: &[String],
        now: (Timestamp, Instant),
    ) -> Result<Vec<MemberRecord>, ShareError> {
        if members.is_empty() || members.len() > MAX_MEMBERS_PER_ADD {
            return Err(ShareError::MemberCount {
                given: members.len(),
                limit: MAX_MEMBERS_PER_ADD,
            });
        }
        let foreign = members
            .iter()
            .find(|m| self.other_region.contains(*m))
            .cloned();
        let backup = self.owned(project, id)?;
        if backup.resource_type != SERVER_TYPE {
            return Err(ShareError::NotServerBackup(backup.resource_type.clone()));
        }
        if backup.status(now.1) != "available" {
            return Err(ShareError::NotAvailable(backup.status(now.1)));
        }
        let mut seen = HashSet::new();
        for member in members {
            if !is_project_id(member) {
                return Err(ShareError::BadProjectId(member.clone()));
            }
            if member == project {
                return Err(ShareError::ShareWithSelf);
            }
            if foreign.as_ref() == Some(member) {
                return Err(ShareError::OtherRegion(member.clone()));
            }
            let exists = backup.members.iter().any(|m| &m.dest_project_id == member);
            if exists || !seen.insert(member) {
                return Err(ShareError::MemberExists(member.clone()));
            }
        }
        let added: Vec<MemberRecord> = members
            .iter()
            .map(|m| MemberRecord {
                id: Uuid::new_v4(),
                dest_project_id: m.clone(),
                status: MemberStatus::Pending,
                vault_id: None,
                image_id: None,
                created_at: now.0,
                updated_at: None,
            })
            .collect();
        backup.members.extend(added.iter().cloned());
        Ok(added)
    }

    /// One member record: for the owner, or for that member itself.
    pub fn member(
        &self,
        project: &str,
        id: &str,
        member: &str,
    ) -> Result<&MemberRecord, ShareError> {
        let uuid = Uuid::try_parse(id).map_err(|_| ShareError::BackupNotFound(id.to_string()))?;
        let backup = self
            .backups
            .get(&uuid)
            .ok_or_else(|| self.missing(uuid, id))?;
        if backup.project_id != project && member != project {
            return Err(ShareError::BackupNotFound(id.to_string()));
        }
        backup
            .members
            .iter()
            .find(|m| m.dest_project_id == member)
            .ok_or_else(|| ShareError::MemberNotFound(member.to_string()))
    }

    /// The member's answer: only the member project itself may give it;
    /// accepting needs one of its vaults (`vault_ok` checks that).
    pub fn update_member(
        &mut self,
        project: &str,
        id: &str,
        member: &str,
        answer: Answer,
        vault_ok: impl Fn(&str) -> bool,
        now: Timestamp,
    ) -> Result<MemberRecord, ShareError> {
        let Answer { status, vault_id } = answer;
        let uuid = Uuid::try_parse(id).map_err(|_| ShareError::BackupNotFound(id.to_string()))?;
        if member != project {
            return Err(ShareError::NotMember(project.to_string()));
        }
        let missing = self.missing(uuid, id);
        let backup = self.backups.get_mut(&uuid).ok_or(missing)?;
        let record = backup
            .members
            .iter_mut()
            .find(|m| m.dest_project_id == member)
            .ok_or_else(|| ShareError::MemberNotFound(member.to_string()))?;
        match status {
            MemberStatus::Accepted => {
                let vault = vault_id.ok_or(ShareError::VaultRequired)?;
                if !vault_ok(&vault) {
                    return Err(ShareError::VaultNotFound(vault));
                }
                record
                    .image_id
                    .get_or_insert_with(|| Uuid::new_v4().to_string());
                record.vault_id = Some(vault);
            }
            MemberStatus::Rejected | MemberStatus::Pending => {
                record.vault_id = None;
                record.image_id = None;
            }
        }
        record.status = status;
        record.updated_at = Some(now);
        Ok(record.clone())
    }

    /// Removes a member, for the owner.
    pub fn delete_member(
        &mut self,
        project: &str,
        id: &str,
        member: &str,
    ) -> Result<(), ShareError> {
        let backup = self.owned(project, id)?;
        let before = backup.members.len();
        backup.members.retain(|m| m.dest_project_id != member);
        match backup.members.len() < before {
            true => Ok(()),
            false => Err(ShareError::MemberNotFound(member.to_string())),
        }
    }
}

/// A member's answer: the status, and the vault when accepting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: MemberStatus,
    pub vault_id: Option<String>,
}

/// `own_type` of the backup list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OwnType {
    Private,
    Shared,
    AllGranted,
}

fn is_project_id(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
#[path = "backups_tests.rs"]
mod tests;
