//! TLS for every provider client: one HTTP client builder (timeouts, no
//! redirects, the extra CAs of `caBundle`), the CA bundle checked before any
//! call, and a failed handshake read from reqwest's error chain into a
//! [`TlsFailure`] that names the host and says what to fix. Shared by the
//! Huawei, Rackspace and Commvault clients so that a user sees the same
//! reasons whichever cloud the certificate belongs to.

use std::time::Duration;

use rustls::CertificateError;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use super::ProviderError;
pub use super::tls_failure::{TlsFailure, TlsProblem};

/// How long to wait for a TCP and TLS connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a whole call may take, body included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The HTTP client every provider uses: connect and request timeouts, no
/// redirects (a redirect would drop or break a signature; a 3xx becomes an
/// error that points at the endpoint), and `ca_bundle`'s CAs trusted in
/// addition to the system roots. A bundle that holds no certificate is
/// refused here, before any call.
pub fn http_client(ca_bundle: Option<&str>) -> Result<reqwest::Client, ProviderError> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("coffer/", env!("CARGO_PKG_VERSION")));
    if let Some(pem) = ca_bundle {
        builder = builder.tls_certs_merge(ca_certificates(pem)?);
    }
    builder.build().map_err(|e| ProviderError::Invalid {
        code: "InvalidProviderConfig".into(),
        message: format!("could not build the HTTP client: {e}"),
    })
}

/// The certificates of a PEM bundle, each checked to be an X.509
/// certificate a CA could be: garbage between the PEM markers, a private
/// key instead of a certificate, or nothing at all is a [`TlsProblem::CaBundleInvalid`].
pub fn ca_certificates(pem: &str) -> Result<Vec<reqwest::Certificate>, ProviderError> {
    let invalid = |detail: String| {
        ProviderError::Tls(TlsFailure {
            problem: TlsProblem::CaBundleInvalid,
            host: String::new(),
            detail,
        })
    };
    let mut store = rustls::RootCertStore::empty();
    let mut certificates = Vec::new();
    for (index, der) in CertificateDer::pem_slice_iter(pem.as_bytes()).enumerate() {
        let der =
            der.map_err(|e| invalid(format!("PEM block {} is unreadable: {e}", index + 1)))?;
        store
            .add(der.clone())
            .map_err(|e| invalid(format!("certificate {} is not valid: {e}", index + 1)))?;
        let certificate = reqwest::Certificate::from_der(&der)
            .map_err(|e| invalid(format!("certificate {}: {e}", index + 1)))?;
        certificates.push(certificate);
    }
    if certificates.is_empty() {
        return Err(invalid("it holds no PEM certificate".into()));
    }
    Ok(certificates)
}

/// The TLS failure behind a failed request, if that is what it was: the
/// rustls error is found in reqwest's source chain (inside `io::Error`s,
/// whose `source()` skips the error they wrap, so those are opened by hand).
pub fn classify(error: &reqwest::Error) -> Option<ProviderError> {
    let host = error
        .url()
        .and_then(|u| u.host_str())
        .unwrap_or("the server")
        .to_string();
    let certificate = certificate_error(error)?;
    let problem = match certificate {
        CertificateError::UnknownIssuer | CertificateError::BadSignature => TlsProblem::Untrusted,
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            TlsProblem::HostnameMismatch
        }
        CertificateError::Expired
        | CertificateError::ExpiredContext { .. }
        | CertificateError::NotValidYet
        | CertificateError::NotValidYetContext { .. } => TlsProblem::Expired,
        _ => TlsProblem::CertificateInvalid,
    };
    let detail = match certificate {
        CertificateError::UnknownIssuer => "it was issued by a CA coffer does not trust".into(),
        CertificateError::BadSignature => {
            "its signature does not verify with any CA coffer trusts".into()
        }
        other => other.to_string(),
    };
    Some(ProviderError::Tls(TlsFailure {
        problem,
        host,
        detail,
    }))
}

/// The certificate error anywhere in `error`'s chain.
fn certificate_error<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a CertificateError> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = cause {
        if let Some(found) = as_certificate_error(current) {
            return Some(found);
        }
        // hyper wraps rustls's error in an io::Error, inside another one.
        cause = match current
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner),
            None => current.source(),
        };
    }
    None
}

fn as_certificate_error<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a CertificateError> {
    match error.downcast_ref::<rustls::Error>() {
        Some(rustls::Error::InvalidCertificate(certificate)) => Some(certificate),
        _ => None,
    }
}

#[cfg(test)]
#[path = "tls_tests.rs"]
mod tests;
