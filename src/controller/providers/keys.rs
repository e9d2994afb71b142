//! Which keys a Huawei credentials Secret must hold, by credential type:
//! what the reading code checks and what the error that names a missing
//! key lists.

use crate::api::provider_config::HuaweiAuthType;

/// The keys a Secret must hold for `auth`.
pub fn required_keys(auth: HuaweiAuthType) -> &'static [&'static str] {
    match auth {
        HuaweiAuthType::AccessKey => &["accessKey", "secretKey"],
        HuaweiAuthType::Password => &["username", "password", "domainName"],
    }
}
