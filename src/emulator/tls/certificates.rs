//! The emulator's CA and the server certificates it signs with `rcgen`,
//! and which one a handshake is given.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    date_time_ymd,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use super::{CERTIFICATE_NAMES, ServedCertificate, TlsError, WRONG_NAME};

/// The CA and the three server certificates it signed, and which one is served.
#[derive(Debug)]
pub struct Certificates {
    ca_pem: String,
    valid: Arc<CertifiedKey>,
    expired: Arc<CertifiedKey>,
    wrong_name: Arc<CertifiedKey>,
    serving: RwLock<ServedCertificate>,
}

impl Certificates {
    /// A new CA, and server certificates signed by it.
    pub fn generate(serve: ServedCertificate) -> Result<Self, TlsError> {
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "coffer emulator CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_key = KeyPair::generate()?;
        let ca_pem = ca_params.self_signed(&ca_key)?.pem();
        let issuer = Issuer::new(ca_params, ca_key);
        let names: Vec<String> = CERTIFICATE_NAMES.iter().map(|n| n.to_string()).collect();
        let valid = leaf(names.clone(), false, &issuer)?;
        let expired = leaf(names, true, &issuer)?;
        let wrong_name = leaf(vec![WRONG_NAME.to_string()], false, &issuer)?;
        Ok(Self {
            ca_pem,
            valid,
            expired,
            wrong_name,
            serving: RwLock::new(serve),
        })
    }

    /// The CA's certificate, PEM.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    pub fn serving(&self) -> ServedCertificate {
        *self.serving.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Presents `which` from the next handshake on.
    pub fn serve(&self, which: ServedCertificate) {
        *self.serving.write().unwrap_or_else(|e| e.into_inner()) = which;
    }
}

impl ResolvesServerCert for Certificates {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(match self.serving() {
            ServedCertificate::Valid => self.valid.clone(),
            ServedCertificate::Expired => self.expired.clone(),
            ServedCertificate::WrongName => self.wrong_name.clone(),
        })
    }
}

/// A server certificate for `names`, signed by `issuer`; an `expired` one
/// was valid during 2020 only.
fn leaf(
    names: Vec<String>,
    expired: bool,
    issuer: &Issuer<'_, KeyPair>,
) -> Result<Arc<CertifiedKey>, TlsError> {
    let mut params = CertificateParams::new(names)?;
    params
        .distinguished_name
        .push(DnType::CommonName, "coffer emulator");
    if expired {
        params.not_before = date_time_ymd(2020, 1, 1);
        params.not_after = date_time_ymd(2021, 1, 1);
    }
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, issuer)?;
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let certified = CertifiedKey::from_der(
        vec![CertificateDer::from(cert.der().to_vec())],
        key_der,
        &provider(),
    )?;
    Ok(Arc::new(certified))
}

/// The crypto provider reqwest already uses, named explicitly: with two
/// providers compiled in, rustls will not pick one by itself.
pub(super) fn provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::aws_lc_rs::default_provider()
}

/// Writes the CA's PEM to `path`, or to a temporary file kept until the
/// returned handle is dropped.
pub fn write_ca(
    pem: &str,
    path: Option<&Path>,
) -> Result<(PathBuf, Option<tempfile::TempPath>), TlsError> {
    let ca_error = |path: PathBuf| move |source| TlsError::CaFile { path, source };
    match path {
        Some(path) => {
            std::fs::write(path, pem).map_err(ca_error(path.to_path_buf()))?;
            Ok((path.to_path_buf(), None))
        }
        None => {
            let file = tempfile::Builder::new()
                .prefix("coffer-emulator-ca-")
                .suffix(".pem")
                .tempfile()
                .map_err(ca_error(std::env::temp_dir()))?;
            let temp = file.into_temp_path();
            std::fs::write(&temp, pem).map_err(ca_error(temp.to_path_buf()))?;
            Ok((temp.to_path_buf(), Some(temp)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ca_is_written_and_each_certificate_can_be_served() {
        let certs = Certificates::generate(ServedCertificate::Valid).expect("certificates");
        assert!(certs.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
        let (path, temp) = write_ca(certs.ca_pem(), None).expect("written");
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            certs.ca_pem()
        );
        drop(temp);
        assert!(!path.exists(), "a temporary CA file goes with the server");
        certs.serve(ServedCertificate::Expired);
        assert_eq!(certs.serving(), ServedCertificate::Expired);
    }
}
