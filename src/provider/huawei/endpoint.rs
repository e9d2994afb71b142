//! Where a Huawei service's requests go: its base URL as configured, the
//! URL of one call below it, and the `Host` header that URL yields. Both the
//! token exchange and the signed clients build on these, so they sit below
//! both.

use url::Url;

use super::errors::config_error;
use super::signer;
use crate::provider::ProviderError;

/// Parses and checks a service base URL. A path prefix is kept, so a
/// gateway or emulator may serve the API below a sub-path.
pub fn parse_base_url(what: &str, endpoint: &str) -> Result<Url, ProviderError> {
    let url = Url::parse(endpoint.trim()).map_err(|e| {
        config_error(format!(
            "the {what} endpoint {endpoint:?} is not a URL: {e}"
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(config_error(format!(
            "the {what} endpoint {endpoint:?} must be an http(s) URL with a host"
        )));
    }
    if url.query().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(config_error(format!(
            "the {what} endpoint {endpoint:?} must not carry a query or user info"
        )));
    }
    Ok(url)
}

/// The URL for `segments` below `base`, each segment percent-encoded, with
/// the query in canonical form: the signature covers exactly this string.
pub fn build_url(base: &Url, segments: &[&str], query: &[(String, String)]) -> Url {
    let mut url = base.clone();
    let mut path = base.path().trim_end_matches('/').to_string();
    for segment in segments {
        path.push('/');
        path.push_str(&signer::encode(segment));
    }
    url.set_path(&path);
    let canonical = signer::canonical_query(query);
    url.set_query((!canonical.is_empty()).then_some(canonical.as_str()));
    url
}

/// The `Host` header value the HTTP stack sends for `url`: the host, plus
/// the port when it is not the scheme's default.
pub fn host_header(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(s: &str) -> Url {
        parse_base_url("CBR", s).expect("valid")
    }

    #[test]
    fn url_query_is_the_canonical_one() {
        let query = vec![
            ("name".to_string(), "my vault/1".to_string()),
            ("limit".to_string(), "1000".to_string()),
            ("offset".to_string(), "0".to_string()),
        ];
        let url = build_url(
            &base("https://cbr.example.com"),
            &["v3", "p", "vaults"],
            &query,
        );
        assert_eq!(url.path(), "/v3/p/vaults");
        assert_eq!(url.query(), Some(signer::canonical_query(&query).as_str()));
        assert_eq!(url.query(), Some("limit=1000&name=my%20vault%2F1&offset=0"));
    }

    #[test]
    fn url_keeps_a_base_path_and_encodes_segments() {
        let url = build_url(&base("http://127.0.0.1:8443/cbr/"), &["v3", "a b"], &[]);
        assert_eq!(url.as_str(), "http://127.0.0.1:8443/cbr/v3/a%20b");
    }

    #[test]
    fn host_header_has_the_port_only_when_not_default() {
        assert_eq!(
            host_header(&base("http://127.0.0.1:8443")),
            "127.0.0.1:8443"
        );
        assert_eq!(
            host_header(&base("https://cbr.example.com:443")),
            "cbr.example.com"
        );
    }

    #[test]
    fn endpoints_must_be_http_urls() {
        for bad in [
            "cbr.example.com",
            "ftp://x",
            "https://u:p@x",
            "https://x?a=b",
        ] {
            assert!(
                matches!(
                    parse_base_url("CBR", bad),
                    Err(ProviderError::Invalid { .. })
                ),
                "{bad}"
            );
        }
    }
}
