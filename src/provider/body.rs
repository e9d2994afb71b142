//! Reading a provider's answer with a ceiling: a body over [`MAX_BODY`] is
//! refused as soon as it is known to be too big (its declared length, or
//! the chunk that crosses the limit), before it is buffered whole. A
//! misbehaving endpoint or proxy cannot make coffer hold gigabytes.

use bytes::{Bytes, BytesMut};

/// The largest answer coffer reads. The biggest legitimate ones are list
/// pages (a thousand CBR vaults is about 2 MB of JSON).
pub const MAX_BODY: usize = 8 << 20;

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("the answer is larger than {limit} bytes ({seen}); coffer refused it unread")]
    TooLarge { limit: usize, seen: String },
    #[error("reading the answer failed: {0}")]
    Read(#[from] reqwest::Error),
}

/// The body of `response`, at most `limit` bytes.
pub async fn read_limited(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Bytes, BodyError> {
    if let Some(declared) = response.content_length()
        && declared > limit as u64
    {
        return Err(BodyError::TooLarge {
            limit,
            seen: format!("{declared} declared"),
        });
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge {
                limit,
                seen: format!("more than {} sent", body.len() + chunk.len()),
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use futures::stream;

    use super::*;

    /// A server on loopback answering `/endless` with a body that never
    /// ends, and `/declared` with a Content-Length of 1 GiB.
    async fn server() -> String {
        let endless = || async {
            let chunks =
                stream::repeat_with(|| Ok::<_, std::io::Error>(Bytes::from(vec![b'x'; 65536])));
            Body::from_stream(chunks)
        };
        let declared = || async {
            axum::response::Response::builder()
                .header("content-length", (1u64 << 30).to_string())
                .body(Body::from_stream(stream::pending::<
                    Result<Bytes, std::io::Error>,
                >()))
                .expect("a response")
        };
        let app = Router::new()
            .route("/endless", get(endless))
            .route("/declared", get(declared))
            .route("/small", get(|| async { "{\"ok\":true}" }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let addr = listener.local_addr().expect("an address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}")
    }

    async fn read(url: &str) -> Result<Bytes, BodyError> {
        let response = reqwest::get(url).await.expect("an answer");
        tokio::time::timeout(Duration::from_secs(10), read_limited(response, 1 << 20))
            .await
            .expect("refused in time, not read to the end")
    }

    #[tokio::test]
    async fn an_endless_body_is_refused_at_the_limit() {
        let base = server().await;
        let refused = read(&format!("{base}/endless")).await;
        assert!(
            matches!(refused, Err(BodyError::TooLarge { .. })),
            "{refused:?}"
        );
    }

    #[tokio::test]
    async fn a_declared_length_over_the_limit_is_refused_before_reading() {
        let base = server().await;
        let refused = read(&format!("{base}/declared")).await;
        assert!(
            matches!(refused, Err(BodyError::TooLarge { .. })),
            "{refused:?}"
        );
    }

    #[tokio::test]
    async fn a_body_within_the_limit_is_read_whole() {
        let base = server().await;
        let body = read(&format!("{base}/small")).await.expect("read");
        assert_eq!(&body[..], b"{\"ok\":true}");
    }
}
