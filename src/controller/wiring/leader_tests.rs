use super::*;

fn config(identity: &str) -> LeaseConfig {
    LeaseConfig {
        namespace: "coffer-system".into(),
        name: "coffer-leader".into(),
        identity: identity.into(),
        duration: Duration::from_secs(15),
    }
}

fn held_by(holder: &str) -> LeaseSpec {
    LeaseSpec {
        holder_identity: Some(holder.into()),
        lease_duration_seconds: Some(15),
        lease_transitions: Some(3),
        ..LeaseSpec::default()
    }
}

#[test]
fn a_valid_lease_of_another_is_not_taken() {
    assert!(claim(Some(&held_by("b")), &config("a"), false, Timestamp::now()).is_none());
}

#[test]
fn an_expired_lease_is_taken_over() {
    let spec = claim(Some(&held_by("b")), &config("a"), true, Timestamp::now()).expect("claimed");
    assert_eq!(spec.holder_identity.as_deref(), Some("a"));
    assert_eq!(spec.lease_transitions, Some(4));
}

#[test]
fn a_released_lease_is_free() {
    let mut released = held_by("b");
    released.holder_identity = None;
    assert!(claim(Some(&released), &config("a"), false, Timestamp::now()).is_some());
}

#[test]
fn a_first_claim_is_not_a_transition() {
    let spec = claim(None, &config("a"), false, Timestamp::now()).expect("claimed");
    assert_eq!(spec.lease_transitions, Some(0));
}

#[test]
fn renewing_own_lease_is_not_a_transition() {
    let spec = claim(Some(&held_by("a")), &config("a"), false, Timestamp::now()).expect("renewed");
    assert_eq!(spec.lease_transitions, Some(3));
}

#[tokio::test(start_paused = true)]
async fn a_holder_record_unchanged_for_a_lease_duration_expires() {
    let mut watch = HolderWatch::default();
    let spec = held_by("b");
    let duration = Duration::from_secs(15);
    assert!(!watch.expired(&spec, duration));
    tokio::time::advance(Duration::from_secs(10)).await;
    assert!(!watch.expired(&spec, duration));
    tokio::time::advance(Duration::from_secs(6)).await;
    assert!(watch.expired(&spec, duration));
}

/// How the fake API server answers Lease requests after the first claim.
#[derive(Clone, Copy, PartialEq)]
enum AfterClaim {
    /// As the API server would: the lease stays ours.
    Renew,
    /// Not at all: a half-open connection.
    Never,
}

/// A client for a fake API server holding no Lease at first, that counts
/// every request it is sent.
fn lease_server(
    after_claim: AfterClaim,
) -> (Client, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::Ordering;
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = sent.clone();
    let stored = std::sync::Arc::new(std::sync::Mutex::new(None::<bytes::Bytes>));
    let server = tower::service_fn(move |request: http::Request<kube::client::Body>| {
        let (counter, stored) = (counter.clone(), stored.clone());
        async move {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let held = stored.lock().expect("lock").clone();
            let (status, body) = match (request.method().as_str(), held) {
                (_, Some(_)) if n >= 2 && after_claim == AfterClaim::Never => {
                    futures::future::pending().await
                }
                ("GET", None) => (
                    404,
                    bytes::Bytes::from_static(
                        br#"{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}"#,
                    ),
                ),
                ("GET", Some(lease)) => (200, lease),
                _ => {
                    let lease = request.into_body().collect_bytes().await.expect("body");
                    *stored.lock().expect("lock") = Some(lease.clone());
                    (200, lease)
                }
            };
            let mut response = http::Response::new(kube::client::Body::from(body));
            *response.status_mut() = http::StatusCode::from_u16(status).expect("status");
            Ok::<_, std::convert::Infallible>(response)
        }
    });
    (Client::new(server, "default"), sent)
}

fn short(identity: &str) -> LeaseConfig {
    LeaseConfig {
        duration: Duration::from_secs(3),
        ..config(identity)
    }
}

#[tokio::test(start_paused = true)]
async fn a_renewal_without_an_answer_ends_the_leadership_at_the_renew_deadline() {
    let (client, _) = lease_server(AfterClaim::Never);
    let config = short("a");
    let fence = Fence::until_renewed(config.renew_deadline());
    let claimed = Instant::now();
    let mut leadership = Leadership::acquire(client, config.clone(), fence.clone())
        .await
        .expect("a leads");
    assert!(fence.may_act());
    let lost = tokio::time::timeout(config.duration, leadership.lost())
        .await
        .expect("the renewal gave up before the lease could expire");
    assert!(matches!(lost, Error::RenewFailed { .. }), "{lost}");
    assert_eq!(claimed.elapsed(), config.renew_deadline());
    assert!(!fence.may_act());
}

#[tokio::test(start_paused = true)]
async fn a_leader_that_keeps_renewing_keeps_acting() {
    let (client, _) = lease_server(AfterClaim::Renew);
    let config = short("a");
    let fence = Fence::until_renewed(config.renew_deadline());
    let mut leadership = Leadership::acquire(client, config.clone(), fence.clone())
        .await
        .expect("a leads");
    let lost = tokio::time::timeout(config.duration * 10, leadership.lost()).await;
    assert!(lost.is_err(), "lost: {:?}", lost.map(|e| e.to_string()));
    assert!(fence.may_act());
}

#[tokio::test(start_paused = true)]
async fn a_leader_woken_past_its_deadline_stops_without_renewing() {
    use std::sync::atomic::Ordering;
    let (client, sent) = lease_server(AfterClaim::Renew);
    let config = short("a");
    let fence = Fence::until_renewed(config.renew_deadline());
    let mut leadership = Leadership::acquire(client, config.clone(), fence.clone())
        .await
        .expect("a leads");
    let before = sent.load(Ordering::SeqCst);
    // As SIGSTOP does: the clock moves on and no task runs meanwhile.
    tokio::time::advance(config.duration * 2).await;
    assert!(!fence.may_act(), "the fence shut by the clock alone");
    let lost = tokio::time::timeout(Duration::from_millis(1), leadership.lost())
        .await
        .expect("lost at once");
    assert!(matches!(lost, Error::RenewFailed { .. }), "{lost}");
    assert_eq!(sent.load(Ordering::SeqCst), before, "it tried to renew");
}
