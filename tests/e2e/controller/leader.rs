//! Leader election on a real Lease: one holder at a time, hand-over on
//! release, and a holder that notices when its lease is taken.

use std::time::Duration;

use coffer::controller::leader::{Error, Leadership, LeaseConfig};
use coffer::fence::Fence;
use k8s_openapi::api::coordination::v1::Lease;
use kube::api::{Api, Patch, PatchParams};

use crate::support::env;

fn lease(ns: &str, identity: &str) -> LeaseConfig {
    LeaseConfig {
        namespace: ns.to_string(),
        name: "coffer-leader".into(),
        identity: identity.into(),
        duration: Duration::from_secs(3),
    }
}

fn fence() -> Fence {
    Fence::until_renewed(Duration::from_secs(2))
}

#[tokio::test]
async fn one_leader_at_a_time_and_hand_over_on_release() {
    let env = env();
    let client = env.client().await;
    let ns = env.namespace("leader").await;

    let first = Leadership::acquire(client.clone(), lease(&ns, "a"), fence())
        .await
        .expect("a leads");
    let second = tokio::spawn(Leadership::acquire(
        client.clone(),
        lease(&ns, "b"),
        fence(),
    ));
    // Longer than a lease duration: a keeps renewing, so b must still wait.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(!second.is_finished(), "b took a lease that a was renewing");

    first.release().await;
    let mut second = tokio::time::timeout(Duration::from_secs(10), second)
        .await
        .expect("b leads soon after a let go")
        .expect("task")
        .expect("b leads");
    let holder = Api::<Lease>::namespaced(client.clone(), &ns)
        .get("coffer-leader")
        .await
        .expect("lease")
        .spec
        .and_then(|s| s.holder_identity);
    assert_eq!(holder.as_deref(), Some("b"));

    // Someone else takes the lease: b must notice and report it lost.
    Api::<Lease>::namespaced(client, &ns)
        .patch(
            "coffer-leader",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"spec": {"holderIdentity": "c"}})),
        )
        .await
        .expect("taking the lease");
    let lost = tokio::time::timeout(Duration::from_secs(10), second.lost())
        .await
        .expect("b notices within a lease duration");
    assert!(
        matches!(lost, Error::Taken(_, ref holder) if holder == "c"),
        "{lost}"
    );
}
