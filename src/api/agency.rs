//! `Agency`: a delegation of access to another account or to a cloud service.
//! Today the Huawei Cloud IAM agency (`/v3.0/OS-AGENCY/agencies`) and its role
//! grants; other clouds would join `huaweiCloud` as a one-of.

use std::fmt;

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::managed::{ManagedStatus, ManagementPolicy};
use super::{DeletionPolicy, ProviderConfigRef};

/// An IAM agency that coffer creates, keeps as declared, and deletes.
#[derive(CustomResource, Clone, Debug, PartialEq, Serialize, Deserialize, KubeSchema)]
#[kube(
    group = "coffer.dev",
    version = "v1alpha1",
    kind = "Agency",
    doc = "A delegation of access to another account or a cloud service (today a Huawei Cloud IAM agency and its role grants) that coffer creates, keeps as declared, and deletes.",
    namespaced,
    status = "AgencyStatus",
    shortname = "agency",
    category = "coffer",
    printcolumn = r#"{"name":"READY","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"SYNCED","type":"string","jsonPath":".status.conditions[?(@.type==\"Synced\")].status"}"#,
    printcolumn = r#"{"name":"EXTERNAL-ID","type":"string","jsonPath":".status.externalId"}"#,
    printcolumn = r#"{"name":"AGE","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
    printcolumn = r#"{"name":"POLICY","type":"string","priority":1,"jsonPath":".spec.managementPolicy"}"#,
    printcolumn = r#"{"name":"REASON","type":"string","priority":1,"jsonPath":".status.conditions[?(@.type==\"Synced\")].reason"}"#
)]
#[serde(rename_all = "camelCase")]
// One entry per provider block, as on BackupVault.
#[x_kube(validation = Rule::new("[has(self.huaweiCloud)].exists_one(p, p)").message(
    "spec must set exactly one provider block: huaweiCloud (a Huawei Cloud IAM agency)."
))]
pub struct AgencySpec {
    /// The ProviderConfig, in this namespace, that says where the cloud is
    /// and holds the credentials. Its `huaweiCloud.domainId` is the account
    /// that delegates.
    pub provider_config_ref: ProviderConfigRef,
    /// `Delete` (default) deletes the agency, and with it every grant, when
    /// this object is deleted; `Orphan` leaves it in the cloud.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
    /// `Full` (default): coffer creates, updates and deletes the agency.
    /// `ObserveOnly`: coffer only reads it (import an existing agency with the
    /// `coffer.dev/external-id` annotation) and reports the plan and drift
    /// without acting.
    #[serde(default)]
    pub management_policy: ManagementPolicy,
    /// A Huawei Cloud IAM agency (`/v3.0/OS-AGENCY/agencies`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub huawei_cloud: Option<HuaweiAgency>,
}

/// An IAM agency as the user wants it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("[has(self.trustDomain), has(self.cloudService)].exists_one(p, p)").message(
    "huaweiCloud must set exactly one of trustDomain (another account) and cloudService (a cloud service such as op_svc_evs)."
))]
pub struct HuaweiAgency {
    /// Agency name, 1 to 64 characters, unique in the account. Set at
    /// creation; IAM cannot rename an agency.
    #[schemars(length(min = 1, max = 64))]
    #[x_kube(validation = Rule::new("self == oldSelf").message(
        "huaweiCloud.name cannot be changed after the agency is created: IAM cannot rename an agency."
    ))]
    pub name: String,
    /// Free text, up to 255 characters. Left out, coffer leaves the
    /// agency's description as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 255))]
    pub description: Option<String>,
    /// The account the access is delegated to, by name or by id (exactly one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_domain: Option<TrustDomain>,
    /// A cloud service the access is delegated to, as IAM names it:
    /// `op_svc_` and the service, for example `op_svc_evs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 8, max = 64))]
    #[x_kube(validation = Rule::new("self.matches('^op_svc_[A-Za-z]+$')").message(
        "huaweiCloud.cloudService must be op_svc_ followed by the service's name in letters, such as op_svc_evs."
    ))]
    pub cloud_service: Option<String>,
    /// How long the agency is valid: `Forever` (default), `OneDay`, or a
    /// number of days (at least 1).
    #[serde(default)]
    #[schemars(schema_with = "duration_schema")]
    #[x_kube(validation = Rule::new("type(self) == int ? self >= 1 : self in ['Forever', 'OneDay']").message(
        "huaweiCloud.duration must be Forever, OneDay or a whole number of days of at least 1."
    ))]
    pub duration: AgencyDuration,
    /// Role grants: each a role and one scope. A set: the same role on the
    /// same scope at most once. At most 100 (coffer's bound, which keeps the
    /// uniqueness rule cheap to check).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100))]
    #[x_kube(validation = Rule::new("self.all(g, self.exists_one(h, h.role == g.role && h.scope == g.scope && (has(h.project) ? h.project : '') == (has(g.project) ? g.project : '')))").message(
        "huaweiCloud.roles must not grant the same role on the same scope twice."
    ))]
    pub roles: Vec<RoleGrant>,
}

/// The delegated account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[x_kube(validation = Rule::new("[has(self.name), has(self.id)].exists_one(p, p)").message(
    "huaweiCloud.trustDomain must set exactly one of name and id."
))]
pub struct TrustDomain {
    /// The account's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub name: Option<String>,
    /// The account's id, 32 hex characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 32))]
    #[x_kube(validation = Rule::new("self.matches('^[0-9a-f]{32}$')").message(
        "huaweiCloud.trustDomain.id must be an account (domain) ID: exactly 32 lower-case hexadecimal characters."
    ))]
    pub id: Option<String>,
}

/// One role granted on one scope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self.scope == 'Project' ? has(self.project) : !has(self.project)").message(
    "huaweiCloud.roles[].project must be set when scope is Project, and only then."
))]
pub struct RoleGrant {
    /// The role as IAM shows it, by display name (`OBS OperateAccess`) or
    /// by its system name (`obs_adm`); coffer resolves it to an id.
    #[schemars(length(min = 1, max = 128))]
    pub role: String,
    /// Where it applies: `Project` (one project, named in `project`),
    /// `Domain` (the whole account's global services) or `AllProjects`
    /// (every project, now and later).
    pub scope: GrantScope,
    /// With scope `Project`: the project's name (such as `cn-north-4`) or id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub project: Option<String>,
}

/// Where a grant applies.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum GrantScope {
    /// One project.
    Project,
    /// The whole account (global services).
    Domain,
    /// Every project of the account, inherited by projects made later.
    AllProjects,
}

/// How long an agency is valid, as the user writes it (days).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AgencyDuration {
    /// Never expires.
    #[default]
    Forever,
    /// One day.
    OneDay,
    /// A number of days, at least 1.
    Days(u32),
}

impl fmt::Display for AgencyDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Forever => f.write_str("Forever"),
            Self::OneDay => f.write_str("OneDay"),
            Self::Days(days) => write!(f, "{days}"),
        }
    }
}

impl Serialize for AgencyDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Days(days) => serializer.serialize_u32(*days),
            other => serializer.serialize_str(&other.to_string()),
        }
    }
}

impl<'de> Deserialize<'de> for AgencyDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Days(u32),
            Word(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Days(0) => Err(serde::de::Error::custom("duration must be at least 1 day")),
            Raw::Days(days) => Ok(Self::Days(days)),
            Raw::Word(word) if word == "Forever" => Ok(Self::Forever),
            Raw::Word(word) if word == "OneDay" => Ok(Self::OneDay),
            Raw::Word(word) => Err(serde::de::Error::custom(format!(
                "duration must be Forever, OneDay or a number of days, not {word:?}"
            ))),
        }
    }
}

/// An int-or-string: the schema cannot say "one of these words, or an
/// integer" without CEL, so the rule on the field does the rest.
fn duration_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "x-kubernetes-int-or-string": true,
        "description": "How long the agency is valid: `Forever` (default), `OneDay`, or a number of days (at least 1)."
    })
}

/// What coffer last saw of the agency: the shared managed status with the
/// agency's observation as `atProvider`.
pub type AgencyStatus = ManagedStatus<AgencyObservation>;

/// The observed agency.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgencyObservation {
    /// The delegated account's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_domain_id: Option<String>,
    /// The delegated account's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_domain_name: Option<String>,
    /// The validity as coffer reads it, in days: `Forever`, `OneDay` or a number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    /// When the agency expires (UTC), if it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expire_time: Option<String>,
    /// When IAM created the agency (UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<String>,
    /// The agency's URN, for trust policies that name it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urn: Option<String>,
    /// The grants IAM reports, each a role by id and name on one scope.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<ObservedGrant>,
}

/// One grant as IAM reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObservedGrant {
    /// `Domain`, `AllProjects`, or `Project/<project id>`.
    pub scope: String,
    /// The role's id in IAM.
    pub role_id: String,
    /// The role's name (its display name where IAM has one), for the roles
    /// `spec.huaweiCloud.roles` names; left out for a grant the spec does
    /// not name, which coffer revokes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duration_reads_words_and_days() {
        let read = |s: &str| serde_json::from_str::<AgencyDuration>(s).ok();
        assert_eq!(read(r#""Forever""#), Some(AgencyDuration::Forever));
        assert_eq!(read(r#""OneDay""#), Some(AgencyDuration::OneDay));
        assert_eq!(read("20"), Some(AgencyDuration::Days(20)));
        assert_eq!(read("0"), None);
        assert_eq!(read(r#""20""#), None);
    }

    #[test]
    fn duration_writes_back_what_it_read() {
        for text in [r#""Forever""#, r#""OneDay""#, "20"] {
            let value: AgencyDuration = serde_json::from_str(text).expect("valid");
            assert_eq!(serde_json::to_string(&value).expect("serialises"), text);
        }
    }
}
