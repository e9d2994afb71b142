//! The controller of one config kind (ProviderConfig or
//! ClusterProviderConfig): reconciled from the cache the wiring fills,
//! woken by [`super::wakes::Wake`], with its users' counts kept current.

use std::sync::Arc;

use futures::channel::mpsc;
use kube::runtime::controller::{self, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;

use super::Stopping;
use super::kinds;
use crate::controller::env::Context;
use crate::controller::provider_config::{self, Config};

/// Runs the controller of kind `C` until `stopping` resolves.
pub async fn run<C: Config>(
    store: Store<C>,
    woken: mpsc::UnboundedReceiver<ObjectRef<C>>,
    refresh: mpsc::UnboundedSender<ObjectRef<C>>,
    ctx: Arc<Context>,
    concurrency: u16,
    stopping: Stopping,
) {
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
