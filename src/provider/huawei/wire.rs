//! Request and response bodies of the CBR vault API and IAM's token call,
//! exactly as they travel. Responses are read leniently, because Huawei's
//! answers drift from its own schema: `enterprise_project_id` comes as a
//! string or the number `0`, timestamps come with or without a zone, and
//! any field may be `null`. Units are the wire's: `billing.used` is MB,
//! `size` and `allocated` are GB.

use jiff::Timestamp;
use serde::de::{DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

// ---------------------------------------------------------------------------
// Lenient readers

/// A string, or a number written as text; `null` or absent is `None`.
pub(super) fn string_or_number<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// An integer, possibly written as a string or as a whole float.
fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        }),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

/// A boolean, or `"true"`/`"false"`; anything else is `None`.
fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Bool(b)) => Some(b),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    })
}

/// A list where `null` means empty.
fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// Reads the timestamps Huawei writes: RFC 3339 with an offset or `Z`
/// (`2019-05-08T09:31:21.840+00:00`) or a naive date-time
/// (`2020-02-05T10:38:34.209782`), which is UTC.
pub fn parse_timestamp(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if let Ok(ts) = s.parse::<Timestamp>() {
        return Some(ts);
    }
    let naive: jiff::civil::DateTime = s.parse().ok()?;
    naive
        .to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp())
}

// ---------------------------------------------------------------------------
// Shared parts

/// A `{key, value}` tag; a missing value reads as empty.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireTag {
    #[serde(
        default,
        deserialize_with = "string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub key: Option<String>,
    #[serde(
        default,
        deserialize_with = "string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub value: Option<String>,
}

/// `bind_rules`: tags that select resources for automatic association.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireBindRules {
    #[serde(default, deserialize_with = "null_as_empty")]
    pub tags: Vec<WireTag>,
}

/// `extra_info` of a resource. Only `exclude_volumes` is used by coffer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireExtraInfo {
    #[serde(default, deserialize_with = "null_as_empty")]
    pub exclude_volumes: Vec<String>,
}

// ---------------------------------------------------------------------------
// Responses

/// `{"vault": {...}}`, the answer to create, show and update.
#[derive(Clone, Debug, Deserialize)]
pub struct VaultEnvelope {
    pub vault: WireVault,
}

/// One page of `GET /v3/{project_id}/vaults`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct VaultPage {
    #[serde(default, deserialize_with = "null_as_empty")]
    pub vaults: Vec<WireVault>,
    /// How many vaults match in total, across pages.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub count: Option<i64>,
}

/// A vault as CBR reports it.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct WireVault {
    #[serde(default)]
    pub id: String,
    #[serde(default, deserialize_with = "string_or_number")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "string_or_number")]
    pub description: Option<String>,
    #[serde(default)]
    pub billing: Option<WireBilling>,
    #[serde(default, deserialize_with = "string_or_number")]
    pub created_at: Option<String>,
    #[serde(default, deserialize_with = "string_or_number")]
    pub enterprise_project_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub auto_bind: Option<bool>,
    #[serde(default)]
    pub bind_rules: Option<WireBindRules>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub auto_expand: Option<bool>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub smn_notify: Option<bool>,
    #[serde(default, deserialize_with = "lenient_i64")]
    pub threshold: Option<i64>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub locked: Option<bool>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub tags: Vec<WireTag>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub resources: Vec<WireResource>,
}

/// `billing` of a vault: its type, size and status.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct WireBilling {
    /// `available`, `lock`, `frozen`, `deleting` or `error`.
    #[serde(default, deserialize_with = "string_or_number")]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "string_or_number")]
    pub consistent_level: Option<String>,
    #[serde(default, deserialize_with = "string_or_number")]
    pub object_type: Option<String>,
    #[serde(default, deserialize_with = "string_or_number")]
    pub protect_type: Option<String>,
    #[serde(default, deserialize_with = "string_or_number")]
    pub cloud_type: Option<String>,
    #[serde(default, deserialize_with = "string_or_number")]
    pub charging_mode: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub is_multi_az: Option<bool>,
    /// GB.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub size: Option<i64>,
    /// GB.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub allocated: Option<i64>,
    /// MB, unlike `size` and `allocated`.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub used: Option<i64>,
    #[serde(default, deserialize_with = "string_or_number")]
    pub spec_code: Option<String>,
    #[serde(default, deserialize_with = "string_or_number")]
    pub frozen_scene: Option<String>,
}

/// A resource bound to a vault (`ResourceResp`).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct WireResource {
    #[serde(default)]
    pub id: String,
    #[serde(rename = "type", default, deserialize_with = "string_or_number")]
    pub type_: Option<String>,
    #[serde(default, deserialize_with = "string_or_number")]
    pub protect_status: Option<String>,
    #[serde(default)]
    pub extra_info: Option<WireExtraInfo>,
}

// ---------------------------------------------------------------------------
// Requests. `None` fields are left out: CBR reads an explicit `null` as a
// value, and an update must carry only what changes.

/// `POST /v3/{project_id}/vaults` body.
#[derive(Clone, Debug, Serialize)]
pub struct CreateVaultBody {
    pub vault: CreateVault,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct CreateVault {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub billing: CreateBilling,
    /// Required by the API; `[]` when nothing is attached yet.
    pub resources: Vec<ResourceCreate>,
    /// The API rejects an empty list, so none is sent when there are no tags.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<WireTag>,
    #[serde(flatten)]
    pub settings: VaultSettings,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enterprise_project_id: Option<String>,
}

/// The settings that create and update both take, each optional: on create
/// an absent one gets CBR's default, on update it stays as it is.
#[derive(Clone, Debug, Default, Serialize)]
pub struct VaultSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_bind: Option<bool>,
    /// `Some` with no tags clears the rules on update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind_rules: Option<WireBindRules>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_expand: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smn_notify: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locked: Option<bool>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct CreateBilling {
    pub consistent_level: String,
    pub object_type: String,
    pub protect_type: String,
    /// GB.
    pub size: i64,
    /// Always `post_paid`: pre-paid vaults are created through orders.
    pub charging_mode: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_multi_az: Option<bool>,
}

/// A resource to associate, in create and `addresources` bodies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ResourceCreate {
    pub id: String,
    #[serde(rename = "type")]
    pub type_: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_info: Option<WireExtraInfo>,
}

/// `PUT /v3/{project_id}/vaults/{vault_id}` body.
#[derive(Clone, Debug, Serialize)]
pub struct UpdateVaultBody {
    pub vault: UpdateVault,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct UpdateVault {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing: Option<UpdateBilling>,
    #[serde(flatten)]
    pub settings: VaultSettings,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct UpdateBilling {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consistent_level: Option<String>,
    /// GB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
}

/// `POST /v3/{project_id}/vault/{vault_id}/tags/action` body.
#[derive(Clone, Debug, Serialize)]
pub struct TagsActionBody {
    /// `create` or `delete`.
    pub action: &'static str,
    pub tags: Vec<WireTag>,
}

/// `POST .../vaults/{vault_id}/addresources` body.
#[derive(Clone, Debug, Serialize)]
pub struct AddResourcesBody {
    pub resources: Vec<ResourceCreate>,
}

/// `POST .../vaults/{vault_id}/removeresources` body.
#[derive(Clone, Debug, Serialize)]
pub struct RemoveResourcesBody {
    pub resource_ids: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enterprise_project_id_reads_from_number_or_string() {
        let v: WireVault = serde_json::from_str(r#"{"id":"a","enterprise_project_id":0}"#).unwrap();
        assert_eq!(v.enterprise_project_id.as_deref(), Some("0"));
        let v: WireVault =
            serde_json::from_str(r#"{"id":"a","enterprise_project_id":"b7e0"}"#).unwrap();
        assert_eq!(v.enterprise_project_id.as_deref(), Some("b7e0"));
    }

    #[test]
    fn nulls_read_as_absent_or_empty() {
        let v: WireVault = serde_json::from_str(
            r#"{"id":"a","name":null,"billing":null,"tags":null,"resources":null,
                "bind_rules":{"tags":null},"threshold":null,"locked":null}"#,
        )
        .unwrap();
        assert!(v.name.is_none() && v.billing.is_none() && v.threshold.is_none());
        assert!(v.tags.is_empty() && v.resources.is_empty());
        assert!(v.bind_rules.unwrap().tags.is_empty());
    }

    #[test]
    fn numbers_read_from_strings_and_whole_floats() {
        let b: WireBilling =
            serde_json::from_str(r#"{"size":"100","allocated":40.0,"used":1536}"#).unwrap();
        assert_eq!(
            (b.size, b.allocated, b.used),
            (Some(100), Some(40), Some(1536))
        );
    }

    #[test]
    fn timestamps_parse_in_every_form_huawei_writes() {
        let utc = |s: &str| parse_timestamp(s).map(|t| t.to_string());
        assert_eq!(
            utc("2020-02-05T10:38:34.209782").as_deref(),
            Some("2020-02-05T10:38:34.209782Z")
        );
        assert_eq!(
            utc("2019-05-08T09:31:21.840+00:00").as_deref(),
            Some("2019-05-08T09:31:21.84Z")
        );
        assert_eq!(
            utc("2024-01-02T03:04:05.000000Z").as_deref(),
            Some("2024-01-02T03:04:05Z")
        );
        assert_eq!(
            utc("2020-02-24T17:36:00.479+08:00").as_deref(),
            Some("2020-02-24T09:36:00.479Z")
        );
        assert_eq!(utc("yesterday"), None);
    }
}
