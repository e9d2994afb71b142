//! Every managed kind is wired the same way: an untyped watch decoded one
//! object at a time, a slimmed reflector store, a wake-up channel for
//! changes of what the objects reference, a sweep that wakes each object
//! for its periodic drift check, and a kube-runtime Controller around the
//! kind's reconcile. Adding a kind is one [`Kind::new`] and one
//! [`Kind::run`] in `run_controllers`.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::channel::mpsc;
use futures::{Future, Stream, StreamExt, TryStreamExt};
use kube::runtime::controller::{self, Action, Controller};
use kube::runtime::reflector::{self, ObjectRef, Store, store::Writer};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Resource};

use super::args::Settings;
use super::changes;
use super::leading::{self, Leading};
use super::lenient::{self, Unreadable};
use super::metrics::Metrics;
use super::metrics::objects::{StoreCensus, managed_conditions, managed_state};
use super::namespaces;
use super::sweep;
use crate::api::ProviderConfigKind;
use crate::controller::caches::{self, Users};
use crate::controller::engine::slots::Wake;
use crate::controller::engine::{self, Managed, SessionKey, SessionRef, object_key};
use crate::controller::env::Context;
use crate::controller::providers::TLS_REASONS;

/// [`Users`] of kind `K`, read from its store.
struct KindUsers<K: Managed> {
    store: Store<K>,
    wake: mpsc::UnboundedSender<ObjectRef<K>>,
}

impl<K: Managed> KindUsers<K> {
    /// A scan of the store: configs change rarely, and an index would cost
    /// memory on every object for the sake of that rare event.
    fn using(&self, config: &SessionKey) -> Vec<ObjectRef<K>> {
        using_config(&self.store, config)
    }
}

impl<K: Managed> Users for KindUsers<K> {
    fn kind(&self) -> &'static str {
        K::KIND
    }

    fn count(&self, config: &SessionKey) -> usize {
        self.store
            .state()
            .iter()
            .filter(|obj| obj.uses(config))
            .count()
    }

    fn counts(&self) -> HashMap<SessionKey, usize> {
        let objects = self.store.state();
        let mut counts = HashMap::<SessionRef<'_>, usize>::new();
        for obj in &objects {
            *counts.entry(obj.session_ref()).or_default() += 1;
        }
        counts
            .into_iter()
            .map(|(session, count)| (SessionKey::of(session), count))
            .collect()
    }

    fn filled(&self) -> futures::future::BoxFuture<'_, ()> {
        Box::pin(async {
            // A dropped writer means the process is stopping: nothing to wait for.
            let _ = self.store.wait_until_ready().await;
        })
    }

    fn wake(&self, config: &SessionKey) {
        for obj in self.using(config) {
            let _ = self.wake.unbounded_send(obj);
        }
    }

    fn wake_cluster_users(&self, namespace: &str) {
        let users = self
            .store
            .state()
            .into_iter()
            .filter(|obj| obj.meta().namespace.as_deref() == Some(namespace))
            .filter(|obj| {
                obj.provider_config_ref().kind() == ProviderConfigKind::ClusterProviderConfig
            })
            .map(|obj| ObjectRef::from_obj(obj.as_ref()));
        for obj in users {
            let _ = self.wake.unbounded_send(obj);
        }
    }

    fn wake_readers(&self, namespace: &str, secret: &str) {
        let readers = self
            .store
            .state()
            .into_iter()
            .filter(|obj| obj.meta().namespace.as_deref() == Some(namespace))
            .filter(|obj| obj.referenced_secrets().contains(&secret))
            .map(|obj| ObjectRef::from_obj(obj.as_ref()));
        for obj in readers {
            let _ = self.wake.unbounded_send(obj);
        }
    }
}

/// Objects of kind `K` that use the config `config` defines.
pub fn using_config<K: Managed>(store: &Store<K>, config: &SessionKey) -> Vec<ObjectRef<K>> {
    store
        .state()
        .iter()
        .filter(|obj| obj.uses(config))
        .map(|obj| ObjectRef::from_obj(obj.as_ref()))
        .collect()
}

/// Resolves when the controllers should stop taking work.
pub type Stopping = futures::future::Shared<futures::future::BoxFuture<'static, ()>>;

/// Resolves once the caches a reconcile reads (ProviderConfigs, Secrets,
/// ConfigMaps) are filled.
pub type Filled = futures::future::Shared<futures::future::BoxFuture<'static, ()>>;

/// `obj`'s name, without the copy `ResourceExt::name_any` makes.
fn name_of<K: Resource>(obj: &K) -> &str {
    obj.meta().name.as_deref().unwrap_or_default()
}

/// What every kind's controller runs with besides the [`Context`].
pub struct Running<'a> {
    pub client: &'a Client,
    pub settings: &'a Settings,
    pub metrics: &'a Metrics,
    /// Where objects that cannot be decoded are reported.
    pub unreadable: mpsc::UnboundedSender<Unreadable>,
    /// Whether this process leads: until it does, the watch fills the
    /// cache and nothing is reconciled.
    pub leading: Leading,
    /// The watch starts at once; reconciles wait for this.
    pub filled: Filled,
}

/// One kind's controller, made before the [`Context`] (whose caches count
/// its users) and run after.
pub struct Kind<K: Managed> {
    store: Store<K>,
    writer: Writer<K>,
    woken: mpsc::UnboundedReceiver<ObjectRef<K>>,
    users: Arc<KindUsers<K>>,
}

impl<K: Managed> Kind<K> {
    pub fn new() -> Self {
        let (store, writer) = reflector::store::<K>();
        let (wake, woken) = mpsc::unbounded();
        Self {
            users: Arc::new(KindUsers {
                store: store.clone(),
                wake,
            }),
            store,
            writer,
            woken,
        }
    }

    pub fn users(&self) -> Arc<dyn Users> {
        self.users.clone()
    }

    /// How the engine wakes an object of this kind that waited for its
    /// ProviderConfig's share of the reconciles.
    pub fn slot_wake(&self) -> Wake {
        let wake = self.users.wake.clone();
        Arc::new(move |namespace: &str, name: &str| {
            let _ = wake.unbounded_send(ObjectRef::new(name).within(namespace));
        })
    }

    /// The kind's store, for other kinds that reference its objects.
    pub fn store(&self) -> Store<K> {
        self.store.clone()
    }

    /// Runs the controller until `stopping` resolves and its running
    /// reconciles have finished.
    pub async fn run<F, Fut>(
        self,
        ctx: Arc<Context>,
        with: Running<'_>,
        stopping: impl Future<Output = ()> + Send + Sync + 'static,
        reconcile: F,
    ) where
        F: FnMut(Arc<K>, Arc<Context>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Action, engine::Error>> + Send + 'static,
    {
        let Running {
            client,
            settings,
            metrics,
            unreadable,
            leading,
            filled,
        } = with;
        let namespaces = settings.watch_namespaces.clone();
        let config = controller::Config::default().concurrency(settings.max_concurrent_reconciles);
        metrics.objects.add(Arc::new(StoreCensus::new(
            K::KIND,
            self.store.clone(),
            &[engine::reasons::REASONS, TLS_REASONS, K::REASONS],
            managed_state::<K>,
        )));
        let first_ready = metrics.time_to_ready.kind(K::KIND);
        let queue = metrics.queue.kind(K::KIND);
        let (joined, left) = (queue.clone(), queue.clone());
        let gone = ctx.clone();
        let watch = |ns: Option<&str>| {
            let config = watcher::Config::default();
            lenient::watch::<K>(client, ns, config, unreadable.clone()).boxed()
        };
        let lead = leading.clone();
        let events = namespaces::watch_each(&namespaces, self.store.clone(), &watch)
            .default_backoff()
            .modify(caches::slim_managed)
            .reflect(self.writer)
            .inspect_ok(move |event| {
                if lead.now() {
                    first_ready.on_event(event, managed_conditions::<K>);
                }
                if let watcher::Event::Delete(obj) = event {
                    left.forget(obj.meta().namespace.as_deref(), name_of(obj));
                    // One deleted before it ever ran (it had no finalizer)
                    // may wait in its session's line: it leaves it here.
                    gone.forget(K::KIND, obj);
                }
            });
        let (store, wake) = (self.store.clone(), self.users.wake.clone());
        // Before the filter: a status change is news for the woken.
        let events = events.inspect(move |event| wake_others(&store, &wake, event));
        // The watch runs from the start, leading or not (a standby's cache
        // stays warm); what it brings goes to the controller only once this
        // process leads. New and changed objects also join the sweep's
        // current window: it walks the store only once per window.
        let (arrived, arrivals) = mpsc::unbounded();
        let (trigger, triggers) = mpsc::unbounded();
        let missed = Arc::new(AtomicBool::new(false));
        let (lead, dropped) = (leading.clone(), missed.clone());
        let pump = changes::only_changed(events)
            .applied_objects()
            .for_each(move |item| {
                let leads = lead.now();
                match (leads, &item) {
                    (true, Ok(obj)) => {
                        joined.woken(obj.meta().namespace.as_deref(), name_of(obj));
                        let _ = arrived.unbounded_send(ObjectRef::from_obj(obj));
                    }
                    (true, Err(_)) => {}
                    (false, Ok(_)) => dropped.store(true, Ordering::Relaxed),
                    (false, Err(error)) => tracing::warn!(%error, kind = K::KIND, "watch"),
                }
                if leads {
                    let _ = trigger.unbounded_send(item);
                }
                futures::future::ready(())
            });
        let woken_queue = queue.clone();
        let mut reconcile = reconcile;
        let reconcile = move |obj: Arc<K>, ctx: Arc<Context>| {
            queue.started(obj.meta().namespace.as_deref(), name_of(obj.as_ref()));
            reconcile(obj, ctx)
        };
        let sweeping = ctx.clone();
        let (store, wake) = (self.store.clone(), self.users.wake.clone());
        let interval = settings.resync_interval;
        let sweep = async move {
            sweep::run(
                store,
                arrivals,
                wake,
                interval,
                &sweeping.recent,
                |obj: &K| {
                    sweeping
                        .backoff
                        .failing(&object_key(K::KIND, obj))
                        .is_some()
                },
            )
            .await;
        };
        let (store, wake) = (self.store.clone(), self.users.wake.clone());
        let controller = async move {
            let woken = leading::drop_until_leading(self.woken, &leading).await;
            // What arrives meanwhile waits in the channels.
            filled.await;
            if missed.load(Ordering::Relaxed) {
                // A takeover: what the watch brought while this process
                // stood by went to the cache only. A fresh leader's first
                // listing would reconcile every object; so does this one.
                let _ = store.wait_until_ready().await;
                for obj in store.state() {
                    let _ = wake.unbounded_send(ObjectRef::from_obj(obj.as_ref()));
                }
            }
            let woken =
                woken.inspect(move |obj| woken_queue.woken(obj.namespace.as_deref(), &obj.name));
            let results = Controller::for_stream(triggers, self.store)
                .reconcile_on(woken)
                .with_config(config)
                .graceful_shutdown_on(stopping)
                .run(reconcile, engine::error_policy::<K, _>, ctx);
            // The sweep never ends by itself; it stops with the controller.
            tokio::select! {
                () = drain(results) => {}
                () = sweep => {}
            }
        };
        // The watch ends only with the process; the controller, when it
        // has stopped on `stopping`.
        tokio::select! {
            () = pump => {}
            () = controller => {}
        }
    }
}

/// Wakes the objects of the store that `event`'s object names through
/// [`Managed::wakes`] (an owner BackupShare, when its receiver changed).
fn wake_others<K: Managed>(
    store: &Store<K>,
    wake: &mpsc::UnboundedSender<ObjectRef<K>>,
    event: &Result<watcher::Event<K>, watcher::Error>,
) {
    let Ok(watcher::Event::Apply(obj)) = event else {
        return;
    };
    let Some(key) = obj.wakes() else {
        return;
    };
    for other in store.state().iter().filter(|o| o.woken_by(&key)) {
        let _ = wake.unbounded_send(ObjectRef::from_obj(other.as_ref()));
    }
}

impl<K: Managed> Default for Kind<K> {
    fn default() -> Self {
        Self::new()
    }
}

/// Polls a controller to the end, logging what goes wrong outside reconciles.
pub async fn drain<K, E>(
    results: impl Stream<Item = Result<(ObjectRef<K>, Action), controller::Error<E, watcher::Error>>>,
) where
    K: Resource,
    E: std::error::Error + 'static,
{
    results
        .for_each(|result| {
            if let Err(error) = result {
                match error {
                    // Already counted and logged by the reconcile and its error policy.
                    controller::Error::ReconcilerFailed(..) => {}
                    other => tracing::warn!(error = %other, "controller"),
                }
            }
            futures::future::ready(())
        })
        .await;
}

#[cfg(test)]
mod tests {
    use kube::runtime::reflector::store::Writer;

    use super::*;
    use crate::api::{BackupVault, ProviderConfigRef};
    use crate::controller::engine::fixtures;

    fn vault(namespace: &str, name: &str, config: ProviderConfigRef) -> BackupVault {
        let mut bv = fixtures::object();
        bv.metadata.namespace = Some(namespace.into());
        bv.metadata.name = Some(name.into());
        bv.spec.provider_config_ref = config;
        bv
    }

    fn cluster(name: &str) -> ProviderConfigRef {
        ProviderConfigRef {
            kind: Some(ProviderConfigKind::ClusterProviderConfig),
            name: name.into(),
        }
    }

    #[test]
    fn one_pass_counts_every_config_as_a_scan_for_each_would() {
        let mut writer = Writer::<BackupVault>::default();
        let store = writer.as_reader();
        writer.apply_watcher_event(&watcher::Event::Init);
        for bv in [
            vault("a", "1", ProviderConfigRef::namespaced("cloud")),
            vault("a", "2", ProviderConfigRef::namespaced("cloud")),
            // The same name in another namespace is another config.
            vault("b", "3", ProviderConfigRef::namespaced("cloud")),
            vault("b", "4", ProviderConfigRef::namespaced("other")),
            // A cluster-wide config is one, whatever the namespace.
            vault("a", "5", cluster("cloud")),
            vault("b", "6", cluster("cloud")),
        ] {
            writer.apply_watcher_event(&watcher::Event::InitApply(bv));
        }
        writer.apply_watcher_event(&watcher::Event::InitDone);
        let users = KindUsers {
            store,
            wake: mpsc::unbounded().0,
        };

        let counts = users.counts();
        let cluster_wide = SessionKey::ClusterWide {
            name: "cloud".into(),
        };
        assert_eq!(
            counts,
            HashMap::from([
                (SessionKey::namespaced("a", "cloud"), 2),
                (SessionKey::namespaced("b", "cloud"), 1),
                (SessionKey::namespaced("b", "other"), 1),
                (cluster_wide, 2),
            ])
        );
        for (config, count) in &counts {
            assert_eq!(users.count(config), *count, "{config:?}");
        }
    }
}
