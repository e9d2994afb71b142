use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::WatchParams;

use super::*;

const TIMEOUT: Duration = Duration::from_secs(5);

/// How the fake API server answers.
#[derive(Clone, Copy)]
enum Answer {
    /// A ConfigMap, at once.
    ConfigMap,
    /// Nothing, ever: a half-open connection.
    Never,
    /// Headers at once, then a body that never ends.
    StalledBody,
}

/// The fake's body: all of it in one frame, or a body that never gives one.
enum FakeBody {
    Whole(Option<Bytes>),
    Stalled,
}

impl Body for FakeBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match &mut *self {
            Self::Whole(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Self::Stalled => Poll::Pending,
        }
    }
}

/// A client whose requests reach a fake API server through [`CallsLayer`];
/// the count is of the requests that reached it, counted when sent (as
/// hyper sends when polled, not when called).
fn client(answer: Answer, fence: Fence) -> (Client, Arc<AtomicUsize>) {
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    let server = tower::service_fn(move |_: Request<kube::client::Body>| {
        let counter = counter.clone();
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            let body = match answer {
                Answer::ConfigMap => FakeBody::Whole(Some(Bytes::from(
                    serde_json::to_vec(&serde_json::json!({
                        "apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": "c", "namespace": "default"},
                    }))
                    .expect("json"),
                ))),
                Answer::Never => futures::future::pending().await,
                Answer::StalledBody => FakeBody::Stalled,
            };
            Ok::<_, Infallible>(Response::new(body))
        }
    });
    let client = ClientBuilder::new(server, "default")
        .with_layer(&CallsLayer {
            fence,
            timeout: TIMEOUT,
        })
        .build();
    (client, sent)
}

fn config_maps(client: Client) -> Api<ConfigMap> {
    Api::namespaced(client, "default")
}

/// `api.get("c")`, failing the test rather than hanging if nothing ends it.
async fn get(api: &Api<ConfigMap>) -> Result<ConfigMap, kube::Error> {
    tokio::time::timeout(TIMEOUT * 10, api.get("c"))
        .await
        .expect("the call ended on its own")
}

#[tokio::test(start_paused = true)]
async fn a_call_with_no_answer_fails_after_the_timeout() {
    let (client, _) = client(Answer::Never, Fence::open());
    let started = Instant::now();
    let error = get(&config_maps(client)).await.expect_err("timed out");
    assert_eq!(started.elapsed(), TIMEOUT);
    assert!(error.to_string().contains("did not answer"), "{error}");
}

#[tokio::test(start_paused = true)]
async fn a_body_that_stalls_fails_at_the_same_deadline() {
    let (client, _) = client(Answer::StalledBody, Fence::open());
    let started = Instant::now();
    let error = get(&config_maps(client)).await.expect_err("timed out");
    assert_eq!(started.elapsed(), TIMEOUT);
    assert!(format!("{error:?}").contains("TimedOut"), "{error:?}");
}

#[tokio::test(start_paused = true)]
async fn a_watch_keeps_its_long_poll() {
    let (client, _) = client(Answer::Never, Fence::open());
    let api = config_maps(client);
    let params = WatchParams::default();
    assert!(
        tokio::time::timeout(TIMEOUT * 10, api.watch(&params, "0"))
            .await
            .is_err(),
        "a watch was cut by the call timeout"
    );
}

#[tokio::test(start_paused = true)]
async fn a_shut_fence_sends_nothing() {
    let fence = Fence::until_renewed(Duration::from_secs(10));
    assert!(fence.renewed(Instant::now()));
    let (client, sent) = client(Answer::ConfigMap, fence);
    let api = config_maps(client);
    get(&api).await.expect("within the deadline");
    tokio::time::advance(Duration::from_secs(10)).await;
    let error = get(&api).await.expect_err("refused");
    assert!(error.to_string().contains("no longer holds"), "{error}");
    assert!(api.watch(&WatchParams::default(), "0").await.is_err());
    assert_eq!(sent.load(Ordering::SeqCst), 1, "a request was sent");
}

#[tokio::test(start_paused = true)]
async fn a_call_in_flight_when_the_fence_shuts_is_abandoned() {
    let fence = Fence::until_renewed(Duration::from_secs(2));
    assert!(fence.renewed(Instant::now()));
    let (client, _) = client(Answer::Never, fence);
    let started = Instant::now();
    let error = get(&config_maps(client)).await.expect_err("abandoned");
    assert_eq!(started.elapsed(), Duration::from_secs(2));
    assert!(error.to_string().contains("no longer holds"), "{error}");
}

#[test]
fn only_watches_are_watches() {
    let watch = |uri: &str| is_watch(&uri.parse().expect("uri"));
    assert!(watch(
        "/api/v1/namespaces/a/configmaps?watch=true&resourceVersion=1"
    ));
    assert!(watch(
        "/apis/coffer.dev/v1alpha1/backupvaults?labelSelector=x&watch=1"
    ));
    assert!(!watch("/api/v1/namespaces/a/configmaps"));
    assert!(!watch(
        "/api/v1/namespaces/a/configmaps?fieldSelector=watch%3Dtrue"
    ));
    assert!(!watch("/api/v1/namespaces/a/configmaps?watch=false"));
}
