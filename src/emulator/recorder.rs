//! Per-operation counters and a bounded log of recent requests, so tests can
//! assert on what a client actually sent ("exactly one PUT carrying exactly
//! these fields") rather than on what it meant to send.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

use super::faults::FaultKind;
use super::operation::Operation;

/// How many requests the log keeps by default; older ones are dropped.
pub const DEFAULT_LOG_CAPACITY: usize = 10_000;

/// Requests seen for one operation, by answered status.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationCounter {
    pub total: u64,
    /// Keyed by HTTP status; JSON writes the keys as strings (`"200"`).
    pub by_status: BTreeMap<u16, u64>,
}

/// One request as the emulator saw and answered it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// Increases by one per recorded request; survives log truncation.
    pub seq: u64,
    pub request_id: String,
    pub operation: Operation,
    pub method: String,
    /// The path as sent, without the query.
    pub path: String,
    /// Decoded query parameters; a repeated key's values are joined with `,`
    /// (the SDK's own encoding for list parameters).
    pub query: BTreeMap<String, String>,
    /// The JSON body; a body that is not JSON is kept as a string, and an
    /// empty body is `null`. Passwords are replaced by `"***"`.
    pub body: serde_json::Value,
    pub status: u16,
    /// When the request arrived (before any injected latency), so a test
    /// can count how many calls started in a window.
    #[serde(default)]
    pub received_at: jiff::Timestamp,
    /// When the answer left (after any injected latency): with
    /// `received_at`, whether the call was in flight at a given moment.
    #[serde(default)]
    pub answered_at: jiff::Timestamp,
    /// Set when the answer was a fault injected by the emulator.
    pub fault: Option<FaultKind>,
}

/// A logged request with its body kept as compact JSON text: a parsed
/// `serde_json::Value` costs several times the text, and ten thousand of
/// them would outweigh the vault store.
#[derive(Debug)]
struct LogEntry {
    request: RecordedRequest,
    body: Box<str>,
}

impl LogEntry {
    fn new(mut request: RecordedRequest) -> Self {
        let body = std::mem::take(&mut request.body)
            .to_string()
            .into_boxed_str();
        Self { request, body }
    }

    fn to_request(&self) -> RecordedRequest {
        RecordedRequest {
            // The text was written from a `Value`, so it parses back.
            body: serde_json::from_str(&self.body).unwrap_or_default(),
            ..self.request.clone()
        }
    }
}

/// Counters plus the ring buffer of recent requests.
#[derive(Debug)]
pub struct Recorder {
    counters: BTreeMap<Operation, OperationCounter>,
    log: VecDeque<LogEntry>,
    capacity: usize,
    next_seq: u64,
    /// Requests received and not answered yet, by request id: `METHOD path`.
    in_flight: BTreeMap<String, String>,
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new(DEFAULT_LOG_CAPACITY)
    }
}

impl Recorder {
    pub fn new(capacity: usize) -> Self {
        Self {
            counters: BTreeMap::new(),
            log: VecDeque::with_capacity(capacity.min(1024)),
            capacity: capacity.max(1),
            next_seq: 1,
            in_flight: BTreeMap::new(),
        }
    }

    /// A request arrived; it is in flight until [`Recorder::record`]ed.
    pub fn begin(&mut self, request_id: &str, method: &str, path: &str) {
        self.in_flight
            .insert(request_id.to_string(), format!("{method} {path}"));
    }

    /// `METHOD path` of every request received and not answered yet: what
    /// a test waits for to act while a call is under way, not after a sleep.
    pub fn in_flight(&self) -> Vec<String> {
        self.in_flight.values().cloned().collect()
    }

    /// Counts the request and appends it to the log, dropping the oldest
    /// entry when the log is full. The `seq` field is assigned here.
    pub fn record(&mut self, mut request: RecordedRequest) {
        self.in_flight.remove(&request.request_id);
        let counter = self.counters.entry(request.operation).or_default();
        counter.total += 1;
        *counter.by_status.entry(request.status).or_default() += 1;
        request.seq = self.next_seq;
        self.next_seq += 1;
        if self.log.len() == self.capacity {
            self.log.pop_front();
        }
        self.log.push_back(LogEntry::new(request));
    }

    pub fn counters(&self) -> BTreeMap<Operation, OperationCounter> {
        self.counters.clone()
    }

    /// Logged requests in arrival order, optionally only one operation's.
    pub fn requests(&self, operation: Option<Operation>) -> Vec<RecordedRequest> {
        self.log
            .iter()
            .filter(|e| operation.is_none_or(|op| e.request.operation == op))
            .map(LogEntry::to_request)
            .collect()
    }

    /// Forgets counters and the log; `seq` keeps increasing.
    pub fn reset(&mut self) {
        self.counters.clear();
        self.log.clear();
    }
}

/// The body as the log keeps it: JSON if it parses, else text, else null;
/// with any `password` field masked.
pub fn body_for_log(body: &[u8]) -> serde_json::Value {
    if body.is_empty() {
        return serde_json::Value::Null;
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(mut value) => {
            mask_passwords(&mut value);
            value
        }
        Err(_) => serde_json::Value::String(String::from_utf8_lossy(body).into_owned()),
    }
}

fn mask_passwords(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if (key == "password" || key == "apiKey") && v.is_string() {
                    *v = serde_json::Value::String("***".to_string());
                } else {
                    mask_passwords(v);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(mask_passwords),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(operation: Operation, status: u16) -> RecordedRequest {
        RecordedRequest {
            seq: 0,
            request_id: "r".to_string(),
            operation,
            method: "GET".to_string(),
            path: "/".to_string(),
            query: BTreeMap::new(),
            body: serde_json::Value::Null,
            status,
            received_at: jiff::Timestamp::UNIX_EPOCH,
            answered_at: jiff::Timestamp::UNIX_EPOCH,
            fault: None,
        }
    }

    #[test]
    fn counts_per_operation_and_status() {
        let mut recorder = Recorder::new(10);
        recorder.record(request(Operation::ShowVault, 200));
        recorder.record(request(Operation::ShowVault, 404));
        recorder.record(request(Operation::ShowVault, 200));
        let counters = recorder.counters();
        let show = &counters[&Operation::ShowVault];
        assert_eq!(show.total, 3);
        assert_eq!(show.by_status, BTreeMap::from([(200, 2), (404, 1)]));
        assert!(!counters.contains_key(&Operation::ListVaults));
    }

    #[test]
    fn log_keeps_only_the_newest_entries() {
        let mut recorder = Recorder::new(2);
        for _ in 0..5 {
            recorder.record(request(Operation::ListVaults, 200));
        }
        let seqs: Vec<u64> = recorder.requests(None).iter().map(|r| r.seq).collect();
        assert_eq!(seqs, vec![4, 5]);
        assert_eq!(recorder.counters()[&Operation::ListVaults].total, 5);
    }

    #[test]
    fn requests_filter_by_operation() {
        let mut recorder = Recorder::new(10);
        recorder.record(request(Operation::ShowVault, 200));
        recorder.record(request(Operation::UpdateVault, 200));
        let updates = recorder.requests(Some(Operation::UpdateVault));
        assert_eq!(updates.len(), 1);
        assert_eq!(updates[0].operation, Operation::UpdateVault);
    }

    #[test]
    fn logged_body_comes_back_as_json() {
        let mut recorder = Recorder::new(10);
        let body = json!({"vault": {"billing": {"size": 200}, "name": "vault_name02"}});
        recorder.record(RecordedRequest {
            body: body.clone(),
            ..request(Operation::UpdateVault, 200)
        });
        assert_eq!(recorder.requests(None)[0].body, body);
    }

    #[test]
    fn reset_clears_counters_and_log() {
        let mut recorder = Recorder::new(10);
        recorder.record(request(Operation::ShowVault, 200));
        recorder.reset();
        assert!(recorder.counters().is_empty());
        assert!(recorder.requests(None).is_empty());
    }

    #[test]
    fn logged_bodies_mask_passwords() {
        let body =
            br#"{"auth":{"identity":{"password":{"user":{"name":"u","password":"secret"}}}}}"#;
        assert_eq!(
            body_for_log(body),
            json!({"auth":{"identity":{"password":{"user":{"name":"u","password":"***"}}}}})
        );
        assert_eq!(body_for_log(b""), serde_json::Value::Null);
        assert_eq!(body_for_log(b"not json"), json!("not json"));
    }
}
