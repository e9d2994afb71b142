//! Huawei Cloud: IAM authentication and the CBR vault API.

pub mod auth;
pub mod client;
pub mod convert;
pub mod errors;
pub mod signer;
pub mod wire;
