//! What a failed TLS handshake or an unusable CA bundle means to a user:
//! the problem, its condition reason and the words that say what to fix.
//! [`super::ProviderError`] carries it, and [`super::tls`] finds it in
//! reqwest's error chain, so it sits below both.

/// What went wrong with TLS. Each is terminal: the same handshake fails the
/// same way until the ProviderConfig (its `caBundle`), the Secret or
/// ConfigMap it reads the CA from, or the server's certificate changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsProblem {
    /// `caBundle` holds no certificate, or something that is not one.
    CaBundleInvalid,
    /// The server's certificate chains to no CA coffer trusts.
    Untrusted,
    /// The certificate is not for the host name in the URL.
    HostnameMismatch,
    /// The certificate has expired (or is not valid yet).
    Expired,
    /// Any other certificate the verifier refused.
    CertificateInvalid,
}

impl TlsProblem {
    /// Every problem, for the fixed set of reasons metrics label by.
    pub const ALL: [Self; 5] = [
        Self::CaBundleInvalid,
        Self::Untrusted,
        Self::HostnameMismatch,
        Self::Expired,
        Self::CertificateInvalid,
    ];

    /// The condition reasons a TLS failure may give, and `caBundleRef`'s
    /// own: a ProviderConfig shows them, and so does every object using it.
    pub const REASONS: &[&str] = &[
        "CaBundleInvalid",
        "CertificateUntrusted",
        "CertificateHostnameMismatch",
        "CertificateExpired",
        "CertificateInvalid",
        "CaBundleNotFound",
        "CaBundleKeyMissing",
    ];

    /// The condition reason a user sees.
    pub fn reason(self) -> &'static str {
        match self {
            Self::CaBundleInvalid => "CaBundleInvalid",
            Self::Untrusted => "CertificateUntrusted",
            Self::HostnameMismatch => "CertificateHostnameMismatch",
            Self::Expired => "CertificateExpired",
            Self::CertificateInvalid => "CertificateInvalid",
        }
    }
}

/// A TLS failure: the problem, the host it happened with (empty for a bad
/// `caBundle`, which is refused before any connection) and the verifier's
/// own words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFailure {
    pub problem: TlsProblem,
    pub host: String,
    pub detail: String,
}

impl std::fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (host, detail) = (&self.host, &self.detail);
        match self.problem {
            TlsProblem::CaBundleInvalid => write!(
                f,
                "the CA bundle is not usable ({detail}): caBundle (or the key caBundleRef names) must hold one or more PEM certificates, each between -----BEGIN CERTIFICATE----- and -----END CERTIFICATE-----"
            ),
            TlsProblem::Untrusted => write!(
                f,
                "the TLS certificate of {host} is not trusted ({detail}): set caBundle (or caBundleRef) in the ProviderConfig to the PEM of the CA that issued it"
            ),
            TlsProblem::HostnameMismatch => write!(
                f,
                "the TLS certificate {host} presents does not name {host} ({detail}): use an endpoint URL with a name the certificate lists, or have the certificate reissued for {host}"
            ),
            TlsProblem::Expired => write!(
                f,
                "the TLS certificate of {host} is outside its validity period ({detail}): the server's certificate must be renewed (or the clock of coffer's node fixed)"
            ),
            TlsProblem::CertificateInvalid => write!(
                f,
                "the TLS certificate of {host} was refused ({detail}): check the server's certificate chain"
            ),
        }
    }
}
