//! IAM tokens as the emulator issues them: self-contained and MAC-protected,
//! so verifying one needs no token table and memory does not grow with the
//! number of tokens a client asks for.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use sha2::Sha256;

/// Real tokens are base64 of a CMS structure and start with `MII`; keeping
/// the prefix makes emulator tokens look right in logs.
const PREFIX: &str = "MIIemu";
const MAC_LEN: usize = 32;

/// What a token is good for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    Project(String),
    Domain(String),
}

/// The facts a token carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenClaims {
    pub scope: Scope,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
    /// Set on a token issued through an agency (`assume_role`).
    pub agency: Option<AgencyBinding>,
}

/// The agency a token was issued through, as it stood then. The token is
/// self-contained, so it carries what the gate needs to tell that the
/// agency has since been updated or deleted (the update invalidates the
/// delegated party's tokens: seed 004).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgencyBinding {
    pub agency_id: String,
    /// The agency's `tokens_valid_from` at issue, to the nanosecond: any
    /// later update moves it, so an exact match means "not updated since".
    pub epoch: Timestamp,
}

/// Why a presented token was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("decrypt token fail")]
    Malformed,
    #[error("the token expired at {0}")]
    Expired(Timestamp),
    /// Issued through an agency that was updated or deleted since.
    #[error("the token was issued through agency {0}, which has been updated or deleted since")]
    AgencyChanged(String),
}

/// Issues and verifies tokens with a key that lives as long as the emulator:
/// a restarted emulator refuses old tokens, as a rotated IAM key would.
pub struct TokenIssuer {
    key: [u8; 32],
}

impl Default for TokenIssuer {
    fn default() -> Self {
        Self {
            key: rand::random(),
        }
    }
}

impl std::fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenIssuer { .. }")
    }
}

impl TokenIssuer {
    pub fn issue(&self, claims: &TokenClaims) -> String {
        let (kind, id) = match &claims.scope {
            Scope::Project(id) => ("p", id),
            Scope::Domain(id) => ("d", id),
        };
        // The nonce makes two tokens issued in the same millisecond differ.
        let nonce: u64 = rand::random();
        // "-" for a user's own token; an agency id is hex, so never "-".
        let (agency_id, epoch) = match &claims.agency {
            Some(binding) => (binding.agency_id.as_str(), binding.epoch.as_nanosecond()),
            None => ("-", 0),
        };
        let payload = format!(
            "v1\n{kind}\n{id}\n{}\n{}\n{nonce:016x}\n{agency_id}\n{epoch}",
            claims.issued_at.as_millisecond(),
            claims.expires_at.as_millisecond()
        );
        let mut bytes = payload.into_bytes();
        let mac = self.mac(&bytes);
        bytes.extend_from_slice(&mac);
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
    }

    pub fn verify(&self, token: &str, now: Timestamp) -> Result<TokenClaims, TokenError> {
        let encoded = token.strip_prefix(PREFIX).ok_or(TokenError::Malformed)?;
        let bytes = URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| TokenError::Malformed)?;
        if bytes.len() <= MAC_LEN {
            return Err(TokenError::Malformed);
        }
        let (payload, mac) = bytes.split_at(bytes.len() - MAC_LEN);
        self.mac_for(payload)
            .verify_slice(mac)
            .map_err(|_| TokenError::Malformed)?;
        let claims = parse_payload(payload).ok_or(TokenError::Malformed)?;
        if claims.expires_at <= now {
            return Err(TokenError::Expired(claims.expires_at));
        }
        Ok(claims)
    }

    fn mac(&self, payload: &[u8]) -> [u8; MAC_LEN] {
        self.mac_for(payload).finalize().into_bytes().into()
    }

    fn mac_for(&self, payload: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(payload);
        mac
    }
}

fn parse_payload(payload: &[u8]) -> Option<TokenClaims> {
    let text = std::str::from_utf8(payload).ok()?;
    let mut fields = text.split('\n');
    if fields.next()? != "v1" {
        return None;
    }
    let kind = fields.next()?;
    let id = fields.next()?.to_string();
    let issued_at = Timestamp::from_millisecond(fields.next()?.parse().ok()?).ok()?;
    let expires_at = Timestamp::from_millisecond(fields.next()?.parse().ok()?).ok()?;
    let _nonce = fields.next()?;
    let agency = match (fields.next()?, fields.next()?) {
        ("-", _) => None,
        (agency_id, epoch) => Some(AgencyBinding {
            agency_id: agency_id.to_string(),
            epoch: Timestamp::from_nanosecond(epoch.parse().ok()?).ok()?,
        }),
    };
    let scope = match kind {
        "p" => Scope::Project(id),
        "d" => Scope::Domain(id),
        _ => return None,
    };
    Some(TokenClaims {
        scope,
        issued_at,
        expires_at,
        agency,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(now: Timestamp, ttl_secs: i64) -> TokenClaims {
        TokenClaims {
            scope: Scope::Project("p1".to_string()),
            issued_at: now,
            expires_at: now + jiff::SignedDuration::from_secs(ttl_secs),
            agency: None,
        }
    }

    fn now() -> Timestamp {
        // Whole milliseconds, as the token stores them.
        Timestamp::from_millisecond(Timestamp::now().as_millisecond()).expect("in range")
    }

    #[test]
    fn issued_token_verifies_with_its_claims() {
        let issuer = TokenIssuer::default();
        let now = now();
        let token = issuer.issue(&claims(now, 60));
        assert!(token.starts_with("MII"));
        assert_eq!(issuer.verify(&token, now), Ok(claims(now, 60)));
    }

    #[test]
    fn agency_binding_survives_the_round_trip() {
        let issuer = TokenIssuer::default();
        let now = now();
        let mut claims = claims(now, 60);
        claims.agency = Some(AgencyBinding {
            agency_id: "c1a06ec7387f430c8122d6f336c66dcf".to_string(),
            epoch: Timestamp::from_nanosecond(1_700_000_000_123_456_789).expect("in range"),
        });
        let token = issuer.issue(&claims);
        assert_eq!(issuer.verify(&token, now), Ok(claims));
    }

    #[test]
    fn expired_token_is_refused() {
        let issuer = TokenIssuer::default();
        let now = now();
        let token = issuer.issue(&claims(now, 1));
        let later = now + jiff::SignedDuration::from_secs(2);
        assert!(matches!(
            issuer.verify(&token, later),
            Err(TokenError::Expired(_))
        ));
    }

    #[test]
    fn tampered_or_foreign_tokens_are_refused() {
        let issuer = TokenIssuer::default();
        let now = now();
        let token = issuer.issue(&claims(now, 60));
        let mut tampered = token.clone().into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).expect("ascii");
        assert_eq!(issuer.verify(&tampered, now), Err(TokenError::Malformed));
        assert_eq!(
            TokenIssuer::default().verify(&token, now),
            Err(TokenError::Malformed)
        );
        assert_eq!(issuer.verify("garbage", now), Err(TokenError::Malformed));
    }
}
