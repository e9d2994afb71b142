//! The condition reasons an Agency shows besides the engine's, each with
//! what it means and what to do: the plan's refusals and a ProviderConfig
//! without IAM.

use crate::api::conditions::Reason;

pub const REASONS: &[Reason] = &[
    Reason::new(
        "TrustDomainNeedsName",
        "The spec moves the agency to another trusted account by id only; IAM needs the account's name with its id, and coffer cannot look up another account's name.",
        "Name the account with `trustDomain: {name: <account>}`.",
    ),
    Reason::new(
        "UnknownRoleOrProject",
        "A role or a project in `roles` is not one IAM knows (by display name, name or id).",
        "Fix the role or project name the message gives (`CBR ReadOnlyAccess`, or a region's project such as `ap-southeast-1`).",
    ),
    Reason::new(
        "InvalidProviderConfig",
        "The ProviderConfig has no `huaweiCloud.domainId`; IAM agencies live in an account, not a project.",
        "Set `huaweiCloud.domainId` to the account id (My Credentials in the console).",
    ),
];
