//! EC2 instances that run jobs: launching one with every setting hoist
//! insists on, finding a workspace's or a job's instances by tag, and
//! terminating them.

use aws_sdk_ec2::types::{
    BlockDeviceMapping, EbsBlockDevice, Filter, HttpTokensState, IamInstanceProfileSpecification, InstanceMarketOptionsRequest,
    InstanceMetadataEndpointState, InstanceMetadataOptionsRequest, InstanceStateName, MarketType, ResourceType,
    Placement, PlacementStrategy, ShutdownBehavior, SpotInstanceType, SpotMarketOptions, Tag, TagSpecification, VolumeType,
};
use serde::Serialize;

use crate::catalog::instances as ops;
use crate::error::AwsError;
use crate::session::Session;
use crate::tags::Tags;

/// The tag naming the job an instance (or a SageMaker training job) runs.
pub const JOB_TAG: &str = "hoist:job";
/// The tag naming the attempt an instance runs.
pub const ATTEMPT_TAG: &str = "hoist:attempt";

/// Everything RunInstances is given for one attempt.
#[derive(Debug, Clone)]
pub struct LaunchSpec {
    pub image_id: String,
    pub instance_type: String,
    /// The root device of the image (`/dev/xvda` on Amazon Linux).
    pub root_device: String,
    pub disk_gib: u32,
    pub spot: bool,
    pub subnet_id: Option<String>,
    pub security_group_id: String,
    pub instance_profile: String,
    /// 2 when the job runs in a container (IMDSv2 needs the extra hop).
    pub metadata_hop_limit: i32,
    /// The bootstrap script, plain text (encoded here).
    pub user_data: String,
    /// Idempotency token: a retried or repeated launch of the same attempt
    /// starts no second instance.
    pub client_token: String,
    /// Tags for the instance and its volumes.
    pub tags: Tags,
    /// Instances to start together (a multi-node job's nodes): all or
    /// none (MinCount = MaxCount).
    pub count: u32,
    /// The cluster placement group they go into, when more than one.
    pub placement_group: Option<String>,
}

/// One instance RunInstances started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launched {
    pub id: String,
    /// Its private address, assigned at launch (what the nodes of one job
    /// use to reach each other).
    pub private_ip: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstanceInfo {
    pub id: String,
    pub state: String,
    pub instance_type: String,
    /// `spot` or `on-demand`.
    pub market: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub availability_zone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_ip: Option<String>,
    /// Its place among the instances one RunInstances started (0..N).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub launch_index: Option<i32>,
    pub tags: Tags,
}

impl InstanceInfo {
    /// Still running or about to (billing, or about to).
    pub fn is_live(&self) -> bool {
        matches!(self.state.as_str(), "pending" | "running" | "stopping" | "stopped")
    }
}

pub struct Instances<'a> {
    session: &'a Session,
    client: aws_sdk_ec2::Client,
}

fn filter(name: &str, values: &[&str]) -> Filter {
    Filter::builder().name(name).set_values(Some(values.iter().map(|v| v.to_string()).collect())).build()
}

fn tag_list(tags: &Tags) -> Vec<Tag> {
    tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}

impl<'a> Instances<'a> {
    pub fn new(session: &'a Session) -> Self {
        Self { session, client: session.ec2_client() }
    }

    /// Launch one instance. Returns its id.
    pub async fn launch(&self, spec: &LaunchSpec) -> Result<Vec<Launched>, AwsError> {
        let tags = |t: ResourceType| TagSpecification::builder().resource_type(t).set_tags(Some(tag_list(&spec.tags))).build();
        let root = BlockDeviceMapping::builder()
            .device_name(&spec.root_device)
            .ebs(
                EbsBlockDevice::builder()
                    .volume_size(spec.disk_gib as i32)
                    .volume_type(VolumeType::Gp3)
                    .encrypted(true)
                    .delete_on_termination(true)
                    .build(),
            )
            .build();
        let metadata = InstanceMetadataOptionsRequest::builder()
            .http_tokens(HttpTokensState::Required)
            .http_endpoint(InstanceMetadataEndpointState::Enabled)
            .http_put_response_hop_limit(spec.metadata_hop_limit)
            .build();
        let mut req = self
            .client
            .run_instances()
            .image_id(&spec.image_id)
            .instance_type(spec.instance_type.as_str().into())
            .min_count(spec.count.max(1) as i32)
            .max_count(spec.count.max(1) as i32)
            .client_token(&spec.client_token)
            .iam_instance_profile(IamInstanceProfileSpecification::builder().name(&spec.instance_profile).build())
            .metadata_options(metadata)
            .block_device_mappings(root)
            .security_group_ids(&spec.security_group_id)
            .instance_initiated_shutdown_behavior(ShutdownBehavior::Terminate)
            .user_data(aws_smithy_types::base64::encode(spec.user_data.as_bytes()))
            .tag_specifications(tags(ResourceType::Instance))
            .tag_specifications(tags(ResourceType::Volume));
        if let Some(subnet) = &spec.subnet_id {
            req = req.subnet_id(subnet);
        }
        if let Some(group) = &spec.placement_group {
            req = req.placement(Placement::builder().group_name(group).build());
        }
        if spec.spot {
            req = req.instance_market_options(
                InstanceMarketOptionsRequest::builder()
                    .market_type(MarketType::Spot)
                    .spot_options(SpotMarketOptions::builder().spot_instance_type(SpotInstanceType::OneTime).build())
                    .build(),
            );
        }
        let out = self.session.call(ops::RUN_INSTANCES, Some(&spec.instance_type), req.send()).await?;
        Ok(out
            .instances()
            .iter()
            .map(|i| Launched { id: i.instance_id().unwrap_or_default().to_string(), private_ip: i.private_ip_address().map(str::to_string) })
            .collect())
    }

    /// The workspace's cluster placement group `name`: created (tagged)
    /// if missing. A multi-node job's instances go into it, close together
    /// on the network.
    pub async fn ensure_placement_group(&self, name: &str, tags: &Tags) -> Result<(), AwsError> {
        if self.placement_groups(Some(name), None).await?.iter().any(|(g, _)| g == name) {
            return Ok(());
        }
        let spec = TagSpecification::builder().resource_type(ResourceType::PlacementGroup).set_tags(Some(tag_list(tags))).build();
        let req = self.client.create_placement_group().group_name(name).strategy(PlacementStrategy::Cluster).tag_specifications(spec).send();
        match self.session.call(ops::CREATE_PLACEMENT_GROUP, Some(name), req).await {
            // Made by a concurrent launch, or a retried request that landed.
            Err(e) if e.code() == Some("InvalidPlacementGroup.Duplicate") => Ok(()),
            other => other.map(drop),
        }
    }

    /// Placement groups, with their tags: `name` if it exists, or those
    /// tagged for `workspace`.
    pub async fn placement_groups(&self, name: Option<&str>, workspace: Option<&str>) -> Result<Vec<(String, Tags)>, AwsError> {
        let mut req = self.client.describe_placement_groups();
        if let Some(name) = name {
            req = req.group_names(name);
        }
        if let Some(ws) = workspace {
            req = req.filters(filter(&format!("tag:{}", crate::tags::WORKSPACE), &[ws]));
        }
        match self.session.call(ops::DESCRIBE_PLACEMENT_GROUPS, name, req.send()).await {
            Ok(out) => Ok(out
                .placement_groups()
                .iter()
                .filter_map(|g| {
                    let tags = g.tags().iter().map(|t| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string())).collect();
                    Some((g.group_name()?.to_string(), tags))
                })
                .collect()),
            Err(e) if e.code() == Some("InvalidPlacementGroup.Unknown") => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// Delete a placement group, waiting out instances still leaving it.
    pub async fn delete_placement_group(&self, name: &str) -> Result<(), AwsError> {
        let result = crate::retry::on_codes(&["InvalidPlacementGroup.InUse"], crate::security_group::DEPENDENCY_BUDGET, || {
            self.session.call(ops::DELETE_PLACEMENT_GROUP, Some(name), self.client.delete_placement_group().group_name(name).send())
        })
        .await;
        match result {
            Err(e) if e.code() == Some("InvalidPlacementGroup.Unknown") => Ok(()),
            other => other.map(drop),
        }
    }

    async fn describe(&self, filters: Vec<Filter>, ids: Vec<String>) -> Result<Vec<InstanceInfo>, AwsError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let req = self
                .client
                .describe_instances()
                .set_filters(if filters.is_empty() { None } else { Some(filters.clone()) })
                .set_instance_ids(if ids.is_empty() { None } else { Some(ids.clone()) })
                .set_next_token(token.take())
                .send();
            let page = match self.session.call(ops::DESCRIBE_INSTANCES, None, req).await {
                Ok(p) => p,
                // Asking for an id EC2 no longer knows (long terminated).
                Err(e) if e.code() == Some("InvalidInstanceID.NotFound") => return Ok(out),
                Err(e) => return Err(e),
            };
            for r in page.reservations() {
                for i in r.instances() {
                    out.push(InstanceInfo {
                        id: i.instance_id().unwrap_or_default().to_string(),
                        state: i.state().and_then(|s| s.name()).map(|n| n.as_str().to_string()).unwrap_or_default(),
                        instance_type: i.instance_type().map(|t| t.as_str().to_string()).unwrap_or_default(),
                        market: match i.instance_lifecycle() {
                            Some(l) if l.as_str() == "spot" => "spot".into(),
                            _ => "on-demand".into(),
                        },
                        availability_zone: i.placement().and_then(|p| p.availability_zone()).map(str::to_string),
                        state_reason: i.state_reason().and_then(|r| r.message()).map(str::to_string),
                        private_ip: i.private_ip_address().map(str::to_string),
                        launch_index: i.ami_launch_index(),
                        tags: i.tags().iter().map(|t| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string())).collect(),
                    });
                }
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return Ok(out),
            }
        }
    }

    /// The workspace's instances that are not terminated.
    pub async fn of_workspace(&self, workspace: &str) -> Result<Vec<InstanceInfo>, AwsError> {
        let live = ["pending", "running", "shutting-down", "stopping", "stopped"];
        self.describe(vec![filter(&format!("tag:{}", crate::tags::WORKSPACE), &[workspace]), filter("instance-state-name", &live)], vec![])
            .await
    }

    /// The instances with these ids (missing ones are left out).
    pub async fn by_ids(&self, ids: &[String]) -> Result<Vec<InstanceInfo>, AwsError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.describe(vec![], ids.to_vec()).await
    }

    /// The instances launched for one attempt of a job, found by tag (a
    /// launch whose answer was lost still left its tags).
    pub async fn of_attempt(&self, workspace: &str, job: &str, attempt: u32) -> Result<Vec<InstanceInfo>, AwsError> {
        let attempt = attempt.to_string();
        self.describe(
            vec![
                filter(&format!("tag:{}", crate::tags::WORKSPACE), &[workspace]),
                filter(&format!("tag:{JOB_TAG}"), &[job]),
                filter(&format!("tag:{ATTEMPT_TAG}"), &[&attempt]),
            ],
            vec![],
        )
        .await
    }

    /// Wait until none of `ids` is live any more (terminated or gone),
    /// polling with backoff, within `budget`. Returns those still live.
    pub async fn wait_gone(&self, ids: &[String], budget: std::time::Duration) -> Result<Vec<String>, AwsError> {
        let started = std::time::Instant::now();
        let mut delay = std::time::Duration::from_millis(200);
        loop {
            let live: Vec<String> = self.by_ids(ids).await?.into_iter().filter(|i| !is_terminated(&i.state)).map(|i| i.id).collect();
            if live.is_empty() || started.elapsed() + delay > budget {
                return Ok(live);
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(std::time::Duration::from_secs(5));
        }
    }

    pub async fn terminate(&self, ids: &[String]) -> Result<(), AwsError> {
        if ids.is_empty() {
            return Ok(());
        }
        let req = self.client.terminate_instances().set_instance_ids(Some(ids.to_vec())).send();
        match self.session.call(ops::TERMINATE_INSTANCES, Some(&ids.join(", ")), req).await {
            Err(e) if e.code() == Some("InvalidInstanceID.NotFound") => Ok(()),
            other => other.map(drop),
        }
    }

    /// The default subnets of the region's default VPC, one per zone, in
    /// zone order, as (zone, subnet id): where an instance goes when no
    /// subnet is configured.
    pub async fn default_subnets(&self) -> Result<Vec<(String, String)>, AwsError> {
        let req = self.client.describe_subnets().filters(filter("default-for-az", &["true"])).send();
        let out = self.session.call(ops::DESCRIBE_SUBNETS, None, req).await?;
        let mut subnets: Vec<(String, String)> = out
            .subnets()
            .iter()
            .filter_map(|s| Some((s.availability_zone()?.to_string(), s.subnet_id()?.to_string())))
            .collect();
        subnets.sort();
        Ok(subnets)
    }

    /// The root device name of an image; `None` if there is no such image.
    pub async fn root_device(&self, image_id: &str) -> Result<Option<String>, AwsError> {
        let req = self.client.describe_images().image_ids(image_id).send();
        match self.session.call(ops::DESCRIBE_IMAGES, Some(image_id), req).await {
            Ok(out) => Ok(out.images().first().map(|i| i.root_device_name().unwrap_or("/dev/xvda").to_string())),
            Err(e) if matches!(e.code(), Some("InvalidAMIID.NotFound" | "InvalidAMIID.Malformed")) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Whether the instance no longer exists in any form (its volumes are
/// deleted with it).
pub fn is_terminated(state: &str) -> bool {
    state == InstanceStateName::Terminated.as_str()
}

/// Whether an EC2 state name means the instance is gone for good.
pub fn is_gone(state: &str) -> bool {
    state == InstanceStateName::Terminated.as_str() || state == InstanceStateName::ShuttingDown.as_str()
}

/// An AWS answer that means "not here, try elsewhere or later": capacity
/// and quota failures, with what to tell the user.
pub fn capacity_problem(e: &AwsError) -> Option<&'static str> {
    match e.code()? {
        "InsufficientInstanceCapacity" => Some("AWS has no capacity for this instance type in that zone right now"),
        "MaxSpotInstanceCountExceeded" => Some("the account's spot instance quota is used up"),
        "VcpuLimitExceeded" => Some("the account's vCPU quota for this instance family is used up (request an increase in Service Quotas)"),
        "Unsupported" => Some("the instance type is not offered in that zone"),
        "SpotMaxPriceTooLow" => Some("the spot price is above the maximum"),
        "InstanceLimitExceeded" => Some("the account's instance limit is reached"),
        _ => None,
    }
}
