//! The session token a Commvault client holds, and the pure decision of what
//! a call needs before it can go out: use the token, renew it (idle for too
//! long, or refused with 401), or log in. Commvault voids a token after 30
//! minutes without a call, so the client renews a little before that.

use std::time::{Duration, Instant};

/// Commvault's idle expiry of a session token.
pub const IDLE_EXPIRY: Duration = Duration::from_secs(30 * 60);
/// Renew this long before the idle expiry, so a call never races it.
pub const IDLE_MARGIN: Duration = Duration::from_secs(60);

/// The token and when it was last used.
#[derive(Clone, Debug)]
pub struct Token {
    pub value: String,
    pub last_used: Instant,
}

/// What to do before a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Need {
    /// The token is fresh: send it.
    Use(String),
    /// The token has been idle for too long, or was refused: renew it.
    Renew(String),
    /// No token yet: log in.
    Login,
}

/// What a call with no refused token needs, at `now`.
pub fn before_call(token: Option<&Token>, now: Instant) -> Need {
    match token {
        None => Need::Login,
        Some(t) if now.duration_since(t.last_used) + IDLE_MARGIN >= IDLE_EXPIRY => {
            Need::Renew(t.value.clone())
        }
        Some(t) => Need::Use(t.value.clone()),
    }
}

/// What a caller whose call with `refused` was answered 401 needs: when
/// another caller already replaced that token, the new one; else a renewal.
/// This is what makes renewal single-flight: every caller refused with the
/// same token waits on the same lock, and only the first renews.
pub fn after_refusal(token: Option<&Token>, refused: &str) -> Need {
    match token {
        Some(t) if t.value != refused => Need::Use(t.value.clone()),
        Some(t) => Need::Renew(t.value.clone()),
        None => Need::Login,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(value: &str, idle: Duration, now: Instant) -> Token {
        Token {
            value: value.into(),
            last_used: now - idle,
        }
    }

    #[test]
    fn a_fresh_token_is_used_and_an_idle_one_renewed() {
        let now = Instant::now() + IDLE_EXPIRY * 2;
        assert_eq!(before_call(None, now), Need::Login);
        let fresh = token("QSDK a", Duration::from_secs(60), now);
        assert_eq!(before_call(Some(&fresh), now), Need::Use("QSDK a".into()));
        let idle = token("QSDK a", IDLE_EXPIRY - IDLE_MARGIN, now);
        assert_eq!(before_call(Some(&idle), now), Need::Renew("QSDK a".into()));
    }

    #[test]
    fn only_the_first_refused_caller_renews() {
        let now = Instant::now();
        let renewed = token("QSDK new", Duration::ZERO, now);
        assert_eq!(
            after_refusal(Some(&renewed), "QSDK old"),
            Need::Use("QSDK new".into())
        );
        let same = token("QSDK old", Duration::ZERO, now);
        assert_eq!(
            after_refusal(Some(&same), "QSDK old"),
            Need::Renew("QSDK old".into())
        );
    }
}
