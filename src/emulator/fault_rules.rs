//! Faults aimed at one operation: "fail the first `DeleteClient`", "lose
//! the answer of the second `RetireClient`", "answer 503 to every
//! `DeleteVault` after two have passed". Error rates strike every call
//! alike, so a test that needs a fault exactly where a bug would hide (the
//! second call of a two-call delete) could only hope for it; a rule makes it
//! certain.

use serde::{Deserialize, Serialize};

use super::operation::Operation;

/// One aimed fault. It counts the requests of its operation that reach it
/// (for [`RuleFault::LoseResponse`], the successful ones), lets `after` of
/// them through, then strikes `times` of them (every one from then on when
/// `times` is absent).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    pub operation: Operation,
    #[serde(default)]
    pub after: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
    pub fault: RuleFault,
}

/// What a rule does to a request it strikes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleFault {
    /// Answer this HTTP error status instead of running the operation (429
    /// answers as the throttle does).
    Status(u16),
    /// Run the operation, then answer 504 as a gateway whose backend timed
    /// out: the change is made and the client cannot know it.
    LoseResponse,
}

/// A rule that cannot be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RuleError {
    #[error("fault rule for {operation}: status {status} is not an HTTP error status (400..=599)")]
    Status { operation: Operation, status: u16 },
    #[error("fault rule for {0}: times 0 would never strike; leave times out to strike every call")]
    Never(Operation),
}

impl FaultRule {
    pub fn validate(&self) -> Result<(), RuleError> {
        if let RuleFault::Status(status) = self.fault
            && !(400..=599).contains(&status)
        {
            return Err(RuleError::Status {
                operation: self.operation,
                status,
            });
        }
        if self.times == Some(0) {
            return Err(RuleError::Never(self.operation));
        }
        Ok(())
    }
}

/// The rules in force and how many requests each has counted.
#[derive(Debug, Default)]
pub struct Rules {
    rules: Vec<(FaultRule, u32)>,
}

impl Rules {
    pub fn new(rules: &[FaultRule]) -> Self {
        Self {
            rules: rules.iter().map(|r| (r.clone(), 0)).collect(),
        }
    }

    /// The status the first matching rule answers `op` with, if it strikes.
    /// Every matching status rule counts the request.
    pub fn status_for(&mut self, op: Operation) -> Option<u16> {
        self.strike(op, |f| match f {
            RuleFault::Status(status) => Some(status),
            RuleFault::LoseResponse => None,
        })
    }

    /// Whether a rule loses the answer of this successful `op`.
    pub fn loses(&mut self, op: Operation) -> bool {
        self.strike(op, |f| (f == RuleFault::LoseResponse).then_some(()))
            .is_some()
    }

    fn strike<T>(&mut self, op: Operation, pick: impl Fn(RuleFault) -> Option<T>) -> Option<T> {
        let mut struck = None;
        for (rule, seen) in &mut self.rules {
            let Some(answer) = pick(rule.fault).filter(|_| rule.operation == op) else {
                continue;
            };
            *seen += 1;
            let past = seen.saturating_sub(rule.after);
            let strikes = past > 0 && rule.times.is_none_or(|t| past <= t);
            if strikes && struck.is_none() {
                struck = Some(answer);
            }
        }
        struck
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(operation: Operation, after: u32, times: Option<u32>, fault: RuleFault) -> FaultRule {
        FaultRule {
            operation,
            after,
            times,
            fault,
        }
    }

    #[test]
    fn a_rule_strikes_only_its_operation() {
        let mut rules = Rules::new(&[rule(
            Operation::DeleteClient,
            0,
            None,
            RuleFault::Status(503),
        )]);
        assert_eq!(rules.status_for(Operation::RetireClient), None);
        assert_eq!(rules.status_for(Operation::DeleteClient), Some(503));
        assert_eq!(rules.status_for(Operation::DeleteClient), Some(503));
    }

    #[test]
    fn after_lets_calls_through_and_times_ends_the_rule() {
        let mut rules = Rules::new(&[rule(
            Operation::DeleteVault,
            1,
            Some(2),
            RuleFault::Status(500),
        )]);
        let answers: Vec<_> = (0..5)
            .map(|_| rules.status_for(Operation::DeleteVault))
            .collect();
        assert_eq!(answers, [None, Some(500), Some(500), None, None]);
    }

    #[test]
    fn a_lost_answer_rule_counts_only_successes_it_is_asked_about() {
        let mut rules = Rules::new(&[rule(
            Operation::CreateVault,
            0,
            Some(1),
            RuleFault::LoseResponse,
        )]);
        assert_eq!(rules.status_for(Operation::CreateVault), None);
        assert!(rules.loses(Operation::CreateVault));
        assert!(!rules.loses(Operation::CreateVault));
    }

    #[test]
    fn rules_parse_from_the_admin_json() {
        let parsed: Vec<FaultRule> = serde_json::from_str(
            r#"[{"operation":"RetireClient","after":1,"times":1,"fault":"lose_response"},
                {"operation":"DeleteClient","fault":{"status":503}}]"#,
        )
        .expect("parses");
        assert_eq!(
            parsed,
            [
                rule(Operation::RetireClient, 1, Some(1), RuleFault::LoseResponse),
                rule(Operation::DeleteClient, 0, None, RuleFault::Status(503)),
            ]
        );
    }

    #[test]
    fn a_rule_that_cannot_strike_or_answers_no_error_is_refused() {
        let ok = rule(Operation::DeleteVault, 0, None, RuleFault::Status(200));
        assert!(matches!(ok.validate(), Err(RuleError::Status { .. })));
        let never = rule(Operation::DeleteVault, 0, Some(0), RuleFault::Status(500));
        assert_eq!(
            never.validate(),
            Err(RuleError::Never(Operation::DeleteVault))
        );
    }
}
