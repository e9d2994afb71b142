//! The wiring, coffer's top floor: `coffer run` (flags, metrics server,
//! leader election, shutdown), which kinds exist and how each is watched,
//! swept and reconciled, the caches' watches and whom their changes wake,
//! and the ProviderConfig controller beside the kinds'.
//!
//! Watches: BackupVaults once (the controller's own reflector); ProviderConfigs,
//! and labelled Secrets and ConfigMaps once each, into caches that reconciles read and that,
//! after each change is in the cache, wake the objects referencing it. So a
//! reconcile woken by a Secret change always sees that change. With
//! `--watch-namespaces`, each of those is one watch per namespace, merged
//! into the same cache (`namespaces`).

pub mod args;
pub mod changes;
pub mod kinds;
pub mod kube_client;
pub mod leader;
pub mod lenient;
pub mod metrics;
pub mod namespaces;
pub mod sweep;

use std::collections::HashMap;
use std::sync::Arc;

use futures::channel::mpsc;
use futures::{FutureExt, StreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::runtime::controller::{self, Controller};
use kube::runtime::reflector::{self, ObjectRef};
use kube::runtime::watcher;
use kube::{Api, Client, Resource, ResourceExt};
use prometheus_client::registry::Registry;

pub use args::{RunArgs, Settings};
pub use metrics::{Metrics, Readiness};

use crate::api::{Agency, BackupShare, BackupVault, ProviderConfig};
use crate::controller::agency;
use crate::controller::backup_share;
use crate::controller::backup_vault;
use crate::controller::caches::{self, Caches, Change, ContentVersions, SpecVersions, Users};
use crate::controller::engine::{self, Managed, slots::Slots};
use crate::controller::env::{Context, Env};
use crate::controller::provider_config;
use crate::controller::providers::{self, HuaweiFactory, ProviderFactory};
use crate::fence::Fence;
use crate::provider::metrics::ProviderMetrics;
use kinds::Kind;
use leader::{Leadership, LeaseConfig};
use metrics::{heap, objects};

/// Why `coffer run` stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no Kubernetes client: {0}; run in a cluster or set KUBECONFIG")]
    Client(#[source] kube::Error),
    #[error("the {0} cache stopped watching")]
    CacheStopped(&'static str),
    #[error("the metrics server failed: {0}; is --metrics-addr free?")]
    Server(#[source] std::io::Error),
    #[error(transparent)]
    Leader(#[from] leader::Error),
}

/// `coffer run`: the controllers, the metrics server and, when asked, leader
/// election, until SIGTERM or Ctrl-C. A leader gives its lease up on the way
/// out so that a standby takes over at once.
pub async fn run(args: RunArgs) -> Result<(), Error> {
    let lease = LeaseConfig::from_args(&args);
    let fence = match args.leader_election {
        true => Fence::until_renewed(lease.renew_deadline()),
        false => Fence::open(),
    };
    let clients = kube_client::Clients::infer(&fence, args.kube_request_timeout)
        .await
        .map_err(Error::Client)?;
    let mut registry = Registry::default();
    let metrics = Arc::new(Metrics::default());
    metrics.register(&mut registry);
    let provider_metrics = Arc::new(ProviderMetrics::default());
    provider_metrics.register(registry.sub_registry_with_prefix("coffer"));
    let heap = heap::HeapMetrics::default();
    heap.register(registry.sub_registry_with_prefix("coffer"));
    heap.run();
    let factory: Arc<dyn ProviderFactory> = Arc::new(HuaweiFactory::new(provider_metrics));
    let readiness = Readiness::default();
    let listener = tokio::net::TcpListener::bind(args.metrics_addr)
        .await
        .map_err(Error::Server)?;
    let server = metrics::serve(listener, registry, readiness.clone());
    let settings = args.settings();
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    let (stop, stopped) = futures::channel::oneshot::channel::<()>();
    let stopping: Stopping = stopped.map(|_| ()).boxed().shared();
    let leader = metrics.leader.clone();
    let mut controllers = Box::pin(run_controllers(
        clients.acting,
        settings,
        factory,
        metrics,
        readiness.clone(),
        stopping,
        fence.clone(),
    ));
    let grace = args.shutdown_grace;

    let work = async {
        if !args.leader_election {
            leader.set(true);
            return tokio::select! {
                result = &mut controllers => result,
                () = &mut shutdown => finish_reconciles(controllers.as_mut(), stop, grace).await,
            };
        }
        // A standby is doing its job: waiting.
        readiness.set(true);
        let mut leadership = tokio::select! {
            leadership = Leadership::acquire(clients.lease, lease, fence) => leadership?,
            () = &mut shutdown => return Ok(()),
        };
        readiness.set(false);
        leader.set(true);
        let result = tokio::select! {
            result = &mut controllers => result,
            lost = leadership.lost() => return Err(Error::Leader(lost)),
            () = &mut shutdown => finish_reconciles(controllers.as_mut(), stop, grace).await,
        };
        leadership.release().await;
        leader.set(false);
        result
    };
    tokio::select! {
        result = server => result.map_err(Error::Server),
        result = work => {
            tracing::info!("stopped");
            result
        }
    }
}

/// On SIGTERM the controllers stop taking work and the running reconciles
/// finish, within `grace`, so a create is never cut between its call and
/// recording its id; only then is the lease given up.
async fn finish_reconciles(
    controllers: std::pin::Pin<&mut (impl Future<Output = Result<(), Error>> + ?Sized)>,
    stop: futures::channel::oneshot::Sender<()>,
    grace: std::time::Duration,
) -> Result<(), Error> {
    let _ = stop.send(());
    tracing::info!(?grace, "stopping: letting running reconciles finish");
    match tokio::time::timeout(grace, controllers).await {
        Ok(result) => result,
        Err(_) => {
            tracing::warn!("reconciles still running after the shutdown grace; stopping anyway");
            Ok(())
        }
    }
}

/// Runs the controllers in this process until the returned future is
/// dropped: what `coffer run` does once it leads, and what tests call
/// against their own API server with their own provider factory.
pub async fn run_with(
    client: Client,
    settings: Settings,
    factory: Arc<dyn ProviderFactory>,
    metrics: Arc<Metrics>,
) -> Result<(), Error> {
    let never = futures::future::pending::<()>().boxed().shared();
    run_controllers(
        client,
        settings,
        factory,
        metrics,
        Readiness::default(),
        never,
        Fence::open(),
    )
    .await
}

/// Resolves when the controllers should stop taking work.
type Stopping = futures::future::Shared<futures::future::BoxFuture<'static, ()>>;

/// Runs the controllers until `stopping` resolves, then lets the running
/// reconciles finish and returns. No provider call starts once `fence`
/// shuts (the Kubernetes client `client` should be fenced too).
async fn run_controllers(
    client: Client,
    settings: Settings,
    factory: Arc<dyn ProviderFactory>,
    metrics: Arc<Metrics>,
    readiness: Readiness,
    stopping: Stopping,
    fence: Fence,
) -> Result<(), Error> {
    let namespaces = settings.watch_namespaces.clone();
    let vaults = Kind::<BackupVault>::new();
    let shares = Kind::<BackupShare>::new();
    let agencies = Kind::<Agency>::new();
    let users = vec![vaults.users(), shares.users(), agencies.users()];
    let (config_store, config_writer) = reflector::store::<ProviderConfig>();
    let (secret_store, secret_writer) = reflector::store::<Secret>();
    let (config_map_store, config_map_writer) = reflector::store::<ConfigMap>();
    metrics.objects.add(Arc::new(objects::StoreCensus::new(
        provider_config::KIND,
        config_store.clone(),
        &[
            provider_config::REASONS,
            crate::controller::providers::TLS_REASONS,
        ],
        objects::provider_config_state,
    )));
    let caches = Caches::new(config_store.clone(), secret_store)
        .with_config_maps(config_map_store)
        .with_users(users.clone())
        // BackupShare receivers read their vaultRef from here.
        .with_backup_vaults(vaults.store());
    let concurrency = settings.max_concurrent_reconciles;
    let (unreadable, unreadable_rx) = mpsc::unbounded();
    let env = Env {
        caches: caches.clone(),
        providers: providers::ProviderClients::new(factory, metrics.budgets.clone())
            .allowing(settings.allowed_endpoints.clone())
            .fenced(fence),
    };
    let ctx = Arc::new(
        Context::new(
            client.clone(),
            env,
            metrics.reconciles.clone(),
            settings.timing(),
            settings.instance.clone(),
        )
        .with_slots(
            Slots::new(settings.session_share())
                .wake(BackupVault::KIND, vaults.slot_wake())
                .wake(BackupShare::KIND, shares.slot_wake())
                .wake(Agency::KIND, agencies.slot_wake()),
        ),
    );
    let running = || kinds::Running {
        client: &client,
        settings: &settings,
        metrics: &metrics,
        unreadable: unreadable.clone(),
    };

    let (config_wake, config_woken) = mpsc::unbounded::<ObjectRef<ProviderConfig>>();
    let users_wake = config_wake.clone();
    let wake = Wake {
        configs: config_wake,
        users,
        caches: caches.clone(),
    };

    let config_watch = |ns: Option<&str>| {
        let config = watcher::Config::default();
        lenient::watch::<ProviderConfig>(&client, ns, config, unreadable.clone()).boxed()
    };
    let config_cache = caches::reflect_stream(
        namespaces::watch_each(&namespaces, config_store.clone(), &config_watch),
        config_writer,
        wake.on_config_change(ctx.clone()),
    );
    let secret_watch = |ns: Option<&str>| labelled::<Secret>(&client, ns);
    let secret_cache = caches::reflect_stream(
        namespaces::watch_each(&namespaces, secret_writer.as_reader(), &secret_watch),
        secret_writer,
        wake.on_secret_change(),
    );
    // CA bundles (`caBundleRef`) in ConfigMaps: under the same label as
    // Secrets, so that coffer never caches every ConfigMap in the cluster.
    let config_map_watch = |ns: Option<&str>| labelled::<ConfigMap>(&client, ns);
    let config_map_cache = caches::reflect_stream(
        namespaces::watch_each(
            &namespaces,
            config_map_writer.as_reader(),
            &config_map_watch,
        ),
        config_map_writer,
        wake.on_config_map_change(),
    );

    let agencies = agencies.run(ctx.clone(), running(), stopping.clone(), agency::reconcile);
    let shares = shares.run(
        ctx.clone(),
        running(),
        stopping.clone(),
        backup_share::reconcile,
    );
    let vaults = vaults.run(
        ctx.clone(),
        running(),
        stopping.clone(),
        backup_vault::reconcile,
    );
    let config = controller::Config::default().concurrency(concurrency);
    let configs = Controller::for_stream(
        futures::stream::pending::<Result<ProviderConfig, watcher::Error>>(),
        config_store.clone(),
    )
    .reconcile_on(config_woken)
    .with_config(config)
    .graceful_shutdown_on(stopping)
    .run(
        provider_config::reconcile,
        provider_config::error_policy,
        ctx.clone(),
    );

    let configs = async {
        // The refresh never ends by itself; it stops with the controller.
        tokio::select! {
            () = kinds::drain(configs) => {}
            () = provider_config::users::keep_current(caches.clone(), config_store, users_wake) => {}
            () = provider_config::credentials::keep_released(ctx.clone()) => {}
        }
    };
    let controllers = async {
        caches.wait_until_ready().await;
        readiness.set(true);
        tracing::info!("caches filled; controllers running");
        futures::join!(vaults, shares, agencies, configs);
        // The last reconciles' Events are still being written.
        ctx.events.flush(EVENTS_FLUSH).await;
    };
    tokio::select! {
        () = config_cache => Err(Error::CacheStopped("ProviderConfig")),
        () = secret_cache => Err(Error::CacheStopped("Secret")),
        () = config_map_cache => Err(Error::CacheStopped("ConfigMap")),
        // Ends only when the watches sending to it are gone.
        () = lenient::report(ctx.events.clone(), unreadable_rx) => Ok(()),
        () = controllers => Ok(()),
    }
}

/// How long the way out waits for queued Events to be written.
const EVENTS_FLUSH: std::time::Duration = std::time::Duration::from_secs(5);

/// Where cache changes wake reconciles.
#[derive(Clone)]
struct Wake {
    configs: mpsc::UnboundedSender<ObjectRef<ProviderConfig>>,
    /// Every managed kind.
    users: Vec<Arc<dyn Users>>,
    caches: Caches,
}

impl Wake {
    /// A ProviderConfig is checked when listed or when its spec changes; the
    /// BackupVaults using it are woken only by a spec change or deletion —
    /// never by its status, or one status write would wake thousands.
    fn on_config_change(&self, ctx: Arc<Context>) -> impl FnMut(Change, &ProviderConfig) + Send {
        let wake = self.clone();
        let mut specs = SpecVersions::default();
        // Deletion and the steering annotations too (`engine::wake_key`):
        // a ProviderConfig's deletion is handled by its reconcile. Its own
        // finalizer needs no wake: the reconcile that adds it goes on.
        let mut lifecycles: HashMap<(String, String), Option<u64>> = HashMap::new();
        move |change, pc| {
            let namespace = pc.namespace().unwrap_or_default();
            let name = pc.name_any();
            let key = (namespace.clone(), name.clone());
            let lifecycle_changed =
                lifecycles.insert(key.clone(), engine::wake_key(pc)) != Some(engine::wake_key(pc));
            let spec_changed = match change {
                Change::Listed => {
                    specs.record(pc);
                    false
                }
                Change::Applied => specs.record(pc),
                Change::Deleted => {
                    specs.forget(pc);
                    lifecycles.remove(&key);
                    ctx.env.providers.forget(&namespace, &name);
                    true
                }
            };
            if spec_changed || lifecycle_changed || change == Change::Listed {
                let _ = wake.configs.unbounded_send(ObjectRef::from_obj(pc));
            }
            if spec_changed {
                wake.users_of(&namespace, &name);
            }
        }
    }

    /// A credential Secret's change wakes the ProviderConfigs reading it and
    /// their BackupVaults, and the objects that read it themselves (a
    /// BackupVault's passphrase). A listing wakes nothing: every object is
    /// reconciled when its own controller starts. Only a change of its keys
    /// and values is news: not its metadata, such as coffer's own in-use
    /// finalizer, or holding a Secret would wake all its users.
    fn on_secret_change(&self) -> impl FnMut(Change, &Secret) + Send {
        let wake = self.clone();
        let mut contents = ContentVersions::default();
        move |change, secret| {
            let changed = match change {
                Change::Listed => {
                    contents.record(secret, caches::secret_digest(secret));
                    false
                }
                Change::Applied => contents.record(secret, caches::secret_digest(secret)),
                Change::Deleted => {
                    contents.forget(secret);
                    true
                }
            };
            if !changed {
                return;
            }
            let namespace = secret.namespace().unwrap_or_default();
            for kind in &wake.users {
                kind.wake_readers(&namespace, &secret.name_any());
            }
            for config in wake
                .caches
                .configs_using_secret(&namespace, &secret.name_any())
            {
                wake.users_of(&namespace, &config.name);
                let _ = wake.configs.unbounded_send(config);
            }
        }
    }

    /// A labelled ConfigMap's change wakes the ProviderConfigs whose
    /// `caBundleRef` names it, and their users: a rotated CA is trusted at once.
    fn on_config_map_change(&self) -> impl FnMut(Change, &ConfigMap) + Send {
        let wake = self.clone();
        let mut contents = ContentVersions::default();
        move |change, config_map| {
            let changed = match change {
                Change::Listed => {
                    contents.record(config_map, caches::config_map_digest(config_map));
                    false
                }
                Change::Applied => {
                    contents.record(config_map, caches::config_map_digest(config_map))
                }
                Change::Deleted => {
                    contents.forget(config_map);
                    true
                }
            };
            if !changed {
                return;
            }
            let namespace = config_map.namespace().unwrap_or_default();
            for config in wake
                .caches
                .configs_using_config_map(&namespace, &config_map.name_any())
            {
                wake.users_of(&namespace, &config.name);
                let _ = wake.configs.unbounded_send(config);
            }
        }
    }

    /// Wakes the objects of every kind that use ProviderConfig `config`.
    fn users_of(&self, namespace: &str, config: &str) {
        for kind in &self.users {
            kind.wake(namespace, config);
        }
    }
}

/// The objects of kind `K` labelled `coffer.dev/credentials=true` in
/// `namespace`, or in every namespace.
fn labelled<K>(
    client: &Client,
    namespace: Option<&str>,
) -> futures::stream::BoxStream<'static, Result<watcher::Event<K>, watcher::Error>>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Send
        + 'static,
{
    let api = match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    let config = watcher::Config::default().labels(&caches::credentials_selector());
    watcher(api, config).boxed()
}

async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        () = terminate => {},
    }
}
