//! Huawei Cloud: IAM authentication and the CBR vault API.

pub mod errors;
pub mod signer;
