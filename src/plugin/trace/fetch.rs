//! What `kubectl coffer trace` reads from the cluster, one plain request
//! each, into [`Facts`]. A missing object, a kind the cluster does not
//! serve and a refused read are answers the tree shows; only the traced
//! object itself missing, or a failure of the API server, is an error.

use std::collections::BTreeMap;

use jiff::Timestamp;
use kube::api::{Api, ListParams};
use kube::core::Request;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;

use super::{Ca, Facts, Lookup, Ref, SecretKeys, ca_of, config_ref, secret_ref, vault_ref};
use crate::plugin::cluster::{self, Error, Target, is_code};
use crate::plugin::fleet::{KINDS, Kind};

/// A Secret or ConfigMap with its values dropped while it is parsed: they
/// are never kept, so nothing later can print them.
#[derive(Deserialize)]
struct Shape {
    #[serde(default)]
    metadata: ShapeMeta,
    #[serde(default)]
    data: BTreeMap<String, IgnoredAny>,
    #[serde(default, rename = "binaryData")]
    binary_data: BTreeMap<String, IgnoredAny>,
}

#[derive(Default, Deserialize)]
struct ShapeMeta {
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

fn read_error(what: String, source: kube::Error) -> Error {
    Error::Read {
        what,
        source: Box::new(source),
    }
}

fn described(r: &Ref) -> String {
    match &r.namespace {
        Some(ns) => format!("{} {ns}/{}", r.kind, r.name),
        None => format!("{} {}", r.kind, r.name),
    }
}

fn kind_named(name: &str) -> Option<Kind> {
    KINDS.iter().copied().find(|k| k.name == name)
}

/// A 404 on a coffer kind means no such object, or no such kind: the
/// group's discovery document tells them apart.
async fn absent<T>(client: &kube::Client, kind: Kind) -> Lookup<T> {
    match client.list_api_group_resources("coffer.dev/v1alpha1").await {
        Ok(list) if !list.resources.iter().any(|r| r.name == kind.plural) => Lookup::NotInstalled,
        Err(e) if is_code(&e, 404) => Lookup::NotInstalled,
        _ => Lookup::NotFound,
    }
}

/// One coffer object by reference.
async fn coffer_object(client: &kube::Client, r: &Ref) -> Result<Lookup<Value>, Error> {
    let Some(kind) = kind_named(&r.kind) else {
        return Ok(Lookup::NotFound);
    };
    let api = cluster::api(client, r.namespace.as_deref(), kind);
    match api.get(&r.name).await {
        Ok(obj) => Ok(Lookup::Found(serde_json::to_value(obj).unwrap_or_default())),
        Err(e) if is_code(&e, 404) => Ok(absent(client, kind).await),
        Err(e) if is_code(&e, 403) => Ok(Lookup::Forbidden(format!(
            "you may not get {}",
            kind.plural
        ))),
        Err(e) => Err(read_error(described(r), e)),
    }
}

/// A Secret's or ConfigMap's labels and key names.
async fn keys(client: &kube::Client, r: &Ref) -> Result<Lookup<SecretKeys>, Error> {
    let plural = match r.kind.as_str() {
        "ConfigMap" => "configmaps",
        _ => "secrets",
    };
    let namespace = r.namespace.as_deref().unwrap_or("default");
    let path = format!("/api/v1/namespaces/{namespace}/{plural}");
    let request = Request::new(path)
        .get(&r.name, &Default::default())
        .map_err(|e| read_error(described(r), kube::Error::BuildRequest(e)))?;
    // The body is parsed here, not by `Client::request`, which logs the
    // whole body (values and all) when it does not parse.
    let text = match client.request_text(request).await {
        Ok(text) => text,
        Err(e) if is_code(&e, 404) => return Ok(Lookup::NotFound),
        Err(e) if is_code(&e, 403) => {
            return Ok(Lookup::Forbidden(format!(
                "you may not get {plural} in {namespace}; trace shows their key names only, never their values"
            )));
        }
        Err(e) => return Err(read_error(described(r), e)),
    };
    // The parse error is dropped, not shown: it may quote the body.
    let shape: Shape = serde_json::from_str(&text).map_err(|_| Error::Unparsable(described(r)))?;
    let keys = shape
        .data
        .into_keys()
        .chain(shape.binary_data.into_keys())
        .collect();
    Ok(Lookup::Found(SecretKeys {
        labels: shape.metadata.labels,
        keys,
    }))
}

/// Every BackupShare the caller may list: all namespaces, else the
/// object's own, which is then named.
async fn shares(
    client: &kube::Client,
    namespace: &str,
) -> Result<(Vec<Value>, Option<String>), Error> {
    let kind = kind_named("BackupShare").expect("BackupShare is one of KINDS");
    let lp = ListParams::default();
    let (list, only_in) = match cluster::api(client, None, kind).list(&lp).await {
        Ok(list) => (list, None),
        Err(e) if is_code(&e, 403) => {
            let list = cluster::api(client, Some(namespace), kind)
                .list(&lp)
                .await
                .map_err(|e| read_error(format!("BackupShares in {namespace}"), e))?;
            (list, Some(namespace.to_string()))
        }
        Err(e) => return Err(read_error("BackupShares".into(), e)),
    };
    let items = list
        .items
        .into_iter()
        .map(|o| serde_json::to_value(o).unwrap_or_default())
        .collect();
    Ok((items, only_in))
}

/// The core/v1 Events about `obj` (by its uid), in its namespace; a
/// cluster-scoped object's are in `default`, where coffer writes them.
async fn events(client: &kube::Client, obj: &Value) -> Result<Lookup<Vec<Value>>, Error> {
    use k8s_openapi::api::core::v1::Event;
    let namespace = obj["metadata"]["namespace"].as_str().unwrap_or("default");
    let uid = obj["metadata"]["uid"].as_str().unwrap_or_default();
    let api: Api<Event> = Api::namespaced(client.clone(), namespace);
    let lp = ListParams::default().fields(&format!("involvedObject.uid={uid}"));
    match api.list(&lp).await {
        Ok(list) => Ok(Lookup::Found(
            list.items
                .into_iter()
                .map(|e| serde_json::to_value(e).unwrap_or_default())
                .collect(),
        )),
        Err(e) if is_code(&e, 403) => Ok(Lookup::Forbidden(format!(
            "you may not list events in {namespace}"
        ))),
        Err(e) => Err(read_error(format!("the Events in {namespace}"), e)),
    }
}

/// Reads everything the trace of `target` shows.
pub async fn facts(client: &kube::Client, target: &Target) -> Result<Facts, Error> {
    let kind = target.kind;
    let root = Ref {
        kind: kind.name.into(),
        namespace: (!kind.cluster_scoped).then(|| target.namespace.clone()),
        name: target.name.clone(),
    };
    let object = match coffer_object(client, &root).await? {
        Lookup::Found(obj) => obj,
        Lookup::NotInstalled => {
            return Err(Error::NotInstalled {
                plural: kind.plural,
            });
        }
        Lookup::Forbidden(right) => {
            return Err(Error::Refused {
                what: described(&root),
                right,
            });
        }
        Lookup::NotFound => return Err(Error::Missing(described(&root))),
    };
    let config = match config_ref(kind.name, &object) {
        Some(r) => {
            let found = coffer_object(client, &r).await?;
            Some((r, found))
        }
        None => None,
    };
    // The config whose Secret and CA the tree shows: the object's, or the
    // object itself.
    let config_obj = match &config {
        Some((r, Lookup::Found(c))) => Some((r.kind.clone(), c)),
        Some(_) => None,
        None => Some((kind.name.to_string(), &object)),
    };
    let mut secret = None;
    let mut ca = None;
    if let Some((config_kind, c)) = config_obj {
        secret = Some(match secret_ref(&config_kind, c) {
            Ok(r) => {
                let found = keys(client, &r).await?;
                Ok((r, found))
            }
            Err(why) => Err(why),
        });
        let source = ca_of(&config_kind, c);
        let found = match &source {
            Ca::Ref(r, _) if r.namespace.is_some() => Some(keys(client, r).await?),
            _ => None,
        };
        ca = Some((source, found));
    }
    let (mut other_side, mut vault) = (None, None);
    if kind.name == "BackupShare" {
        other_side = Some(shares(client, &target.namespace).await?);
        if let Some(r) = vault_ref(&object) {
            let found = coffer_object(client, &r).await?;
            vault = Some((r, found));
        }
    }
    let events = events(client, &object).await?;
    Ok(Facts {
        kind: kind.name,
        object,
        config,
        secret,
        ca,
        other_side,
        vault,
        events,
        now: Timestamp::now(),
    })
}
