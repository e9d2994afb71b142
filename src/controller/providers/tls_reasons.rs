//! The TLS condition reasons, each with what it means and what to do: a
//! ProviderConfig shows them, and so does every object using it. The names
//! are the provider layer's ([`TlsProblem::REASONS`], what its failures
//! map to); the words for users live here, where `caBundle` and
//! `caBundleRef` are read, and a test keeps the two lists the same.

use crate::api::conditions::Reason;
#[cfg(test)]
use crate::provider::tls::TlsProblem;

pub const TLS_REASONS: &[Reason] = &[
    Reason::new(
        "CaBundleInvalid",
        "`caBundle`, or the key `caBundleRef` names, holds no PEM certificate (or garbage); refused before any call.",
        "Put one or more PEM certificates there, each between `-----BEGIN CERTIFICATE-----` and `-----END CERTIFICATE-----`.",
    ),
    Reason::new(
        "CertificateUntrusted",
        "The endpoint's certificate was issued by a CA coffer does not trust (no `caBundle`, or the wrong CA).",
        "Set `caBundle` (or `caBundleRef`) in the ProviderConfig to the PEM of the CA that issued it; see docs/tls.md.",
    ),
    Reason::new(
        "CertificateHostnameMismatch",
        "The endpoint's certificate does not name the host in the endpoint URL.",
        "Use an endpoint URL with a name the certificate lists, or have the certificate reissued for that host.",
    ),
    Reason::new(
        "CertificateExpired",
        "The endpoint's certificate has expired, or is not valid yet.",
        "Renew the server's certificate (or fix the clock of coffer's node).",
    ),
    Reason::new(
        "CertificateInvalid",
        "The endpoint's certificate is unusable for another reason (malformed, wrong key usage, revoked); the message gives the verifier's words.",
        "Have the server present a valid certificate.",
    ),
    Reason::new(
        "CaBundleNotFound",
        "The Secret or ConfigMap `caBundleRef` names does not exist in the ProviderConfig's namespace, or is not labelled `coffer.dev/credentials=true`.",
        "Create it, or label it `coffer.dev/credentials=true`.",
    ),
    Reason::new(
        "CaBundleKeyMissing",
        "The Secret or ConfigMap `caBundleRef` names has no key `caBundleRef.key`.",
        "Put the CA's PEM under that key, or fix the key.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tls_reason_the_provider_gives_is_explained_once() {
        let explained: Vec<&str> = TLS_REASONS.iter().map(|r| r.name).collect();
        assert_eq!(explained, TlsProblem::REASONS);
    }
}
