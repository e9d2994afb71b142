//! `GET /v3/{project_id}/vaults`: query parsing, filtering and offset/limit
//! paging. The `name` filter matches substrings: the API does not say whether
//! it is exact, and a fuzzy emulator makes clients filter exactly themselves.

use serde::de::DeserializeOwned;

use super::model::VaultRecord;
use super::wire::{CloudType, ObjectType, ProtectType};
use crate::emulator::huawei::error::CbrError;

pub const MAX_LIMIT: usize = 1000;
/// Undocumented; the maximum, so a client that forgets paging still sees
/// everything until it has more than a thousand vaults.
pub const DEFAULT_LIMIT: usize = MAX_LIMIT;

const STATUSES: [&str; 5] = ["available", "lock", "frozen", "deleting", "error"];

/// The parsed list query.
#[derive(Debug, Default, PartialEq)]
pub struct ListQuery {
    pub limit: usize,
    pub offset: usize,
    pub name: Option<String>,
    /// Ids that are not UUIDs are kept out: they can match no vault.
    pub ids: Option<Vec<uuid::Uuid>>,
    pub cloud_type: Option<CloudType>,
    pub protect_type: Option<ProtectType>,
    pub object_type: Option<ObjectType>,
    pub status: Option<String>,
    pub enterprise_project_id: Option<String>,
    pub policy_id: Option<String>,
    pub resource_ids: Option<Vec<String>>,
    pub availability_zone: Option<String>,
}

/// One page of vaults plus how many matched in all.
pub struct Page<'a> {
    pub vaults: Vec<&'a VaultRecord>,
    pub count: usize,
}

fn number(key: &str, value: &str) -> Result<usize, CbrError> {
    value.parse().map_err(|_| {
        CbrError::invalid(format!(
            "{key} must be a non-negative integer, got {value:?}"
        ))
    })
}

/// An enum named as its JSON form, so the query accepts what bodies accept.
fn enum_value<T: DeserializeOwned>(key: &str, value: &str) -> Result<T, CbrError> {
    serde_json::from_value(serde_json::Value::String(value.to_string()))
        .map_err(|_| CbrError::invalid(format!("{key} has an unknown value {value:?}")))
}

fn csv(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

impl ListQuery {
    /// Parses decoded query pairs; unknown parameters are ignored, as the
    /// real service ignores them.
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, CbrError> {
        let mut query = ListQuery {
            limit: DEFAULT_LIMIT,
            ..ListQuery::default()
        };
        for (key, value) in pairs {
            match key.as_str() {
                "limit" => {
                    let limit = number(key, value)?;
                    if !(1..=MAX_LIMIT).contains(&limit) {
                        return Err(CbrError::invalid(format!(
                            "limit must be 1 to {MAX_LIMIT}, got {limit}"
                        )));
                    }
                    query.limit = limit;
                }
                "offset" => query.offset = number(key, value)?,
                "name" => query.name = Some(value.clone()),
                // The SDK sends a list as one comma-separated value; a
                // repeated key adds to it.
                "id" => query.ids.get_or_insert_with(Vec::new).extend(
                    csv(value)
                        .iter()
                        .filter_map(|id| uuid::Uuid::try_parse(id).ok()),
                ),
                "cloud_type" => query.cloud_type = Some(enum_value(key, value)?),
                "protect_type" => query.protect_type = Some(enum_value(key, value)?),
                "object_type" => query.object_type = Some(enum_value(key, value)?),
                "status" => {
                    if !STATUSES.contains(&value.as_str()) {
                        return Err(CbrError::invalid(format!(
                            "status must be one of {}, got {value:?}",
                            STATUSES.join(", ")
                        )));
                    }
                    query.status = Some(value.clone());
                }
                "enterprise_project_id" => query.enterprise_project_id = Some(value.clone()),
                "policy_id" => query.policy_id = Some(value.clone()),
                "resource_ids" => query.resource_ids = Some(csv(value)),
                "availability_zone" => query.availability_zone = Some(value.clone()),
                _ => {}
            }
        }
        Ok(query)
    }

    pub fn matches(&self, vault: &VaultRecord) -> bool {
        let s = &vault.settings;
        let eq = |want: &Option<String>, have: Option<&str>| {
            want.as_deref().is_none_or(|w| have == Some(w))
        };
        self.name.as_deref().is_none_or(|n| s.name.contains(n))
            && self.ids.as_ref().is_none_or(|ids| ids.contains(&vault.id))
            && self.cloud_type.is_none_or(|t| t == s.billing.cloud_type)
            && self
                .protect_type
                .is_none_or(|t| t == s.billing.protect_type)
            && self.object_type.is_none_or(|t| t == s.billing.object_type)
            && eq(&self.status, Some(vault.status()))
            && self
                .enterprise_project_id
                .as_deref()
                .is_none_or(|e| e == "all_granted_eps" || e == s.enterprise_project_id)
            && eq(&self.policy_id, s.backup_policy_id.as_deref())
            && self
                .resource_ids
                .as_ref()
                .is_none_or(|ids| vault.resources.iter().any(|r| ids.contains(&r.id)))
            && eq(&self.availability_zone, s.availability_zone.as_deref())
    }

    /// The page at `offset` of at most `limit` matches, and the match count.
    pub fn page<'a>(&self, vaults: impl Iterator<Item = &'a VaultRecord>) -> Page<'a> {
        let mut count = 0;
        let mut page = Vec::new();
        for vault in vaults.filter(|v| self.matches(v)) {
            if count >= self.offset && page.len() < self.limit {
                page.push(vault);
            }
            count += 1;
        }
        Page {
            vaults: page,
            count,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::huawei::cbr::store::VaultStore;
    use crate::emulator::huawei::cbr::validate;
    use crate::emulator::huawei::cbr::wire::CreateVaultBody;
    use serde_json::json;
    use std::time::Duration;

    fn pairs(query: &[(&str, &str)]) -> Vec<(String, String)> {
        query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn store_with(names: &[&str]) -> VaultStore {
        let mut store = VaultStore::new(Duration::ZERO, Duration::ZERO);
        for (i, name) in names.iter().enumerate() {
            let object_type = if i % 2 == 0 { "server" } else { "disk" };
            let body: CreateVaultBody = serde_json::from_value(json!({"vault": {
                "name": name,
                "billing": {"consistent_level": "crash_consistent", "object_type": object_type,
                            "protect_type": "backup", "size": 100},
                "resources": [],
            }}))
            .expect("shape");
            let new = validate::new_vault(body.vault).expect("valid");
            store
                .create("p", new, jiff::Timestamp::now())
                .expect("created");
        }
        store
    }

    fn names(store: &VaultStore, query: &[(&str, &str)]) -> (Vec<String>, usize) {
        let query = ListQuery::parse(&pairs(query)).expect("valid query");
        let page = query.page(store.newest_first());
        (
            page.vaults
                .iter()
                .map(|v| v.settings.name.clone())
                .collect(),
            page.count,
        )
    }

    #[test]
    fn limit_must_be_between_1_and_1000() {
        for bad in ["0", "1001", "-1", "ten"] {
            assert!(
                ListQuery::parse(&pairs(&[("limit", bad)])).is_err(),
                "{bad}"
            );
        }
        assert_eq!(
            ListQuery::parse(&pairs(&[("limit", "1000")])).map(|q| q.limit),
            Ok(1000)
        );
        assert_eq!(ListQuery::parse(&[]).map(|q| q.limit), Ok(DEFAULT_LIMIT));
    }

    #[test]
    fn pages_walk_the_matches_with_a_total_count() {
        let store = store_with(&["v0", "v1", "v2", "v3", "v4"]);
        assert_eq!(
            names(&store, &[("limit", "2")]),
            (vec!["v4".into(), "v3".into()], 5)
        );
        assert_eq!(
            names(&store, &[("limit", "2"), ("offset", "4")]),
            (vec!["v0".into()], 5)
        );
        assert_eq!(names(&store, &[("offset", "9")]), (vec![], 5));
    }

    #[test]
    fn name_filter_matches_substrings() {
        let store = store_with(&["team-a", "team-a-old", "team-b"]);
        let (found, count) = names(&store, &[("name", "team-a")]);
        assert_eq!(count, 2);
        assert_eq!(found, vec!["team-a-old", "team-a"]);
    }

    #[test]
    fn enum_filters_are_checked_and_applied() {
        let store = store_with(&["s0", "d1", "s2"]);
        assert_eq!(names(&store, &[("object_type", "disk")]).0, vec!["d1"]);
        assert!(ListQuery::parse(&pairs(&[("object_type", "tape")])).is_err());
        assert!(ListQuery::parse(&pairs(&[("status", "gone")])).is_err());
        assert_eq!(names(&store, &[("status", "deleting")]).1, 0);
    }

    #[test]
    fn id_filter_takes_comma_separated_and_repeated_ids() {
        let store = store_with(&["a", "b", "c"]);
        let ids: Vec<String> = store.newest_first().map(|v| v.id.to_string()).collect();
        let joined = format!("{},{}", ids[0], ids[1]);
        assert_eq!(names(&store, &[("id", &joined)]).1, 2);
        assert_eq!(names(&store, &[("id", &ids[0]), ("id", &ids[2])]).1, 2);
    }
}
