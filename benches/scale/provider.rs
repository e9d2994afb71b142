//! The emulator's call counters, split the way the targets speak of them:
//! writes (what changes the cloud), reads, and sign-ins.

use std::collections::BTreeMap;

use coffer::emulator::{Operation, OperationCounter};

pub type Counters = BTreeMap<Operation, OperationCounter>;

/// A sign-in (a token), neither a read nor a write of an object.
fn is_auth(op: Operation) -> bool {
    matches!(op, Operation::CreateToken)
}

fn is_read(op: Operation) -> bool {
    let name = op.as_str();
    ["Show", "List", "Get", "Check"]
        .iter()
        .any(|verb| name.starts_with(verb))
}

pub fn total(counters: &Counters) -> u64 {
    counters.values().map(|c| c.total).sum()
}

pub fn writes(counters: &Counters) -> u64 {
    counters
        .iter()
        .filter(|(op, _)| !is_auth(**op) && !is_read(**op))
        .map(|(_, c)| c.total)
        .sum()
}

pub fn reads(counters: &Counters) -> u64 {
    counters
        .iter()
        .filter(|(op, _)| is_read(**op))
        .map(|(_, c)| c.total)
        .sum()
}

/// Every operation called, by name.
pub fn by_operation(counters: &Counters) -> BTreeMap<String, u64> {
    counters
        .iter()
        .filter(|(_, c)| c.total > 0)
        .map(|(op, c)| (op.as_str().to_string(), c.total))
        .collect()
}
