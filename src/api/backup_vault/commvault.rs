//! The `commvault` block of a BackupVault: a Commvault S3 vault (Unified
//! Data Vault) as `POST V4/CVS3Store` takes it (seed 002), and what coffer
//! shows of it and of its endpoint job. Commvault's ids are int32 (the job
//! id is int64), so every id is bounded here, at `kubectl apply`.

use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The largest int32, Commvault's id type.
const INT32_MAX: i64 = i32::MAX as i64;

/// A Commvault S3 vault as the user wants it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommvaultVault {
    /// The vault's name, which is also its S3 bucket name
    /// (`bucket.clientName`). Unique in the CommCell. Cannot be changed:
    /// Commvault documents no S3-vault update.
    #[schemars(length(min = 1, max = 255))]
    #[x_kube(validation = Rule::new("self == oldSelf").message(
        "commvault.name cannot be changed after the vault is created: Commvault has no API to rename an S3 vault."
    ))]
    pub name: String,
    /// The plan the vault uses, by id and name (both required). Cannot be
    /// changed: Commvault documents no S3-vault update.
    #[x_kube(validation = Rule::new("self == oldSelf").message(
        "commvault.plan cannot be changed after the vault is created: Commvault has no API to move an S3 vault to another plan."
    ))]
    pub plan: CommvaultPlanRef,
    /// Clients to configure as the vault's S3 endpoints (`cvs3Endpoints`).
    /// Commvault installs the S3 endpoint package on them in a job that
    /// coffer follows (`status.atProvider.commvault`). Set at creation:
    /// coffer cannot change them afterwards, and the plan says so.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100))]
    #[x_kube(validation = Rule::new("self.all(e, self.exists_one(f, f.clientId == e.clientId))").message(
        "commvault.endpoints must not list the same clientId twice."
    ))]
    pub endpoints: Vec<CommvaultEndpoint>,
    /// Users (by user id) given the S3 plan role and made owners of the
    /// vault. Set at creation, like `endpoints`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100), inner(range(min = 1, max = INT32_MAX)))]
    #[x_kube(validation = Rule::new("self.all(u, self.exists_one(v, v == u))").message(
        "commvault.owners must not list the same user id twice."
    ))]
    pub owners: Vec<i64>,
    /// User groups (by group id) given the S3 plan role and associated
    /// with the vault. Set at creation, like `endpoints`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100), inner(range(min = 1, max = INT32_MAX)))]
    #[x_kube(validation = Rule::new("self.all(g, self.exists_one(h, h == g))").message(
        "commvault.userGroups must not list the same group id twice."
    ))]
    pub user_groups: Vec<i64>,
    /// Rotate the owners' S3 access keys when the vault is created
    /// (`rotateKeys`). Only sent with the create.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotate_keys: Option<bool>,
}

/// A Commvault plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommvaultPlanRef {
    /// The plan's id (`planId`, int32).
    #[schemars(range(min = 1, max = INT32_MAX))]
    pub id: i64,
    /// The plan's name (`planName`).
    #[schemars(length(min = 1, max = 255))]
    pub name: String,
}

/// A client that serves the vault as an S3 endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommvaultEndpoint {
    /// The client's id (`clientId`, int32).
    #[schemars(range(min = 1, max = INT32_MAX))]
    pub client_id: i64,
    /// The client's name, sent along when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub client_name: Option<String>,
}

/// The S3 vault and its endpoint job as coffer last saw them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommvaultVaultObservation {
    /// The vault's client entity id, also `status.externalId`.
    pub client_id: i64,
    /// The vault's name as Commvault lists it.
    pub name: String,
    /// The plan the vault was created with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<CommvaultPlanRef>,
    /// The endpoint clients the vault was created with.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub endpoints: Vec<CommvaultEndpoint>,
    /// The owners the vault was created with.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<i64>,
    /// The user groups the vault was created with.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub user_groups: Vec<i64>,
    /// The job that installs the S3 endpoint package (`addEndpointJob.jobId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<i64>,
    /// The job's status as Commvault words it: `Running`, `Completed`,
    /// `Failed`, `Killed`, `Failed to Start`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_status: Option<String>,
    /// How far the job is, 0 to 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent_complete: Option<i64>,
    /// Why the job is pending or failed, as Commvault says it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_reason: Option<String>,
}
