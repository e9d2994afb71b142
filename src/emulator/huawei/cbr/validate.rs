//! CBR's documented request rules, as pure functions from wire bodies to the
//! stored model: names, descriptions, sizes, thresholds, tags, bind rules,
//! resources, and the update rules (post-paid only fields, the one-way lock).
//! Each breach answers the code the real service uses.

use std::collections::HashSet;

use super::model::{Billing, NewVault, Resource, Tag, VaultSettings};
use super::wire::{
    BindRules, ChargingMode, ObjectType, ResourceCreate, ResourceType, TagBody, VaultCreate,
    VaultUpdate,
};
use crate::emulator::huawei::error::CbrError;

pub const MAX_NAME_CHARS: usize = 64;
pub const MAX_DESCRIPTION_CHARS: usize = 64;
pub const MIN_CREATE_SIZE_GB: i64 = 10;
pub const MIN_UPDATE_SIZE_GB: i64 = 1;
pub const MAX_SIZE_GB: i64 = 10_485_760;
pub const MAX_TAGS: usize = 10;
pub const MAX_TAG_KEY_CHARS: usize = 36;
pub const MAX_TAG_VALUE_CHARS: usize = 43;
pub const MAX_BIND_RULE_TAGS: usize = 5;
pub const MAX_CREATE_RESOURCES: usize = 255;
pub const MAX_RESOURCE_IDS_PER_CALL: usize = 256;
const MAX_RESOURCE_ID_CHARS: usize = 64;
const MAX_RESOURCE_NAME_CHARS: usize = 255;
const DEFAULT_THRESHOLD: u8 = 80;

/// Letters, digits, `_`, `-` and CJK ideographs, 1 to 64 characters.
pub fn vault_name(name: &str) -> Result<(), CbrError> {
    let count = name.chars().count();
    if count == 0 || count > MAX_NAME_CHARS {
        return Err(CbrError::invalid(format!(
            "name must be 1 to {MAX_NAME_CHARS} characters, got {count}"
        )));
    }
    let allowed = |c: char| {
        c.is_ascii_alphanumeric() || c == '_' || c == '-' || ('\u{4e00}'..='\u{9fff}').contains(&c)
    };
    if let Some(bad) = name.chars().find(|&c| !allowed(c)) {
        return Err(CbrError::invalid(format!(
            "name may hold only letters, digits, _, - and Chinese characters, not {bad:?}"
        )));
    }
    Ok(())
}

pub fn description(text: &str) -> Result<(), CbrError> {
    let count = text.chars().count();
    if count > MAX_DESCRIPTION_CHARS {
        return Err(CbrError::invalid(format!(
            "description must be at most {MAX_DESCRIPTION_CHARS} characters, got {count}"
        )));
    }
    if text.contains(['<', '>']) {
        return Err(CbrError::invalid("description must not contain < or >"));
    }
    Ok(())
}

/// A size in GB within `min..=MAX_SIZE_GB`; anything else is 6101.
pub fn size(size: i64, min: i64) -> Result<u32, CbrError> {
    if !(min..=MAX_SIZE_GB).contains(&size) {
        return Err(CbrError::InvalidSize);
    }
    u32::try_from(size).map_err(|_| CbrError::InvalidSize)
}

pub fn threshold(value: i64) -> Result<u8, CbrError> {
    u8::try_from(value)
        .ok()
        .filter(|t| (1..=100).contains(t))
        .ok_or_else(|| CbrError::invalid(format!("threshold must be 1 to 100, got {value}")))
}

/// A tag key: trimmed, 1 to 36 of `[A-Za-z0-9_-]`.
pub fn tag_key(raw: &str) -> Result<String, CbrError> {
    let key = raw.trim();
    let count = key.chars().count();
    if count == 0 || count > MAX_TAG_KEY_CHARS {
        return Err(CbrError::invalid(format!(
            "tag key must be 1 to {MAX_TAG_KEY_CHARS} characters after trimming, got {count}"
        )));
    }
    if let Some(bad) = key
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
    {
        return Err(CbrError::invalid(format!(
            "tag key {key:?} may hold only letters, digits, _ and -, not {bad:?}"
        )));
    }
    Ok(key.to_string())
}

/// A tag value: trimmed, 0 to 43 of `[A-Za-z0-9_.-]`.
pub fn tag_value(raw: &str) -> Result<String, CbrError> {
    let value = raw.trim();
    let count = value.chars().count();
    if count > MAX_TAG_VALUE_CHARS {
        return Err(CbrError::invalid(format!(
            "tag value must be at most {MAX_TAG_VALUE_CHARS} characters, got {count}"
        )));
    }
    if let Some(bad) = value
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return Err(CbrError::invalid(format!(
            "tag value {value:?} may hold only letters, digits, _, . and -, not {bad:?}"
        )));
    }
    Ok(value.to_string())
}

/// A tag being added: the value is mandatory.
pub fn tag(body: &TagBody) -> Result<Tag, CbrError> {
    let key = tag_key(&body.key)?;
    let value = body
        .value
        .as_deref()
        .ok_or_else(|| CbrError::invalid(format!("tag {key:?} needs a value")))?;
    Ok(Tag {
        key,
        value: tag_value(value)?,
    })
}

/// A list of tags to add: each valid, keys unique, at most `max`.
pub fn tag_list(bodies: &[TagBody], max: usize, what: &str) -> Result<Vec<Tag>, CbrError> {
    if bodies.len() > max {
        return Err(CbrError::invalid(format!(
            "{what} holds {} tags, more than {max}",
            bodies.len()
        )));
    }
    let tags = bodies.iter().map(tag).collect::<Result<Vec<_>, _>>()?;
    let mut seen = HashSet::new();
    if let Some(dup) = tags.iter().find(|t| !seen.insert(t.key.as_str())) {
        return Err(CbrError::invalid(format!(
            "{what} repeats the tag key {:?}",
            dup.key
        )));
    }
    Ok(tags)
}

fn bind_rules(rules: &BindRules) -> Result<Vec<Tag>, CbrError> {
    tag_list(
        rules.tags.as_deref().unwrap_or_default(),
        MAX_BIND_RULE_TAGS,
        "bind_rules.tags",
    )
}

/// Which resource types a vault of each object type takes. VMware, RDS and
/// file vaults take resources the API lists no type for, so they are not
/// checked.
pub fn resource_fits(object_type: ObjectType, resource_type: ResourceType) -> bool {
    use ResourceType::*;
    match object_type {
        ObjectType::Server => matches!(resource_type, NovaServer | BareMetalServer | NativeServer),
        ObjectType::Disk => resource_type == CinderVolume,
        ObjectType::Turbo => resource_type == SfsTurbo,
        ObjectType::Workspace => resource_type == WorkspaceDesktop,
        ObjectType::Vmware | ObjectType::Rds | ObjectType::File => true,
    }
}

/// Resources for a vault of `object_type`: each well-formed and of a type the
/// vault takes (6102), none repeated (6104), at most `max`.
pub fn resources(
    bodies: &[ResourceCreate],
    object_type: ObjectType,
    max: usize,
) -> Result<Vec<Resource>, CbrError> {
    if bodies.len() > max {
        return Err(CbrError::invalid(format!(
            "resources holds {} entries, more than {max}",
            bodies.len()
        )));
    }
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(bodies.len());
    for body in bodies {
        let id_chars = body.id.chars().count();
        if id_chars == 0 || id_chars > MAX_RESOURCE_ID_CHARS {
            return Err(CbrError::invalid(format!(
                "resource id must be 1 to {MAX_RESOURCE_ID_CHARS} characters"
            )));
        }
        let name = body.name.clone().unwrap_or_default();
        if name.chars().count() > MAX_RESOURCE_NAME_CHARS {
            return Err(CbrError::invalid(format!(
                "resource name must be at most {MAX_RESOURCE_NAME_CHARS} characters"
            )));
        }
        if !resource_fits(object_type, body.resource_type) {
            return Err(CbrError::ResourceTypeMismatch {
                resource_id: body.id.clone(),
                resource_type: body.resource_type.as_str(),
            });
        }
        if !seen.insert(body.id.as_str()) {
            return Err(CbrError::DuplicateResource(body.id.clone()));
        }
        out.push(Resource {
            id: body.id.clone(),
            resource_type: body.resource_type,
            name,
            extra_info: body.extra_info.clone().unwrap_or_default(),
        });
    }
    Ok(out)
}

fn check_enterprise_project_id(id: &str) -> Result<(), CbrError> {
    if id == "0" || uuid::Uuid::try_parse(id).is_ok() {
        Ok(())
    } else {
        Err(CbrError::invalid(format!(
            "enterprise_project_id must be \"0\" or a UUID, got {id:?}"
        )))
    }
}

/// Checks a create request and turns it into the stored model.
pub fn new_vault(body: VaultCreate) -> Result<NewVault, CbrError> {
    vault_name(&body.name)?;
    if let Some(text) = &body.description {
        description(text)?;
    }
    let charging_mode = body.billing.charging_mode.unwrap_or_default();
    if charging_mode == ChargingMode::PrePaid {
        return Err(CbrError::invalid(
            "charging_mode pre_paid needs the order flow, which this API emulation does not offer; use post_paid",
        ));
    }
    let billing = Billing {
        consistent_level: body.billing.consistent_level,
        object_type: body.billing.object_type,
        protect_type: body.billing.protect_type,
        cloud_type: body.billing.cloud_type.unwrap_or_default(),
        charging_mode,
        size: size(body.billing.size, MIN_CREATE_SIZE_GB)?,
        is_multi_az: body.billing.is_multi_az.unwrap_or(false),
    };
    let tags = match &body.tags {
        Some(list) if list.is_empty() => {
            return Err(CbrError::invalid("tags, when given, must not be empty"));
        }
        Some(list) => tag_list(list, MAX_TAGS, "tags")?,
        None => Vec::new(),
    };
    let rules = body.bind_rules.as_ref().map(bind_rules).transpose()?;
    let threshold_pct = body.threshold.map(threshold).transpose()?;
    let enterprise_project_id = body
        .enterprise_project_id
        .unwrap_or_else(|| "0".to_string());
    check_enterprise_project_id(&enterprise_project_id)?;
    if let Some(prefix) = &body.backup_name_prefix
        && prefix.chars().count() > 32
    {
        return Err(CbrError::invalid(
            "backup_name_prefix must be at most 32 characters",
        ));
    }
    if let Some(service) = &body.sys_lock_source_service
        && !matches!(service.as_str(), "SMB" | "")
    {
        return Err(CbrError::invalid(
            "sys_lock_source_service must be \"SMB\" or \"\"",
        ));
    }
    if let Some(zone) = &body.availability_zone
        && !(1..=32).contains(&zone.chars().count())
    {
        return Err(CbrError::invalid(
            "availability_zone must be 1 to 32 characters",
        ));
    }
    let members = resources(&body.resources, billing.object_type, MAX_CREATE_RESOURCES)?;
    Ok(NewVault {
        settings: VaultSettings {
            name: body.name,
            description: body.description,
            billing,
            auto_bind: body.auto_bind.unwrap_or(false),
            bind_rules: rules.unwrap_or_default(),
            auto_expand: body.auto_expand.unwrap_or(false),
            smn_notify: body.smn_notify.unwrap_or(true),
            threshold: threshold_pct.unwrap_or(DEFAULT_THRESHOLD),
            locked: body.locked.unwrap_or(false),
            enterprise_project_id,
            backup_policy_id: body.backup_policy_id,
            backup_name_prefix: body.backup_name_prefix,
            sys_lock_source_service: body.sys_lock_source_service,
            availability_zone: body.availability_zone,
            demand_billing: body.demand_billing.unwrap_or(false),
        },
        resources: members,
        tags,
    })
}

/// The settings after a partial update, or why the update is refused.
/// Nothing changes unless every field is acceptable.
pub fn apply_update(
    current: &VaultSettings,
    update: VaultUpdate,
) -> Result<VaultSettings, CbrError> {
    let mut next = current.clone();
    let post_paid = current.billing.charging_mode == ChargingMode::PostPaid;
    if let Some(name) = update.name {
        vault_name(&name)?;
        next.name = name;
    }
    if let Some(billing) = update.billing {
        if let Some(level) = billing.consistent_level {
            next.billing.consistent_level = level;
        }
        if let Some(new_size) = billing.size {
            if !post_paid {
                return Err(CbrError::CannotUpdate(
                    "the size of a pre_paid vault changes only through an order".to_string(),
                ));
            }
            next.billing.size = size(new_size, MIN_UPDATE_SIZE_GB)?;
        }
    }
    if let Some(auto_bind) = update.auto_bind {
        next.auto_bind = auto_bind;
    }
    if let Some(rules) = &update.bind_rules {
        next.bind_rules = bind_rules(rules)?;
    }
    if let Some(auto_expand) = update.auto_expand {
        if !post_paid {
            return Err(CbrError::CannotUpdate(
                "auto_expand applies to post_paid vaults only".to_string(),
            ));
        }
        next.auto_expand = auto_expand;
    }
    if let Some(smn_notify) = update.smn_notify {
        next.smn_notify = smn_notify;
    }
    if let Some(value) = update.threshold {
        next.threshold = threshold(value)?;
    }
    if let Some(locked) = update.locked {
        if current.locked && !locked {
            return Err(CbrError::CannotUpdate(
                "a locked vault cannot be unlocked".to_string(),
            ));
        }
        next.locked = locked;
    }
    Ok(next)
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
