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
mod configs;
pub mod kinds;
pub mod kube_client;
pub mod leader;
pub mod leading;
pub mod lenient;
pub mod metrics;
pub mod namespaces;
pub mod sweep;
mod wakes;

use std::sync::Arc;

use futures::channel::mpsc;
use futures::{FutureExt, StreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret};
use kube::runtime::reflector::{self, ObjectRef};
use kube::runtime::watcher;
use kube::{Api, Client, Resource};
use prometheus_client::registry::Registry;

pub use args::{RunArgs, Settings};
pub use metrics::{Metrics, Readiness};

use crate::api::{Agency, BackupShare, BackupVault, ClusterProviderConfig, ProviderConfig};
use crate::controller::agency;
use crate::controller::backup_share;
use crate::controller::backup_vault;
use crate::controller::caches::{self, Caches};
use crate::controller::engine::{Managed, slots::Slots};
use crate::controller::env::{Context, Env};
use crate::controller::provider_config;
use crate::controller::providers::{self, HuaweiFactory, ProviderFactory};
use crate::fence::Fence;
use crate::provider::metrics::ProviderMetrics;
use kinds::{Kind, Stopping};
use leader::{Leadership, LeaseConfig};
use leading::Leading;
use metrics::{heap, objects};
use wakes::Wake;

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
    let (lead, leading) = leading::standby();
    let mut controllers = Box::pin(run_controllers(
        Acting {
            client: clients.acting,
            watching: clients.watching,
            fence: fence.clone(),
            leading,
        },
        settings,
        factory,
        metrics,
        readiness.clone(),
        stopping,
    ));
    let grace = args.shutdown_grace;

    let work = async {
        if !args.leader_election {
            leader.set(true);
            lead.begin();
            return tokio::select! {
                result = &mut controllers => result,
                () = &mut shutdown => finish_reconciles(controllers.as_mut(), stop, grace).await,
            };
        }
        // A standby is doing its job: waiting, with its caches filled and
        // kept (the controllers run, and reconcile nothing until it leads);
        // it answers ready once they are filled (see `run_controllers`).
        let mut leadership = tokio::select! {
            leadership = Leadership::acquire(clients.lease, lease, fence) => leadership?,
            result = &mut controllers => return result,
            () = &mut shutdown => return Ok(()),
        };
        leader.set(true);
        lead.begin();
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
    let acting = Acting {
        watching: client.clone(),
        client,
        fence: Fence::open(),
        leading: Leading::already(),
    };
    run_controllers(
        acting,
        settings,
        factory,
        metrics,
        Readiness::default(),
        never,
    )
    .await
}

/// How the controllers reach the API server, and whether they may act.
struct Acting {
    /// For everything but the watches: fenced by the leadership.
    client: Client,
    /// For the watches only, never fenced: a standby's caches stay warm.
    watching: Client,
    /// Shuts every provider rate budget once the leadership is lost.
    fence: Fence,
    /// Nothing is reconciled, swept or written before this process leads.
    leading: Leading,
}

/// Runs the controllers until `stopping` resolves, then lets the running
/// reconciles finish and returns. No provider call starts once `fence`
/// shuts (the Kubernetes client `client` should be fenced too).
async fn run_controllers(
    acting: Acting,
    settings: Settings,
    factory: Arc<dyn ProviderFactory>,
    metrics: Arc<Metrics>,
    readiness: Readiness,
    stopping: Stopping,
) -> Result<(), Error> {
    let Acting {
        client,
        watching,
        fence,
        leading,
    } = acting;
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
        objects::provider_config_state::<ProviderConfig>,
    )));
    let (cluster_store, cluster_writer) = reflector::store::<ClusterProviderConfig>();
    let (namespace_store, namespace_writer) = reflector::store::<Namespace>();
    metrics.objects.add(Arc::new(objects::StoreCensus::new(
        <ClusterProviderConfig as provider_config::Config>::KIND,
        cluster_store.clone(),
        &[
            provider_config::REASONS,
            crate::controller::providers::TLS_REASONS,
        ],
        objects::provider_config_state::<ClusterProviderConfig>,
    )));
    let mut caches = Caches::new(config_store.clone(), secret_store)
        .with_home(&settings.home_namespace)
        .with_config_maps(config_map_store)
        .with_users(users.clone())
        // BackupShare receivers read their vaultRef from here.
        .with_backup_vaults(vaults.store());
    if settings.cluster_provider_configs {
        caches = caches.with_cluster_configs(caches::ClusterStores {
            configs: cluster_store.clone(),
            namespaces: namespace_store,
        });
    }
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
    let filled: kinds::Filled = {
        let caches = caches.clone();
        async move { caches.wait_until_ready().await }
            .boxed()
            .shared()
    };
    let running = || kinds::Running {
        client: &watching,
        settings: &settings,
        metrics: &metrics,
        unreadable: unreadable.clone(),
        leading: leading.clone(),
        filled: filled.clone(),
    };

    let (config_wake, config_woken) = mpsc::unbounded::<ObjectRef<ProviderConfig>>();
    let (cluster_wake, cluster_woken) = mpsc::unbounded::<ObjectRef<ClusterProviderConfig>>();
    let wake = Wake {
        configs: config_wake.clone(),
        cluster_configs: cluster_wake.clone(),
        users,
        caches: caches.clone(),
    };

    let config_watch = |ns: Option<&str>| {
        let config = watcher::Config::default();
        lenient::watch::<ProviderConfig>(&watching, ns, config, unreadable.clone()).boxed()
    };
    let config_cache = caches::reflect_stream(
        namespaces::watch_each(&namespaces, config_store.clone(), &config_watch),
        config_writer,
        wake.on_config_change::<ProviderConfig>(ctx.clone()),
    );
    // Cluster-wide, and only when served: with --watch-namespaces and no
    // ClusterProviderConfigs coffer reads nothing outside its namespaces.
    let served = cluster_store.clone();
    let cluster_caches = async {
        if !settings.cluster_provider_configs {
            return futures::future::pending().await;
        }
        let configs = configs::only_served(
            lenient::watch::<ClusterProviderConfig>(
                &watching,
                None,
                watcher::Config::default(),
                unreadable.clone(),
            ),
            namespaces.clone(),
            settings.home_namespace.clone(),
            served.clone(),
        );
        let configs = caches::reflect_stream(
            configs,
            cluster_writer,
            wake.on_config_change::<ClusterProviderConfig>(ctx.clone()),
        );
        let namespaces = caches::reflect(
            Api::<Namespace>::all(watching.clone()),
            watcher::Config::default(),
            namespace_writer,
            wake.on_namespace_change(),
        );
        tokio::select! {
            () = configs => "ClusterProviderConfig",
            () = namespaces => "Namespace",
        }
    };
    let secret_watch = |ns: Option<&str>| labelled::<Secret>(&watching, ns);
    let secret_cache = caches::reflect_stream(
        namespaces::watch_each(&namespaces, secret_writer.as_reader(), &secret_watch),
        secret_writer,
        wake.on_secret_change(),
    );
    // CA bundles (`caBundleRef`) in ConfigMaps: under the same label as
    // Secrets, so that coffer never caches every ConfigMap in the cluster.
    let config_map_watch = |ns: Option<&str>| labelled::<ConfigMap>(&watching, ns);
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
    let configs = async {
        tokio::select! {
            () = configs::run(
                config_store,
                config_woken,
                config_wake,
                ctx.clone(),
                (concurrency, &leading),
                stopping.clone(),
            ) => {}
            () = configs::run(
                cluster_store,
                cluster_woken,
                cluster_wake,
                ctx.clone(),
                (concurrency, &leading),
                stopping,
            ) => {}
            () = async {
                leading.wait().await;
                provider_config::credentials::keep_released(ctx.clone()).await
            } => {}
        }
    };
    let controllers = async {
        // The kinds' watches run from the start, leading or not, beside
        // the small caches rather than after them (a restart lists
        // everything once, not the configs first and then the objects);
        // their controllers and the configs' wait for the lead and for
        // the caches a reconcile reads.
        let configs = async {
            caches.wait_until_ready().await;
            configs.await
        };
        let lead = async {
            caches.wait_until_ready().await;
            // Ready once every cache is filled, the managed kinds' too,
            // leading or standing by. Sooner, a restarted leader would say
            // ready holding objects it has not seen yet, and a standby would
            // say so cold: a rolling update, which waits for the new pod's
            // readiness, would then stop the leader for a standby that must
            // list everything again before it can act.
            caches.users_filled().await;
            readiness.set(true);
            leading.wait().await;
            tracing::info!("caches filled; controllers running");
        };
        futures::join!(vaults, shares, agencies, configs, lead);
        // The last reconciles' Events are still being written.
        ctx.events.flush(EVENTS_FLUSH).await;
    };
    tokio::select! {
        () = config_cache => Err(Error::CacheStopped("ProviderConfig")),
        () = secret_cache => Err(Error::CacheStopped("Secret")),
        () = config_map_cache => Err(Error::CacheStopped("ConfigMap")),
        kind = cluster_caches => Err(Error::CacheStopped(kind)),
        // Ends only when the watches sending to it are gone. A standby
        // reports nothing: its Events would be refused by the fence.
        () = async {
            leading.wait().await;
            lenient::report(ctx.events.clone(), unreadable_rx).await
        } => Ok(()),
        () = controllers => Ok(()),
    }
}

/// How long the way out waits for queued Events to be written.
const EVENTS_FLUSH: std::time::Duration = std::time::Duration::from_secs(5);

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
