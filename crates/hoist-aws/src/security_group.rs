//! The workspace's security group: one inbound rule, from the group itself
//! (a multi-node job's instances talk to each other; nothing else gets
//! in), and all egress.

use std::time::Duration;

use aws_sdk_ec2::types::{Filter, IpPermission, IpRange, ResourceType, Tag, TagSpecification, UserIdGroupPair};
use serde::Serialize;

use crate::catalog::ec2 as ops;
use crate::error::AwsError;
use crate::session::Session;
use crate::tags::Tags;

/// How long destroy waits for instances still using the group to go.
pub const DEPENDENCY_BUDGET: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SecurityGroupState {
    pub id: String,
    pub vpc_id: String,
    pub tags: Tags,
    /// Inbound rules other than the one from the group itself (hoist
    /// wants none).
    pub ingress_rules: usize,
    /// Whether the group admits all traffic from itself (hoist wants it).
    pub self_rule: bool,
    /// Whether egress to everywhere is allowed (needed to reach AWS APIs).
    pub egress_open: bool,
    #[serde(skip)]
    ingress: Vec<IpPermission>,
}

pub struct SecurityGroups<'a> {
    session: &'a Session,
    client: aws_sdk_ec2::Client,
}

fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

/// All traffic from members of group `id`.
fn from_itself(id: &str) -> IpPermission {
    IpPermission::builder().ip_protocol("-1").user_id_group_pairs(UserIdGroupPair::builder().group_id(id).build()).build()
}

/// Whether `p` is exactly the rule from the group itself.
fn is_self_rule(p: &IpPermission, id: &str) -> bool {
    p.ip_protocol() == Some("-1")
        && p.ip_ranges().is_empty()
        && p.ipv6_ranges().is_empty()
        && p.prefix_list_ids().is_empty()
        && p.user_id_group_pairs().len() == 1
        && p.user_id_group_pairs()[0].group_id() == Some(id)
}

/// A permission as its single-source parts: EC2 (and the emulator) merge
/// rules of one protocol and port range into one permission, so "from
/// itself" and "from 0.0.0.0/0" can arrive together; each part can be
/// kept or revoked on its own.
fn parts(p: &IpPermission) -> Vec<IpPermission> {
    let base = || IpPermission::builder().set_ip_protocol(p.ip_protocol().map(str::to_string)).set_from_port(p.from_port()).set_to_port(p.to_port());
    let mut out: Vec<IpPermission> = Vec::new();
    out.extend(p.user_id_group_pairs().iter().map(|g| base().user_id_group_pairs(g.clone()).build()));
    out.extend(p.ip_ranges().iter().map(|r| base().ip_ranges(r.clone()).build()));
    out.extend(p.ipv6_ranges().iter().map(|r| base().ipv6_ranges(r.clone()).build()));
    out.extend(p.prefix_list_ids().iter().map(|r| base().prefix_list_ids(r.clone()).build()));
    if out.is_empty() {
        out.push(p.clone());
    }
    out
}

fn all_traffic() -> IpPermission {
    IpPermission::builder().ip_protocol("-1").ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build()).build()
}

impl<'a> SecurityGroups<'a> {
    pub fn new(session: &'a Session) -> Self {
        Self { session, client: session.ec2_client() }
    }

    /// The region's default VPC, if it has one.
    pub async fn default_vpc(&self) -> Result<Option<String>, AwsError> {
        let req = self.client.describe_vpcs().filters(filter("is-default", "true")).send();
        let out = self.session.call(ops::DESCRIBE_VPCS, None, req).await?;
        Ok(out.vpcs().first().and_then(|v| v.vpc_id()).map(str::to_owned))
    }

    async fn describe(&self, filters: Vec<Filter>) -> Result<Vec<SecurityGroupState>, AwsError> {
        let req = self.client.describe_security_groups().set_filters(Some(filters)).send();
        let out = self.session.call(ops::DESCRIBE_SECURITY_GROUPS, None, req).await?;
        Ok(out
            .security_groups()
            .iter()
            .map(|g| {
                let id = g.group_id().unwrap_or_default().to_string();
                let all: Vec<IpPermission> = g.ip_permissions().iter().flat_map(parts).collect();
                let self_rule = all.iter().any(|p| is_self_rule(p, &id));
                let others: Vec<IpPermission> = all.into_iter().filter(|p| !is_self_rule(p, &id)).collect();
                SecurityGroupState {
                    vpc_id: g.vpc_id().unwrap_or_default().to_string(),
                    tags: g.tags().iter().map(|t| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string())).collect(),
                    ingress_rules: others.len(),
                    self_rule,
                    egress_open: g.ip_permissions_egress().iter().any(|p| {
                        p.ip_protocol() == Some("-1") && p.ip_ranges().iter().any(|r| r.cidr_ip() == Some("0.0.0.0/0"))
                    }),
                    ingress: others,
                    id,
                }
            })
            .collect())
    }

    pub async fn observe(&self, name: &str, vpc_id: &str) -> Result<Option<SecurityGroupState>, AwsError> {
        Ok(self.describe(vec![filter("group-name", name), filter("vpc-id", vpc_id)]).await?.into_iter().next())
    }

    /// Every group tagged for `workspace`, in any VPC.
    pub async fn tagged(&self, workspace: &str) -> Result<Vec<SecurityGroupState>, AwsError> {
        self.describe(vec![filter(&format!("tag:{}", crate::tags::WORKSPACE), workspace)]).await
    }

    /// Create the group (tagged at creation). EC2 gives a new group an
    /// allow-all egress rule and no inbound rule; the rule from itself is
    /// added next ([`Self::allow_self`]).
    pub async fn create(&self, name: &str, vpc_id: &str, description: &str, tags: &Tags) -> Result<String, AwsError> {
        let spec = TagSpecification::builder()
            .resource_type(ResourceType::SecurityGroup)
            .set_tags(Some(tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()))
            .build();
        let req = self.client.create_security_group().group_name(name).vpc_id(vpc_id).description(description).tag_specifications(spec).send();
        match self.session.call(ops::CREATE_SECURITY_GROUP, Some(name), req).await {
            Ok(out) => Ok(out.group_id().unwrap_or_default().to_string()),
            // A retried request whose first attempt landed (a lost
            // response): that group is the one, tagged at its creation.
            Err(e) if e.code() == Some("InvalidGroup.Duplicate") => match self.observe(name, vpc_id).await? {
                Some(sg) => Ok(sg.id),
                None => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    /// Admit all traffic from the group itself (and from nothing else).
    pub async fn allow_self(&self, id: &str) -> Result<(), AwsError> {
        let req = self.client.authorize_security_group_ingress().group_id(id).ip_permissions(from_itself(id)).send();
        match self.session.call(ops::AUTHORIZE_SECURITY_GROUP_INGRESS, Some(id), req).await {
            // A retried request whose first attempt landed.
            Err(e) if e.code() == Some("InvalidPermission.Duplicate") => Ok(()),
            other => other.map(drop),
        }
    }

    /// Remove every inbound rule but the one from the group itself.
    pub async fn close_ingress(&self, sg: &SecurityGroupState) -> Result<(), AwsError> {
        let req = self.client.revoke_security_group_ingress().group_id(&sg.id).set_ip_permissions(Some(sg.ingress.clone())).send();
        self.session.call(ops::REVOKE_SECURITY_GROUP_INGRESS, Some(&sg.id), req).await.map(drop)
    }

    pub async fn open_egress(&self, id: &str) -> Result<(), AwsError> {
        let req = self.client.authorize_security_group_egress().group_id(id).ip_permissions(all_traffic()).send();
        self.session.call(ops::AUTHORIZE_SECURITY_GROUP_EGRESS, Some(id), req).await.map(drop)
    }

    pub async fn tag(&self, id: &str, tags: &Tags) -> Result<(), AwsError> {
        let req = self
            .client
            .create_tags()
            .resources(id)
            .set_tags(Some(tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()))
            .send();
        self.session.call(ops::CREATE_TAGS, Some(id), req).await.map(drop)
    }

    /// Delete, waiting out instances that still use the group.
    pub async fn delete(&self, id: &str) -> Result<(), AwsError> {
        let result = crate::retry::on_codes(&["DependencyViolation"], DEPENDENCY_BUDGET, || {
            self.session.call(ops::DELETE_SECURITY_GROUP, Some(id), self.client.delete_security_group().group_id(id).send())
        })
        .await;
        match result {
            Err(e) if e.code() == Some("InvalidGroup.NotFound") => Ok(()),
            other => other.map(drop),
        }
    }
}
