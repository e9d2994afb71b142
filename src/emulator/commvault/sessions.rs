//! Commvault session tokens: `QSDK <hex>` from a login, void after a
//! configurable idle time (30 minutes on a real CommCell) and answered with
//! 401, renewable by `RenewLoginToken` even once idle (which is how cvpysdk
//! and coffer recover), and dead for good after `Logout`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Why a token was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// Never issued, renewed away, or logged out.
    Unknown,
    /// Unused for longer than the idle limit.
    Idle,
}

#[derive(Clone, Debug)]
struct Session {
    user_id: i32,
    last_used: Instant,
}

/// Every live token.
#[derive(Debug)]
pub struct Sessions {
    idle: Duration,
    tokens: HashMap<String, Session>,
}

impl Sessions {
    pub fn new(idle: Duration) -> Self {
        Self {
            idle,
            tokens: HashMap::new(),
        }
    }

    /// A new token for `user_id`.
    /// The tokens of the sessions still held.
    pub fn tokens(&self) -> Vec<String> {
        self.tokens.keys().cloned().collect()
    }

    pub fn issue(&mut self, user_id: i32, now: Instant) -> String {
        let token = format!("QSDK {}", uuid::Uuid::new_v4().simple());
        self.tokens.insert(
            token.clone(),
            Session {
                user_id,
                last_used: now,
            },
        );
        token
    }

    /// The user of `token`, which counts as used now.
    pub fn check(&mut self, token: &str, now: Instant) -> Result<i32, Refused> {
        let session = self.tokens.get_mut(token).ok_or(Refused::Unknown)?;
        if now.duration_since(session.last_used) > self.idle {
            return Err(Refused::Idle);
        }
        session.last_used = now;
        Ok(session.user_id)
    }

    /// A new token in place of `old`, idle or not; `None` when `old` is
    /// unknown or logged out.
    pub fn renew(&mut self, old: &str, now: Instant) -> Option<String> {
        let session = self.tokens.remove(old)?;
        Some(self.issue(session.user_id, now))
    }

    pub fn logout(&mut self, token: &str) -> bool {
        self.tokens.remove(token).is_some()
    }

    /// Test hook: every token counts as idle from now on.
    pub fn expire_all(&mut self, now: Instant) {
        let long_ago = now.checked_sub(self.idle + Duration::from_secs(1));
        for session in self.tokens.values_mut() {
            if let Some(then) = long_ago {
                session.last_used = then;
            }
        }
    }

    pub fn set_idle(&mut self, idle: Duration) {
        self.idle = idle;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_idle_token_is_refused_but_renewable_once() {
        let t0 = Instant::now();
        let mut s = Sessions::new(Duration::from_secs(60));
        let token = s.issue(1, t0);
        assert!(token.starts_with("QSDK "));
        assert_eq!(s.check(&token, t0 + Duration::from_secs(30)), Ok(1));
        let late = t0 + Duration::from_secs(100);
        assert_eq!(s.check(&token, late), Err(Refused::Idle));
        let renewed = s.renew(&token, late).expect("renewed");
        assert_eq!(s.check(&renewed, late), Ok(1));
        assert_eq!(s.renew(&token, late), None, "the old token is gone");
        assert!(s.logout(&renewed));
        assert_eq!(s.check(&renewed, late), Err(Refused::Unknown));
    }
}
