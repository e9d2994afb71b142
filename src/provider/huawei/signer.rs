//! Huawei Cloud's `SDK-HMAC-SHA256` request signing, as the official SDK's
//! `signer.py` does it. The client signs with it and the emulator verifies
//! with it, so both sides share one canonical form, tested against the
//! vectors from Huawei's guide and the SDK.

use hmac::{Hmac, Mac};
use jiff::Timestamp;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha2::{Digest, Sha256};

pub const ALGORITHM: &str = "SDK-HMAC-SHA256";
pub const DATE_HEADER: &str = "x-sdk-date";
/// The gateway rejects a signature whose date is further than this from now.
pub const MAX_CLOCK_SKEW_SECS: i64 = 15 * 60;

/// RFC 3986 unreserved characters stay; everything else is percent-encoded.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes one path segment, query key or query value.
pub fn encode(s: &str) -> String {
    utf8_percent_encode(s, UNRESERVED).to_string()
}

/// The query string in canonical order and encoding. Send exactly this string,
/// so the server's canonical form equals ours.
pub fn canonical_query(query: &[(String, String)]) -> String {
    let mut pairs: Vec<(String, String)> =
        query.iter().map(|(k, v)| (encode(k), encode(v))).collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The path decoded, each segment re-encoded, with a trailing `/`.
pub fn canonical_uri(path: &str) -> String {
    let decoded = percent_decode_str(path).decode_utf8_lossy();
    let mut uri = decoded.split('/').map(encode).collect::<Vec<_>>().join("/");
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// Lower-case hex SHA-256.
pub fn hex_sha256(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// The request parts that a signature covers.
#[derive(Debug, Clone)]
pub struct SignableRequest<'a> {
    pub method: &'a str,
    /// Path as sent, possibly percent-encoded, without the query.
    pub path: &'a str,
    /// Decoded query pairs.
    pub query: &'a [(String, String)],
    /// Headers as (name, value); must include `host` and `x-sdk-date`.
    pub headers: &'a [(String, String)],
    /// Hex SHA-256 of the body, or the `X-Sdk-Content-Sha256` value.
    pub payload_hash: String,
}

impl SignableRequest<'_> {
    /// Names of the headers that are signed: all without `_`, lower-cased, sorted.
    pub fn signed_header_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .headers
            .iter()
            .map(|(n, _)| n.to_ascii_lowercase())
            .filter(|n| !n.contains('_'))
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// The canonical request over the given signed headers.
    pub fn canonical_request(&self, signed: &[String]) -> String {
        let mut canonical_headers = String::new();
        for name in signed {
            let value = self
                .headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim())
                .unwrap_or("");
            canonical_headers.push_str(&format!("{name}:{value}\n"));
        }
        [
            self.method.to_ascii_uppercase(),
            canonical_uri(self.path),
            canonical_query(self.query),
            canonical_headers,
            signed.join(";"),
            self.payload_hash.clone(),
        ]
        .join("\n")
    }
}

/// The string the HMAC is computed over.
pub fn string_to_sign(sdk_date: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{sdk_date}\n{}",
        hex_sha256(canonical_request.as_bytes())
    )
}

/// Lower-case hex HMAC-SHA256 keyed with the secret key (no key derivation).
pub fn signature(secret_key: &str, string_to_sign: &str) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret_key.as_bytes()).expect("HMAC takes any key length");
    mac.update(string_to_sign.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Formats a time as `X-Sdk-Date` wants it: `YYYYMMDDTHHMMSSZ`.
pub fn sdk_date(now: Timestamp) -> String {
    now.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// Parses an `X-Sdk-Date` value.
pub fn parse_sdk_date(value: &str) -> Option<Timestamp> {
    jiff::civil::DateTime::strptime("%Y%m%dT%H%M%SZ", value)
        .ok()?
        .to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp())
}

/// Signs a request: returns the `Authorization` header value. The request's
/// headers must already hold `host` and `x-sdk-date`.
pub fn authorization(req: &SignableRequest<'_>, access_key: &str, secret_key: &str) -> String {
    let signed = req.signed_header_names();
    let date = req
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(DATE_HEADER))
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    let sts = string_to_sign(date, &req.canonical_request(&signed));
    format!(
        "{ALGORITHM} Access={access_key}, SignedHeaders={}, Signature={}",
        signed.join(";"),
        signature(secret_key, &sts)
    )
}

/// The parts of an `Authorization` header, as the server reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAuthorization {
    pub access_key: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

/// Parses `SDK-HMAC-SHA256 Access=…, SignedHeaders=…, Signature=…`.
pub fn parse_authorization(value: &str) -> Option<ParsedAuthorization> {
    let rest = value.strip_prefix(ALGORITHM)?.strip_prefix(' ')?;
    let (mut access, mut signed, mut sig) = (None, None, None);
    for part in rest.split(", ") {
        let (k, v) = part.split_once('=')?;
        match k {
            "Access" => access = Some(v.to_string()),
            "SignedHeaders" => signed = Some(v.split(';').map(str::to_string).collect()),
            "Signature" => sig = Some(v.to_string()),
            _ => return None,
        }
    }
    Some(ParsedAuthorization {
        access_key: access?,
        signed_headers: signed?,
        signature: sig?,
    })
}

/// Recomputes the signature over the headers the client said it signed.
pub fn expected_signature(
    req: &SignableRequest<'_>,
    parsed: &ParsedAuthorization,
    secret_key: &str,
) -> String {
    let date = req
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(DATE_HEADER))
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    signature(
        secret_key,
        &string_to_sign(date, &req.canonical_request(&parsed.signed_headers)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const AK: &str = "AKEXAMPLE0000000000";
    const SK: &str = "SKEXAMPLE0000000000000000000000000000000";
    const PROJECT: &str = "0123456789abcdef0123456789abcdef";

    fn headers(extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut h = vec![
            (
                "Content-Type".to_string(),
                "application/json;charset=UTF-8".to_string(),
            ),
            (
                "Host".to_string(),
                "cbr.cn-north-4.myhuaweicloud.com".to_string(),
            ),
            ("X-Sdk-Date".to_string(), "20240101T000000Z".to_string()),
        ];
        h.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        h
    }

    #[test]
    fn guide_vector_signature() {
        let sts = format!(
            "{ALGORITHM}\n20191115T033655Z\nb25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a"
        );
        assert_eq!(
            signature("MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc", &sts),
            "7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe"
        );
    }

    #[test]
    fn sdk_vector_get_with_query() {
        let query = vec![
            ("name".to_string(), "my vault".to_string()),
            ("limit".to_string(), "10".to_string()),
            ("offset".to_string(), "0".to_string()),
        ];
        let h = headers(&[("X-Project-Id", PROJECT)]);
        let path = format!("/v3/{PROJECT}/vaults");
        let req = SignableRequest {
            method: "GET",
            path: &path,
            query: &query,
            headers: &h,
            payload_hash: hex_sha256(b""),
        };
        let signed = req.signed_header_names();
        let canonical = req.canonical_request(&signed);
        assert_eq!(
            canonical,
            format!(
                "GET\n/v3/{PROJECT}/vaults/\nlimit=10&name=my%20vault&offset=0\ncontent-type:application/json;charset=UTF-8\nhost:cbr.cn-north-4.myhuaweicloud.com\nx-project-id:{PROJECT}\nx-sdk-date:20240101T000000Z\n\ncontent-type;host;x-project-id;x-sdk-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
            )
        );
        // The StringToSign carries the hash of the canonical request.
        assert_eq!(
            hex_sha256(canonical.as_bytes()),
            "4b7fcf301fe46d15b3c20aed2554e80d645db1e27fdfc608a2fe9e7b19122a71"
        );
        assert!(authorization(&req, AK, SK).ends_with(
            "Signature=7f3c41f912ba4dcdc621ee732824dde60592d13ee7ed92a1c39966d44030272f"
        ));
    }

    #[test]
    fn sdk_vector_put_with_body() {
        let body = br#"{"vault":{"name":"vault_name02"}}"#;
        assert_eq!(
            hex_sha256(body),
            "2c3855796007a81046409e71f351c87c73baf34bad880edc46ff43e07a9671d3"
        );
        let h = headers(&[]);
        let path = format!("/v3/{PROJECT}/vaults/79bd9daa-884f-4f84-b8fe-235d58cd927d");
        let req = SignableRequest {
            method: "PUT",
            path: &path,
            query: &[],
            headers: &h,
            payload_hash: hex_sha256(body),
        };
        let auth = authorization(&req, AK, SK);
        assert_eq!(
            auth,
            format!(
                "{ALGORITHM} Access={AK}, SignedHeaders=content-type;host;x-sdk-date, Signature=9259518910d335af81f5d71e33f2183d21daa6d66bb2a0034fd8f891df7e541f"
            )
        );
        let parsed = parse_authorization(&auth).expect("parses");
        assert_eq!(expected_signature(&req, &parsed, SK), parsed.signature);
    }

    #[test]
    fn sdk_date_round_trips() {
        let t = parse_sdk_date("20240101T000000Z").expect("parses");
        assert_eq!(sdk_date(t), "20240101T000000Z");
    }
}
