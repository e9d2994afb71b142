//! Commvault's Command Center REST API: S3 vaults (Unified Data Vault,
//! `V4/CVS3Store`) and the jobs that set up their endpoints. One trait,
//! [`S3VaultApi`], in provider-neutral types; `client.rs` holds the session
//! (login, single-flight renewal) and error mapping, `wire.rs` the bodies.

pub mod client;
pub mod errors;
pub mod session;
pub mod vaults;
pub mod wire;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::provider::snapshot::Listed;

pub use client::{CommvaultClient, CommvaultConnection};
pub use vaults::CommvaultVaults;

use super::ProviderError;

/// An S3 vault to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewS3Vault {
    pub name: String,
    pub plan_id: i32,
    pub plan_name: String,
    /// Endpoint clients: id and optional name.
    pub endpoints: Vec<(i32, Option<String>)>,
    pub owners: Vec<i32>,
    pub user_groups: Vec<i32>,
    pub rotate_keys: Option<bool>,
}

/// An S3 vault as Commvault lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct S3Vault {
    /// The vault's client entity id.
    pub client_id: i64,
    pub name: String,
    /// The plan, when the list shows it (undocumented).
    pub plan_name: Option<String>,
}

/// A vault's client as `GET Client/{id}` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3VaultClient {
    pub client_id: i64,
    pub name: String,
    /// Retired (`IsDeletedClient`): deconfigured and no longer listed as an
    /// S3 vault, but not gone; deleting it is what remains.
    pub retired: bool,
}

/// What a create returned: the vault and its endpoint job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreatedS3Vault {
    pub vault: S3Vault,
    /// `addEndpointJob.jobId`, when a job was started.
    pub job_id: Option<i64>,
    /// Why no endpoint job started, when `addEndpointJob.response` says so.
    pub job_refused: Option<String>,
}

/// Where a job is, by its status words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobPhase {
    /// Running, Pending, Waiting, Suspended, ...: not finished.
    Active,
    /// Completed (also "Completed w/ one or more errors") or Committed.
    Completed,
    /// Failed, Killed, Failed to Start.
    Failed,
}

impl JobPhase {
    /// The phase of a job status, the way cvpysdk decides a job finished:
    /// the status contains completed, committed, killed or failed.
    pub fn of(status: &str) -> Self {
        let s = status.to_ascii_lowercase();
        if s.contains("failed") || s.contains("killed") {
            Self::Failed
        } else if s.contains("completed") || s.contains("committed") {
            Self::Completed
        } else {
            Self::Active
        }
    }
}

/// A job as `GET Job/{id}` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    pub id: i64,
    /// Commvault's words: `Running`, `Completed`, `Failed to Start`, ...
    pub status: String,
    pub percent_complete: Option<i64>,
    /// `pendingReason`: why it waits or failed.
    pub reason: Option<String>,
}

impl Job {
    pub fn phase(&self) -> JobPhase {
        JobPhase::of(&self.status)
    }
}

/// S3 vaults on one CommCell.
#[async_trait]
pub trait S3VaultApi: Send + Sync {
    /// `POST V4/CVS3Store`. A 409 (the name is taken) is a
    /// [`ProviderError::Conflict`]; an HTTP 200 whose `response.errorCode`
    /// is not 0 is an error too.
    async fn create(&self, vault: &NewS3Vault) -> Result<CreatedS3Vault, ProviderError>;
    /// Every S3 vault, all pages of `GET V4/cvS3Stores`.
    async fn list(&self) -> Result<Vec<S3Vault>, ProviderError>;
    /// `GET Job/{id}`; `None` when `jobs` is empty.
    async fn job(&self, id: i64) -> Result<Option<Job>, ProviderError>;
    /// `GET Client/{id}`: the vault's client, retired or not; `None` when
    /// Commvault has no such client. The list hides a retired client, so
    /// this is how a delete that stopped halfway is seen.
    async fn read_client(&self, client_id: i64) -> Result<Option<S3VaultClient>, ProviderError>;
    /// Retires the vault's client (unless `retired` says that step is
    /// done), then deletes it (inferred, not documented for S3 vaults).
    /// Already gone is success.
    async fn delete(&self, client_id: i64, retired: bool) -> Result<(), ProviderError>;
    /// One cheap authenticated call, to check the credentials.
    async fn check_credentials(&self) -> Result<(), ProviderError>;
    /// The vault with `client_id` as a list of every S3 vault, at most
    /// `max_age` old, shows it (see [`crate::provider::snapshot`]);
    /// `Duration::ZERO` lists now. Without a kept listing, a list now.
    async fn listed(
        &self,
        client_id: i64,
        _max_age: std::time::Duration,
    ) -> Result<Listed<S3Vault>, ProviderError> {
        let vaults = self.list().await?;
        Ok(
            match vaults.into_iter().find(|v| v.client_id == client_id) {
                Some(vault) => Listed::Found(vault),
                None => Listed::Absent,
            },
        )
    }
}
