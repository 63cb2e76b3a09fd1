//! Observe the workspace's footprint in AWS and plan what `init` must do:
//! for each resource, create / update (saying what differs) / unchanged /
//! conflict, and the steps that would do it. Observing sends only reads;
//! a footprint that matches plans no step, so a second `init` sends no
//! mutating call.

use anyhow::Result;
use hoist_aws::Session;
use hoist_aws::bucket::{ABORT_AFTER_DAYS, Bucket, BucketState, TLS_SID};
use hoist_aws::iam::{Iam, PolicyState, ProfileState, RoleState};
use hoist_aws::log_group::{LogGroupState, LogGroups};
use hoist_aws::security_group::{SecurityGroupState, SecurityGroups};
use hoist_aws::tags::{self, Owner, Tags};
use serde::Serialize;
use serde_json::Value;

use super::names::Names;
use crate::reconcile::Work;
use super::policies::{self, INLINE_POLICY, same_policy};

/// The tag that pins a workspace's (global) IAM resources to the region
/// whose bucket and log group their policies name.
pub const REGION_TAG: &str = "hoist:region";

/// Choices that shape the footprint.
#[derive(Debug, Clone)]
pub struct Options {
    pub kms_key: Option<String>,
    /// `Some(true)`: versioning on; `Some(false)`: suspended; `None`: left alone.
    pub versioning: Option<bool>,
    pub retention_days: i32,
    /// Take over same-named resources that lack hoist's tags.
    pub adopt: bool,
    /// The VPC for the security group (default: the region's default VPC).
    pub vpc_id: Option<String>,
    /// An existing SageMaker execution role (name or ARN) made by an
    /// administrator: validated, never created or changed.
    pub sagemaker_role: Option<String>,
    /// An existing instance profile (name or ARN) made by an administrator:
    /// validated, never created or changed; hoist then makes no instance role.
    pub instance_profile: Option<String>,
}

impl Options {
    /// The footprint the settings (flags, environment, config file) ask for.
    pub fn from_settings(s: &crate::settings::Settings) -> Self {
        let value = |v: &Option<crate::settings::Sourced<String>>| v.as_ref().map(|v| v.value.clone());
        Self {
            kms_key: value(&s.kms_key),
            versioning: s.bucket_versioning.as_ref().map(|v| v.value),
            retention_days: s.log_retention_days.value,
            adopt: false,
            vpc_id: value(&s.vpc_id),
            sagemaker_role: value(&s.sagemaker_role),
            instance_profile: value(&s.instance_profile),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Observed {
    pub bucket: Option<BucketState>,
    pub boundary: Option<PolicyState>,
    pub sagemaker_role: Option<RoleState>,
    pub instance_role: Option<RoleState>,
    pub profile: Option<ProfileState>,
    pub log_group: Option<LogGroupState>,
    pub vpc: Option<String>,
    pub security_group: Option<SecurityGroupState>,
}

/// Read everything, concurrently.
pub async fn observe(session: &Session, n: &Names, opts: &Options) -> Result<Observed> {
    let bucket = Bucket::new(session, &n.bucket);
    let iam = Iam::new(session);
    let logs = LogGroups::new(session);
    let sgs = SecurityGroups::new(session);
    let network = async {
        let vpc = match &opts.vpc_id {
            Some(v) => Some(v.clone()),
            None => sgs.default_vpc().await?,
        };
        let sg = match &vpc {
            Some(v) => sgs.observe(&n.security_group, v).await?,
            None => None,
        };
        Ok::<_, hoist_aws::AwsError>((vpc, sg))
    };
    // With an administrator's profile, its role is read through the
    // profile (GetInstanceProfile returns each role's trust policy).
    let instance = async {
        if n.given_instance_profile {
            return Ok((None, iam.observe_profile(&n.instance_profile).await?));
        }
        let (role, profile) = tokio::join!(iam.observe_role(&n.instance_role), iam.observe_profile(&n.instance_profile));
        Ok::<_, hoist_aws::AwsError>((role?, profile?))
    };
    let boundary = async {
        match needs_boundary(n) {
            true => iam.observe_policy(&n.boundary_arn()).await,
            false => Ok(None),
        }
    };
    let (bucket, sm, instance, log_group, network, boundary) =
        tokio::join!(bucket.observe(), iam.observe_role(&n.sagemaker_role), instance, logs.observe(&n.log_group), network, boundary);
    let (vpc, security_group) = network?;
    let (inst, profile) = instance?;
    Ok(Observed {
        bucket: bucket?,
        boundary: boundary?,
        sagemaker_role: sm?,
        instance_role: inst,
        profile,
        log_group: log_group?,
        vpc,
        security_group,
    })
}

/// Whether hoist makes a role (so the workspace needs its boundary).
pub fn needs_boundary(n: &Names) -> bool {
    !(n.given_sagemaker_role && n.given_instance_profile)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    Unchanged,
    Conflict,
}

/// One concrete change to make.
#[derive(Debug, Clone)]
pub enum Step {
    CreateBucket,
    TagBucket(Tags),
    BlockPublicAccess,
    Encrypt(Option<String>),
    PutBucketPolicy(Value),
    EnforceOwner,
    PutLifecycle,
    SetVersioning(bool),
    CreateBoundary { doc: Value, tags: Tags },
    UpdateBoundary(Value),
    CreateRole { name: String, description: String, trust: Value, tags: Tags },
    PutRoleBoundary { role: String },
    UpdateTrust { role: String, trust: Value },
    PutInline { role: String, doc: Value },
    TagRole { role: String, tags: Tags },
    CreateProfile { name: String, tags: Tags },
    TagProfile { name: String, tags: Tags },
    AddRoleToProfile { profile: String, role: String },
    RemoveRoleFromProfile { profile: String, role: String },
    CreateLogGroup { name: String, tags: Tags },
    SetRetention { name: String, days: i32 },
    TagLogGroup { name: String, arn: String, tags: Tags },
    CreateSecurityGroup { name: String, vpc: String, tags: Tags },
    CloseIngress(Box<SecurityGroupState>),
    AllowSelf(String),
    OpenEgress(String),
    TagSecurityGroup { id: String, tags: Tags },
}

impl Step {
    /// Whether the step must be done before the resource's other steps:
    /// it creates the resource, or puts the boundary on a role (a user's
    /// other role writes are allowed only on a bounded role).
    pub fn goes_first(&self) -> bool {
        matches!(
            self,
            Step::CreateBucket
                | Step::PutRoleBoundary { .. }
                | Step::CreateBoundary { .. }
                | Step::CreateRole { .. }
                | Step::CreateProfile { .. }
                | Step::CreateLogGroup { .. }
                | Step::CreateSecurityGroup { .. }
        )
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// `bucket`, `role`, `instance profile`, `log group`, `security group`.
    pub resource: &'static str,
    pub name: String,
    pub action: Action,
    /// What will be created, what differs, or why it conflicts.
    pub details: Vec<String>,
    /// Observations that need no change but deserve a look.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    #[serde(skip)]
    pub steps: Vec<Step>,
}

impl Change {
    fn new(resource: &'static str, name: &str) -> Self {
        Self { resource, name: name.to_string(), action: Action::Unchanged, details: Vec::new(), notes: Vec::new(), steps: Vec::new() }
    }

    fn create(mut self, details: Vec<String>, steps: Vec<Step>) -> Self {
        self.action = Action::Create;
        self.details = details;
        self.steps = steps;
        self
    }

    fn drift(&mut self, detail: impl Into<String>, step: Step) {
        self.action = Action::Update;
        self.details.push(detail.into());
        self.steps.push(step);
    }

    fn conflict(mut self, why: impl Into<String>) -> Self {
        self.action = Action::Conflict;
        self.details = vec![why.into()];
        self.steps.clear();
        self
    }

    /// Check who owns an existing resource. `None` to go on planning,
    /// `Some(conflict)` to stop here.
    fn claim(&mut self, have: &Tags, want: &Tags, workspace: &str, adopt: bool, tag: impl FnOnce(Tags) -> Step) -> Option<Self> {
        match tags::owner(have, workspace) {
            Owner::This => {}
            Owner::Other(ws) => {
                return Some(self.clone().conflict(format!("belongs to hoist workspace {ws:?}; hoist never touches another workspace")));
            }
            Owner::Unowned if !adopt => {
                return Some(self.clone().conflict(
                    "exists but was not created by hoist (no hoist:managed tag). hoist will not take it over silently: \
                     re-run with --adopt to adopt it (its settings are then made hoist's), or rename or remove it",
                ));
            }
            Owner::Unowned => {}
        }
        if let (Some(region), Some(theirs)) = (want.get(REGION_TAG), have.get(REGION_TAG))
            && region != theirs
        {
            return Some(self.clone().conflict(format!(
                "serves this workspace in region {theirs}; a workspace lives in one region: use another workspace name for {region}"
            )));
        }
        let missing = tags::missing(have, want);
        if !missing.is_empty() {
            let list: Vec<String> = missing.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let verb = if tags::owner(have, workspace) == Owner::Unowned { "adopt: add tags" } else { "missing tags" };
            let mut merged = have.clone();
            merged.extend(missing);
            self.drift(format!("{verb} {}", list.join(", ")), tag(merged));
        }
        None
    }
}

pub fn plan(n: &Names, opts: &Options, seen: &Observed) -> Vec<Change> {
    let ws = &n.workspace;
    let tags = tags::for_workspace(ws);
    let mut iam_tags = tags.clone();
    iam_tags.insert(REGION_TAG.into(), n.region.clone());
    let mut changes = vec![plan_bucket(n, opts, seen.bucket.as_ref(), &tags)];
    if needs_boundary(n) {
        changes.push(plan_boundary(n, opts, seen.boundary.as_ref(), &iam_tags));
    }
    changes.push(match n.given_sagemaker_role {
        true => check_given_role("role", &n.sagemaker_role, seen.sagemaker_role.as_ref(), "sagemaker.amazonaws.com"),
        false => plan_role(n, opts, &n.sagemaker_role, seen.sagemaker_role.as_ref(), &iam_tags, policies::sagemaker_trust(n), policies::sagemaker_inline(n), "hoist: SageMaker execution role"),
    });
    match n.given_instance_profile {
        true => changes.push(check_given_profile(&n.instance_profile, seen.profile.as_ref())),
        false => {
            changes.push(plan_role(n, opts, &n.instance_role, seen.instance_role.as_ref(), &iam_tags, policies::instance_trust(n), policies::instance_inline(n), "hoist: EC2 instance role"));
            changes.push(plan_profile(n, opts, seen.profile.as_ref(), seen.instance_role.as_ref(), &iam_tags));
        }
    }
    changes.push(plan_log_group(n, opts, seen.log_group.as_ref(), &tags));
    changes.push(plan_security_group(n, opts, seen, &tags));
    changes
}

/// The plan as the applier's work items. Every resource waits for the
/// boundary (roles are created carrying it, and only an administrator may
/// make it, so a user without the right learns so before anything else
/// changes); an instance profile takes its role only once both exist.
pub fn work(n: &Names, changes: &[Change]) -> Vec<Work<Step>> {
    let key = |c: &Change| format!("{} {}", c.resource, c.name);
    let boundary: Vec<String> = changes.iter().filter(|c| c.resource == "boundary").map(key).collect();
    let mut out = Vec::new();
    for c in changes {
        let after = if c.resource == "boundary" { Vec::new() } else { boundary.clone() };
        let (holds, steps): (Vec<Step>, Vec<Step>) =
            c.steps.iter().cloned().partition(|s| matches!(s, Step::AddRoleToProfile { .. }));
        if !holds.is_empty() {
            let role = changes.iter().find(|r| r.resource == "role" && r.name == n.instance_role).map(key);
            let mut after = vec![key(c)];
            after.extend(role);
            out.push(Work { key: format!("{} holds its role", key(c)), after, steps: holds });
        }
        out.push(Work { key: key(c), after, steps });
    }
    out
}

/// Whether a trust policy lets `service` assume the role.
fn trusts(trust: &Value, service: &str) -> bool {
    let statements = match &trust["Statement"] {
        Value::Array(items) => items.clone(),
        single => vec![single.clone()],
    };
    statements.iter().any(|s| {
        s["Effect"] == "Allow"
            && match &s["Principal"]["Service"] {
                Value::String(x) => x == service,
                Value::Array(xs) => xs.iter().any(|x| x == service),
                _ => false,
            }
    })
}

const GIVEN: &str = "provided by an administrator: checked, never changed by hoist";

/// A role named in hoist's config: it must exist and trust `service`.
fn check_given_role(resource: &'static str, name: &str, seen: Option<&RoleState>, service: &str) -> Change {
    let change = Change::new(resource, name);
    match seen {
        None => change.conflict(
            "does not exist (named in hoist's config): ask your administrator to create it, or fix the name",
        ),
        Some(r) if !trusts(&r.trust, service) => {
            change.conflict(format!("exists but its trust policy does not let {service} assume it, so jobs could not use it"))
        }
        Some(_) => Change { details: vec![GIVEN.into()], ..change },
    }
}

/// An instance profile named in hoist's config: it must exist and hold a
/// role that EC2 may assume.
fn check_given_profile(name: &str, seen: Option<&ProfileState>) -> Change {
    let change = Change::new("instance profile", name);
    match seen {
        None => change.conflict("does not exist (named in hoist's config): ask your administrator to create it, or fix the name"),
        Some(p) if p.roles.is_empty() => change.conflict("holds no role: instances started with it would have no permissions"),
        Some(p) if !p.role_trusts.iter().any(|t| trusts(t, "ec2.amazonaws.com")) => {
            change.conflict("its role's trust policy does not let ec2.amazonaws.com assume it")
        }
        Some(p) => Change { details: vec![format!("{GIVEN}; holds role {}", p.roles.join(", "))], ..change },
    }
}

/// The permissions boundary: created with the workspace's roles' needs,
/// put back when it differs. Only an administrator's credentials may do
/// either (a user's policy never holds them).
fn plan_boundary(n: &Names, opts: &Options, seen: Option<&PolicyState>, tags: &Tags) -> Change {
    let change = Change::new("boundary", &n.boundary);
    let want = policies::boundary(n);
    let Some(b) = seen else {
        return change.create(
            vec![
                "permissions boundary for the workspace's roles: its bucket's jobs/ and models/, its log groups, SageMaker's logs and images".into(),
                "needs an administrator's credentials (users may never create or change it)".into(),
            ],
            vec![Step::CreateBoundary { doc: want, tags: tags.clone() }],
        );
    };
    let mut change = change;
    // IAM can tag a managed policy only with iam:TagPolicy, which a user
    // never holds: ownership of the boundary is checked, not repaired.
    match tags::owner(&b.tags, &n.workspace) {
        Owner::Other(ws) => return change.conflict(format!("belongs to hoist workspace {ws:?}; hoist never touches another workspace")),
        Owner::Unowned if !opts.adopt && !b.tags.is_empty() => {
            return change.conflict("exists but was not created by hoist (no hoist:managed tag): rename or remove it, or re-run with --adopt");
        }
        _ => {}
    }
    if !same_policy(&b.document, &want) {
        change.drift("differs from what the workspace's roles need: put hoist's back (needs an administrator)", Step::UpdateBoundary(want));
    }
    change
}

/// A key named by id and the same key by ARN are one key.
fn same_key(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b || a.ends_with(&format!("/{b}")) || b.ends_with(&format!("/{a}")),
        (a, b) => a == b,
    }
}

fn encryption_label(kms: Option<&str>) -> String {
    match kms {
        Some(k) => format!("SSE-KMS ({k})"),
        None => "SSE-S3".into(),
    }
}

fn bucket_policy_with_tls(n: &Names, existing: Option<&Value>) -> Value {
    let mut statements: Vec<Value> = existing
        .and_then(|p| p.get("Statement"))
        .map(|s| match s {
            Value::Array(items) => items.clone(),
            single => vec![single.clone()],
        })
        .unwrap_or_default()
        .into_iter()
        .filter(|s| s.get("Sid").and_then(Value::as_str) != Some(TLS_SID))
        .collect();
    statements.push(policies::tls_only_statement(n));
    serde_json::json!({"Version": "2012-10-17", "Statement": statements})
}

fn plan_bucket(n: &Names, opts: &Options, seen: Option<&BucketState>, tags: &Tags) -> Change {
    let change = Change::new("bucket", &n.bucket);
    let kms = opts.kms_key.as_deref();
    let Some(b) = seen else {
        let mut details = vec![
            "block all public access".to_string(),
            format!("default encryption {}", encryption_label(kms)),
            "bucket policy denying requests without TLS".into(),
            "object ownership: bucket owner enforced (no ACLs)".into(),
            format!("abort incomplete multipart uploads after {ABORT_AFTER_DAYS} days"),
        ];
        let mut steps = vec![
            Step::CreateBucket,
            Step::TagBucket(tags.clone()),
            Step::BlockPublicAccess,
            Step::Encrypt(opts.kms_key.clone()),
            Step::PutBucketPolicy(bucket_policy_with_tls(n, None)),
            Step::EnforceOwner,
            Step::PutLifecycle,
        ];
        if opts.versioning == Some(true) {
            details.push("versioning enabled".into());
            steps.push(Step::SetVersioning(true));
        }
        return change.create(details, steps);
    };
    let mut change = change;
    if b.orphaned() {
        change.notes.push("untagged and empty: left by an interrupted `hoist init`; taken as the workspace's".into());
    }
    if let Some(conflict) = change.claim(&b.tags, tags, &n.workspace, opts.adopt || b.orphaned(), Step::TagBucket) {
        return conflict;
    }
    if b.public_access_block != [true; 4] {
        change.drift("public access block not fully on: turn on all four settings", Step::BlockPublicAccess);
    }
    let want_alg = if kms.is_some() { "aws:kms" } else { "AES256" };
    let ok = b.encryption.as_ref().is_some_and(|e| e.algorithm == want_alg && (kms.is_none() || same_key(e.kms_key.as_deref(), kms)));
    if !ok {
        let now = b.encryption.as_ref().map(|e| e.algorithm.clone()).unwrap_or_else(|| "none".into());
        change.drift(format!("default encryption {now} -> {}", encryption_label(kms)), Step::Encrypt(opts.kms_key.clone()));
    }
    let ours = b.policy.as_ref().and_then(|p| {
        let statements = p.get("Statement")?;
        let list = statements.as_array().cloned().unwrap_or_else(|| vec![statements.clone()]);
        list.into_iter().find(|s| s.get("Sid").and_then(Value::as_str) == Some(TLS_SID))
    });
    if !ours.is_some_and(|s| same_policy(&s, &policies::tls_only_statement(n))) {
        change.drift("bucket policy lacks hoist's TLS-only statement: put it back", Step::PutBucketPolicy(bucket_policy_with_tls(n, b.policy.as_ref())));
    }
    if b.ownership.as_deref() != Some("BucketOwnerEnforced") {
        let now = b.ownership.clone().unwrap_or_else(|| "unset".into());
        change.drift(format!("object ownership {now} -> BucketOwnerEnforced"), Step::EnforceOwner);
    }
    if b.abort_multipart_days != Some(ABORT_AFTER_DAYS) {
        change.drift(format!("lifecycle: abort incomplete multipart uploads after {ABORT_AFTER_DAYS} days"), Step::PutLifecycle);
    }
    match (opts.versioning, b.versioning.as_deref()) {
        (Some(true), Some("Enabled")) | (Some(false), None | Some("Suspended")) | (None, _) => {}
        (Some(true), _) => change.drift("versioning -> enabled", Step::SetVersioning(true)),
        (Some(false), _) => change.drift("versioning -> suspended", Step::SetVersioning(false)),
    }
    change
}

#[allow(clippy::too_many_arguments)]
fn plan_role(n: &Names, opts: &Options, name: &str, seen: Option<&RoleState>, tags: &Tags, trust: Value, inline: Value, description: &str) -> Change {
    let change = Change::new("role", name);
    let Some(r) = seen else {
        return change.create(
            vec![
                format!("trust: {}", trusted_service(&trust)),
                "one inline policy scoped to the workspace".into(),
                format!("permissions boundary {}", n.boundary),
            ],
            vec![
                Step::CreateRole { name: name.into(), description: description.into(), trust, tags: tags.clone() },
                Step::PutInline { role: name.into(), doc: inline },
            ],
        );
    };
    let mut change = change;
    if let Some(conflict) = change.claim(&r.tags, tags, &n.workspace, opts.adopt, |t| Step::TagRole { role: name.into(), tags: t }) {
        return conflict;
    }
    // First, so that the writes below are allowed (a user may change only
    // bounded roles).
    if r.boundary.as_deref() != Some(n.boundary_arn().as_str()) {
        let now = r.boundary.clone().unwrap_or_else(|| "none".into());
        change.drift(format!("permissions boundary {now} -> {}", n.boundary), Step::PutRoleBoundary { role: name.into() });
    }
    if !same_policy(&r.trust, &trust) {
        change.drift("trust policy differs from hoist's: put it back", Step::UpdateTrust { role: name.into(), trust });
    }
    match r.inline.get(INLINE_POLICY) {
        Some(doc) if same_policy(doc, &inline) => {}
        Some(_) => change.drift(format!("inline policy {INLINE_POLICY:?} differs from hoist's: put it back"), Step::PutInline { role: name.into(), doc: inline }),
        None => change.drift(format!("inline policy {INLINE_POLICY:?} missing: add it"), Step::PutInline { role: name.into(), doc: inline }),
    }
    for other in r.inline.keys().filter(|k| *k != INLINE_POLICY) {
        change.notes.push(format!("inline policy {other:?} is not hoist's; left in place"));
    }
    for arn in &r.attached {
        let warn = if arn.contains("FullAccess") { " (a *FullAccess policy: far broader than hoist needs)" } else { "" };
        change.notes.push(format!("managed policy {arn} is attached; left in place{warn}"));
    }
    change
}

fn trusted_service(trust: &Value) -> String {
    trust["Statement"][0]["Principal"]["Service"].as_str().unwrap_or("?").to_string()
}

fn plan_profile(n: &Names, opts: &Options, seen: Option<&ProfileState>, role: Option<&RoleState>, tags: &Tags) -> Change {
    let name = &n.instance_profile;
    let change = Change::new("instance profile", name);
    let Some(p) = seen else {
        return change.create(
            vec![format!("holding role {}", n.instance_role)],
            vec![
                Step::CreateProfile { name: name.clone(), tags: tags.clone() },
                Step::AddRoleToProfile { profile: name.clone(), role: n.instance_role.clone() },
            ],
        );
    };
    let mut change = change;
    // CloudFormation cannot tag an instance profile: an administrator's
    // template makes it untagged, holding the workspace's own role. That
    // role's ownership is the profile's.
    let holds_our_role = p.roles == [n.instance_role.clone()]
        && role.is_some_and(|r| tags::owner(&r.tags, &n.workspace) == Owner::This);
    if p.tags.is_empty() && holds_our_role {
        change.notes.push("untagged (made by a template); owned through its role".into());
    } else if let Some(conflict) = change.claim(&p.tags, tags, &n.workspace, opts.adopt, |t| Step::TagProfile { name: name.clone(), tags: t }) {
        return conflict;
    }
    for other in p.roles.iter().filter(|r| **r != n.instance_role) {
        change.drift(format!("holds role {other}: remove it"), Step::RemoveRoleFromProfile { profile: name.clone(), role: other.clone() });
    }
    if !p.roles.contains(&n.instance_role) {
        change.drift(format!("does not hold role {}: add it", n.instance_role), Step::AddRoleToProfile { profile: name.clone(), role: n.instance_role.clone() });
    }
    change
}

fn plan_log_group(n: &Names, opts: &Options, seen: Option<&LogGroupState>, tags: &Tags) -> Change {
    let name = &n.log_group;
    let change = Change::new("log group", name);
    let Some(g) = seen else {
        return change.create(
            vec![format!("retention {}", crate::printer::count(opts.retention_days as usize, "day"))],
            vec![
                Step::CreateLogGroup { name: name.clone(), tags: tags.clone() },
                Step::SetRetention { name: name.clone(), days: opts.retention_days },
            ],
        );
    };
    let mut change = change;
    let arn = g.arn.clone();
    if let Some(conflict) = change.claim(&g.tags, tags, &n.workspace, opts.adopt, |t| Step::TagLogGroup { name: name.clone(), arn, tags: t }) {
        return conflict;
    }
    if g.retention_days != Some(opts.retention_days) {
        let now = g.retention_days.map(|d| crate::printer::count(d as usize, "day")).unwrap_or_else(|| "never expire".into());
        change.drift(format!("retention {now} -> {}", crate::printer::count(opts.retention_days as usize, "day")), Step::SetRetention { name: name.clone(), days: opts.retention_days });
    }
    change
}

fn plan_security_group(n: &Names, opts: &Options, seen: &Observed, tags: &Tags) -> Change {
    let name = &n.security_group;
    let change = Change::new("security group", name);
    let Some(vpc) = &seen.vpc else {
        return change.conflict(format!("region {} has no default VPC: set `vpc_id` in hoist's config", n.region));
    };
    let Some(sg) = &seen.security_group else {
        return change.create(
            vec![format!("in {vpc}; inbound only from itself (a multi-node job's instances), all outbound")],
            vec![Step::CreateSecurityGroup { name: name.clone(), vpc: vpc.clone(), tags: tags.clone() }],
        );
    };
    let mut change = change;
    let id = sg.id.clone();
    if let Some(conflict) = change.claim(&sg.tags, tags, &n.workspace, opts.adopt, |t| Step::TagSecurityGroup { id, tags: t }) {
        return conflict;
    }
    if sg.ingress_rules > 0 {
        change.drift(
            format!("{} inbound rule(s) besides the one from itself: remove them (hoist opens no port)", sg.ingress_rules),
            Step::CloseIngress(Box::new(sg.clone())),
        );
    }
    if !sg.self_rule {
        change.drift("no inbound rule from itself: add it (the instances of a multi-node job talk to each other)", Step::AllowSelf(sg.id.clone()));
    }
    if !sg.egress_open {
        change.drift("outbound traffic blocked: allow it (instances must reach AWS APIs)", Step::OpenEgress(sg.id.clone()));
    }
    change
}
