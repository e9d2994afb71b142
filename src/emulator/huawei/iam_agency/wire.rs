//! The agency request bodies, as the official SDK sends them. Unknown
//! fields are refused, as IAM's schema check does.

use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateAgencyBody {
    pub agency: CreateAgency,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateAgency {
    pub name: String,
    pub domain_id: String,
    #[serde(default)]
    pub trust_domain_id: Option<String>,
    #[serde(default)]
    pub trust_domain_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// `"FOREVER"`, `"ONEDAY"`, or days as an integer or a numeric string.
    #[serde(default)]
    pub duration: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateAgencyBody {
    pub agency: UpdateAgency,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateAgency {
    #[serde(default)]
    pub trust_domain_id: Option<String>,
    #[serde(default)]
    pub trust_domain_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub duration: Option<Value>,
}
