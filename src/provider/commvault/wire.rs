//! Commvault's REST bodies as they go over the wire (providers.md §6, seed
//! 002). Ids are int32 except `jobId` (int64); `errorCode` is an int in the
//! create answer but an enum string in `addEndpointJob.response` and in
//! 404/500 bodies, so it is read leniently.

use serde::{Deserialize, Serialize};

/// `POST Login`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginRequest<'a> {
    pub username: &'a str,
    /// Base64 of the password, as Commvault wants it.
    pub password: String,
    pub device_id: &'a str,
    pub mode: u8,
    pub client_type: u8,
}

/// The answer to `POST Login`: a token and the user name, or (with HTTP
/// 200 all the same) `errList`.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct LoginResponse {
    pub token: Option<String>,
    pub user_name: Option<String>,
    pub err_list: Vec<ErrEntry>,
    pub is_account_locked: Option<bool>,
}

/// One entry of `errList`.
#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "camelCase", default)]
pub struct ErrEntry {
    pub err_log_message: Option<String>,
    pub error_code: Option<Code>,
}

/// `POST RenewLoginToken`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RenewRequest<'a> {
    pub session_id: &'a str,
    pub device_id: &'a str,
}

/// The answer to `POST RenewLoginToken`.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RenewResponse {
    pub token: Option<String>,
}

/// An error code: a number, or one of Commvault's enum names.
#[derive(Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(untagged)]
pub enum Code {
    Number(i64),
    Name(String),
}

impl Code {
    /// Whether the code says "no error" (`0` or `NO_ERROR`).
    pub fn is_ok(&self) -> bool {
        match self {
            Self::Number(n) => *n == 0,
            Self::Name(s) => s == "NO_ERROR",
        }
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Number(n) => write!(f, "{n}"),
            Self::Name(s) => f.write_str(s),
        }
    }
}

/// The body of a failed call: `{"errorMessage","errorCode"}`.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ErrorBody {
    pub error_message: Option<String>,
    pub error_code: Option<Code>,
}

/// `POST V4/CVS3Store` (seed 002). The emulator reads it too.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CreateStore {
    pub bucket: Bucket,
    pub plan: PlanRef,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cvs3_endpoints: Vec<ClientRef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<UserRef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub user_groups: Vec<GroupRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotate_keys: Option<bool>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Bucket {
    pub client_name: String,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PlanRef {
    pub plan_id: i32,
    pub plan_name: String,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ClientRef {
    pub client_id: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
}

/// An owner: `__type__` must be 13 (a user).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct UserRef {
    #[serde(rename = "userId")]
    pub user_id: i32,
    #[serde(rename = "__type__")]
    pub type_: i32,
}

/// A group: `__type__` must be 15 (a user group).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct GroupRef {
    #[serde(rename = "userGroupId")]
    pub user_group_id: i32,
    #[serde(rename = "__type__")]
    pub type_: i32,
}

/// The `__type__` of a user entity.
pub const USER_TYPE: i32 = 13;
/// The `__type__` of a user-group entity.
pub const GROUP_TYPE: i32 = 15;

/// The answer to `POST V4/CVS3Store`. Success only when
/// `response.errorCode` is 0, whatever the HTTP status said.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct CreateResponse {
    pub response: Option<CreateOutcome>,
    pub add_endpoint_job: Option<EndpointJob>,
    /// Some servers answer a failure at the top level.
    pub error_code: Option<Code>,
    pub error_message: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct CreateOutcome {
    pub entity: Option<ClientRef>,
    pub error_code: Option<Code>,
    pub error_message: Option<String>,
    pub warning_code: Option<Code>,
    pub warning_message: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct EndpointJob {
    pub job_id: Option<i64>,
    pub response: Option<ErrorBody>,
}

/// The answer to `GET V4/cvS3Stores`. Only `name` is documented; coffer
/// also reads the id the store is listed with.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct StoreList {
    #[serde(rename = "CVS3Stores", alias = "cvS3Stores", alias = "cvs3Stores")]
    pub stores: Vec<ListedStore>,
    #[serde(rename = "totalRecords")]
    pub total_records: Option<u64>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "camelCase", default)]
pub struct ListedStore {
    pub name: Option<String>,
    #[serde(alias = "id")]
    pub client_id: Option<i64>,
    pub plan_name: Option<String>,
    pub plan_id: Option<i64>,
}

/// The answer to `GET Job/{id}`: an empty `jobs` means no such job.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct JobList {
    pub jobs: Vec<JobEntry>,
    pub total_records_without_paging: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct JobEntry {
    pub job_summary: Option<JobSummary>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "camelCase", default)]
pub struct JobSummary {
    pub job_id: Option<i64>,
    pub status: Option<String>,
    pub percent_complete: Option<f64>,
    pub pending_reason: Option<String>,
    pub job_start_time: Option<i64>,
    pub job_end_time: Option<i64>,
    pub last_update_time: Option<i64>,
    pub localized_operation_name: Option<String>,
}

/// The answer to `GET Client/{id}` (Client Properties), of which coffer
/// reads the entity and `clientProps.IsDeletedClient`: a retired client
/// with data is kept *deconfigured* and still answers here, while the S3
/// vault list no longer shows it.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ClientPropertiesResponse {
    pub client_properties: Vec<ClientProperties>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ClientProperties {
    pub client: ClientSummary,
    pub client_props: ClientProps,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ClientSummary {
    pub client_entity: ClientEntity,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ClientEntity {
    pub client_id: Option<i64>,
    pub client_name: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ClientProps {
    #[serde(rename = "IsDeletedClient", alias = "isDeletedClient")]
    pub is_deleted_client: Option<bool>,
}
