//! One authorized round trip, shared by the CBR and IAM clients: sign the
//! request or attach a token, send it, and when the service refuses the
//! token with 401 drop it and send once more with a new one — tokens can be
//! revoked before they expire. Only a 401 that maps to `Unauthorized` is
//! retried: CBR answers 401 for other things too (a deleted backup's
//! members), and those must never cost a credential refresh.

use super::auth::Authenticator;
use super::errors::FailedResponse;
use super::transport::{Failure, Request, Response, Transport};
use crate::provider::ProviderError;

/// Sends the request `build` makes, authorized by `auth`.
pub async fn send<T>(
    auth: &Authenticator,
    transport: &Transport,
    build: impl Fn() -> Request,
    map_error: fn(&FailedResponse<'_>) -> ProviderError,
    decode: impl Fn(&Response) -> Result<T, ProviderError>,
) -> Result<T, ProviderError> {
    let mut retried = false;
    loop {
        let mut req = build();
        let used = auth.authorize(transport, &mut req).await?;
        match transport.send(&req, map_error, &decode).await {
            Err(Failure {
                status: Some(401),
                error: error @ ProviderError::Unauthorized { .. },
            }) if !retried => {
                if !auth.refused(&used).await {
                    return Err(error);
                }
                tracing::info!(
                    service = req.service.label(),
                    operation = req.operation,
                    "the service refused the IAM token; retrying with a new one"
                );
                retried = true;
            }
            other => return other.map_err(|f| f.error),
        }
    }
}
