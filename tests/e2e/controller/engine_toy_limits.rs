//! The engine's limits on the toy pair of `engine_toy.rs`: a reconcile
//! past its deadline is given up and shown with its own reason, and a
//! provider session holding its share of reconciles leaves the next one
//! waiting without a call.

use std::sync::Arc;
use std::time::Duration;

use coffer::controller::engine::slots::Slots;
use coffer::controller::engine::{self, Context, Error, Timing};
use kube::ResourceExt;
use kube::api::{Api, PostParams};

use super::engine_toy::{Lamp, LampSpec, ToyCloud, ToyPair, install_crd};
use crate::support::env;

/// A context on the toy cloud with `deadline`, showing failures at once.
fn toy_context(
    client: &kube::Client,
    cloud: &Arc<ToyCloud>,
    deadline: Duration,
) -> Context<Arc<ToyCloud>> {
    let timing = Timing {
        resync_interval: Duration::from_secs(600),
        poll_interval: Duration::from_millis(200),
        settle_time: Duration::from_secs(120),
        failure_grace: Duration::ZERO,
        backoff_base: Duration::from_millis(100),
        backoff_max: Duration::from_secs(1),
        reconcile_deadline: deadline,
    };
    Context::new(
        client.clone(),
        cloud.clone(),
        Arc::default(),
        timing,
        Some("toy".into()),
    )
}

async fn create_lamp(api: &Api<Lamp>, name: &str) {
    let lamp = Lamp::new(
        name,
        LampSpec {
            name: name.into(),
            bright: false,
        },
    );
    api.create(&PostParams::default(), &lamp)
        .await
        .expect("creating a lamp");
}

#[tokio::test]
async fn a_reconcile_past_its_deadline_is_given_up_and_shown_with_its_own_reason() {
    let client = env().client().await;
    let ns = env().namespace("toy-deadline").await;
    install_crd(&client, &ns).await;
    let cloud = Arc::new(ToyCloud::default());
    cloud.hanging.lock().unwrap().insert("silent".into());
    let deadline = Duration::from_millis(500);
    let ctx = Arc::new(toy_context(&client, &cloud, deadline));
    let api = Api::<Lamp>::namespaced(client.clone(), &ns);
    create_lamp(&api, "silent").await;

    let mut shown = None;
    for _ in 0..5 {
        let lamp = Arc::new(api.get("silent").await.expect("reading the lamp"));
        let started = std::time::Instant::now();
        let reconcile = engine::reconcile::<ToyPair>(lamp.clone(), ctx.clone());
        let result = tokio::time::timeout(deadline * 20, reconcile)
            .await
            .expect("the engine never gave the silent reconcile up");
        let took = started.elapsed();
        let Err(error) = result else {
            continue; // the finalizer's own pass
        };
        assert!(
            matches!(error, Error::DeadlineExceeded { .. }),
            "not the deadline: {error}"
        );
        assert!(took < deadline * 4, "the reconcile ran for {took:?}");
        // As kube-runtime does: the error policy records the failure.
        engine::error_policy(lamp, &error, ctx.clone());
        let lamp = api.get("silent").await.expect("reading the lamp");
        let synced = lamp.status.as_ref().and_then(|s| {
            s.conditions
                .iter()
                .find(|c| c.type_ == "Synced")
                .map(|c| c.reason.clone())
        });
        if synced.is_some() {
            shown = synced;
            break;
        }
    }
    assert_eq!(shown.as_deref(), Some("ReconcileDeadlineExceeded"));
}

#[tokio::test]
async fn one_session_holding_its_share_leaves_the_next_reconcile_waiting_without_a_call() {
    let client = env().client().await;
    let ns = env().namespace("toy-share").await;
    install_crd(&client, &ns).await;
    let cloud = Arc::new(ToyCloud::default());
    cloud.hanging.lock().unwrap().insert("silent".into());
    // Every lamp is of the same (empty) provider session; it may run one.
    let ctx =
        Arc::new(toy_context(&client, &cloud, Duration::from_secs(3)).with_slots(Slots::new(1)));
    let api = Api::<Lamp>::namespaced(client.clone(), &ns);
    create_lamp(&api, "silent").await;
    create_lamp(&api, "patient").await;
    let silent = Arc::new(api.get("silent").await.expect("reading a lamp"));
    let hanging = tokio::spawn(engine::reconcile::<ToyPair>(silent, ctx.clone()));
    for _ in 0..100 {
        if cloud.calls_about("silent") > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        cloud.calls_about("silent"),
        1,
        "the first lamp never reached the cloud"
    );

    // The session's one slot is taken: the second lamp goes back in the
    // queue at once, and the cloud never hears of it.
    let patient = Arc::new(api.get("patient").await.expect("reading a lamp"));
    let started = std::time::Instant::now();
    let action = engine::reconcile::<ToyPair>(patient.clone(), ctx.clone())
        .await
        .expect("not a failure");
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_ne!(action, kube::runtime::controller::Action::await_change());
    assert_eq!(cloud.calls_about("patient"), 0);
    let untouched = api.get("patient").await.expect("reading a lamp");
    assert!(
        untouched.finalizers().is_empty(),
        "the waiting lamp was written to"
    );

    // Once the silent one is given up (its deadline), the slot is free.
    let _ = hanging.await;
    let fresh = Arc::new(api.get("patient").await.expect("reading a lamp"));
    let _ = engine::reconcile::<ToyPair>(fresh, ctx.clone()).await;
    let fresh = Arc::new(api.get("patient").await.expect("reading a lamp"));
    let _ = engine::reconcile::<ToyPair>(fresh, ctx.clone()).await;
    assert!(
        cloud.calls_about("patient") > 0,
        "the freed slot never went to the next lamp"
    );
}
