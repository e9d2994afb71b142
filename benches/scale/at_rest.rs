//! coffer's CPU at rest, split into what a drift check costs and what the
//! process costs with none due, from two measured minutes and the number
//! of reconciles the operator itself counted in each.
//!
//! The idle minute is quiet only while converging is shorter than the
//! leader's interval: at 100,000 objects converging takes longer, so every
//! object falls due for a check in every interval and the "idle" minute is
//! full of checks. Adding the checks minute's cost on top of it counted
//! them twice; counting the reconciles of both minutes separates the two.

/// One measured minute of an operator: CPU, and reconciles of the managed
/// kinds (every check is one).
#[derive(Clone, Copy, Debug)]
pub struct Minute {
    pub cpu_percent: f64,
    pub reconciles: f64,
}

/// What the two minutes say, at a given number of objects.
#[derive(Clone, Copy, Debug)]
pub struct AtRest {
    /// CPU with no check due, in % of a core.
    pub quiet_percent: f64,
    /// CPU per check, in milliseconds.
    pub ms_per_check: f64,
}

impl AtRest {
    /// `idle` is a minute with few checks or none, `checks` one that checks
    /// every object once. Two minutes, two unknowns: the cost at rest and
    /// the cost per check. `None` when the checks minute held no more
    /// checks than the idle one, which says nothing about either.
    pub fn of(idle: Minute, checks: Minute) -> Option<Self> {
        let seconds = |m: Minute| m.cpu_percent / 100.0 * 60.0;
        let more = checks.reconciles - idle.reconciles;
        if more < 1.0 {
            return None;
        }
        let per_check = ((seconds(checks) - seconds(idle)) / more).max(0.0);
        let quiet = (seconds(idle) - per_check * idle.reconciles).max(0.0);
        Some(Self {
            quiet_percent: 100.0 * quiet / 60.0,
            ms_per_check: 1000.0 * per_check,
        })
    }

    /// % of a core with `objects` each checked once every `interval_s`.
    pub fn with_checks(&self, objects: usize, interval_s: f64) -> f64 {
        let per_second = objects as f64 / interval_s;
        self.quiet_percent + 100.0 * per_second * self.ms_per_check / 1000.0
    }
}
