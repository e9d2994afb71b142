//! What the owner's side and the receiver's side share: the CBR share
//! client of the object's ProviderConfig, and a member record as status
//! shows it.

use std::sync::Arc;

use crate::api::BackupShare;
use crate::api::backup_share::MemberObservation;
use crate::controller::engine::Error;
use crate::controller::env::Context;
use crate::provider::huawei::share::{CbrShareApi, Member};

/// The CBR share client of the ProviderConfig `share` names.
pub fn share_api(share: &BackupShare, ctx: &Context) -> Result<Arc<dyn CbrShareApi>, Error> {
    Ok(ctx.env.session_of(share)?.huawei()?.shares.clone())
}

/// A member record as status shows it.
pub fn member_view(m: &Member) -> MemberObservation {
    MemberObservation {
        project_id: m.project_id.clone(),
        status: m.status.clone(),
        vault_id: m.vault_id.clone(),
        image_id: m.image_id.clone(),
        updated_at: m.updated_at.clone(),
    }
}
