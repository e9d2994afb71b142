//! The controller of one config kind (ProviderConfig or
//! ClusterProviderConfig): reconciled from the cache the wiring fills,
//! woken by [`super::wakes::Wake`], with its users' counts kept current.

use std::sync::Arc;

use futures::channel::mpsc;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use kube::runtime::controller::{self, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;

use super::kinds::{self, Stopping};
use super::leading::{self, Leading};
use crate::api::ClusterProviderConfig;
use crate::controller::env::Context;
use crate::controller::provider_config::{self, Config};

/// Runs the controller of kind `C` once this process leads, until
/// `stopping` resolves.
pub async fn run<C: Config>(
    store: Store<C>,
    woken: mpsc::UnboundedReceiver<ObjectRef<C>>,
    refresh: mpsc::UnboundedSender<ObjectRef<C>>,
    ctx: Arc<Context>,
    (concurrency, leading): (u16, &Leading),
    stopping: Stopping,
) {
    let woken = leading::drop_until_leading(woken, leading).await;
    // Every config once, as a fresh leader's first listing would: the
    // cache (filled before any controller runs) triggers nothing itself.
    for pc in store.state() {
        let _ = refresh.unbounded_send(ObjectRef::from_obj(pc.as_ref()));
    }
    let config = controller::Config::default().concurrency(concurrency);
    let configs = Controller::for_stream(
        futures::stream::pending::<Result<C, watcher::Error>>(),
        store.clone(),
    )
    .reconcile_on(woken)
    .with_config(config)
    .graceful_shutdown_on(stopping)
    .run(
        provider_config::reconcile::<C>,
        provider_config::error_policy::<C>,
        ctx.clone(),
    );
    // The refresh never ends by itself; it stops with the controller.
    tokio::select! {
        () = kinds::drain(configs) => {}
        () = provider_config::users::keep_current(ctx.env.caches.clone(), store, refresh) => {}
    }
}

/// The ClusterProviderConfigs this coffer serves, as a watch of all of
/// them: with `--watch-namespaces`, only those whose Secret is in a watched
/// namespace (it could read no other's Secret anyway). Two coffers watching
/// different namespaces then never both write one's status, each counting
/// only its own users. One that stops being served leaves the cache as if
/// deleted; one never served is never seen, so no wake, no warning.
pub fn only_served(
    events: impl Stream<Item = Result<watcher::Event<ClusterProviderConfig>, watcher::Error>>
    + Send
    + 'static,
    watched: Vec<String>,
    home: String,
    cached: Store<ClusterProviderConfig>,
) -> BoxStream<'static, Result<watcher::Event<ClusterProviderConfig>, watcher::Error>> {
    let served = move |cpc: &ClusterProviderConfig| {
        watched.is_empty()
            || watched
                .iter()
                .any(|ns| ns == cpc.credentials_namespace(&home))
    };
    let known = move |cpc: &ClusterProviderConfig| cached.get(&ObjectRef::from_obj(cpc)).is_some();
    events
        .filter_map(move |event| {
            let event = match event {
                Ok(watcher::Event::InitApply(cpc)) if !served(&cpc) => None,
                Ok(watcher::Event::Apply(cpc)) if !served(&cpc) => {
                    known(&cpc).then(|| Ok(watcher::Event::Delete(cpc)))
                }
                Ok(watcher::Event::Delete(cpc)) if !served(&cpc) && !known(&cpc) => None,
                other => Some(other),
            };
            futures::future::ready(event)
        })
        .boxed()
}
