//! The write floor: what the API server needs for exactly the Kubernetes
//! writes coffer makes per new object (the create, the finalizer, the status,
//! one Event), made by a plain client with no provider behind it. Time to
//! Ready is measured against it: no operator that must make those writes
//! can be faster than the API server takes them.
//!
//! The writes are those coffer makes, in its shape and at its concurrency:
//! the creates go in 16 at a time as the bench's creates do; as each
//! object arrives, one of 16 workers (coffer's `--max-concurrent-reconciles`)
//! merge-patches the finalizer at the object's resourceVersion and
//! server-side applies the status (forced, coffer's field manager, fenced by
//! resourceVersion); the Event follows through 8 writers, as coffer's Event
//! writers do. The status and the Event are copies of what coffer itself
//! wrote for the first vault and the first agency of the run, so each write
//! carries the same bytes.

use std::time::{Duration, Instant};

use coffer::api::{Agency, BackupVault};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::core::v1::Event;
use kube::Resource;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::cluster::{AGENCY_EVERY, Cluster, PARALLEL_CREATES, agency, vault};

/// coffer's `--max-concurrent-reconciles` in the bench.
const RECONCILERS: usize = 16;
/// coffer's Event writers (`engine::events`).
const EVENT_WRITERS: usize = 8;

/// What coffer wrote for one object of a kind, to be written again.
#[derive(Clone)]
pub struct Written {
    finalizers: Vec<String>,
    status: Value,
    event: Event,
}

/// What coffer wrote for the first vault and the first agency of `namespace`.
pub struct Templates {
    vault: Written,
    agency: Written,
}

impl Templates {
    pub async fn of(client: &kube::Client, namespace: &str) -> Templates {
        Templates {
            vault: written::<BackupVault>(client, namespace, "vault-00000").await,
            agency: written::<Agency>(
                client,
                namespace,
                &format!("agency-{:05}", AGENCY_EVERY - 1),
            )
            .await,
        }
    }
}

async fn written<K>(client: &kube::Client, namespace: &str, name: &str) -> Written
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Serialize
        + std::fmt::Debug,
{
    let object = Api::<K>::namespaced(client.clone(), namespace)
        .get(name)
        .await
        .expect("an object coffer made Ready");
    let whole = serde_json::to_value(&object).expect("an object as JSON");
    let events: Api<Event> = Api::namespaced(client.clone(), namespace);
    let field = format!("involvedObject.name={name}");
    let event = events
        .list(&kube::api::ListParams::default().fields(&field))
        .await
        .expect("Events")
        .items
        .into_iter()
        .next()
        .expect("coffer's Event for the object");
    Written {
        finalizers: object.meta().finalizers.clone().unwrap_or_default(),
        status: whole["status"].clone(),
        event,
    }
}

/// Makes objects `0..n` in `namespace` with the writes coffer makes for each;
/// how long until the last was written.
pub async fn writes(cluster: &Cluster, namespace: &str, n: usize, t: &Templates) -> Duration {
    let vaults: Api<BackupVault> = Api::namespaced(cluster.client.clone(), namespace);
    let agencies: Api<Agency> = Api::namespaced(cluster.client.clone(), namespace);
    let events: Api<Event> = Api::namespaced(cluster.client.clone(), namespace);
    let region = cluster.emu.config().region.clone();
    let started = Instant::now();
    futures::stream::iter(0..n)
        .map(|i| {
            let (vaults, agencies, region) = (&vaults, &agencies, &region);
            async move {
                let params = PostParams::default();
                match i % AGENCY_EVERY == AGENCY_EVERY - 1 {
                    true => agencies
                        .create(&params, &agency(namespace, i, region))
                        .await
                        .map(Made::Agency),
                    false => vaults.create(&params, &vault(i)).await.map(Made::Vault),
                }
            }
        })
        .buffer_unordered(PARALLEL_CREATES)
        .map_ok(|made| async {
            match made {
                Made::Vault(v) => reconcile(&vaults, v, &t.vault).await,
                Made::Agency(a) => reconcile(&agencies, a, &t.agency).await,
            }
        })
        .try_buffer_unordered(RECONCILERS)
        .map_ok(|event| {
            let events = &events;
            async move { events.create(&PostParams::default(), &event).await }
        })
        .try_buffer_unordered(EVENT_WRITERS)
        .try_collect::<Vec<_>>()
        .await
        .expect("the write floor's writes");
    started.elapsed()
}

enum Made {
    Vault(BackupVault),
    Agency(Agency),
}

/// The finalizer and the status, as coffer writes them; the Event to write.
async fn reconcile<K>(api: &Api<K>, object: K, written: &Written) -> Result<Event, kube::Error>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Serialize + std::fmt::Debug,
{
    let name = object.meta().name.clone().unwrap_or_default();
    let finalizer = json!({"metadata": {
        "finalizers": written.finalizers,
        "resourceVersion": object.meta().resource_version,
    }});
    let object = api
        .patch(&name, &PatchParams::default(), &Patch::Merge(&finalizer))
        .await?;
    let status = json!({
        "apiVersion": K::api_version(&()), "kind": K::kind(&()),
        "metadata": {"resourceVersion": object.meta().resource_version},
        "status": written.status,
    });
    let object = api
        .patch_status(
            &name,
            &PatchParams::apply("coffer").force(),
            &Patch::Apply(&status),
        )
        .await?;
    let mut event = written.event.clone();
    event.metadata = kube::api::ObjectMeta {
        name: Some(format!("{name}.{:x}", rand_suffix(&name))),
        namespace: object.meta().namespace.clone(),
        ..Default::default()
    };
    event.involved_object = object.object_ref(&());
    Ok(event)
}

/// A suffix unique per object, as coffer's random one is.
fn rand_suffix(name: &str) -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(name)
}
