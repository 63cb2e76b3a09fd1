//! What AWS authorizes for a request, derived only from the request as it
//! went on the wire (recorded by `hoist_aws::record::Recorder`): the IAM
//! action(s), the resource ARN each is checked on, and the request context
//! (condition keys) AWS supplies.
//!
//! This is the other half of hoist's least-privilege proof: the policy
//! hoist generates is evaluated (with `hoist-iam`) against what hoist
//! really sent, not against requests built from the policy's own grants.
//! The emulator cannot stand in here: it ignores most conditions and
//! judges resources for S3, IAM and STS only.
//!
//! Sources, cited per mapping below:
//! - SAR: AWS's Service Authorization Reference
//!   (docs.aws.amazon.com/service-authorization/latest/reference/list_<service>.html):
//!   actions, their resource types and condition keys.
//! - S3 UG: the S3 User Guide's "Required permissions for Amazon S3 API
//!   operations" (which action each REST request is authorized as).
//! - FACTS: /work/shared/AWS-FACTS.md (measured and sourced facts for this
//!   project), e.g. `iam:PermissionsBoundary` support per IAM action.
//! - Where AWS's own AccessDenied messages show the resource it checked
//!   (CloudWatch Logs), the issue quoting one is named.
//!
//! Every operation hoist may send is covered; any other is an error naming
//! it, so a proof can never skip a request silently. Facts a request does
//! not carry (a resource's existing tags, a role's current permissions
//! boundary, the caller's user name) come from [`Known`], which a test fills
//! from the emulator's state before the request.

use std::collections::BTreeMap;

use hoist_aws::record::{Call, WireRequest};

/// One authorization AWS performs for a request: `action` on `resource`,
/// with these condition keys in the request context. A key may appear
/// several times (multi-valued keys such as `aws:TagKeys`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Authz {
    pub action: String,
    pub resource: String,
    pub context: Vec<(String, String)>,
}

impl Authz {
    pub fn new(action: &str, resource: impl Into<String>, context: Vec<(String, String)>) -> Self {
        Self { action: action.to_string(), resource: resource.into(), context }
    }

    /// The context with values grouped by key (keys as given).
    pub fn context_map(&self) -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, v) in &self.context {
            out.entry(k.clone()).or_default().push(v.clone());
        }
        out
    }

    /// The value(s) of one context key (case-insensitive, as in IAM).
    pub fn get(&self, key: &str) -> Vec<&str> {
        self.context.iter().filter(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.as_str()).collect()
    }
}

/// What a request does not carry but its authorization depends on: the
/// state of the account just before the request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Known {
    /// The caller's IAM user name (IAM user reads without `UserName` act on
    /// the caller).
    pub caller_user: Option<String>,
    /// Existing tags, by EC2 resource id (`sg-…`, `i-…`, `vol-…`, `vpc-…`)
    /// or by ARN (IAM roles and instance profiles; CloudWatch Logs log
    /// groups by `arn:…:log-group:<name>`, without `:*`). These become
    /// `aws:ResourceTag/<key>`.
    pub tags: BTreeMap<String, Vec<(String, String)>>,
    /// Each role's current permissions boundary (policy ARN), by role name.
    pub boundaries: BTreeMap<String, String>,
    /// The role in each instance profile, by profile name (RunInstances'
    /// iam:PassRole).
    pub profile_roles: BTreeMap<String, String>,
}

impl Known {
    /// `self`, with what it lacks taken from `fallback` (per resource).
    pub fn or(&self, fallback: &Known) -> Known {
        let mut out = fallback.clone();
        out.tags.extend(self.tags.clone());
        out.boundaries.extend(self.boundaries.clone());
        out.profile_roles.extend(self.profile_roles.clone());
        if self.caller_user.is_some() {
            out.caller_user = self.caller_user.clone();
        }
        out
    }

    /// The state after `call`, assuming it succeeded, as far as its wire
    /// request says: tags set or removed (IAM roles and instance profiles,
    /// log groups, EC2 resources by id), permissions boundaries set or
    /// removed, roles put in or taken out of instance profiles, roles
    /// created (with their tags and boundary). A resource whose id only the
    /// response holds (a new security group) is not tracked: fill it in
    /// from the account's state after the command.
    pub fn apply(&mut self, call: &Call, account: &str, region: &str, partition: &str) {
        let Some(req) = call.request.as_ref() else { return };
        let role_arn = |name: &str| format!("arn:{partition}:iam::{account}:role/{name}");
        let profile_arn = |name: &str| format!("arn:{partition}:iam::{account}:instance-profile/{name}");
        let set = |tags: &mut Vec<(String, String)>, new: &[(String, String)]| {
            for (k, v) in new {
                tags.retain(|(old, _)| old != k);
                tags.push((k.clone(), v.clone()));
            }
        };
        match call.service.as_str() {
            // A training job's tags, given at creation (its ARN holds the
            // name lowercased, as SageMaker writes ARNs).
            "sagemaker" if call.operation == "CreateTrainingJob" => {
                let body: serde_json::Value = req.body.as_deref().and_then(|b| serde_json::from_str(b).ok()).unwrap_or_default();
                if let Some(name) = body["TrainingJobName"].as_str() {
                    let arn = format!("arn:{partition}:sagemaker:{region}:{account}:training-job/{}", name.to_ascii_lowercase());
                    set(self.tags.entry(arn).or_default(), &json_tags(&body["Tags"]));
                }
            }
            // An endpoint's, its configuration's and model's tags.
            "sagemaker" if matches!(call.operation.as_str(), "CreateModel" | "CreateEndpointConfig" | "CreateEndpoint") => {
                let body: serde_json::Value = req.body.as_deref().and_then(|b| serde_json::from_str(b).ok()).unwrap_or_default();
                let (kind, field) = match call.operation.as_str() {
                    "CreateModel" => ("model", "ModelName"),
                    "CreateEndpointConfig" => ("endpoint-config", "EndpointConfigName"),
                    _ => ("endpoint", "EndpointName"),
                };
                if let Some(name) = body[field].as_str() {
                    let arn = format!("arn:{partition}:sagemaker:{region}:{account}:{kind}/{}", name.to_ascii_lowercase());
                    set(self.tags.entry(arn).or_default(), &json_tags(&body["Tags"]));
                }
            }
            "sagemaker" if call.operation == "AddTags" => {
                let body: serde_json::Value = req.body.as_deref().and_then(|b| serde_json::from_str(b).ok()).unwrap_or_default();
                if let Some(arn) = body["ResourceArn"].as_str() {
                    set(self.tags.entry(arn.to_string()).or_default(), &json_tags(&body["Tags"]));
                }
            }
            "iam" => {
                let Ok(p) = form(req) else { return };
                let tags: Vec<(String, String)> = members(&p, "Tags.member.")
                    .into_iter()
                    .map(|m| (m.get("Key").cloned().unwrap_or_default(), m.get("Value").cloned().unwrap_or_default()))
                    .collect();
                let keys = list(&p, "TagKeys.member.");
                let role = p.get("RoleName").cloned().unwrap_or_default();
                let profile = p.get("InstanceProfileName").cloned().unwrap_or_default();
                match p.get("Action").map(String::as_str).unwrap_or_default() {
                    "CreateRole" if iam_path(&p, "Path") == "/" => {
                        self.tags.insert(role_arn(&role), tags);
                        match p.get("PermissionsBoundary") {
                            Some(b) => self.boundaries.insert(role, b.clone()),
                            None => self.boundaries.remove(&role),
                        };
                    }
                    "DeleteRole" => {
                        self.tags.remove(&role_arn(&role));
                        self.boundaries.remove(&role);
                    }
                    "TagRole" => set(self.tags.entry(role_arn(&role)).or_default(), &tags),
                    "UntagRole" => self.tags.entry(role_arn(&role)).or_default().retain(|(k, _)| !keys.contains(k)),
                    "PutRolePermissionsBoundary" => {
                        if let Some(b) = p.get("PermissionsBoundary") {
                            self.boundaries.insert(role, b.clone());
                        }
                    }
                    "DeleteRolePermissionsBoundary" => {
                        self.boundaries.remove(&role);
                    }
                    "CreateInstanceProfile" if iam_path(&p, "Path") == "/" => {
                        self.tags.insert(profile_arn(&profile), tags);
                    }
                    "DeleteInstanceProfile" => {
                        self.tags.remove(&profile_arn(&profile));
                        self.profile_roles.remove(&profile);
                    }
                    "TagInstanceProfile" => set(self.tags.entry(profile_arn(&profile)).or_default(), &tags),
                    "UntagInstanceProfile" => self.tags.entry(profile_arn(&profile)).or_default().retain(|(k, _)| !keys.contains(k)),
                    "AddRoleToInstanceProfile" => {
                        self.profile_roles.insert(profile, role);
                    }
                    "RemoveRoleFromInstanceProfile" => {
                        self.profile_roles.remove(&profile);
                    }
                    _ => {}
                }
            }
            "logs" => {
                let Some(body) = req.body.as_deref().and_then(|b| serde_json::from_str::<serde_json::Value>(b).ok()) else { return };
                let op = req.header("x-amz-target").and_then(|t| t.rsplit_once('.')).map(|(_, o)| o).unwrap_or_default();
                let group = |name: &str| format!("arn:{partition}:logs:{region}:{account}:log-group:{name}");
                let tags: Vec<(String, String)> = body["tags"]
                    .as_object()
                    .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
                    .unwrap_or_default();
                let target = match op {
                    "TagResource" | "UntagResource" => body["resourceArn"].as_str().map(|a| a.trim_end_matches(":*").to_string()),
                    _ => log_group_name(&body).map(|n| group(&n)),
                };
                let Some(target) = target else { return };
                match op {
                    "CreateLogGroup" => {
                        self.tags.insert(target, tags);
                    }
                    "DeleteLogGroup" => {
                        self.tags.remove(&target);
                    }
                    "TagResource" | "TagLogGroup" => set(self.tags.entry(target).or_default(), &tags),
                    "UntagResource" | "UntagLogGroup" => {
                        let field = if op == "UntagResource" { "tagKeys" } else { "tags" };
                        let keys: Vec<&str> = body[field].as_array().into_iter().flatten().filter_map(|k| k.as_str()).collect();
                        self.tags.entry(target).or_default().retain(|(k, _)| !keys.contains(&k.as_str()));
                    }
                    _ => {}
                }
            }
            "ec2" => {
                let Ok(p) = form(req) else { return };
                let tags: Vec<(String, String)> = members(&p, "Tag.")
                    .into_iter()
                    .map(|m| (m.get("Key").cloned().unwrap_or_default(), m.get("Value").cloned().unwrap_or_default()))
                    .collect();
                match p.get("Action").map(String::as_str).unwrap_or_default() {
                    "CreateTags" => {
                        for id in list(&p, "ResourceId.") {
                            set(self.tags.entry(id).or_default(), &tags);
                        }
                    }
                    "DeleteTags" => {
                        for id in list(&p, "ResourceId.") {
                            // No tag named: all of them; a key with a value:
                            // only that pair.
                            self.tags.entry(id).or_default().retain(|(k, v)| {
                                !tags.is_empty() && !tags.iter().any(|(dk, dv)| dk == k && (dv.is_empty() || dv == v))
                            });
                        }
                    }
                    "DeleteSecurityGroup" => {
                        if let Some(id) = p.get("GroupId") {
                            self.tags.remove(id);
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }

    fn resource_tags(&self, id: &str) -> Vec<(String, String)> {
        self.tags.get(id).map(|tags| tags.iter().map(|(k, v)| (format!("aws:ResourceTag/{k}"), v.clone())).collect()).unwrap_or_default()
    }
}

/// The authorizations AWS performs for `call`, from its recorded wire
/// request alone (plus `known` state). An empty list means AWS authorizes
/// nothing (STS GetCallerIdentity). An error names a request this module
/// cannot translate: a proof must fail on it, not skip it.
pub fn authorize(call: &Call, account: &str, region: &str, partition: &str, known: &Known) -> Result<Vec<Authz>, String> {
    let req = call
        .request
        .as_ref()
        .ok_or_else(|| format!("{}:{} has no recorded wire request (it never reached the wire)", call.service, call.operation))?;
    let cx = Cx { account, region, partition, known };
    let mut out = match call.service.as_str() {
        "sts" => sts(call, req)?,
        "iam" => iam(call, req, &cx)?,
        "s3" => s3(call, req, &cx)?,
        "logs" => logs(call, req, &cx)?,
        "ec2" => ec2(call, req, &cx)?,
        "secretsmanager" => secretsmanager(call, req, &cx)?,
        "ssm" => ssm(call, req, &cx)?,
        "sagemaker" => sagemaker(call, req, &cx)?,
        other => return Err(format!("{other}:{}: service not modeled by hoist_testkit::wire", call.operation)),
    };
    // One authorization per (action, resource, context).
    let mut seen = std::collections::HashSet::new();
    out.retain(|a| seen.insert(a.clone()));
    Ok(out)
}

struct Cx<'a> {
    account: &'a str,
    region: &'a str,
    partition: &'a str,
    known: &'a Known,
}

// ---------------------------------------------------------------- parsing

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decoding; `plus_is_space` for form bodies
/// (application/x-www-form-urlencoded).
pub fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if plus_is_space => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `a=1&b&c=%20` to ordered pairs (a key without `=` has an empty value).
fn parse_pairs(s: &str, plus_is_space: bool) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (percent_decode(k, plus_is_space), percent_decode(v, plus_is_space)),
            None => (percent_decode(p, plus_is_space), String::new()),
        })
        .collect()
}

/// A form body's parameters (awsQuery: IAM, STS, EC2).
fn form(req: &WireRequest) -> Result<BTreeMap<String, String>, String> {
    let body = req.body.as_deref().ok_or("form request without a recorded body")?;
    Ok(parse_pairs(body, true).into_iter().collect())
}

/// `scheme://host[:port]/path?query` to (host without port, raw path, query).
fn split_uri(uri: &str) -> (String, String, String) {
    let rest = uri.split_once("://").map(|(_, r)| r).unwrap_or(uri);
    let (authority, path_query) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => match rest.find('?') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        },
    };
    let host = authority.rsplit_once('@').map(|(_, h)| h).unwrap_or(authority);
    let host = match host.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    };
    let (path, query) = match path_query.split_once('?') {
        Some((p, q)) => (p, q),
        None => (path_query, ""),
    };
    (host.to_ascii_lowercase(), if path.is_empty() { "/".into() } else { path.to_string() }, query.to_string())
}

/// Numbered members `<prefix><n>.<field>` (EC2 `Tag.1.Key`, IAM
/// `Tags.member.1.Key`), in index order, each as field -> value.
fn members(params: &BTreeMap<String, String>, prefix: &str) -> Vec<BTreeMap<String, String>> {
    let mut by_index: BTreeMap<u32, BTreeMap<String, String>> = BTreeMap::new();
    for (k, v) in params {
        if let Some(rest) = k.strip_prefix(prefix) {
            let (n, field) = match rest.split_once('.') {
                Some((n, f)) => (n, f.to_string()),
                None => (rest, String::new()),
            };
            if let Ok(n) = n.parse::<u32>() {
                by_index.entry(n).or_default().insert(field, v.clone());
            }
        }
    }
    by_index.into_values().collect()
}

/// Numbered scalar members `<prefix><n>` (EC2 `ResourceId.1`, IAM
/// `TagKeys.member.1`).
fn list(params: &BTreeMap<String, String>, prefix: &str) -> Vec<String> {
    members(params, prefix).into_iter().filter_map(|m| m.get("").cloned()).collect()
}

/// Tags as the request context sees them: `aws:RequestTag/<k>` = v for
/// each, and `aws:TagKeys` once per key (SAR: the global tag keys).
fn request_tag_context(tags: &[(String, String)]) -> Vec<(String, String)> {
    let mut ctx: Vec<(String, String)> = tags.iter().map(|(k, v)| (format!("aws:RequestTag/{k}"), v.clone())).collect();
    ctx.extend(tags.iter().map(|(k, _)| ("aws:TagKeys".to_string(), k.clone())));
    ctx
}

fn tag_keys_context(keys: &[String]) -> Vec<(String, String)> {
    keys.iter().map(|k| ("aws:TagKeys".to_string(), k.clone())).collect()
}

fn xml_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let Some(end) = after.find(';') else {
            out.push_str(&rest[i..]);
            return out;
        };
        let entity = &after[..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e if e.starts_with("#x") || e.starts_with("#X") => u32::from_str_radix(&e[2..], 16).ok().and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match decoded {
            Some(c) => out.push(c),
            None => out.push_str(&rest[i..i + 1 + end + 1]),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// The text of every `<tag>...</tag>` element (no nesting of the same tag),
/// in order. Namespaces are not used in the element names S3 sends.
fn xml_elements<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let Some(end) = after.find(&close) else { break };
        out.push(&after[..end]);
        rest = &after[end + close.len()..];
    }
    out
}

fn mismatch(call: &Call, wire: &str) -> String {
    format!("{}:{}: the wire request names operation {wire}", call.service, call.operation)
}

// ------------------------------------------------------------------- STS

fn sts(call: &Call, req: &WireRequest) -> Result<Vec<Authz>, String> {
    let params = form(req)?;
    let action = params.get("Action").map(String::as_str).unwrap_or_default();
    if action != call.operation {
        return Err(mismatch(call, action));
    }
    match action {
        // SAR / STS API reference: "No permissions are required to perform
        // this operation" (and an explicit Deny cannot block it).
        "GetCallerIdentity" => Ok(Vec::new()),
        other => Err(format!("sts:{other}: operation not modeled by hoist_testkit::wire")),
    }
}

// ------------------------------------------------------------------- IAM

/// IAM actions whose request context carries `iam:PermissionsBoundary` as
/// the role's *current* boundary (FACTS, from the SAR). CreateRole and
/// PutRolePermissionsBoundary carry the boundary the request sets.
const ROLE_BOUNDARY_ACTIONS: &[&str] = &[
    "AttachRolePolicy",
    "DetachRolePolicy",
    "PutRolePolicy",
    "DeleteRolePolicy",
    "DeleteRolePermissionsBoundary",
    "DeleteRole",
    "UpdateRole",
    "UpdateRoleDescription",
    "UpdateAssumeRolePolicy",
];

/// Role reads and writes authorized on the role named by `RoleName` alone
/// (SAR: resource type `role*`).
const ROLE_ACTIONS: &[&str] = &[
    "GetRole",
    "DeleteRole",
    "UpdateRole",
    "UpdateRoleDescription",
    "UpdateAssumeRolePolicy",
    "GetRolePolicy",
    "PutRolePolicy",
    "DeleteRolePolicy",
    "ListRolePolicies",
    "ListAttachedRolePolicies",
    "AttachRolePolicy",
    "DetachRolePolicy",
    "PutRolePermissionsBoundary",
    "DeleteRolePermissionsBoundary",
    "TagRole",
    "UntagRole",
    "ListRoleTags",
    "ListInstanceProfilesForRole",
];

/// Instance-profile operations on `InstanceProfileName` (SAR:
/// `instance-profile*`).
const PROFILE_ACTIONS: &[&str] = &[
    "GetInstanceProfile",
    "DeleteInstanceProfile",
    "TagInstanceProfile",
    "UntagInstanceProfile",
    "ListInstanceProfileTags",
    "RemoveRoleFromInstanceProfile",
];

/// The caller's own user, or the one named (SAR: `user*`).
const USER_ACTIONS: &[&str] = &[
    "GetUser",
    "ListUserPolicies",
    "GetUserPolicy",
    "ListAttachedUserPolicies",
    "ListGroupsForUser",
    "ListUserTags",
];

/// Group reads (SAR: `group*`).
const GROUP_ACTIONS: &[&str] = &["GetGroup", "ListGroupPolicies", "GetGroupPolicy", "ListAttachedGroupPolicies"];

/// Managed-policy operations on `PolicyArn` (SAR: `policy*`).
const POLICY_ACTIONS: &[&str] = &[
    "GetPolicy",
    "GetPolicyVersion",
    "CreatePolicyVersion",
    "DeletePolicy",
    "DeletePolicyVersion",
    "ListPolicyVersions",
    "SetDefaultPolicyVersion",
    "TagPolicy",
    "UntagPolicy",
    "ListPolicyTags",
    "ListEntitiesForPolicy",
];

/// IAM paths: `/` unless given; always starting and ending with `/`.
fn iam_path(params: &BTreeMap<String, String>, key: &str) -> String {
    match params.get(key).map(String::as_str) {
        None | Some("") => "/".to_string(),
        Some(p) => {
            let mut p = p.to_string();
            if !p.starts_with('/') {
                p.insert(0, '/');
            }
            if !p.ends_with('/') {
                p.push('/');
            }
            p
        }
    }
}

fn iam(call: &Call, req: &WireRequest, cx: &Cx) -> Result<Vec<Authz>, String> {
    let params = form(req)?;
    let op = params.get("Action").cloned().unwrap_or_default();
    if op != call.operation {
        return Err(mismatch(call, &op));
    }
    let get = |k: &str| params.get(k).cloned().ok_or_else(|| format!("iam:{op} without {k}"));
    let arn = |kind: &str, path: &str, name: &str| format!("arn:{}:iam::{}:{kind}{path}{name}", cx.partition, cx.account);
    let action = format!("iam:{op}");
    let tags: Vec<(String, String)> = members(&params, "Tags.member.")
        .into_iter()
        .map(|m| (m.get("Key").cloned().unwrap_or_default(), m.get("Value").cloned().unwrap_or_default()))
        .collect();
    // The role's path is not in requests that name it by RoleName: hoist's
    // roles are at `/` (a role elsewhere would fail the proof, not pass it).
    let role_arn = |name: &str| arn("role", "/", name);
    let role_context = |name: &str| {
        let mut ctx = cx.known.resource_tags(&role_arn(name));
        if ROLE_BOUNDARY_ACTIONS.contains(&op.as_str())
            && let Some(b) = cx.known.boundaries.get(name)
        {
            ctx.push(("iam:PermissionsBoundary".into(), b.clone()));
        }
        ctx
    };
    let mut out = Vec::new();
    match op.as_str() {
        // SAR: CreateRole takes iam:PermissionsBoundary (the one the
        // request sets), aws:RequestTag and aws:TagKeys; tags given at
        // creation are also authorized as iam:TagRole ("To create a role
        // with tags you must have iam:TagRole", IAM UG, tagging roles).
        "CreateRole" => {
            let name = get("RoleName")?;
            let resource = arn("role", &iam_path(&params, "Path"), &name);
            let mut ctx = request_tag_context(&tags);
            if let Some(b) = params.get("PermissionsBoundary") {
                ctx.push(("iam:PermissionsBoundary".into(), b.clone()));
            }
            out.push(Authz::new(&action, &resource, ctx));
            if !tags.is_empty() {
                out.push(Authz::new("iam:TagRole", &resource, request_tag_context(&tags)));
            }
        }
        "PutRolePermissionsBoundary" => {
            let name = get("RoleName")?;
            let mut ctx = cx.known.resource_tags(&role_arn(&name));
            ctx.push(("iam:PermissionsBoundary".into(), get("PermissionsBoundary")?));
            out.push(Authz::new(&action, role_arn(&name), ctx));
        }
        o if ROLE_ACTIONS.contains(&o) => {
            let name = get("RoleName")?;
            let mut ctx = role_context(&name);
            match o {
                // SAR: iam:PolicyARN on Attach/DetachRolePolicy.
                "AttachRolePolicy" | "DetachRolePolicy" => ctx.push(("iam:PolicyARN".into(), get("PolicyArn")?)),
                "TagRole" => ctx.extend(request_tag_context(&tags)),
                "UntagRole" => ctx.extend(tag_keys_context(&list(&params, "TagKeys.member."))),
                _ => {}
            }
            out.push(Authz::new(&action, role_arn(&name), ctx));
        }
        // SAR: ListRoles / ListInstanceProfiles / ListPolicies take no
        // resource-level permission. IAM checks them on the path prefix's
        // ARN (its AccessDenied messages name `arn:aws:iam::<acct>:role/`),
        // which a `*` resource matches.
        "ListRoles" => out.push(Authz::new(&action, arn("role", &iam_path(&params, "PathPrefix"), ""), vec![])),
        "ListInstanceProfiles" => {
            out.push(Authz::new(&action, arn("instance-profile", &iam_path(&params, "PathPrefix"), ""), vec![]))
        }
        "ListPolicies" => out.push(Authz::new(&action, arn("policy", &iam_path(&params, "PathPrefix"), ""), vec![])),
        "CreateInstanceProfile" => {
            let resource = arn("instance-profile", &iam_path(&params, "Path"), &get("InstanceProfileName")?);
            out.push(Authz::new(&action, &resource, request_tag_context(&tags)));
            if !tags.is_empty() {
                out.push(Authz::new("iam:TagInstanceProfile", &resource, request_tag_context(&tags)));
            }
        }
        // AddRoleToInstanceProfile also passes the role (SAR: dependent
        // action iam:PassRole; FACTS section 7). AWS does not document that
        // it sets iam:PassedToService here, so the context holds none: a
        // policy that requires it would fail this proof.
        "AddRoleToInstanceProfile" => {
            let profile = arn("instance-profile", "/", &get("InstanceProfileName")?);
            out.push(Authz::new(&action, &profile, cx.known.resource_tags(&profile)));
            let role = get("RoleName")?;
            out.push(Authz::new("iam:PassRole", role_arn(&role), cx.known.resource_tags(&role_arn(&role))));
        }
        o if PROFILE_ACTIONS.contains(&o) => {
            let profile = arn("instance-profile", "/", &get("InstanceProfileName")?);
            let mut ctx = cx.known.resource_tags(&profile);
            match o {
                "TagInstanceProfile" => ctx.extend(request_tag_context(&tags)),
                "UntagInstanceProfile" => ctx.extend(tag_keys_context(&list(&params, "TagKeys.member."))),
                _ => {}
            }
            out.push(Authz::new(&action, profile, ctx));
        }
        o if USER_ACTIONS.contains(&o) => {
            let user = match params.get("UserName") {
                Some(u) => u.clone(),
                None => cx
                    .known
                    .caller_user
                    .clone()
                    .ok_or_else(|| format!("iam:{op} without UserName acts on the caller; Known::caller_user is not set"))?,
            };
            out.push(Authz::new(&action, arn("user", "/", &user), vec![]));
        }
        o if GROUP_ACTIONS.contains(&o) => out.push(Authz::new(&action, arn("group", "/", &get("GroupName")?), vec![])),
        o if POLICY_ACTIONS.contains(&o) => {
            let ctx = match o {
                "TagPolicy" => request_tag_context(&tags),
                "UntagPolicy" => tag_keys_context(&list(&params, "TagKeys.member.")),
                _ => vec![],
            };
            out.push(Authz::new(&action, get("PolicyArn")?, ctx));
        }
        // CreatePolicy: the new policy's ARN is policy<Path><PolicyName>;
        // tags given need iam:TagPolicy too.
        "CreatePolicy" => {
            let resource = arn("policy", &iam_path(&params, "Path"), &get("PolicyName")?);
            out.push(Authz::new(&action, &resource, request_tag_context(&tags)));
            if !tags.is_empty() {
                out.push(Authz::new("iam:TagPolicy", &resource, request_tag_context(&tags)));
            }
        }
        // SAR: SimulatePrincipalPolicy on the principal simulated (`user`,
        // `group` or `role`).
        "SimulatePrincipalPolicy" => out.push(Authz::new(&action, get("PolicySourceArn")?, vec![])),
        other => return Err(format!("iam:{other}: operation not modeled by hoist_testkit::wire")),
    }
    Ok(out)
}

// -------------------------------------------------------------------- S3

/// Query parameters that select an S3 subresource (sub-API) rather than
/// filter a listing.
const BUCKET_SUBRESOURCES: &[&str] = &[
    "accelerate",
    "acl",
    "analytics",
    "cors",
    "delete",
    "encryption",
    "intelligent-tiering",
    "inventory",
    "lifecycle",
    "location",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "ownershipControls",
    "policy",
    "policyStatus",
    "publicAccessBlock",
    "replication",
    "requestPayment",
    "tagging",
    "uploads",
    "versioning",
    "versions",
    "website",
];

struct S3Request {
    bucket: String,
    key: Option<String>,
    query: Vec<(String, String)>,
}

impl S3Request {
    fn has(&self, name: &str) -> bool {
        self.query.iter().any(|(k, _)| k == name)
    }
    fn param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Bucket and key from a path-style (`/<bucket>/<key>`, which hoist uses
/// against an endpoint override) or virtual-hosted (`<bucket>.s3.<region>.
/// amazonaws.com/<key>`) URI. Keys are percent-decoded.
fn s3_target(req: &WireRequest) -> Result<S3Request, String> {
    let (host, path, query) = split_uri(&req.uri);
    let query: Vec<(String, String)> = parse_pairs(&query, false).into_iter().filter(|(k, _)| k != "x-id").collect();
    let virtual_bucket = ["amazonaws.com", "amazonaws.com.cn"]
        .iter()
        .any(|d| host.ends_with(d))
        .then(|| host.find(".s3.").or_else(|| host.find(".s3-")).map(|i| host[..i].to_string()))
        .flatten();
    let path = path.trim_start_matches('/');
    let (bucket, key) = match virtual_bucket {
        Some(b) => (b, path.to_string()),
        None => match path.split_once('/') {
            Some((b, k)) => (percent_decode(b, false), k.to_string()),
            None => (percent_decode(path, false), String::new()),
        },
    };
    if bucket.is_empty() {
        return Err(format!("S3 request without a bucket: {}", req.uri));
    }
    let key = (!key.is_empty()).then(|| percent_decode(&key, false));
    Ok(S3Request { bucket, key, query })
}

/// `aws:`-free S3 condition keys the request sets (SAR, S3 condition keys).
fn s3_header_context(req: &WireRequest) -> Vec<(String, String)> {
    let mut ctx = Vec::new();
    for (header, key) in [
        ("x-amz-acl", "s3:x-amz-acl"),
        ("x-amz-server-side-encryption", "s3:x-amz-server-side-encryption"),
        ("x-amz-server-side-encryption-aws-kms-key-id", "s3:x-amz-server-side-encryption-aws-kms-key-id"),
        ("x-amz-object-ownership", "s3:x-amz-object-ownership"),
    ] {
        if let Some(v) = req.header(header) {
            ctx.push((key.to_string(), v.to_string()));
        }
    }
    ctx
}

fn s3(call: &Call, req: &WireRequest, cx: &Cx) -> Result<Vec<Authz>, String> {
    let t = s3_target(req)?;
    let p = cx.partition;
    let bucket_arn = format!("arn:{p}:s3:::{}", t.bucket);
    let object_arn = |key: &str| format!("arn:{p}:s3:::{}/{key}", t.bucket);
    let method = req.method.to_ascii_uppercase();
    let sub = t.query.iter().map(|(k, _)| k.as_str()).find(|k| BUCKET_SUBRESOURCES.contains(k));
    let unknown = || format!("s3:{} ({method} {}): request not modeled by hoist_testkit::wire", call.operation, req.uri);
    let mut out = Vec::new();
    let Some(key) = t.key.clone() else {
        // Bucket requests (S3 UG, "Required permissions for Amazon S3 API
        // operations"; SAR, list_amazons3.html).
        let action = match (method.as_str(), sub) {
            // HeadBucket and ListObjects(V2) are authorized as s3:ListBucket.
            ("HEAD", None) => "s3:ListBucket",
            ("GET", None) => {
                let mut ctx = Vec::new();
                for (q, k) in [("prefix", "s3:prefix"), ("delimiter", "s3:delimiter"), ("max-keys", "s3:max-keys")] {
                    if let Some(v) = t.param(q) {
                        ctx.push((k.to_string(), v.to_string()));
                    }
                }
                out.push(Authz::new("s3:ListBucket", &bucket_arn, ctx));
                return Ok(out);
            }
            ("GET", Some("versions")) => {
                let ctx = t.param("prefix").map(|v| vec![("s3:prefix".to_string(), v.to_string())]).unwrap_or_default();
                out.push(Authz::new("s3:ListBucketVersions", &bucket_arn, ctx));
                return Ok(out);
            }
            ("GET", Some("uploads")) => "s3:ListBucketMultipartUploads",
            ("GET", Some("tagging")) => "s3:GetBucketTagging",
            ("GET", Some("publicAccessBlock")) => "s3:GetBucketPublicAccessBlock",
            ("GET", Some("encryption")) => "s3:GetEncryptionConfiguration",
            ("GET", Some("policy")) => "s3:GetBucketPolicy",
            ("GET", Some("policyStatus")) => "s3:GetBucketPolicyStatus",
            ("GET", Some("ownershipControls")) => "s3:GetBucketOwnershipControls",
            ("GET", Some("lifecycle")) => "s3:GetLifecycleConfiguration",
            ("GET", Some("versioning")) => "s3:GetBucketVersioning",
            ("GET", Some("location")) => "s3:GetBucketLocation",
            ("GET", Some("acl")) => "s3:GetBucketAcl",
            ("GET", Some("cors")) => "s3:GetBucketCORS",
            ("GET", Some("logging")) => "s3:GetBucketLogging",
            ("GET", Some("notification")) => "s3:GetBucketNotification",
            ("GET", Some("object-lock")) => "s3:GetBucketObjectLockConfiguration",
            ("GET", Some("website")) => "s3:GetBucketWebsite",
            ("GET", Some("replication")) => "s3:GetReplicationConfiguration",
            ("GET", Some("accelerate")) => "s3:GetAccelerateConfiguration",
            ("GET", Some("requestPayment")) => "s3:GetBucketRequestPayment",
            ("PUT", None) => {
                // CreateBucket; settings given with it are authorized as
                // their own actions (S3 API reference, CreateBucket
                // "Permissions": object ownership needs
                // s3:PutBucketOwnershipControls, ACLs s3:PutBucketAcl,
                // object lock s3:PutBucketObjectLockConfiguration and
                // s3:PutBucketVersioning).
                let mut ctx = s3_header_context(req);
                if let Some(body) = req.body.as_deref() {
                    if body.contains("<Tags>") || body.contains("<Tag>") {
                        return Err(format!("s3:CreateBucket with tags: not modeled by hoist_testkit::wire ({})", req.uri));
                    }
                    if let Some(loc) = xml_elements(body, "LocationConstraint").first() {
                        ctx.push(("s3:LocationConstraint".into(), xml_unescape(loc)));
                    }
                }
                out.push(Authz::new("s3:CreateBucket", &bucket_arn, ctx));
                if req.header("x-amz-object-ownership").is_some() {
                    out.push(Authz::new("s3:PutBucketOwnershipControls", &bucket_arn, s3_header_context(req)));
                }
                if req.header("x-amz-acl").is_some() || req.headers.keys().any(|h| h.starts_with("x-amz-grant-")) {
                    out.push(Authz::new("s3:PutBucketAcl", &bucket_arn, s3_header_context(req)));
                }
                if req.header("x-amz-bucket-object-lock-enabled").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
                    out.push(Authz::new("s3:PutBucketObjectLockConfiguration", &bucket_arn, vec![]));
                    out.push(Authz::new("s3:PutBucketVersioning", &bucket_arn, vec![]));
                }
                return Ok(out);
            }
            ("PUT", Some("tagging")) => "s3:PutBucketTagging",
            ("PUT", Some("publicAccessBlock")) => "s3:PutBucketPublicAccessBlock",
            ("PUT", Some("encryption")) => "s3:PutEncryptionConfiguration",
            ("PUT", Some("policy")) => "s3:PutBucketPolicy",
            ("PUT", Some("ownershipControls")) => "s3:PutBucketOwnershipControls",
            ("PUT", Some("lifecycle")) => "s3:PutLifecycleConfiguration",
            ("PUT", Some("versioning")) => "s3:PutBucketVersioning",
            ("PUT", Some("acl")) => "s3:PutBucketAcl",
            ("PUT", Some("cors")) => "s3:PutBucketCORS",
            ("PUT", Some("logging")) => "s3:PutBucketLogging",
            ("PUT", Some("notification")) => "s3:PutBucketNotification",
            ("PUT", Some("object-lock")) => "s3:PutBucketObjectLockConfiguration",
            ("PUT", Some("website")) => "s3:PutBucketWebsite",
            ("PUT", Some("replication")) => "s3:PutReplicationConfiguration",
            ("PUT", Some("accelerate")) => "s3:PutAccelerateConfiguration",
            ("PUT", Some("requestPayment")) => "s3:PutBucketRequestPayment",
            ("DELETE", None) => "s3:DeleteBucket",
            // Deleting a bucket setting is authorized as putting it (S3 UG),
            // except the policy and website, which have their own actions.
            ("DELETE", Some("tagging")) => "s3:PutBucketTagging",
            ("DELETE", Some("policy")) => "s3:DeleteBucketPolicy",
            ("DELETE", Some("publicAccessBlock")) => "s3:PutBucketPublicAccessBlock",
            ("DELETE", Some("encryption")) => "s3:PutEncryptionConfiguration",
            ("DELETE", Some("lifecycle")) => "s3:PutLifecycleConfiguration",
            ("DELETE", Some("ownershipControls")) => "s3:PutBucketOwnershipControls",
            ("DELETE", Some("cors")) => "s3:PutBucketCORS",
            ("DELETE", Some("website")) => "s3:DeleteBucketWebsite",
            ("DELETE", Some("replication")) => "s3:PutReplicationConfiguration",
            // DeleteObjects is authorized per object it names, as
            // s3:DeleteObject, and s3:DeleteObjectVersion for an object
            // named with a version (S3 API reference, DeleteObjects
            // "Permissions").
            ("POST", Some("delete")) => {
                let body = req.body.as_deref().ok_or_else(|| format!("s3:DeleteObjects without a recorded body: {}", req.uri))?;
                let objects = xml_elements(body, "Object");
                if objects.is_empty() {
                    return Err(format!("s3:DeleteObjects names no <Object>: {body}"));
                }
                for object in objects {
                    let key = xml_elements(object, "Key").first().map(|k| xml_unescape(k)).ok_or("s3:DeleteObjects: an <Object> without <Key>")?;
                    out.push(Authz::new("s3:DeleteObject", object_arn(&key), vec![]));
                    if let Some(v) = xml_elements(object, "VersionId").first() {
                        out.push(Authz::new("s3:DeleteObjectVersion", object_arn(&key), vec![("s3:versionid".into(), xml_unescape(v))]));
                    }
                }
                if req.header("x-amz-bypass-governance-retention").is_some() {
                    out.push(Authz::new("s3:BypassGovernanceRetention", &bucket_arn, vec![]));
                }
                return Ok(out);
            }
            _ => return Err(unknown()),
        };
        out.push(Authz::new(action, &bucket_arn, vec![]));
        return Ok(out);
    };

    // Object requests.
    let resource = object_arn(&key);
    let version = t.param("versionId").map(str::to_string);
    let versioned = |plain: &str, with_version: &str| -> (String, Vec<(String, String)>) {
        match &version {
            Some(v) => (with_version.to_string(), vec![("s3:versionid".to_string(), v.clone())]),
            None => (plain.to_string(), vec![]),
        }
    };
    // Conditional writes: AWS checks s3:PutObject with the condition keys
    // s3:if-none-match / s3:if-match, and If-Match also needs s3:GetObject
    // on the object (S3 UG, "conditional writes"; FACTS section 3).
    let conditional = |out: &mut Vec<Authz>, ctx: &mut Vec<(String, String)>| {
        if let Some(v) = req.header("if-none-match") {
            ctx.push(("s3:if-none-match".into(), v.to_string()));
        }
        if let Some(v) = req.header("if-match") {
            ctx.push(("s3:if-match".into(), v.to_string()));
            out.push(Authz::new("s3:GetObject", &resource, vec![]));
        }
    };
    // Objects written with tags or an ACL: s3:PutObjectTagging (with
    // s3:RequestObjectTag/<k>) and s3:PutObjectAcl too (S3 UG, PutObject).
    let tagged_write = |out: &mut Vec<Authz>| {
        if let Some(tagging) = req.header("x-amz-tagging") {
            let tags = parse_pairs(tagging, true);
            let mut ctx: Vec<(String, String)> =
                tags.iter().map(|(k, v)| (format!("s3:RequestObjectTag/{k}"), v.clone())).collect();
            ctx.extend(tags.iter().map(|(k, _)| ("s3:RequestObjectTagKeys".to_string(), k.clone())));
            out.push(Authz::new("s3:PutObjectTagging", &resource, ctx));
        }
        if req.header("x-amz-acl").is_some() || req.headers.keys().any(|h| h.starts_with("x-amz-grant-")) {
            out.push(Authz::new("s3:PutObjectAcl", &resource, s3_header_context(req)));
        }
        if req.header("x-amz-object-lock-mode").is_some() || req.header("x-amz-object-lock-retain-until-date").is_some() {
            out.push(Authz::new("s3:PutObjectRetention", &resource, vec![]));
        }
        if req.header("x-amz-object-lock-legal-hold").is_some() {
            out.push(Authz::new("s3:PutObjectLegalHold", &resource, vec![]));
        }
    };
    // A copy reads its source: s3:GetObject (or s3:GetObjectVersion) on it.
    let copy_source = |out: &mut Vec<Authz>| -> Result<(), String> {
        if let Some(src) = req.header("x-amz-copy-source") {
            let src = src.trim_start_matches('/');
            let (path, q) = src.split_once('?').unwrap_or((src, ""));
            let path = percent_decode(path, false);
            let (b, k) = path.split_once('/').ok_or_else(|| format!("x-amz-copy-source without a key: {src}"))?;
            let version = parse_pairs(q, false).into_iter().find(|(k, _)| k == "versionId").map(|(_, v)| v);
            let arn = format!("arn:{p}:s3:::{b}/{k}");
            match version {
                Some(v) => out.push(Authz::new("s3:GetObjectVersion", arn, vec![("s3:versionid".into(), v)])),
                None => out.push(Authz::new("s3:GetObject", arn, vec![])),
            }
        }
        Ok(())
    };
    match method.as_str() {
        "GET" | "HEAD" => {
            let (action, ctx) = if t.has("uploadId") {
                ("s3:ListMultipartUploadParts".to_string(), vec![])
            } else if t.has("tagging") {
                versioned("s3:GetObjectTagging", "s3:GetObjectVersionTagging")
            } else if t.has("acl") {
                versioned("s3:GetObjectAcl", "s3:GetObjectVersionAcl")
            } else if t.has("attributes") {
                versioned("s3:GetObjectAttributes", "s3:GetObjectVersionAttributes")
            } else if t.has("retention") {
                ("s3:GetObjectRetention".to_string(), vec![])
            } else if t.has("legal-hold") {
                ("s3:GetObjectLegalHold".to_string(), vec![])
            } else {
                // GetObject and HeadObject.
                versioned("s3:GetObject", "s3:GetObjectVersion")
            };
            out.push(Authz::new(&action, &resource, ctx));
        }
        "PUT" => {
            if t.has("tagging") {
                let (action, ctx) = versioned("s3:PutObjectTagging", "s3:PutObjectVersionTagging");
                out.push(Authz::new(&action, &resource, ctx));
            } else if t.has("acl") {
                let (action, ctx) = versioned("s3:PutObjectAcl", "s3:PutObjectVersionAcl");
                out.push(Authz::new(&action, &resource, ctx));
            } else if t.has("retention") {
                out.push(Authz::new("s3:PutObjectRetention", &resource, vec![]));
            } else if t.has("legal-hold") {
                out.push(Authz::new("s3:PutObjectLegalHold", &resource, vec![]));
            } else {
                // PutObject, UploadPart(Copy) (partNumber & uploadId) and
                // CopyObject are all authorized as s3:PutObject.
                let mut extra = Vec::new();
                let mut ctx = s3_header_context(req);
                conditional(&mut extra, &mut ctx);
                out.push(Authz::new("s3:PutObject", &resource, ctx));
                out.extend(extra);
                if !t.has("uploadId") {
                    tagged_write(&mut out);
                }
                copy_source(&mut out)?;
            }
        }
        "POST" => {
            if t.has("uploads") {
                // CreateMultipartUpload.
                out.push(Authz::new("s3:PutObject", &resource, s3_header_context(req)));
                tagged_write(&mut out);
            } else if t.has("uploadId") {
                // CompleteMultipartUpload (conditional like PutObject).
                let mut extra = Vec::new();
                let mut ctx = Vec::new();
                conditional(&mut extra, &mut ctx);
                out.push(Authz::new("s3:PutObject", &resource, ctx));
                out.extend(extra);
            } else if t.has("restore") {
                out.push(Authz::new("s3:RestoreObject", &resource, vec![]));
            } else if t.has("select") {
                out.push(Authz::new("s3:GetObject", &resource, vec![]));
            } else {
                return Err(unknown());
            }
        }
        "DELETE" => {
            if t.has("uploadId") {
                out.push(Authz::new("s3:AbortMultipartUpload", &resource, vec![]));
            } else if t.has("tagging") {
                let (action, ctx) = versioned("s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging");
                out.push(Authz::new(&action, &resource, ctx));
            } else {
                let (action, ctx) = versioned("s3:DeleteObject", "s3:DeleteObjectVersion");
                out.push(Authz::new(&action, &resource, ctx));
                if req.header("x-amz-bypass-governance-retention").is_some() {
                    out.push(Authz::new("s3:BypassGovernanceRetention", &resource, vec![]));
                }
            }
        }
        _ => return Err(unknown()),
    }
    Ok(out)
}

// ------------------------------------------------------- CloudWatch Logs

/// The log group's name from `logGroupName` or `logGroupIdentifier` (a
/// name or an ARN, with or without `:*`).
fn log_group_name(body: &serde_json::Value) -> Option<String> {
    if let Some(n) = body["logGroupName"].as_str() {
        return Some(n.to_string());
    }
    let id = body["logGroupIdentifier"].as_str()?;
    match id.split_once(":log-group:") {
        Some((_, rest)) => Some(rest.trim_end_matches(":*").to_string()),
        None => Some(id.to_string()),
    }
}

fn logs(call: &Call, req: &WireRequest, cx: &Cx) -> Result<Vec<Authz>, String> {
    let target = req.header("x-amz-target").ok_or_else(|| format!("logs:{} without x-amz-target", call.operation))?;
    let op = target.rsplit_once('.').map(|(_, o)| o).unwrap_or(target);
    if op != call.operation {
        return Err(mismatch(call, op));
    }
    let body: serde_json::Value = match req.body.as_deref() {
        Some(b) if !b.trim().is_empty() => serde_json::from_str(b).map_err(|e| format!("logs:{op}: body is not JSON: {e}"))?,
        _ => serde_json::json!({}),
    };
    let group_arn = |name: &str| format!("arn:{}:logs:{}:{}:log-group:{name}", cx.partition, cx.region, cx.account);
    // The resource CloudWatch Logs checks, as its AccessDenied messages show
    // it: `log-group:<name>:log-stream:` for log-group actions
    // (logs:CreateLogGroup: elastic/apm-aws-lambda#526), with the stream's
    // name for stream actions (logs:CreateLogStream:
    // aws-solutions/aws-crr-monitor#8), and `log-group::log-stream:` for
    // logs:DescribeLogGroups (hashicorp/terraform-provider-aws#8804).
    let group_resource = |name: &str| format!("{}:log-stream:", group_arn(name));
    let stream_resource = |name: &str, stream: &str| format!("{}:log-stream:{stream}", group_arn(name));
    let group = || log_group_name(&body).ok_or_else(|| format!("logs:{op} without a log group"));
    let stream = || body["logStreamName"].as_str().map(str::to_string).ok_or_else(|| format!("logs:{op} without logStreamName"));
    // SAR: the log-group resource type takes aws:ResourceTag (log streams
    // take none, and DescribeLogGroups does not support it).
    let group_tags = |name: &str| cx.known.resource_tags(&group_arn(name));
    let tags_of = |v: &serde_json::Value| -> Vec<(String, String)> {
        v.as_object().map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect()).unwrap_or_default()
    };
    let action = format!("logs:{op}");
    let mut out = Vec::new();
    match op {
        "DescribeLogGroups" => {
            out.push(Authz::new(&action, format!("arn:{}:logs:{}:{}:log-group::log-stream:", cx.partition, cx.region, cx.account), vec![]))
        }
        // Tags at creation also need logs:TagResource ("CreateLogGroup with
        // Tags. An additional permission logs:TagResource is required":
        // DataDog/cloudformation-template#61; SAR: aws:RequestTag,
        // aws:TagKeys on CreateLogGroup).
        "CreateLogGroup" => {
            let name = group()?;
            let tags = tags_of(&body["tags"]);
            out.push(Authz::new(&action, group_resource(&name), request_tag_context(&tags)));
            if !tags.is_empty() {
                out.push(Authz::new("logs:TagResource", group_resource(&name), request_tag_context(&tags)));
            }
        }
        "DeleteLogGroup" | "PutRetentionPolicy" | "DeleteRetentionPolicy" | "DescribeLogStreams" | "FilterLogEvents"
        | "ListTagsLogGroup" => {
            let name = group()?;
            out.push(Authz::new(&action, group_resource(&name), group_tags(&name)));
        }
        "TagLogGroup" => {
            let name = group()?;
            let mut ctx = group_tags(&name);
            ctx.extend(request_tag_context(&tags_of(&body["tags"])));
            out.push(Authz::new(&action, group_resource(&name), ctx));
        }
        "UntagLogGroup" => {
            let name = group()?;
            let keys: Vec<String> = body["tags"].as_array().into_iter().flatten().filter_map(|k| k.as_str().map(str::to_string)).collect();
            let mut ctx = group_tags(&name);
            ctx.extend(tag_keys_context(&keys));
            out.push(Authz::new(&action, group_resource(&name), ctx));
        }
        "CreateLogStream" | "PutLogEvents" | "GetLogEvents" | "DeleteLogStream" => {
            let name = group()?;
            out.push(Authz::new(&action, stream_resource(&name, &stream()?), vec![]));
        }
        // The tagging API names the resource by ARN: checked on the ARN the
        // request gives (a log group's with or without `:*`).
        "TagResource" | "UntagResource" | "ListTagsForResource" => {
            let arn = body["resourceArn"].as_str().ok_or_else(|| format!("logs:{op} without resourceArn"))?.to_string();
            let mut ctx = cx.known.resource_tags(arn.trim_end_matches(":*"));
            match op {
                "TagResource" => ctx.extend(request_tag_context(&tags_of(&body["tags"]))),
                "UntagResource" => {
                    let keys: Vec<String> =
                        body["tagKeys"].as_array().into_iter().flatten().filter_map(|k| k.as_str().map(str::to_string)).collect();
                    ctx.extend(tag_keys_context(&keys));
                }
                _ => {}
            }
            out.push(Authz::new(&action, arn, ctx));
        }
        other => return Err(format!("logs:{other}: operation not modeled by hoist_testkit::wire")),
    }
    Ok(out)
}

// -------------------------------------------------- Secrets Manager, SSM

/// An awsJson request's operation (from X-Amz-Target) and body.
fn json_request(call: &Call, req: &WireRequest, service: &str) -> Result<(String, serde_json::Value), String> {
    let target = req.header("x-amz-target").ok_or_else(|| format!("{service}:{} without x-amz-target", call.operation))?;
    let op = target.rsplit_once('.').map(|(_, o)| o).unwrap_or(target).to_string();
    if op != call.operation {
        return Err(mismatch(call, &op));
    }
    let body = match req.body.as_deref() {
        Some(b) if !b.trim().is_empty() => serde_json::from_str(b).map_err(|e| format!("{service}:{op}: body is not JSON: {e}"))?,
        _ => serde_json::json!({}),
    };
    Ok((op, body))
}

/// `[{"Key": k, "Value": v}, ...]`, as JSON-protocol services send tags.
fn json_tags(v: &serde_json::Value) -> Vec<(String, String)> {
    v.as_array()
        .into_iter()
        .flatten()
        .map(|t| (t["Key"].as_str().unwrap_or_default().to_string(), t["Value"].as_str().unwrap_or_default().to_string()))
        .collect()
}

/// SAR: SageMaker training-job actions are checked on the job's ARN (the
/// name lowercased); the training-job resource type takes
/// aws:ResourceTag. CreateTrainingJob takes aws:RequestTag/aws:TagKeys,
/// needs sagemaker:AddTags for the tags it is given (SageMaker: "Grant
/// permissions to tag resources on creation") and iam:PassRole on its
/// RoleArn, passed to sagemaker.amazonaws.com. ListTrainingJobs supports
/// no resource.
fn sagemaker(call: &Call, req: &WireRequest, cx: &Cx) -> Result<Vec<Authz>, String> {
    // The runtime API (restJson): POST /endpoints/<name>/invocations, or
    // /invocations-response-stream; both are sagemaker:InvokeEndpoint.
    if call.operation == "InvokeEndpoint" || call.operation == "InvokeEndpointWithResponseStream" {
        let path = req.uri.splitn(4, '/').nth(3).unwrap_or_default();
        let name = path.strip_prefix("endpoints/").and_then(|p| p.split('/').next()).ok_or("sagemaker:InvokeEndpoint without /endpoints/<name>")?;
        let name = percent_decode(name, false);
        let arn = format!("arn:{}:sagemaker:{}:{}:endpoint/{}", cx.partition, cx.region, cx.account, name.to_ascii_lowercase());
        let tags = cx.known.resource_tags(&arn);
        return Ok(vec![Authz::new("sagemaker:InvokeEndpoint", arn, tags)]);
    }
    let (op, body) = json_request(call, req, "sagemaker")?;
    if let Some(out) = sagemaker_endpoints(&op, &body, cx)? {
        return Ok(out);
    }
    let action = format!("sagemaker:{op}");
    let job_arn = |name: &str| format!("arn:{}:sagemaker:{}:{}:training-job/{}", cx.partition, cx.region, cx.account, name.to_ascii_lowercase());
    let name = || body["TrainingJobName"].as_str().map(str::to_string).ok_or_else(|| format!("sagemaker:{op} without TrainingJobName"));
    let mut out = Vec::new();
    match op.as_str() {
        "ListTrainingJobs" => out.push(Authz::new(&action, "*", vec![])),
        "CreateTrainingJob" => {
            let arn = job_arn(&name()?);
            let tags = json_tags(&body["Tags"]);
            let mut context = request_tag_context(&tags);
            context.extend(tag_keys_context(&tags.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>()));
            out.push(Authz::new(&action, &arn, context.clone()));
            if !tags.is_empty() {
                out.push(Authz::new("sagemaker:AddTags", &arn, context));
            }
            let role = body["RoleArn"].as_str().ok_or("sagemaker:CreateTrainingJob without RoleArn")?;
            out.push(Authz::new("iam:PassRole", role, vec![("iam:PassedToService".into(), "sagemaker.amazonaws.com".into())]));
        }
        "DescribeTrainingJob" | "StopTrainingJob" => {
            let arn = job_arn(&name()?);
            let tags = cx.known.resource_tags(&arn);
            out.push(Authz::new(&action, arn, tags));
        }
        other => return Err(format!("sagemaker:{other}: operation not modeled by hoist_testkit::wire")),
    }
    Ok(out)
}

/// SAR: a model, endpoint configuration and endpoint are each checked on
/// their ARN (name lowercased). CreateModel passes its execution role
/// (iam:PassRole to SageMaker); CreateEndpoint and UpdateEndpoint are
/// checked on the endpoint and on the configuration they name. Creates
/// with tags need sagemaker:AddTags, with aws:RequestTag/aws:TagKeys. The
/// List actions support no resource. `None`: not an endpoint operation.
fn sagemaker_endpoints(op: &str, body: &serde_json::Value, cx: &Cx) -> Result<Option<Vec<Authz>>, String> {
    let arn = |kind: &str, field: &str| {
        body[field]
            .as_str()
            .map(|n| format!("arn:{}:sagemaker:{}:{}:{kind}/{}", cx.partition, cx.region, cx.account, n.to_ascii_lowercase()))
            .ok_or_else(|| format!("sagemaker:{op} without {field}"))
    };
    let action = format!("sagemaker:{op}");
    let created = |arn: String| {
        let tags = json_tags(&body["Tags"]);
        let mut context = request_tag_context(&tags);
        context.extend(tag_keys_context(&tags.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>()));
        let mut out = vec![Authz::new(&action, &arn, context.clone())];
        if !tags.is_empty() {
            out.push(Authz::new("sagemaker:AddTags", &arn, context));
        }
        out
    };
    let existing = |arn: String| Authz::new(&action, &arn, cx.known.resource_tags(&arn));
    Ok(Some(match op {
        "ListEndpoints" | "ListEndpointConfigs" | "ListModels" => vec![Authz::new(&action, "*", vec![])],
        "CreateModel" => {
            let mut out = created(arn("model", "ModelName")?);
            let role = body["ExecutionRoleArn"].as_str().ok_or("sagemaker:CreateModel without ExecutionRoleArn")?;
            out.push(Authz::new("iam:PassRole", role, vec![("iam:PassedToService".into(), "sagemaker.amazonaws.com".into())]));
            out
        }
        "CreateEndpointConfig" => created(arn("endpoint-config", "EndpointConfigName")?),
        "CreateEndpoint" => {
            let mut out = created(arn("endpoint", "EndpointName")?);
            // The configuration is judged with the request's tags too.
            let config = arn("endpoint-config", "EndpointConfigName")?;
            let mut context = cx.known.resource_tags(&config);
            context.extend(out[0].context.iter().filter(|(k, _)| k.starts_with("aws:RequestTag/") || k == "aws:TagKeys").cloned());
            out.push(Authz::new(&action, config, context));
            out
        }
        "UpdateEndpoint" => vec![existing(arn("endpoint", "EndpointName")?), existing(arn("endpoint-config", "EndpointConfigName")?)],
        // On the resource the ARN names, with its tags (and, adding, the
        // request's).
        "AddTags" | "ListTags" => {
            let target = body["ResourceArn"].as_str().ok_or_else(|| format!("sagemaker:{op} without ResourceArn"))?.to_string();
            let mut context = cx.known.resource_tags(&target);
            if op == "AddTags" {
                let tags = json_tags(&body["Tags"]);
                context.extend(request_tag_context(&tags));
                context.extend(tag_keys_context(&tags.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>()));
            }
            vec![Authz::new(&action, &target, context)]
        }
        "DescribeModel" | "DeleteModel" => vec![existing(arn("model", "ModelName")?)],
        "DescribeEndpointConfig" | "DeleteEndpointConfig" => vec![existing(arn("endpoint-config", "EndpointConfigName")?)],
        "DescribeEndpoint" | "DeleteEndpoint" => vec![existing(arn("endpoint", "EndpointName")?)],
        _ => return Ok(None),
    }))
}

/// SAR: Secrets Manager actions on a secret are checked on its ARN, which
/// ends in `-` and six random characters (here a fixed stand-in: policies
/// name secrets by a `name*` pattern for that reason). CreateSecret with
/// tags also needs secretsmanager:TagResource, with the tags as
/// aws:RequestTag; ListSecrets supports no resource.
fn secretsmanager(call: &Call, req: &WireRequest, cx: &Cx) -> Result<Vec<Authz>, String> {
    let (op, body) = json_request(call, req, "secretsmanager")?;
    let action = format!("secretsmanager:{op}");
    let arn = |id: &str| {
        if id.starts_with("arn:") {
            id.to_string()
        } else {
            format!("arn:{}:secretsmanager:{}:{}:secret:{id}-AbC123", cx.partition, cx.region, cx.account)
        }
    };
    let field = |k: &str| body[k].as_str().map(str::to_string).ok_or_else(|| format!("secretsmanager:{op} without {k}"));
    let mut out = Vec::new();
    match op.as_str() {
        "ListSecrets" => out.push(Authz::new(&action, "*", vec![])),
        "CreateSecret" => {
            let name = field("Name")?;
            let tags = json_tags(&body["Tags"]);
            out.push(Authz::new(&action, arn(&name), request_tag_context(&tags)));
            if !tags.is_empty() {
                out.push(Authz::new("secretsmanager:TagResource", arn(&name), request_tag_context(&tags)));
            }
        }
        "GetSecretValue" | "PutSecretValue" | "DescribeSecret" | "DeleteSecret" | "UpdateSecret" | "RestoreSecret" => {
            out.push(Authz::new(&action, arn(&field("SecretId")?), vec![]));
        }
        other => return Err(format!("secretsmanager:{other}: operation not modeled by hoist_testkit::wire")),
    }
    Ok(out)
}

/// SAR: ssm:GetParameter on the parameter's ARN; AWS's public parameters
/// (`/aws/service/...`) have no account in theirs.
fn ssm(call: &Call, req: &WireRequest, cx: &Cx) -> Result<Vec<Authz>, String> {
    let (op, body) = json_request(call, req, "ssm")?;
    match op.as_str() {
        "GetParameter" => {
            let name = body["Name"].as_str().ok_or("ssm:GetParameter without Name")?;
            let account = if name.starts_with("/aws/") { "" } else { cx.account };
            let path = if name.starts_with('/') { name.to_string() } else { format!("/{name}") };
            Ok(vec![Authz::new("ssm:GetParameter", format!("arn:{}:ssm:{}:{account}:parameter{path}", cx.partition, cx.region), vec![])])
        }
        other => Err(format!("ssm:{other}: operation not modeled by hoist_testkit::wire")),
    }
}

// ------------------------------------------------------------------- EC2

/// An EC2 resource's ARN from its id's prefix.
fn ec2_arn(id: &str, cx: &Cx) -> Result<String, String> {
    let kind = match id.split_once('-').map(|(p, _)| p) {
        Some("sg") => "security-group",
        Some("sgr") => "security-group-rule",
        Some("i") => "instance",
        Some("vol") => "volume",
        Some("vpc") => "vpc",
        Some("subnet") => "subnet",
        Some("eni") => "network-interface",
        Some("snap") => "snapshot",
        Some("lt") => "launch-template",
        Some("sir") => "spot-instances-request",
        // Images are AWS's or another account's: no account in the ARN.
        Some("ami") => return Ok(format!("arn:{}:ec2:{}::image/{id}", cx.partition, cx.region)),
        _ => return Err(format!("ec2: cannot tell the resource type of {id:?}")),
    };
    Ok(format!("arn:{}:ec2:{}:{}:{kind}/{id}", cx.partition, cx.region, cx.account))
}

/// Tags in `TagSpecification.N` for one resource type.
fn tag_specs(params: &BTreeMap<String, String>, resource_type: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for spec in members(params, "TagSpecification.") {
        if spec.get("ResourceType").map(String::as_str) != Some(resource_type) {
            continue;
        }
        let mut tags: BTreeMap<u32, (String, String)> = BTreeMap::new();
        for (field, v) in &spec {
            let Some(rest) = field.strip_prefix("Tag.") else { continue };
            let Some((n, what)) = rest.split_once('.') else { continue };
            let Ok(n) = n.parse::<u32>() else { continue };
            let e = tags.entry(n).or_default();
            match what {
                "Key" => e.0 = v.clone(),
                "Value" => e.1 = v.clone(),
                _ => {}
            }
        }
        out.extend(tags.into_values());
    }
    out
}

/// Resource types in `TagSpecification.N.ResourceType`.
fn tag_spec_types(params: &BTreeMap<String, String>) -> Vec<String> {
    members(params, "TagSpecification.").into_iter().filter_map(|m| m.get("ResourceType").cloned()).collect()
}

fn ec2(call: &Call, req: &WireRequest, cx: &Cx) -> Result<Vec<Authz>, String> {
    let params = form(req)?;
    let op = params.get("Action").cloned().unwrap_or_default();
    if op != call.operation {
        return Err(mismatch(call, &op));
    }
    let action = format!("ec2:{op}");
    let get = |k: &str| params.get(k).cloned().ok_or_else(|| format!("ec2:{op} without {k}"));
    let any = |kind: &str| format!("arn:{}:ec2:{}:{}:{kind}/*", cx.partition, cx.region, cx.account);
    let existing = |id: &str| -> Result<(String, Vec<(String, String)>), String> { Ok((ec2_arn(id, cx)?, cx.known.resource_tags(id))) };
    let request_tags: Vec<(String, String)> = members(&params, "Tag.")
        .into_iter()
        .map(|m| (m.get("Key").cloned().unwrap_or_default(), m.get("Value").cloned().unwrap_or_default()))
        .collect();
    let mut out = Vec::new();
    match op.as_str() {
        // SAR: EC2 Describe* actions support no resource-level permissions.
        o if o.starts_with("Describe") => out.push(Authz::new(&action, "*", vec![])),
        // SAR: CreateSecurityGroup on `security-group*` (with the tags the
        // request sets as aws:RequestTag) and `vpc*`; tags given at
        // creation are authorized as ec2:CreateTags on the new group with
        // ec2:CreateAction = CreateSecurityGroup (EC2 UG, "Grant permission
        // to tag resources during creation").
        "CreateSecurityGroup" => {
            let tags = tag_specs(&params, "security-group");
            if tag_spec_types(&params).iter().any(|t| t != "security-group") {
                return Err(format!("ec2:CreateSecurityGroup tags a resource type other than security-group: {params:?}"));
            }
            out.push(Authz::new(&action, any("security-group"), request_tag_context(&tags)));
            let vpc = get("VpcId").map_err(|_| "ec2:CreateSecurityGroup without VpcId (the default VPC is not in the request)".to_string())?;
            let (vpc_arn, vpc_tags) = existing(&vpc)?;
            out.push(Authz::new(&action, vpc_arn, vpc_tags));
            if !tags.is_empty() {
                let mut ctx = vec![("ec2:CreateAction".to_string(), op.clone())];
                ctx.extend(request_tag_context(&tags));
                out.push(Authz::new("ec2:CreateTags", any("security-group"), ctx));
            }
        }
        // SAR: CreatePlacementGroup on `placement-group*` (its name in the
        // ARN), with the request's tags; tags at creation are ec2:CreateTags
        // with ec2:CreateAction.
        "CreatePlacementGroup" => {
            let name = get("GroupName")?;
            let arn = format!("arn:{}:ec2:{}:{}:placement-group/{name}", cx.partition, cx.region, cx.account);
            let tags = tag_specs(&params, "placement-group");
            out.push(Authz::new(&action, &arn, request_tag_context(&tags)));
            if !tags.is_empty() {
                let mut ctx = vec![("ec2:CreateAction".to_string(), op.clone())];
                ctx.extend(request_tag_context(&tags));
                out.push(Authz::new("ec2:CreateTags", &arn, ctx));
            }
        }
        "DeletePlacementGroup" => {
            let name = get("GroupName")?;
            out.push(Authz::new(&action, format!("arn:{}:ec2:{}:{}:placement-group/{name}", cx.partition, cx.region, cx.account), vec![]));
        }
        // Changes to an existing group, checked on the group with its tags.
        "DeleteSecurityGroup" | "AuthorizeSecurityGroupIngress" | "AuthorizeSecurityGroupEgress" | "RevokeSecurityGroupIngress"
        | "RevokeSecurityGroupEgress" | "ModifySecurityGroupRules" | "UpdateSecurityGroupRuleDescriptionsIngress"
        | "UpdateSecurityGroupRuleDescriptionsEgress" => {
            let id = get("GroupId").map_err(|_| format!("ec2:{op} without GroupId (by GroupName it names no ARN)"))?;
            let (arn, ctx) = existing(&id)?;
            out.push(Authz::new(&action, arn, ctx));
            // Rules tagged as they are made: ec2:CreateTags on the new rules.
            let tags = tag_specs(&params, "security-group-rule");
            if !tags.is_empty() {
                out.push(Authz::new(&action, any("security-group-rule"), request_tag_context(&tags)));
                let mut ctx = vec![("ec2:CreateAction".to_string(), op.clone())];
                ctx.extend(request_tag_context(&tags));
                out.push(Authz::new("ec2:CreateTags", any("security-group-rule"), ctx));
            }
        }
        // SAR: CreateTags / DeleteTags on every resource named, with its
        // existing tags (aws:ResourceTag) and the request's (aws:RequestTag,
        // aws:TagKeys).
        "CreateTags" | "DeleteTags" => {
            let ids = list(&params, "ResourceId.");
            if ids.is_empty() {
                return Err(format!("ec2:{op} names no ResourceId"));
            }
            for id in ids {
                let (arn, mut ctx) = existing(&id)?;
                if op == "CreateTags" {
                    ctx.extend(request_tag_context(&request_tags));
                } else {
                    // DeleteTags: every key named; a value, when given, is
                    // a request tag too.
                    ctx.extend(request_tags.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| (format!("aws:RequestTag/{k}"), v.clone())));
                    ctx.extend(tag_keys_context(&request_tags.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>()));
                }
                out.push(Authz::new(&action, arn, ctx));
            }
        }
        "TerminateInstances" | "StopInstances" | "StartInstances" | "RebootInstances" => {
            let ids = list(&params, "InstanceId.");
            if ids.is_empty() {
                return Err(format!("ec2:{op} names no InstanceId"));
            }
            for id in ids {
                let (arn, ctx) = existing(&id)?;
                out.push(Authz::new(&action, arn, ctx));
            }
        }
        // SAR: RunInstances is checked on the instance, its volumes and
        // network interface (new: `*`, with the request's tags for that
        // type), and on each existing resource it uses. Tags at launch need
        // ec2:CreateTags with ec2:CreateAction = RunInstances. An instance
        // profile passes its role (iam:PassRole, iam:PassedToService =
        // ec2.amazonaws.com: FACTS section 7).
        // TODO: condition keys beyond tags and the few below (ec2:Encrypted
        // and ec2:VolumeType per volume, ec2:Tenancy, ...) when hoist
        // launches instances.
        "RunInstances" => {
            let mut instance_ctx = request_tag_context(&tag_specs(&params, "instance"));
            if let Some(t) = params.get("InstanceType") {
                instance_ctx.push(("ec2:InstanceType".into(), t.clone()));
            }
            if let Some(t) = params.get("MetadataOptions.HttpTokens") {
                instance_ctx.push(("ec2:MetadataHttpTokens".into(), t.clone()));
            }
            if let Some(t) = params.get("InstanceMarketOptions.MarketType") {
                instance_ctx.push(("ec2:InstanceMarketType".into(), t.clone()));
            }
            out.push(Authz::new(&action, any("instance"), instance_ctx));
            out.push(Authz::new(&action, any("volume"), request_tag_context(&tag_specs(&params, "volume"))));
            out.push(Authz::new(&action, any("network-interface"), request_tag_context(&tag_specs(&params, "network-interface"))));
            let mut used: Vec<String> = list(&params, "SecurityGroupId.");
            used.extend(params.get("SubnetId").cloned());
            used.extend(params.get("ImageId").cloned());
            if params.keys().any(|k| k.starts_with("SecurityGroup.")) {
                return Err("ec2:RunInstances with security groups by name: not modeled by hoist_testkit::wire".into());
            }
            if !params.contains_key("SubnetId") {
                // The default subnet is not in the request.
                out.push(Authz::new(&action, any("subnet"), vec![]));
            }
            for id in used {
                let (arn, ctx) = existing(&id)?;
                out.push(Authz::new(&action, arn, ctx));
            }
            if let Some(group) = params.get("Placement.GroupName") {
                out.push(Authz::new(&action, format!("arn:{}:ec2:{}:{}:placement-group/{group}", cx.partition, cx.region, cx.account), vec![]));
            }
            if let Some(key) = params.get("KeyName") {
                out.push(Authz::new(&action, format!("arn:{}:ec2:{}:{}:key-pair/{key}", cx.partition, cx.region, cx.account), vec![]));
            }
            for kind in tag_spec_types(&params) {
                let mut ctx = vec![("ec2:CreateAction".to_string(), op.clone())];
                ctx.extend(request_tag_context(&tag_specs(&params, &kind)));
                out.push(Authz::new("ec2:CreateTags", any(&kind), ctx));
            }
            let profile = params
                .get("IamInstanceProfile.Name")
                .cloned()
                .or_else(|| params.get("IamInstanceProfile.Arn").and_then(|a| a.rsplit('/').next().map(str::to_string)));
            if let Some(profile) = profile {
                let role = cx
                    .known
                    .profile_roles
                    .get(&profile)
                    .ok_or_else(|| format!("ec2:RunInstances passes instance profile {profile}, whose role Known::profile_roles lacks"))?;
                out.push(Authz::new(
                    "iam:PassRole",
                    format!("arn:{}:iam::{}:role/{role}", cx.partition, cx.account),
                    vec![("iam:PassedToService".into(), "ec2.amazonaws.com".into())],
                ));
            }
        }
        other => return Err(format!("ec2:{other}: operation not modeled by hoist_testkit::wire")),
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT: &str = "123456789012";
    const REGION: &str = "us-east-1";

    fn call(service: &str, operation: &str, method: &str, uri: &str, headers: &[(&str, &str)], body: Option<&str>) -> Call {
        Call {
            service: service.into(),
            operation: operation.into(),
            request: Some(WireRequest {
                method: method.into(),
                uri: uri.into(),
                headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
                body: body.map(str::to_string),
                body_len: body.map(|b| b.len() as u64),
            }),
        }
    }

    fn form_call(service: &str, operation: &str, body: &str) -> Call {
        call(service, operation, "POST", "http://127.0.0.1:5000/", &[("content-type", "application/x-www-form-urlencoded")], Some(body))
    }

    fn authz(c: &Call, known: &Known) -> Vec<Authz> {
        authorize(c, ACCOUNT, REGION, "aws", known).unwrap_or_else(|e| panic!("{e}"))
    }

    fn a(action: &str, resource: &str, ctx: &[(&str, &str)]) -> Authz {
        Authz::new(action, resource, ctx.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn get_caller_identity_needs_nothing() {
        let c = form_call("sts", "GetCallerIdentity", "Action=GetCallerIdentity&Version=2011-06-15");
        assert_eq!(authz(&c, &Known::default()), vec![]);
    }

    #[test]
    fn create_role_with_a_boundary_and_tags() {
        let body = "Action=CreateRole&Version=2010-05-08&RoleName=hoist-team-sagemaker\
            &AssumeRolePolicyDocument=%7B%22Version%22%3A%222012-10-17%22%7D\
            &PermissionsBoundary=arn%3Aaws%3Aiam%3A%3A123456789012%3Apolicy%2Fhoist-team-boundary\
            &Tags.member.1.Key=hoist%3Amanaged&Tags.member.1.Value=true\
            &Tags.member.2.Key=hoist%3Aworkspace&Tags.member.2.Value=team";
        let role = "arn:aws:iam::123456789012:role/hoist-team-sagemaker";
        let tags = [
            ("aws:RequestTag/hoist:managed", "true"),
            ("aws:RequestTag/hoist:workspace", "team"),
            ("aws:TagKeys", "hoist:managed"),
            ("aws:TagKeys", "hoist:workspace"),
        ];
        let mut create = tags.to_vec();
        create.push(("iam:PermissionsBoundary", "arn:aws:iam::123456789012:policy/hoist-team-boundary"));
        assert_eq!(
            authz(&form_call("iam", "CreateRole", body), &Known::default()),
            vec![a("iam:CreateRole", role, &create), a("iam:TagRole", role, &tags)]
        );
        // A path puts the role under it.
        let c = form_call("iam", "CreateRole", "Action=CreateRole&RoleName=r&Path=%2Fml%2F&AssumeRolePolicyDocument=%7B%7D");
        assert_eq!(authz(&c, &Known::default()), vec![a("iam:CreateRole", "arn:aws:iam::123456789012:role/ml/r", &[])]);
    }

    #[test]
    fn role_writes_carry_the_roles_current_boundary_and_tags() {
        let known = Known {
            boundaries: [("hoist-team-instance".to_string(), "arn:aws:iam::123456789012:policy/hoist-team-boundary".to_string())].into(),
            tags: [(
                "arn:aws:iam::123456789012:role/hoist-team-instance".to_string(),
                vec![("hoist:workspace".to_string(), "team".to_string())],
            )]
            .into(),
            ..Known::default()
        };
        let put = form_call("iam", "PutRolePolicy", "Action=PutRolePolicy&RoleName=hoist-team-instance&PolicyName=p&PolicyDocument=%7B%7D");
        assert_eq!(
            authz(&put, &known),
            vec![a(
                "iam:PutRolePolicy",
                "arn:aws:iam::123456789012:role/hoist-team-instance",
                &[("aws:ResourceTag/hoist:workspace", "team"), ("iam:PermissionsBoundary", "arn:aws:iam::123456789012:policy/hoist-team-boundary")]
            )]
        );
        // Reads do not carry the boundary.
        let get = form_call("iam", "GetRole", "Action=GetRole&RoleName=hoist-team-instance");
        assert_eq!(authz(&get, &known)[0].get("iam:PermissionsBoundary"), Vec::<&str>::new());
        // Setting a boundary carries the one set.
        let set = form_call(
            "iam",
            "PutRolePermissionsBoundary",
            "Action=PutRolePermissionsBoundary&RoleName=x&PermissionsBoundary=arn%3Aaws%3Aiam%3A%3A123456789012%3Apolicy%2Fb",
        );
        assert_eq!(authz(&set, &known)[0].get("iam:PermissionsBoundary"), vec!["arn:aws:iam::123456789012:policy/b"]);
    }

    #[test]
    fn adding_a_role_to_a_profile_passes_it() {
        let c = form_call(
            "iam",
            "AddRoleToInstanceProfile",
            "Action=AddRoleToInstanceProfile&InstanceProfileName=hoist-team-instance&RoleName=hoist-team-instance",
        );
        assert_eq!(
            authz(&c, &Known::default()),
            vec![
                a("iam:AddRoleToInstanceProfile", "arn:aws:iam::123456789012:instance-profile/hoist-team-instance", &[]),
                a("iam:PassRole", "arn:aws:iam::123456789012:role/hoist-team-instance", &[]),
            ]
        );
    }

    #[test]
    fn user_reads_default_to_the_caller() {
        let c = form_call("iam", "ListUserPolicies", "Action=ListUserPolicies&Version=2010-05-08");
        assert!(authorize(&c, ACCOUNT, REGION, "aws", &Known::default()).unwrap_err().contains("caller_user"));
        let known = Known { caller_user: Some("alice".into()), ..Known::default() };
        assert_eq!(authz(&c, &known), vec![a("iam:ListUserPolicies", "arn:aws:iam::123456789012:user/alice", &[])]);
        let c = form_call("iam", "CreatePolicy", "Action=CreatePolicy&PolicyName=hoist-team-boundary&PolicyDocument=%7B%7D");
        assert_eq!(authz(&c, &known), vec![a("iam:CreatePolicy", "arn:aws:iam::123456789012:policy/hoist-team-boundary", &[])]);
    }

    #[test]
    fn s3_bucket_requests() {
        let b = "http://127.0.0.1:5000/hoist-team-123456789012-us-east-1";
        let arn = "arn:aws:s3:::hoist-team-123456789012-us-east-1";
        let one = |method: &str, uri: &str| authz(&call("s3", "X", method, uri, &[], None), &Known::default());
        assert_eq!(one("HEAD", b), vec![a("s3:ListBucket", arn, &[])]);
        assert_eq!(one("GET", &format!("{b}?list-type=2&prefix=jobs%2F")), vec![a("s3:ListBucket", arn, &[("s3:prefix", "jobs/")])]);
        assert_eq!(one("GET", &format!("{b}?versions")), vec![a("s3:ListBucketVersions", arn, &[])]);
        assert_eq!(one("GET", &format!("{b}?uploads")), vec![a("s3:ListBucketMultipartUploads", arn, &[])]);
        assert_eq!(one("PUT", &format!("{b}?publicAccessBlock")), vec![a("s3:PutBucketPublicAccessBlock", arn, &[])]);
        assert_eq!(one("GET", &format!("{b}?encryption")), vec![a("s3:GetEncryptionConfiguration", arn, &[])]);
        assert_eq!(one("PUT", &format!("{b}?lifecycle")), vec![a("s3:PutLifecycleConfiguration", arn, &[])]);
        assert_eq!(one("PUT", b), vec![a("s3:CreateBucket", arn, &[])]);
        assert_eq!(one("DELETE", b), vec![a("s3:DeleteBucket", arn, &[])]);
        assert!(authorize(&call("s3", "X", "PATCH", b, &[], None), ACCOUNT, REGION, "aws", &Known::default()).is_err());
        // Virtual-hosted style (AWS itself).
        let v = "https://hoist-team-123456789012-us-east-1.s3.us-east-1.amazonaws.com/?tagging";
        assert_eq!(one("GET", v), vec![a("s3:GetBucketTagging", arn, &[])]);
    }

    #[test]
    fn s3_object_requests() {
        let o = "http://127.0.0.1:5000/bkt/jobs/a%20b/job.json";
        let arn = "arn:aws:s3:::bkt/jobs/a b/job.json";
        let one = |method: &str, uri: &str, headers: &[(&str, &str)]| authz(&call("s3", "X", method, uri, headers, None), &Known::default());
        assert_eq!(one("GET", &format!("{o}?x-id=GetObject"), &[]), vec![a("s3:GetObject", arn, &[])]);
        assert_eq!(one("HEAD", o, &[]), vec![a("s3:GetObject", arn, &[])]);
        assert_eq!(one("GET", &format!("{o}?versionId=v1"), &[]), vec![a("s3:GetObjectVersion", arn, &[("s3:versionid", "v1")])]);
        assert_eq!(one("PUT", &format!("{o}?x-id=PutObject"), &[]), vec![a("s3:PutObject", arn, &[])]);
        assert_eq!(one("POST", &format!("{o}?uploads"), &[]), vec![a("s3:PutObject", arn, &[])]);
        assert_eq!(one("PUT", &format!("{o}?partNumber=1&uploadId=u"), &[]), vec![a("s3:PutObject", arn, &[])]);
        assert_eq!(one("POST", &format!("{o}?uploadId=u"), &[]), vec![a("s3:PutObject", arn, &[])]);
        assert_eq!(one("DELETE", &format!("{o}?uploadId=u"), &[]), vec![a("s3:AbortMultipartUpload", arn, &[])]);
        assert_eq!(one("DELETE", o, &[]), vec![a("s3:DeleteObject", arn, &[])]);
        // Conditional writes.
        assert_eq!(
            one("PUT", o, &[("if-match", "\"etag\"")]),
            vec![a("s3:PutObject", arn, &[("s3:if-match", "\"etag\"")]), a("s3:GetObject", arn, &[])]
        );
        assert_eq!(one("PUT", o, &[("if-none-match", "*")]), vec![a("s3:PutObject", arn, &[("s3:if-none-match", "*")])]);
        // A copy reads its source.
        assert_eq!(
            one("PUT", o, &[("x-amz-copy-source", "other/src%2Bkey?versionId=v9")]),
            vec![a("s3:PutObject", arn, &[]), a("s3:GetObjectVersion", "arn:aws:s3:::other/src+key", &[("s3:versionid", "v9")])]
        );
    }

    #[test]
    fn delete_objects_is_authorized_per_object_and_version() {
        let body = r#"<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>jobs/a&amp;b</Key><VersionId>v1</VersionId></Object><Object><Key>jobs/c</Key></Object><Quiet>true</Quiet></Delete>"#;
        let c = call("s3", "DeleteObjects", "POST", "http://127.0.0.1:5000/bkt?delete", &[("content-type", "application/xml")], Some(body));
        assert_eq!(
            authz(&c, &Known::default()),
            vec![
                a("s3:DeleteObject", "arn:aws:s3:::bkt/jobs/a&b", &[]),
                a("s3:DeleteObjectVersion", "arn:aws:s3:::bkt/jobs/a&b", &[("s3:versionid", "v1")]),
                a("s3:DeleteObject", "arn:aws:s3:::bkt/jobs/c", &[]),
            ]
        );
        let no_body = call("s3", "DeleteObjects", "POST", "http://127.0.0.1:5000/bkt?delete", &[], None);
        assert!(authorize(&no_body, ACCOUNT, REGION, "aws", &Known::default()).is_err());
    }

    fn logs_call(op: &str, body: &str) -> Call {
        call(
            "logs",
            op,
            "POST",
            "http://127.0.0.1:5000/",
            &[("x-amz-target", &format!("Logs_20140328.{op}")), ("content-type", "application/x-amz-json-1.1")],
            Some(body),
        )
    }

    #[test]
    fn logs_requests() {
        let group = "arn:aws:logs:us-east-1:123456789012:log-group:/hoist/team/jobs";
        let known = Known { tags: [(group.to_string(), vec![("hoist:workspace".to_string(), "team".to_string())])].into(), ..Known::default() };
        assert_eq!(
            authz(&logs_call("DescribeLogGroups", r#"{"logGroupNamePrefix":"/hoist/team/jobs"}"#), &known),
            vec![a("logs:DescribeLogGroups", "arn:aws:logs:us-east-1:123456789012:log-group::log-stream:", &[])]
        );
        let tags = [("aws:RequestTag/hoist:workspace", "team"), ("aws:TagKeys", "hoist:workspace")];
        assert_eq!(
            authz(&logs_call("CreateLogGroup", r#"{"logGroupName":"/hoist/team/jobs","tags":{"hoist:workspace":"team"}}"#), &Known::default()),
            vec![a("logs:CreateLogGroup", &format!("{group}:log-stream:"), &tags), a("logs:TagResource", &format!("{group}:log-stream:"), &tags)]
        );
        assert_eq!(
            authz(&logs_call("PutRetentionPolicy", r#"{"logGroupName":"/hoist/team/jobs","retentionInDays":30}"#), &known),
            vec![a("logs:PutRetentionPolicy", &format!("{group}:log-stream:"), &[("aws:ResourceTag/hoist:workspace", "team")])]
        );
        assert_eq!(
            authz(&logs_call("PutLogEvents", r#"{"logGroupName":"/hoist/team/jobs","logStreamName":"j/1","logEvents":[]}"#), &known),
            vec![a("logs:PutLogEvents", &format!("{group}:log-stream:j/1"), &[])]
        );
        assert_eq!(
            authz(&logs_call("TagResource", &format!(r#"{{"resourceArn":"{group}","tags":{{"hoist:managed":"true"}}}}"#)), &known),
            vec![a(
                "logs:TagResource",
                group,
                &[("aws:ResourceTag/hoist:workspace", "team"), ("aws:RequestTag/hoist:managed", "true"), ("aws:TagKeys", "hoist:managed")]
            )]
        );
        let star = format!("{group}:*");
        assert_eq!(
            authz(&logs_call("ListTagsForResource", &format!(r#"{{"resourceArn":"{star}"}}"#)), &known),
            vec![a("logs:ListTagsForResource", &star, &[("aws:ResourceTag/hoist:workspace", "team")])]
        );
        assert!(authorize(&logs_call("PutSubscriptionFilter", "{}"), ACCOUNT, REGION, "aws", &known).unwrap_err().contains("PutSubscriptionFilter"));
    }

    #[test]
    fn create_security_group_with_tags() {
        let body = "Action=CreateSecurityGroup&Version=2016-11-15&GroupName=hoist-team&GroupDescription=hoist&VpcId=vpc-1\
            &TagSpecification.1.ResourceType=security-group\
            &TagSpecification.1.Tag.1.Key=hoist%3Amanaged&TagSpecification.1.Tag.1.Value=true\
            &TagSpecification.1.Tag.2.Key=hoist%3Aworkspace&TagSpecification.1.Tag.2.Value=team";
        let tags = [
            ("aws:RequestTag/hoist:managed", "true"),
            ("aws:RequestTag/hoist:workspace", "team"),
            ("aws:TagKeys", "hoist:managed"),
            ("aws:TagKeys", "hoist:workspace"),
        ];
        let mut create_tags = vec![("ec2:CreateAction", "CreateSecurityGroup")];
        create_tags.extend(tags);
        assert_eq!(
            authz(&form_call("ec2", "CreateSecurityGroup", body), &Known::default()),
            vec![
                a("ec2:CreateSecurityGroup", "arn:aws:ec2:us-east-1:123456789012:security-group/*", &tags),
                a("ec2:CreateSecurityGroup", "arn:aws:ec2:us-east-1:123456789012:vpc/vpc-1", &[]),
                a("ec2:CreateTags", "arn:aws:ec2:us-east-1:123456789012:security-group/*", &create_tags),
            ]
        );
    }

    #[test]
    fn ec2_changes_carry_the_resources_existing_tags() {
        let known = Known { tags: [("sg-1".to_string(), vec![("hoist:workspace".to_string(), "team".to_string())])].into(), ..Known::default() };
        let sg = "arn:aws:ec2:us-east-1:123456789012:security-group/sg-1";
        let ws = ("aws:ResourceTag/hoist:workspace", "team");
        assert_eq!(authz(&form_call("ec2", "DeleteSecurityGroup", "Action=DeleteSecurityGroup&GroupId=sg-1"), &known), vec![a("ec2:DeleteSecurityGroup", sg, &[ws])]);
        assert_eq!(
            authz(&form_call("ec2", "CreateTags", "Action=CreateTags&ResourceId.1=sg-1&ResourceId.2=i-2&Tag.1.Key=hoist%3Amanaged&Tag.1.Value=true"), &known),
            vec![
                a("ec2:CreateTags", sg, &[ws, ("aws:RequestTag/hoist:managed", "true"), ("aws:TagKeys", "hoist:managed")]),
                a(
                    "ec2:CreateTags",
                    "arn:aws:ec2:us-east-1:123456789012:instance/i-2",
                    &[("aws:RequestTag/hoist:managed", "true"), ("aws:TagKeys", "hoist:managed")]
                ),
            ]
        );
        assert_eq!(authz(&form_call("ec2", "DescribeVpcs", "Action=DescribeVpcs&Filter.1.Name=is-default"), &known), vec![a("ec2:DescribeVpcs", "*", &[])]);
        assert!(authorize(&form_call("ec2", "CreateVpc", "Action=CreateVpc"), ACCOUNT, REGION, "aws", &known).unwrap_err().contains("CreateVpc"));
        // The operation named on the wire must be the one recorded.
        assert!(authorize(&form_call("ec2", "CreateTags", "Action=DeleteTags&ResourceId.1=sg-1"), ACCOUNT, REGION, "aws", &known).is_err());
    }

    #[test]
    fn the_state_follows_the_requests() {
        let mut known = Known::default();
        let create = form_call(
            "iam",
            "CreateRole",
            "Action=CreateRole&RoleName=r&AssumeRolePolicyDocument=%7B%7D&PermissionsBoundary=arn%3Aaws%3Aiam%3A%3A1%3Apolicy%2Fb\
             &Tags.member.1.Key=hoist%3Aworkspace&Tags.member.1.Value=team",
        );
        known.apply(&create, ACCOUNT, REGION, "aws");
        let get = form_call("iam", "PutRolePolicy", "Action=PutRolePolicy&RoleName=r&PolicyName=p&PolicyDocument=%7B%7D");
        assert_eq!(
            authz(&get, &known)[0].context,
            vec![
                ("aws:ResourceTag/hoist:workspace".to_string(), "team".to_string()),
                ("iam:PermissionsBoundary".to_string(), "arn:aws:iam::1:policy/b".to_string())
            ]
        );
        known.apply(&form_call("iam", "UntagRole", "Action=UntagRole&RoleName=r&TagKeys.member.1=hoist%3Aworkspace"), ACCOUNT, REGION, "aws");
        known.apply(&form_call("iam", "DeleteRolePermissionsBoundary", "Action=DeleteRolePermissionsBoundary&RoleName=r"), ACCOUNT, REGION, "aws");
        assert_eq!(authz(&get, &known)[0].context, vec![]);

        known.apply(&form_call("ec2", "CreateTags", "Action=CreateTags&ResourceId.1=sg-1&Tag.1.Key=a&Tag.1.Value=1&Tag.2.Key=b&Tag.2.Value=2"), ACCOUNT, REGION, "aws");
        known.apply(&form_call("ec2", "DeleteTags", "Action=DeleteTags&ResourceId.1=sg-1&Tag.1.Key=a"), ACCOUNT, REGION, "aws");
        assert_eq!(known.tags["sg-1"], vec![("b".to_string(), "2".to_string())]);

        known.apply(&logs_call("CreateLogGroup", r#"{"logGroupName":"/g","tags":{"k":"v"}}"#), ACCOUNT, REGION, "aws");
        known.apply(
            &logs_call("TagResource", r#"{"resourceArn":"arn:aws:logs:us-east-1:123456789012:log-group:/g","tags":{"k2":"v2"}}"#),
            ACCOUNT,
            REGION,
            "aws",
        );
        assert_eq!(known.tags["arn:aws:logs:us-east-1:123456789012:log-group:/g"].len(), 2);
    }

    #[test]
    fn decoding() {
        assert_eq!(percent_decode("a%20b+c%2F", false), "a b+c/");
        assert_eq!(percent_decode("a%20b+c", true), "a b c");
        assert_eq!(percent_decode("100%", false), "100%");
        assert_eq!(xml_unescape("a&amp;b&lt;&#65;&#x42;&bogus;"), "a&b<AB&bogus;");
        assert_eq!(split_uri("http://127.0.0.1:5000/b/k?x=1"), ("127.0.0.1".into(), "/b/k".into(), "x=1".into()));
        assert_eq!(split_uri("http://127.0.0.1:5000?delete"), ("127.0.0.1".into(), "/".into(), "delete".into()));
    }
}
