//! Huawei Cloud: IAM authentication and the CBR vault API.

pub mod auth;
pub mod authorized;
pub mod cbr;
pub mod client;
#[cfg(test)]
mod client_tests;
pub mod convert;
pub mod endpoint;
pub mod errors;
pub mod iam;
pub mod share;
pub mod shares;
pub mod signer;
pub mod token_wire;
pub mod transport;
pub mod vaults;
pub mod wire;

pub use auth::HuaweiCredentials;
pub use cbr::CbrVaultApi;
pub use client::HuaweiConnection;
pub use vaults::HuaweiVaults;
