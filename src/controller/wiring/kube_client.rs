//! The Kubernetes clients of `coffer run`. Every request but a watch runs
//! under an explicit timeout, since kube's default client waits forever for
//! an answer on a half-open connection. The controllers' client also
//! refuses every request once the leadership fence is shut, and abandons
//! the ones in flight when it shuts: a leader past its renew deadline makes
//! no more Kubernetes writes, whichever task runs first after a pause. The
//! Lease is renewed through a client of its own, which no fence stops.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use http::{Request, Response};
use http_body::{Body, Frame, SizeHint};
use kube::Client;
use kube::client::ClientBuilder;
use tokio::time::{Instant, Sleep};
use tower::{BoxError, Layer, Service};

use crate::fence::Fence;

/// A non-watch request the API server did not answer in time.
#[derive(Debug, thiserror::Error)]
#[error(
    "the Kubernetes API server did not answer {method} {path} within {after:?} (--kube-request-timeout); check the network path to it and its load"
)]
pub struct TimedOut {
    method: http::Method,
    path: String,
    after: Duration,
}

/// The clients: one for the Lease, one for the watches, one for the rest.
pub struct Clients {
    /// Leader election's: never fenced (a fenced leader must still see
    /// that it lost), with the timeout.
    pub lease: Client,
    /// The controllers': fenced, with the timeout.
    pub acting: Client,
    /// The caches' watches: never fenced, so that a standby keeps its
    /// caches warm for a takeover; only ever used to read.
    pub watching: Client,
}

impl Clients {
    /// The three clients, from the kubeconfig or the in-cluster config, sharing
    /// no connection: a stuck controller request never delays a renewal.
    pub async fn infer(fence: &Fence, timeout: Duration) -> Result<Self, kube::Error> {
        let config = kube::Config::infer()
            .await
            .map_err(kube::Error::InferConfig)?;
        Ok(Self {
            lease: build(config.clone(), Fence::open(), timeout)?,
            watching: build(config.clone(), Fence::open(), timeout)?,
            acting: build(config, fence.clone(), timeout)?,
        })
    }
}

fn build(config: kube::Config, fence: Fence, timeout: Duration) -> Result<Client, kube::Error> {
    Ok(ClientBuilder::try_from(config)?
        .with_layer(&CallsLayer { fence, timeout })
        .build())
}

/// Puts [`Calls`] around a Kubernetes client's service.
#[derive(Clone, Debug)]
pub struct CallsLayer {
    pub fence: Fence,
    /// How long a non-watch request may take, its body included.
    pub timeout: Duration,
}

impl<S> Layer<S> for CallsLayer {
    type Service = Calls<S>;

    fn layer(&self, inner: S) -> Calls<S> {
        Calls {
            inner,
            layer: self.clone(),
        }
    }
}

/// A Kubernetes client service that checks the fence and times requests.
#[derive(Clone, Debug)]
pub struct Calls<S> {
    inner: S,
    layer: CallsLayer,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Calls<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    ResBody: Body<Data = Bytes> + Unpin + Send + 'static,
    ResBody::Error: Into<BoxError>,
{
    type Response = Response<Deadline<ResBody>>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Self::Response, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let watch = is_watch(request.uri());
        let timed_out = TimedOut {
            method: request.method().clone(),
            path: request.uri().path().to_string(),
            after: self.layer.timeout,
        };
        let fence = self.layer.fence.clone();
        let timeout = self.layer.timeout;
        // Lazy: hyper sends nothing until this is polled, after the check.
        let response = self.inner.call(request);
        Box::pin(async move {
            fence.check()?;
            if watch {
                let response = response.await.map_err(Into::into)?;
                return Ok(response.map(|body| Deadline { body, end: None }));
            }
            let end = Instant::now() + timeout;
            let response = tokio::select! {
                response = response => response.map_err(Into::into)?,
                () = tokio::time::sleep_until(end) => return Err(timed_out.into()),
                () = fence.closed() => return Err(crate::fence::Closed.into()),
            };
            Ok(response.map(|body| Deadline {
                body,
                end: Some((Box::pin(tokio::time::sleep_until(end)), timed_out)),
            }))
        })
    }
}

/// Whether a request is a watch: kube asks for one with `watch=true`.
fn is_watch(uri: &http::Uri) -> bool {
    uri.query().is_some_and(|query| {
        query
            .split('&')
            .any(|pair| pair == "watch=true" || pair == "watch=1")
    })
}

/// A response body that fails once its request's time is up: a list's
/// body can stall as surely as its headers.
pub struct Deadline<B> {
    body: B,
    end: Option<(Pin<Box<Sleep>>, TimedOut)>,
}

impl<B> Body for Deadline<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if let Some((sleep, timed_out)) = &mut this.end
            && sleep.as_mut().poll(cx).is_ready()
        {
            let error = TimedOut {
                method: timed_out.method.clone(),
                path: std::mem::take(&mut timed_out.path),
                after: timed_out.after,
            };
            return Poll::Ready(Some(Err(error.into())));
        }
        Pin::new(&mut this.body)
            .poll_frame(cx)
            .map(|frame| frame.map(|frame| frame.map_err(Into::into)))
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
#[path = "kube_client_tests.rs"]
mod tests;
