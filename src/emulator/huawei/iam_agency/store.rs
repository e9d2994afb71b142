//! The agency store: agencies of the caller's account and their grants.
//! Durations are stored in days and answered in hours; a new agency stays
//! invisible to GET for `read_delay`, as IAM's eventual consistency does;
//! grants are a set, so granting twice changes nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use uuid::Uuid;

use super::catalog::TrustDomain;
use super::error::AgencyError;

/// How long an agency is valid, as IAM stores it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoredDuration {
    /// Created without a duration: answered as `null`.
    Unset,
    /// `"FOREVER"`: answered as `"FOREVER"`.
    Forever,
    /// A number of days (`"ONEDAY"` is 1): answered in hours.
    Days(u32),
}

impl StoredDuration {
    /// Reads the request form: `"FOREVER"`, `"ONEDAY"`, or days as an
    /// integer or a numeric string.
    pub fn parse(value: Option<&Value>) -> Result<Self, AgencyError> {
        let invalid = || AgencyError::invalid("agency.duration");
        match value {
            None | Some(Value::Null) => Ok(Self::Unset),
            Some(Value::String(s)) if s == "FOREVER" => Ok(Self::Forever),
            Some(Value::String(s)) if s == "ONEDAY" => Ok(Self::Days(1)),
            Some(Value::String(s)) => s
                .parse()
                .ok()
                .filter(|d| *d > 0)
                .map(Self::Days)
                .ok_or_else(invalid),
            Some(Value::Number(n)) => n
                .as_u64()
                .and_then(|d| u32::try_from(d).ok())
                .filter(|d| *d > 0)
                .map(Self::Days)
                .ok_or_else(invalid),
            Some(_) => Err(invalid()),
        }
    }

    /// The response form: hours as a string, `"FOREVER"`, or `null`.
    pub fn answer(self) -> Value {
        match self {
            Self::Unset => Value::Null,
            Self::Forever => json!("FOREVER"),
            Self::Days(days) => json!((u64::from(days) * 24).to_string()),
        }
    }

    fn expiry(self, from: Timestamp) -> Option<Timestamp> {
        match self {
            Self::Days(days) => from
                .checked_add(SignedDuration::from_hours(i64::from(days) * 24))
                .ok(),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct AgencyRecord {
    pub id: String,
    pub name: String,
    pub trust: TrustDomain,
    pub description: String,
    pub duration: StoredDuration,
    pub create_time: Timestamp,
    pub expire_time: Option<Timestamp>,
    /// Before this, GET answers 404.
    pub visible_at: Instant,
    /// Tokens of the delegated party issued before this are void: every
    /// update moves it (the seed's note). Agency tokens carry the value they
    /// were issued under, and the gate refuses one that no longer matches.
    pub tokens_valid_from: Timestamp,
}

/// Where a grant applies.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GrantScope {
    Project(String),
    Domain(String),
    /// All projects of the domain, now and later (`OS-INHERIT`).
    AllProjects(String),
}

/// The fields of an agency to change; `None` leaves one as it is.
#[derive(Debug, Default)]
pub struct AgencyChange {
    pub trust: Option<TrustDomain>,
    pub description: Option<String>,
    pub duration: Option<StoredDuration>,
}

#[derive(Debug)]
pub struct AgencyStore {
    agencies: BTreeMap<String, AgencyRecord>,
    grants: BTreeSet<(String, GrantScope, String)>,
    read_delay: Duration,
}

impl AgencyStore {
    pub fn new(read_delay: Duration) -> Self {
        Self {
            agencies: BTreeMap::new(),
            grants: BTreeSet::new(),
            read_delay,
        }
    }

    pub fn set_read_delay(&mut self, delay: Duration) {
        self.read_delay = delay;
    }

    pub fn create(
        &mut self,
        name: String,
        trust: TrustDomain,
        description: String,
        duration: StoredDuration,
        now: (Instant, Timestamp),
    ) -> Result<&AgencyRecord, AgencyError> {
        if self.agencies.values().any(|a| a.name == name) {
            return Err(AgencyError::Duplicate(format!("agency name {name}")));
        }
        let id = Uuid::new_v4().simple().to_string();
        let record = AgencyRecord {
            id: id.clone(),
            name,
            trust,
            description,
            duration,
            create_time: now.1,
            expire_time: duration.expiry(now.1),
            visible_at: now.0 + self.read_delay,
            tokens_valid_from: now.1,
        };
        Ok(self.agencies.entry(id).or_insert(record))
    }

    /// An agency as GET sees it: missing until its read delay has passed.
    pub fn show(&self, id: &str, now: Instant) -> Result<&AgencyRecord, AgencyError> {
        self.agencies
            .get(id)
            .filter(|a| a.visible_at <= now)
            .ok_or_else(|| AgencyError::AgencyNotFound(id.to_string()))
    }

    /// An agency as writes see it: present from the moment it is created.
    pub fn get(&self, id: &str) -> Result<&AgencyRecord, AgencyError> {
        self.agencies
            .get(id)
            .ok_or_else(|| AgencyError::AgencyNotFound(id.to_string()))
    }

    /// Agencies by name and trust domain id, both optional, oldest first.
    pub fn list(&self, name: Option<&str>, trust_domain_id: Option<&str>) -> Vec<&AgencyRecord> {
        let mut found: Vec<&AgencyRecord> = self
            .agencies
            .values()
            .filter(|a| name.is_none_or(|n| a.name == n))
            .filter(|a| trust_domain_id.is_none_or(|t| a.trust.id == t))
            .collect();
        found.sort_by_key(|a| a.create_time);
        found
    }

    pub fn update(
        &mut self,
        id: &str,
        change: AgencyChange,
        now: Timestamp,
    ) -> Result<&AgencyRecord, AgencyError> {
        let record = self
            .agencies
            .get_mut(id)
            .ok_or_else(|| AgencyError::AgencyNotFound(id.to_string()))?;
        if let Some(trust) = change.trust {
            record.trust = trust;
        }
        if let Some(description) = change.description {
            record.description = description;
        }
        if let Some(duration) = change.duration {
            record.duration = duration;
            record.expire_time = duration.expiry(record.create_time);
        }
        // Strictly later even if the wall clock stalled or stepped back, so
        // a token issued before this update can never match it.
        record.tokens_valid_from =
            now.max(record.tokens_valid_from + SignedDuration::from_nanos(1));
        Ok(record)
    }

    /// Whether a token bound to `epoch` of agency `id` is still good: the
    /// agency exists and has not been updated since the token was issued.
    pub fn token_still_valid(&self, id: &str, epoch: Timestamp) -> bool {
        self.agencies
            .get(id)
            .is_some_and(|a| a.tokens_valid_from == epoch)
    }

    /// Deletes the agency and, with it, every grant it had.
    pub fn delete(&mut self, id: &str) -> Result<(), AgencyError> {
        self.agencies
            .remove(id)
            .ok_or_else(|| AgencyError::AgencyNotFound(id.to_string()))?;
        self.grants.retain(|(agency, _, _)| agency != id);
        Ok(())
    }

    pub fn grant(&mut self, id: &str, scope: GrantScope, role: &str) -> Result<(), AgencyError> {
        self.get(id)?;
        self.grants
            .insert((id.to_string(), scope, role.to_string()));
        Ok(())
    }

    pub fn has_grant(&self, id: &str, scope: &GrantScope, role: &str) -> Result<bool, AgencyError> {
        self.get(id)?;
        Ok(self
            .grants
            .contains(&(id.to_string(), scope.clone(), role.to_string())))
    }

    pub fn revoke(&mut self, id: &str, scope: GrantScope, role: &str) -> Result<(), AgencyError> {
        self.get(id)?;
        if self
            .grants
            .remove(&(id.to_string(), scope, role.to_string()))
        {
            Ok(())
        } else {
            Err(AgencyError::GrantNotFound)
        }
    }

    /// Every grant of every agency as (agency id, scope, role id), in one
    /// stable order, so that pages of a listing neither repeat nor skip.
    pub fn all_grants(&self) -> impl Iterator<Item = (&str, &GrantScope, &str)> {
        self.grants
            .iter()
            .map(|(agency, scope, role)| (agency.as_str(), scope, role.as_str()))
    }

    /// The role ids granted to the agency on one scope.
    pub fn grants_on(&self, id: &str, scope: &GrantScope) -> Result<Vec<String>, AgencyError> {
        self.get(id)?;
        Ok(self
            .grants
            .iter()
            .filter(|(agency, s, _)| agency == id && s == scope)
            .map(|(_, _, role)| role.clone())
            .collect())
    }
}

/// IAM writes agency times with microseconds and no zone.
pub fn iam_time(ts: Timestamp) -> String {
    format!(
        "{}.{:06}",
        ts.strftime("%Y-%m-%dT%H:%M:%S"),
        ts.subsec_microsecond()
    )
}

/// The agency as create and update answer it (no `trust_domain_name`).
pub fn written_view(record: &AgencyRecord, domain_id: &str) -> Value {
    json!({
        "id": record.id,
        "name": record.name,
        "domain_id": domain_id,
        "trust_domain_id": record.trust.id,
        "description": record.description,
        "duration": record.duration.answer(),
        "create_time": iam_time(record.create_time),
        "expire_time": record.expire_time.map(iam_time),
    })
}

/// The agency as show and list answer it: also the trust name and URN.
pub fn read_view(record: &AgencyRecord, domain_id: &str) -> Value {
    let mut view = written_view(record, domain_id);
    view["trust_domain_name"] = json!(record.trust.name);
    view["agency_urn"] = json!(format!("iam::{domain_id}:agency:{}", record.name));
    view
}
