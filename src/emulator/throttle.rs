//! Token-bucket throttling, one bucket per operation, as Huawei's API gateway
//! limits each user per API. Time is passed in, so the arithmetic is tested
//! without sleeping.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::operation::Operation;

/// Sustained rate and burst of one bucket.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThrottleConfig {
    /// Requests per second refilled into the bucket.
    pub rate: f64,
    /// Bucket size: how many requests may arrive at once after a quiet spell.
    pub burst: u32,
}

/// A classic token bucket: `burst` tokens at most, refilled at `rate` per second.
#[derive(Clone, Debug)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(config: ThrottleConfig, now: Instant) -> Self {
        let burst = f64::from(config.burst.max(1));
        Self {
            rate: config.rate,
            burst,
            tokens: burst,
            last: now,
        }
    }

    /// Takes one token, or says how long until one is available.
    pub fn try_take(&mut self, now: Instant) -> Result<(), Duration> {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        if self.rate <= 0.0 {
            // Never refills: any finite answer is a lie, so say "a long time".
            return Err(Duration::from_secs(3600));
        }
        Err(Duration::from_secs_f64((1.0 - self.tokens) / self.rate))
    }
}

/// One bucket per operation, created full on first use.
#[derive(Debug, Default)]
pub struct Throttle {
    config: Option<ThrottleConfig>,
    buckets: HashMap<Operation, TokenBucket>,
}

impl Throttle {
    pub fn new(config: Option<ThrottleConfig>) -> Self {
        Self {
            config,
            buckets: HashMap::new(),
        }
    }

    /// Admits the request, or answers how long the caller should wait.
    pub fn admit(&mut self, op: Operation, now: Instant) -> Result<(), Duration> {
        let Some(config) = self.config else {
            return Ok(());
        };
        self.buckets
            .entry(op)
            .or_insert_with(|| TokenBucket::new(config, now))
            .try_take(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(rate: f64, burst: u32) -> ThrottleConfig {
        ThrottleConfig { rate, burst }
    }

    #[test]
    fn bucket_admits_a_burst_then_refuses() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(config(1.0, 3), t0);
        for _ in 0..3 {
            assert_eq!(bucket.try_take(t0), Ok(()));
        }
        let wait = bucket.try_take(t0).expect_err("bucket is empty");
        assert_eq!(wait, Duration::from_secs(1));
    }

    #[test]
    fn bucket_refills_at_the_rate() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(config(10.0, 1), t0);
        assert_eq!(bucket.try_take(t0), Ok(()));
        assert!(bucket.try_take(t0 + Duration::from_millis(50)).is_err());
        assert_eq!(bucket.try_take(t0 + Duration::from_millis(100)), Ok(()));
    }

    #[test]
    fn bucket_never_holds_more_than_the_burst() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(config(100.0, 2), t0);
        let later = t0 + Duration::from_secs(60);
        assert_eq!(bucket.try_take(later), Ok(()));
        assert_eq!(bucket.try_take(later), Ok(()));
        assert!(bucket.try_take(later).is_err());
    }

    #[test]
    fn wait_shrinks_as_the_bucket_refills() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(config(2.0, 1), t0);
        assert_eq!(bucket.try_take(t0), Ok(()));
        let wait = bucket
            .try_take(t0 + Duration::from_millis(250))
            .expect_err("half a token");
        assert_eq!(wait, Duration::from_millis(250));
    }

    #[test]
    fn throttle_keeps_one_bucket_per_operation() {
        let t0 = Instant::now();
        let mut throttle = Throttle::new(Some(config(1.0, 1)));
        assert_eq!(throttle.admit(Operation::ShowVault, t0), Ok(()));
        assert!(throttle.admit(Operation::ShowVault, t0).is_err());
        assert_eq!(throttle.admit(Operation::ListVaults, t0), Ok(()));
    }

    #[test]
    fn throttle_without_config_admits_everything() {
        let t0 = Instant::now();
        let mut throttle = Throttle::new(None);
        for _ in 0..1000 {
            assert_eq!(throttle.admit(Operation::ShowVault, t0), Ok(()));
        }
    }
}
