//! Status writing: server-side apply on the status subresource with one field
//! manager, and only when the computed status differs from the current one,
//! so a reconcile that changes nothing leaves `resourceVersion` alone and
//! wakes no watcher.

use std::fmt::Debug;

use kube::api::{Api, Patch, PatchParams};
use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::api::conditions::{self, Condition};

/// The field manager that owns every status coffer writes. Always applying
/// the whole status under one manager means a field coffer stops setting is
/// removed, as server-side apply intends.
pub const FIELD_MANAGER: &str = "coffer";

/// Applies `desired` as the status of `obj` if it differs from `current`,
/// and with `fence`, only if the object is still at that resourceVersion.
/// Returns the object as written, if a write happened.
pub async fn write_if_changed<K, S>(
    api: &Api<K>,
    obj: &K,
    fence: Option<&str>,
    current: Option<&S>,
    desired: &S,
) -> Result<Option<K>, kube::Error>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
    S: Serialize + PartialEq + Default,
{
    if !needs_write(current, desired) {
        return Ok(None);
    }
    apply_fenced(api, obj, fence, desired).await.map(Some)
}

/// Whether `desired` differs from what the object already has. A missing
/// status counts as the empty one, so an empty desired status writes nothing.
pub fn needs_write<S: PartialEq + Default>(current: Option<&S>, desired: &S) -> bool {
    match current {
        Some(current) => current != desired,
        None => desired != &S::default(),
    }
}

/// Applies `status` only if the object is still at `resource_version` (as
/// `obj` was read, or as this reconcile last wrote it): the fence around a
/// create that must not happen twice.
/// A 409 means someone else wrote first; the next reconcile reads again.
/// Without a `resource_version` it applies unconditionally. `force` takes
/// over fields another manager may have set: coffer is the only writer of
/// its kinds' status.
pub async fn apply_fenced<K, S>(
    api: &Api<K>,
    obj: &K,
    resource_version: Option<&str>,
    status: &S,
) -> Result<K, kube::Error>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
    S: Serialize,
{
    let mut patch = serde_json::json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "status": status,
    });
    if let Some(version) = resource_version {
        patch["metadata"] = serde_json::json!({"resourceVersion": version});
    }
    api.patch_status(
        &obj.name_any(),
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&patch),
    )
    .await
}

/// Whether the condition of `type_` moved to another status or reason between
/// `before` and `after`: the moments worth an Event.
pub fn transitioned(before: &[Condition], after: &[Condition], type_: &str) -> bool {
    let key = |c: Option<&Condition>| c.map(|c| (c.status.clone(), c.reason.clone()));
    key(conditions::find(before, type_)) != key(conditions::find(after, type_))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::BackupVaultStatus;
    use crate::api::conditions::{ConditionStatus, DesiredCondition, READY, SYNCED};

    fn merge_ready(current: &[Condition], status: ConditionStatus, reason: &str) -> Vec<Condition> {
        let ready = DesiredCondition::new(READY, status, reason, "");
        conditions::merge(current, &[ready], Some(3), jiff::Timestamp::now())
    }

    #[test]
    fn equal_status_needs_no_write() {
        let status = BackupVaultStatus {
            external_id: Some("v-1".into()),
            ..Default::default()
        };
        assert!(!needs_write(Some(&status.clone()), &status));
    }

    #[test]
    fn empty_status_on_a_new_object_needs_no_write() {
        assert!(!needs_write(None, &BackupVaultStatus::default()));
    }

    #[test]
    fn changed_status_needs_a_write() {
        let before = BackupVaultStatus::default();
        let after = BackupVaultStatus {
            observed_generation: Some(2),
            ..Default::default()
        };
        assert!(needs_write(Some(&before), &after));
        assert!(needs_write(None, &after));
    }

    #[test]
    fn transitions_are_status_or_reason_changes() {
        let a = merge_ready(&[], ConditionStatus::True, "Available");
        let b = merge_ready(&a, ConditionStatus::True, "Available");
        let c = merge_ready(&b, ConditionStatus::False, "Frozen");
        assert!(transitioned(&[], &a, READY));
        assert!(!transitioned(&a, &b, READY));
        assert!(transitioned(&b, &c, READY));
        assert!(!transitioned(&b, &c, SYNCED));
    }
}
