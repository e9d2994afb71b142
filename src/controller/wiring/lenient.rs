//! Watching one of coffer's kinds so that an object that does not decode —
//! written under an older schema, or with a value the schema allows and the
//! type does not — fails alone. kube's typed watcher fails the whole list
//! for one such object, which would stop every object of the kind; here the
//! watch is of untyped objects, each decoded on its own, and one that does
//! not decode is left out of the cache with a Warning Event naming the
//! problem (once per version of the object).

use std::collections::HashSet;
use std::fmt::Debug;

use futures::channel::mpsc;
use futures::{Stream, StreamExt};
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, ApiResource, DynamicObject};
use kube::runtime::watcher;
use kube::{Client, Resource};
use serde::de::DeserializeOwned;

use crate::controller::engine::events::{Events, Note};

/// The Event reason for an object coffer cannot read.
pub const UNREADABLE: &str = "InvalidObject";

/// The least spec every coffer kind decodes: no provider block, nothing
/// managed. Managed kinds need a `providerConfigRef`; ProviderConfigs need
/// nothing.
const LEAST_SPECS: [&str; 2] = [r#"{}"#, r#"{"providerConfigRef": {"name": ""}}"#];

/// An object of kind `K` with `meta` and the least spec: what removes an
/// object from a cache when its new version does not decode. Never
/// reconciled, only used for its name.
pub fn stand_in<K: Resource<DynamicType = ()> + DeserializeOwned>(meta: &ObjectMeta) -> Option<K> {
    LEAST_SPECS.iter().find_map(|spec| {
        let spec: serde_json::Value = serde_json::from_str(spec).ok()?;
        let obj = serde_json::json!({
            "apiVersion": K::api_version(&()),
            "kind": K::kind(&()),
            "metadata": meta,
            "spec": spec,
        });
        serde_json::from_value(obj).ok()
    })
}

/// An object that did not decode, and why.
#[derive(Debug)]
pub struct Unreadable {
    pub regarding: ObjectReference,
    pub error: String,
}

/// Watches `K` in `namespace` (all when `None`), decoding each object on its
/// own; the ones that do not decode are sent to `unreadable`.
pub fn watch<K>(
    client: &Client,
    namespace: Option<&str>,
    config: watcher::Config,
    unreadable: mpsc::UnboundedSender<Unreadable>,
) -> impl Stream<Item = Result<watcher::Event<K>, watcher::Error>> + Send + 'static
where
    K: Resource<DynamicType = ()> + DeserializeOwned + Clone + Debug + Send + 'static,
{
    let resource = ApiResource::erase::<K>(&());
    let api: Api<DynamicObject> = match namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &resource),
        None => Api::all_with(client.clone(), &resource),
    };
    let mut reported = HashSet::new();
    watcher(api, config).filter_map(move |event| {
        let mut reject = |obj: &DynamicObject, error: serde_json::Error| {
            let key = (
                obj.metadata.uid.clone(),
                obj.metadata.resource_version.clone(),
            );
            if reported.insert(key) {
                let _ = unreadable.unbounded_send(Unreadable {
                    regarding: reference(&resource, obj),
                    error: error.to_string(),
                });
            }
        };
        let typed = event.map(|event| match event {
            watcher::Event::Apply(obj) => match decode::<K>(&obj) {
                Ok(typed) => Some(watcher::Event::Apply(typed)),
                // Drop the last good version too: it no longer says what the user wants.
                Err(e) => {
                    reject(&obj, e);
                    stand_in(&obj.metadata).map(watcher::Event::Delete)
                }
            },
            watcher::Event::InitApply(obj) => match decode::<K>(&obj) {
                Ok(typed) => Some(watcher::Event::InitApply(typed)),
                Err(e) => {
                    reject(&obj, e);
                    None
                }
            },
            watcher::Event::Delete(obj) => decode::<K>(&obj)
                .ok()
                .or_else(|| stand_in(&obj.metadata))
                .map(watcher::Event::Delete),
            watcher::Event::Init => Some(watcher::Event::Init),
            watcher::Event::InitDone => Some(watcher::Event::InitDone),
        });
        futures::future::ready(typed.transpose())
    })
}

/// Publishes a Warning Event for each unreadable object, until the sender
/// side is gone.
pub async fn report(events: Events, mut unreadable: mpsc::UnboundedReceiver<Unreadable>) {
    while let Some(bad) = unreadable.next().await {
        tracing::warn!(object = ?bad.regarding.name, error = %bad.error, "cannot read an object; it is not reconciled");
        let message = format!(
            "coffer cannot read this object, so it is not reconciled: {}; fix the field named (kubectl edit, \
             or kubectl edit --subresource=status) or delete the object",
            bad.error
        );
        events
            .publish(&bad.regarding, Note::warning(UNREADABLE, "Decode", message))
            .await;
    }
}

fn decode<K: DeserializeOwned>(obj: &DynamicObject) -> Result<K, serde_json::Error> {
    serde_json::to_value(obj).and_then(serde_json::from_value)
}

fn reference(resource: &ApiResource, obj: &DynamicObject) -> ObjectReference {
    ObjectReference {
        api_version: Some(resource.api_version.clone()),
        kind: Some(resource.kind.clone()),
        name: obj.metadata.name.clone(),
        namespace: obj.metadata.namespace.clone(),
        uid: obj.metadata.uid.clone(),
        resource_version: obj.metadata.resource_version.clone(),
        ..ObjectReference::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ProviderConfig;

    fn dynamic(value: serde_json::Value) -> DynamicObject {
        serde_json::from_value(value).expect("a dynamic object")
    }

    #[test]
    fn a_value_the_type_refuses_is_an_error_naming_the_field() {
        let obj = dynamic(serde_json::json!({
            "apiVersion": "coffer.dev/v1alpha1", "kind": "ProviderConfig",
            "metadata": {"name": "broken", "namespace": "a"},
            "spec": {"huaweiCloud": {"region": "r", "projectId": "0", "credentials": {"type": "AccessKey", "secretRef": {"name": "s"}}}},
            "status": {"users": [{"kind": "BackupVault", "count": 5_000_000_000_u64}]},
        }));
        let err = decode::<ProviderConfig>(&obj).expect_err("out of range");
        assert!(err.to_string().contains("5000000000"), "{err}");
    }

    #[test]
    fn every_kind_has_a_stand_in() {
        let meta = ObjectMeta {
            name: Some("x".into()),
            namespace: Some("a".into()),
            ..ObjectMeta::default()
        };
        assert!(stand_in::<ProviderConfig>(&meta).is_some());
        assert!(stand_in::<crate::api::BackupVault>(&meta).is_some());
        assert!(stand_in::<crate::api::Agency>(&meta).is_some());
        assert!(stand_in::<crate::api::BackupShare>(&meta).is_some());
    }

    #[test]
    fn a_good_object_decodes() {
        let obj = dynamic(serde_json::json!({
            "apiVersion": "coffer.dev/v1alpha1", "kind": "ProviderConfig",
            "metadata": {"name": "fine", "namespace": "a"},
            "spec": {"huaweiCloud": {"region": "r", "projectId": "0", "credentials": {"type": "AccessKey", "secretRef": {"name": "s"}}}},
        }));
        let pc = decode::<ProviderConfig>(&obj).expect("decodes");
        assert_eq!(pc.metadata.name.as_deref(), Some("fine"));
    }
}
