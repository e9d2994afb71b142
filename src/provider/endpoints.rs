//! Which provider endpoints coffer may call: the cluster admin's list of
//! URL patterns (`coffer run --allowed-endpoints`). A credential goes with
//! every provider call, and whoever may create a ProviderConfig chooses its
//! URLs; without this list, a user who cannot read a namespace's Secrets
//! could point a ProviderConfig at a host of their own and have coffer send
//! it the keys. So no request leaves for a URL outside the list — not one a
//! ProviderConfig names, nor one a provider hands out (Rackspace's service
//! catalog).
//!
//! A pattern is `scheme://host[:port]`. The host may start with `*.`, which
//! matches one or more labels in front of the rest (`*.example.com` matches
//! `a.example.com` and `a.b.example.com`, not `example.com`). Without a port
//! it matches any port. `http://` matches only a pattern that says `http://`.

use std::fmt;
use std::sync::Arc;

use url::Url;

/// The vendors' public endpoints, over https: what coffer may call when the
/// admin says nothing.
pub const DEFAULT_ALLOWED: &[&str] = &[
    // Huawei Cloud: IAM and CBR, every region.
    "https://*.myhuaweicloud.com",
    "https://*.myhuaweicloud.eu",
    // Rackspace: Identity and the Cloud Backup endpoints of its catalog.
    "https://*.api.rackspacecloud.com",
    // Commvault Cloud (the SaaS Command Center).
    "https://*.metallic.io",
    "https://*.commvault.com",
];

/// A pattern the admin gave that is not `scheme://host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "allowed endpoint {pattern:?} {why}; write scheme://host[:port], e.g. https://*.myhuaweicloud.com or http://127.0.0.1:8780"
)]
pub struct PatternError {
    pub pattern: String,
    pub why: &'static str,
}

/// One allowed `scheme://host[:port]`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Pattern {
    scheme: String,
    /// Lower case; for `*.example.com`, `.example.com`.
    host: Host,
    port: Option<u16>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Host {
    Exact(String),
    /// The part after `*`, starting with a dot.
    AnySubdomainOf(String),
}

impl Pattern {
    fn parse(text: &str) -> Result<Self, PatternError> {
        let refuse = |why| PatternError {
            pattern: text.to_string(),
            why,
        };
        let (scheme, rest) = text
            .split_once("://")
            .ok_or_else(|| refuse("has no scheme"))?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(refuse("is not http or https"));
        }
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#', '@']) {
            return Err(refuse("has more than a scheme, a host and a port"));
        }
        let (host, port) =
            split_port(rest).ok_or_else(|| refuse("has a port that is not a number"))?;
        if host.is_empty() {
            return Err(refuse("has no host"));
        }
        let host = host.to_ascii_lowercase();
        let host = match host.strip_prefix('*') {
            Some(rest) if rest.starts_with('.') && rest.len() > 1 && !rest.contains('*') => {
                Host::AnySubdomainOf(rest.to_string())
            }
            Some(_) => return Err(refuse("may only start with *. and hold one *")),
            None if host.contains('*') => {
                return Err(refuse("may only start with *. and hold one *"));
            }
            None => Host::Exact(host),
        };
        Ok(Self { scheme, host, port })
    }

    fn allows(&self, scheme: &str, host: &str, port: Option<u16>) -> bool {
        let host_matches = match &self.host {
            Host::Exact(exact) => exact == host,
            Host::AnySubdomainOf(suffix) => {
                host.len() > suffix.len() && host.ends_with(suffix.as_str())
            }
        };
        self.scheme == scheme && host_matches && (self.port.is_none() || self.port == port)
    }
}

/// `host[:port]`, where a host may be a bracketed IPv6 address.
fn split_port(text: &str) -> Option<(&str, Option<u16>)> {
    let port_at = match text.rfind(':') {
        Some(at) if !text[at..].contains(']') => at,
        _ => return Some((text, None)),
    };
    let port = text[port_at + 1..].parse().ok()?;
    Some((&text[..port_at], Some(port)))
}

/// A URL coffer will not call, and the pattern that would allow it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    /// `scheme://host:port` of the URL: never its path, query or user info.
    pub origin: String,
    /// The exact pattern an admin would add to allow it.
    pub pattern: String,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is not an allowed provider endpoint, so coffer sends it no request and no credential; \
             a cluster admin who trusts it adds {} to coffer's allowed endpoints (chart value allowedEndpoints, \
             flag --allowed-endpoints)",
            self.origin, self.pattern
        )
    }
}

/// The admin's list. Cheap to clone.
#[derive(Clone, Debug)]
pub struct EndpointPolicy {
    patterns: Arc<Vec<Pattern>>,
}

impl Default for EndpointPolicy {
    /// The vendors' public endpoints over https.
    fn default() -> Self {
        Self::parse(DEFAULT_ALLOWED.iter().copied()).expect("the default patterns parse")
    }
}

impl EndpointPolicy {
    /// The patterns, each `scheme://host[:port]`.
    pub fn parse<'a>(patterns: impl IntoIterator<Item = &'a str>) -> Result<Self, PatternError> {
        let patterns = patterns
            .into_iter()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(Pattern::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            patterns: Arc::new(patterns),
        })
    }

    /// No endpoint allowed.
    pub fn none() -> Self {
        Self {
            patterns: Arc::new(Vec::new()),
        }
    }

    /// Every endpoint allowed: for code that builds a client outside any
    /// ProviderConfig (tests, the SDK checks), never for `coffer run`.
    pub fn any() -> Self {
        let any = ["http", "https"].map(|scheme| Pattern {
            scheme: scheme.to_string(),
            host: Host::AnySubdomainOf(String::new()),
            port: None,
        });
        Self {
            patterns: Arc::new(any.to_vec()),
        }
    }

    /// Whether coffer may call `url`. A URL that does not parse, or carries
    /// user info, is refused.
    pub fn check(&self, url: &str) -> Result<(), Refused> {
        let parsed = Url::parse(url).ok();
        let origin = parsed.as_ref().map(origin_of);
        let allowed = parsed.as_ref().is_some_and(|u| {
            let host = u.host_str().unwrap_or_default().to_ascii_lowercase();
            u.username().is_empty()
                && u.password().is_none()
                && self
                    .patterns
                    .iter()
                    .any(|p| p.allows(u.scheme(), &host, u.port_or_known_default()))
        });
        match (allowed, origin) {
            (true, _) => Ok(()),
            (false, Some(origin)) => Err(Refused {
                pattern: origin.clone(),
                origin,
            }),
            (false, None) => Err(Refused {
                origin: "a URL that does not parse".into(),
                pattern: "nothing (fix the URL)".into(),
            }),
        }
    }
}

/// `scheme://host:port`, the port always written.
fn origin_of(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    match url.port_or_known_default() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(patterns: &[&str]) -> EndpointPolicy {
        EndpointPolicy::parse(patterns.iter().copied()).expect("valid patterns")
    }

    #[test]
    fn the_defaults_allow_the_vendors_over_https_only() {
        let p = EndpointPolicy::default();
        for url in [
            "https://iam.myhuaweicloud.com/v3/auth/tokens",
            "https://cbr.ap-southeast-1.myhuaweicloud.com",
            "https://identity.api.rackspacecloud.com/v2.0",
            "https://dfw.backup.api.rackspacecloud.com/v2/110011",
        ] {
            assert_eq!(p.check(url), Ok(()), "{url}");
        }
        for url in [
            "http://iam.myhuaweicloud.com",
            "https://myhuaweicloud.com",
            "https://iam.myhuaweicloud.com.evil.example",
            "http://127.0.0.1:8780/v2.0",
        ] {
            assert!(p.check(url).is_err(), "{url}");
        }
    }

    #[test]
    fn a_port_in_the_pattern_must_match_and_none_matches_any() {
        let p = policy(&["https://cc.corp.example:443", "http://127.0.0.1"]);
        assert_eq!(p.check("https://cc.corp.example/commandcenter/api"), Ok(()));
        assert!(p.check("https://cc.corp.example:8443/api").is_err());
        assert_eq!(p.check("http://127.0.0.1:8780"), Ok(()));
        assert_eq!(p.check("http://127.0.0.1:1"), Ok(()));
        assert!(
            p.check("https://127.0.0.1:8780").is_err(),
            "https is not http"
        );
    }

    #[test]
    fn http_matches_only_a_pattern_that_says_http() {
        let p = policy(&["https://*.example.com"]);
        assert!(p.check("http://a.example.com").is_err());
        assert_eq!(p.check("https://a.b.example.com"), Ok(()));
        assert_eq!(p.check("HTTPS://A.EXAMPLE.COM/x"), Ok(()));
    }

    #[test]
    fn a_refusal_names_the_origin_and_the_pattern_to_add_never_the_path_or_user() {
        let p = EndpointPolicy::default();
        let refused = p
            .check("http://user:secret@10.0.0.9:8080/commandcenter/api?x=1")
            .expect_err("refused");
        assert_eq!(refused.origin, "http://10.0.0.9:8080");
        assert_eq!(refused.pattern, "http://10.0.0.9:8080");
        let text = refused.to_string();
        assert!(
            !text.contains("secret") && !text.contains("commandcenter"),
            "{text}"
        );
    }

    #[test]
    fn user_info_is_refused_even_on_an_allowed_host() {
        let p = policy(&["https://*.example.com"]);
        assert!(p.check("https://me@a.example.com").is_err());
    }

    #[test]
    fn malformed_patterns_say_what_to_write() {
        for bad in [
            "iam.myhuaweicloud.com",
            "ftp://x.example",
            "https://x.example/path",
            "https://*",
            "https://a.*.example.com",
            "https://x.example:port",
            "https://u@x.example",
        ] {
            let e = EndpointPolicy::parse([bad]).expect_err(bad);
            assert!(e.to_string().contains("scheme://host[:port]"), "{e}");
        }
    }

    #[test]
    fn ipv6_hosts_and_ports_parse() {
        let p = policy(&["http://[::1]:8780"]);
        assert_eq!(p.check("http://[::1]:8780/v2.0"), Ok(()));
        assert!(p.check("http://[::1]:8781/v2.0").is_err());
    }
}
