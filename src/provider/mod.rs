//! Provider clients behind one trait per resource kind, in provider-neutral
//! types. Controllers see these traits and [`ProviderError`], never a
//! provider's wire types or HTTP status codes.

pub mod body;
pub mod budget;
pub mod commvault;
pub mod endpoints;
pub mod error;
pub mod huawei;
pub mod listing;
#[cfg(test)]
pub mod memory;
pub mod metrics;
pub mod rackspace;
pub mod snapshot;
pub mod tls;
pub mod tls_failure;

pub use error::ProviderError;

#[cfg(test)]
mod robustness_tests;
