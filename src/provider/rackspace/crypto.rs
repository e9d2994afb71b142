//! The passphrase as the agent needs it: RSA PKCS#1 v1.5 encrypted with
//! the agent's public key, hex-encoded (what the v1 client did; providers.md
//! §5.3). Only the agent's private key can read it.

use rsa::{BigUint, Pkcs1v15Encrypt, RsaPublicKey};

use super::PublicKey;
use crate::provider::ProviderError;

/// Encrypts `passphrase` for the agent holding `key`'s private half.
pub fn encrypt_passphrase(key: &PublicKey, passphrase: &str) -> Result<String, ProviderError> {
    let public = public_key(key)?;
    let mut rng = rsa::rand_core::OsRng;
    let sealed = public
        .encrypt(&mut rng, Pkcs1v15Encrypt, passphrase.as_bytes())
        .map_err(|e| invalid_key(format!("cannot encrypt the passphrase with it: {e}")))?;
    Ok(hex::encode(sealed))
}

/// The key from its hex modulus and hex exponent.
pub fn public_key(key: &PublicKey) -> Result<RsaPublicKey, ProviderError> {
    let modulus = parse_hex(&key.modulus_hex, "modulus")?;
    let exponent = parse_hex(&key.exponent_hex, "exponent")?;
    RsaPublicKey::new(modulus, exponent).map_err(|e| invalid_key(e.to_string()))
}

fn parse_hex(text: &str, what: &str) -> Result<BigUint, ProviderError> {
    let digits = text.trim().trim_start_matches("0x");
    BigUint::parse_bytes(digits.as_bytes(), 16)
        .ok_or_else(|| invalid_key(format!("its {what} {text:?} is not hexadecimal")))
}

fn invalid_key(message: String) -> ProviderError {
    ProviderError::Invalid {
        code: "InvalidAgentKey".into(),
        message: format!("the agent's RSA public key is unusable: {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::RsaPrivateKey;
    use rsa::traits::PublicKeyParts;

    #[test]
    fn the_private_key_reads_what_was_encrypted_for_it() {
        let mut rng = rsa::rand_core::OsRng;
        let private = RsaPrivateKey::new(&mut rng, 1024).expect("a key");
        let key = PublicKey {
            modulus_hex: private.n().to_str_radix(16),
            exponent_hex: "10001".into(),
        };
        let sealed = encrypt_passphrase(&key, "correct horse").expect("encrypts");
        let bytes = hex::decode(&sealed).expect("hex");
        let plain = private.decrypt(Pkcs1v15Encrypt, &bytes).expect("decrypts");
        assert_eq!(plain, b"correct horse");
    }

    #[test]
    fn a_key_that_is_not_hex_is_refused() {
        let key = PublicKey {
            modulus_hex: "xyz".into(),
            exponent_hex: "10001".into(),
        };
        assert!(matches!(
            encrypt_passphrase(&key, "p"),
            Err(ProviderError::Invalid { .. })
        ));
    }
}
