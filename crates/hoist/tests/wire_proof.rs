//! The least-privilege proof on what hoist really sends.
//!
//! The `hoist` binary runs the whole footprint scenario against the
//! emulator (init, an administrator's drift, init again, status, destroy)
//! with every request recorded as it went on the wire. Each request is
//! translated into the authorizations AWS performs for it
//! (`hoist_testkit::wire::authorize`: action, resource, request context,
//! from the wire request alone plus the account's state: read before the
//! command, then followed through the command's own requests), and each is
//! evaluated with `hoist-iam` against the policy `hoist policy all` prints
//! at run time (never a copy of it):
//!
//! - sufficient: every authorization of every request is allowed;
//! - scoped: the same request aimed outside the workspace (workspace
//!   `team-a`, whose names share the prefix `hoist-team-`; a role, bucket,
//!   log group or policy that is not hoist's; a security group tagged for
//!   another workspace or not tagged; another permissions boundary, or
//!   none) is denied.
//!
//! This is not the tautology of evaluating the policy's own grants: the
//! requests come from the wire. The emulator cannot give this proof (it
//! ignores most conditions and judges resources for S3, IAM and STS only).
//!
//! `HOIST_WIRE_PROOF_VERBOSE=1` prints every request and its authorizations.

mod common;

use std::collections::BTreeMap;

use hoist_aws::record::{Call, CallLog};
use hoist_iam::{Context, Decision, Policy, Request, evaluate};
use hoist_testkit::wire::{Authz, Known, authorize};
use hoist_testkit::{ACCOUNT, Emulator, IsolatedEnv};
use serde_json::Value;

const REGION: &str = "us-east-1";
const PARTITION: &str = "aws";
const WORKSPACE: &str = "team";
/// Shares the prefix `hoist-team-` with WORKSPACE: the classic near miss.
const OTHER: &str = "team-a";

/// Actions whose requests no out-of-scope variant can change, and why
/// scoping them is impossible. A request none of whose variants differs
/// must consist only of these, or the proof fails (so this list stays
/// honest as hoist grows).
const UNSCOPED: &[(&str, &str)] = &[
    ("ec2:DescribeVpcs", "EC2 Describe* actions support no resource-level permission (SAR): checked on `*`"),
    ("ec2:DescribeSecurityGroups", "EC2 Describe* actions support no resource-level permission (SAR): checked on `*`"),
    ("ec2:DescribeInstances", "EC2 Describe* actions support no resource-level permission (SAR): checked on `*`"),
    ("ec2:DescribePlacementGroups", "EC2 Describe* actions support no resource-level permission (SAR): checked on `*`"),
    ("secretsmanager:ListSecrets", "supports no resource-level permission (SAR): checked on `*`; hoist filters by the workspace's name prefix"),
    (
        "sagemaker:ListTrainingJobs",
        "supports no resource-level permission (SAR): checked on `*`; hoist keeps the names with the workspace's `hoist-<workspace>--` prefix",
    ),
    (
        "sagemaker:ListEndpoints",
        "supports no resource-level permission (SAR): checked on `*`; hoist keeps the names with the workspace's `hoist-<workspace>--` prefix",
    ),
    ("sagemaker:ListEndpointConfigs", "as ListEndpoints"),
    ("sagemaker:ListModels", "as ListEndpoints"),
    (
        "logs:DescribeLogGroups",
        "checked on the account's `log-group::log-stream:`, whatever prefix is asked for; no aws:ResourceTag support (SAR)",
    ),
];

/// The user's policy, as the hoist binary prints it now (one document or
/// an array of documents). `mode`: `--mode` for `hoist policy`, when set.
fn user_policies(env: &IsolatedEnv, mode: Option<&str>) -> Vec<Value> {
    let mut args = vec!["policy", "all", "--account", ACCOUNT, "--region", REGION, "-o", "json"];
    if let Some(m) = mode {
        args.extend(["--mode", m]);
    }
    let run = common::hoist(env, &args);
    run.expect_code(0);
    let docs = match run.json() {
        Value::Array(docs) => docs,
        doc => vec![doc],
    };
    docs
}

fn parse(docs: &[Value]) -> Vec<Policy> {
    docs.iter().map(|d| Policy::from_value(d).unwrap_or_else(|e| panic!("hoist policy printed an unparsable policy ({e:?}): {d}"))).collect()
}

/// Every action a policy document names.
fn actions_of(docs: &[Value]) -> Vec<String> {
    let mut out: Vec<String> = docs
        .iter()
        .flat_map(|d| d["Statement"].as_array().cloned().unwrap_or_default())
        .flat_map(|s| match &s["Action"] {
            Value::String(a) => vec![a.clone()],
            Value::Array(list) => list.iter().filter_map(|a| a.as_str().map(str::to_string)).collect(),
            _ => vec![],
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The documents without `action` (statements left empty dropped).
fn without(docs: &[Value], action: &str) -> Vec<Value> {
    docs.iter()
        .map(|d| {
            let mut d = d.clone();
            let statements: Vec<Value> = d["Statement"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter_map(|mut s| {
                    match &s["Action"] {
                        Value::String(a) if a == action => return None,
                        Value::Array(list) => {
                            let kept: Vec<Value> = list.iter().filter(|a| a.as_str() != Some(action)).cloned().collect();
                            if kept.is_empty() {
                                return None;
                            }
                            s["Action"] = Value::Array(kept);
                        }
                        _ => {}
                    }
                    Some(s)
                })
                .collect();
            d["Statement"] = Value::Array(statements);
            d
        })
        .collect()
}

/// The account's state, read as an administrator: what requests do not
/// carry but authorization depends on (existing tags, each role's
/// permissions boundary, each instance profile's role).
async fn snapshot(emu: &Emulator) -> Known {
    let sdk = emu.sdk_config().await;
    let iam = aws_sdk_iam::Client::new(&sdk);
    let ec2 = aws_sdk_ec2::Client::new(&sdk);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);
    let mut known = Known::default();

    let tags = ec2.describe_tags().send().await.expect("ec2:DescribeTags");
    for t in tags.tags() {
        known
            .tags
            .entry(t.resource_id().unwrap_or_default().to_string())
            .or_default()
            .push((t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string()));
    }
    for role in iam.list_roles().send().await.expect("iam:ListRoles").roles() {
        let name = role.role_name();
        let got = iam.get_role().role_name(name).send().await.expect("iam:GetRole");
        let role = got.role().expect("role");
        if let Some(b) = role.permissions_boundary().and_then(|b| b.permissions_boundary_arn()) {
            known.boundaries.insert(name.to_string(), b.to_string());
        }
        let tags = iam.list_role_tags().role_name(name).send().await.expect("iam:ListRoleTags");
        known.tags.insert(role.arn().to_string(), tags.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect());
    }
    for p in iam.list_instance_profiles().send().await.expect("iam:ListInstanceProfiles").instance_profiles() {
        let name = p.instance_profile_name();
        if let Some(role) = p.roles().first() {
            known.profile_roles.insert(name.to_string(), role.role_name().to_string());
        }
        // (moto has no ListInstanceProfileTags; GetInstanceProfile carries them.)
        let got = iam.get_instance_profile().instance_profile_name(name).send().await.expect("iam:GetInstanceProfile");
        let tags = got.instance_profile().map(|p| p.tags()).unwrap_or_default();
        known.tags.insert(p.arn().to_string(), tags.iter().map(|t| (t.key().to_string(), t.value().to_string())).collect());
    }
    for g in logs.describe_log_groups().send().await.expect("logs:DescribeLogGroups").log_groups() {
        let name = g.log_group_name().unwrap_or_default();
        let arn = format!("arn:{PARTITION}:logs:{REGION}:{ACCOUNT}:log-group:{name}");
        let tags = logs.list_tags_for_resource().resource_arn(&arn).send().await.expect("logs:ListTagsForResource");
        known.tags.insert(arn, tags.tags().map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default());
    }
    known
}

/// One command of the scenario, as recorded.
struct Step {
    /// The hoist command (`init`, `status`, `destroy`).
    command: String,
    calls: Vec<Call>,
    /// The account before the command, and after it.
    before: Known,
    after: Known,
}

impl Step {
    /// Each call with the state it was authorized in: the state before the
    /// command, followed through the command's own requests
    /// (`Known::apply`: tags, boundaries, roles created), plus the tags of
    /// EC2 resources the command created (a new security group's id is in
    /// no request before it exists; "after" holds its tags).
    fn calls_in_state(&self) -> Vec<(&Call, Known)> {
        let mut known = self.before.clone();
        for (id, tags) in &self.after.tags {
            if !id.starts_with("arn:") && !known.tags.contains_key(id) {
                known.tags.insert(id.clone(), tags.clone());
            }
        }
        let mut out = Vec::new();
        for call in &self.calls {
            out.push((call, known.clone()));
            known.apply(call, ACCOUNT, REGION, PARTITION);
        }
        out
    }
}

async fn run_step(emu: &Emulator, env: &mut IsolatedEnv, n: usize, args: &[&str]) -> Step {
    let file = env.path().join(format!("wire-{n}.jsonl"));
    let before = snapshot(emu).await;
    env.set("HOIST_RECORD_CALLS", &file);
    let run = common::hoist(env, args);
    env.remove("HOIST_RECORD_CALLS");
    run.expect_code(0);
    let after = snapshot(emu).await;
    let calls = CallLog::read_file(&file).expect("read the recorded calls");
    assert!(!calls.is_empty(), "`hoist {}` recorded nothing", args.join(" "));
    Step { command: args[0].to_string(), calls, before, after }
}

/// An administrator's changes between the two inits, which the second
/// must repair (the same drift as tests/least_privilege.rs, in workspace
/// `team`, plus a role whose permissions boundary was removed).
async fn drift(emu: &Emulator) {
    let admin = emu.sdk_config().await;
    let iam = aws_sdk_iam::Client::new(&admin);
    let ec2 = aws_sdk_ec2::Client::new(&admin);
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&admin).force_path_style(true).build());
    let logs = aws_sdk_cloudwatchlogs::Client::new(&admin);
    let ws = WORKSPACE;
    let open = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#;
    iam.update_assume_role_policy().role_name(format!("hoist-{ws}-sagemaker")).policy_document(open).send().await.unwrap();
    iam.delete_role_permissions_boundary().role_name(format!("hoist-{ws}-sagemaker")).send().await.unwrap();
    iam.untag_role().role_name(format!("hoist-{ws}-instance")).tag_keys("hoist:managed").send().await.unwrap();
    iam.untag_instance_profile().instance_profile_name(format!("hoist-{ws}-instance")).tag_keys("hoist:managed").send().await.unwrap();
    iam.create_role().role_name("stray").assume_role_policy_document(open).send().await.unwrap();
    iam.remove_role_from_instance_profile()
        .instance_profile_name(format!("hoist-{ws}-instance"))
        .role_name(format!("hoist-{ws}-instance"))
        .send()
        .await
        .unwrap();
    iam.add_role_to_instance_profile().instance_profile_name(format!("hoist-{ws}-instance")).role_name("stray").send().await.unwrap();
    let read_only = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
    let extra = iam.create_policy().policy_name("extra").policy_document(read_only).send().await.unwrap();
    let extra_arn = extra.policy().unwrap().arn().unwrap().to_string();
    iam.attach_role_policy().role_name(format!("hoist-{ws}-instance")).policy_arn(&extra_arn).send().await.unwrap();
    let sgs = ec2
        .describe_security_groups()
        .filters(aws_sdk_ec2::types::Filter::builder().name("group-name").values(format!("hoist-{ws}")).build())
        .send()
        .await
        .unwrap();
    let sg = sgs.security_groups()[0].group_id().unwrap().to_string();
    let all = aws_sdk_ec2::types::IpPermission::builder()
        .ip_protocol("-1")
        .ip_ranges(aws_sdk_ec2::types::IpRange::builder().cidr_ip("0.0.0.0/0").build())
        .build();
    ec2.authorize_security_group_ingress().group_id(&sg).ip_permissions(all.clone()).send().await.unwrap();
    ec2.revoke_security_group_egress().group_id(&sg).ip_permissions(all).send().await.unwrap();
    ec2.delete_tags().resources(&sg).tags(aws_sdk_ec2::types::Tag::builder().key("hoist:managed").build()).send().await.unwrap();
    let group_arn = format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/hoist/{ws}/jobs");
    logs.untag_resource().resource_arn(&group_arn).tag_keys("hoist:managed").send().await.unwrap();
    let bucket = format!("hoist-{ws}-{ACCOUNT}-{REGION}");
    let only_workspace = aws_sdk_s3::types::Tagging::builder()
        .tag_set(aws_sdk_s3::types::Tag::builder().key("hoist:workspace").value(ws).build().unwrap())
        .build()
        .unwrap();
    s3.put_bucket_tagging().bucket(&bucket).tagging(only_workspace).send().await.unwrap();
    // Objects for destroy to empty: two versions of one key, and an
    // unfinished upload.
    for body in [&b"{}"[..], &b"{\"v\":2}"[..]] {
        s3.put_object().bucket(&bucket).key("jobs/x/job.json").body(body.to_vec().into()).send().await.unwrap();
    }
    s3.create_multipart_upload().bucket(&bucket).key("jobs/x/big").send().await.unwrap();
    // What jobs leave for destroy: a running instance and a secret.
    let tags = aws_sdk_ec2::types::TagSpecification::builder()
        .resource_type(aws_sdk_ec2::types::ResourceType::Instance)
        .tags(aws_sdk_ec2::types::Tag::builder().key("hoist:managed").value("true").build())
        .tags(aws_sdk_ec2::types::Tag::builder().key("hoist:workspace").value(ws).build())
        .build();
    ec2.run_instances().image_id("ami-12c6146b").instance_type("m5.large".into()).min_count(1).max_count(1).tag_specifications(tags).send().await.unwrap();
    let sm = aws_sdk_secretsmanager::Client::new(&admin);
    let tag = |k: &str, v: &str| aws_sdk_secretsmanager::types::Tag::builder().key(k).value(v).build();
    sm.create_secret().name(format!("hoist/{ws}/TOKEN")).secret_string("v").tags(tag("hoist:managed", "true")).tags(tag("hoist:workspace", ws)).send().await.unwrap();
}

fn context(a: &Authz) -> Context {
    // Keys AWS supplies with every request of this scenario: over TLS (the
    // SDK's endpoints are HTTPS; the loopback emulator stands in for them),
    // in this region, by a principal of this account.
    let mut ctx = Context::new()
        .with("aws:SecureTransport", "true")
        .with("aws:RequestedRegion", REGION)
        .with("aws:PrincipalAccount", ACCOUNT);
    for (k, v) in a.context_map() {
        ctx = ctx.with_all(&k, v);
    }
    ctx
}

fn decide(policies: &[Policy], a: &Authz) -> Decision {
    let ctx = context(a);
    evaluate(policies, None, &Request { action: &a.action, resource: &a.resource, context: &ctx }).decision
}

fn names_workspace(s: &str) -> bool {
    s.contains(&format!("hoist-{WORKSPACE}-")) || s.contains(&format!("/hoist/{WORKSPACE}/")) || s.contains(&format!(":secret:hoist/{WORKSPACE}/"))
}

/// `team`'s names and tags as `team-a`'s.
fn to_other(s: &str) -> String {
    s.replace(&format!("hoist-{WORKSPACE}-"), &format!("hoist-{OTHER}-"))
        .replace(&format!("/hoist/{WORKSPACE}/"), &format!("/hoist/{OTHER}/"))
        .replace(&format!(":secret:hoist/{WORKSPACE}/"), &format!(":secret:hoist/{OTHER}/"))
}

fn map_context(a: &Authz, f: impl Fn(&str, &str) -> Option<String>) -> Authz {
    Authz { context: a.context.iter().filter_map(|(k, v)| f(k, v).map(|v| (k.clone(), v))).collect(), ..a.clone() }
}

fn is_workspace_tag(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k == "aws:resourcetag/hoist:workspace" || k == "aws:requesttag/hoist:workspace"
}

/// A rewrite of one authorization, aiming it elsewhere.
type Rewrite = fn(&Authz) -> Authz;

/// The out-of-scope variants of a request: each rewrite is applied to all
/// of the request's authorizations (AWS allows a request only if all of
/// them are allowed, so the variant must fail at least one).
const VARIANTS: &[(&str, Rewrite)] = &[
    ("workspace team-a (its names and tags)", |a| {
        let a = Authz { resource: to_other(&a.resource), ..a.clone() };
        map_context(&a, |k, v| Some(if is_workspace_tag(k) && v == WORKSPACE { OTHER.to_string() } else { to_other(v) }))
    }),
    ("a resource tagged for team-a", |a| {
        if names_workspace(&a.resource) {
            return a.clone();
        }
        map_context(a, |k, v| Some(if is_workspace_tag(k) && v == WORKSPACE { OTHER.to_string() } else { v.to_string() }))
    }),
    ("an untagged resource", |a| {
        if names_workspace(&a.resource) {
            return a.clone();
        }
        map_context(a, |k, v| (!k.to_ascii_lowercase().starts_with("aws:resourcetag/")).then(|| v.to_string()))
    }),
    // A new resource (`…/*`) created without the workspace's tags.
    ("a new resource without the workspace's tags", |a| {
        if names_workspace(&a.resource) || !a.resource.ends_with("/*") {
            return a.clone();
        }
        map_context(a, |k, v| {
            let k = k.to_ascii_lowercase();
            (!k.starts_with("aws:requesttag/") && k != "aws:tagkeys").then(|| v.to_string())
        })
    }),
    // An existing EC2 resource of the workspace (ownership by tag) tagged
    // into another workspace.
    ("the workspace's security group, re-labelled for team-a", |a| {
        let existing = a.context.iter().any(|(k, _)| k.to_ascii_lowercase().starts_with("aws:resourcetag/"));
        if a.action != "ec2:CreateTags" || !existing {
            return a.clone();
        }
        let mut a = map_context(a, |k, v| (!k.eq_ignore_ascii_case("aws:RequestTag/hoist:workspace")).then(|| v.to_string()));
        a.context.push(("aws:RequestTag/hoist:workspace".into(), OTHER.into()));
        if !a.get("aws:TagKeys").contains(&"hoist:workspace") {
            a.context.push(("aws:TagKeys".into(), "hoist:workspace".into()));
        }
        a
    }),
    ("team-a's permissions boundary", |a| {
        map_context(a, |k, v| Some(if k.eq_ignore_ascii_case("iam:PermissionsBoundary") { to_other(v) } else { v.to_string() }))
    }),
    ("a role without a permissions boundary", |a| map_context(a, |k, v| (!k.eq_ignore_ascii_case("iam:PermissionsBoundary")).then(|| v.to_string()))),
    ("a role that is not hoist's (Admin)", |a| match a.resource.split_once(":role/") {
        Some((prefix, _)) => Authz { resource: format!("{prefix}:role/Admin"), ..a.clone() },
        None => a.clone(),
    }),
    ("a bucket, log group, instance profile or policy that is not hoist's", |a| {
        let r = &a.resource;
        let resource = if let Some(rest) = r.strip_prefix("arn:aws:s3:::") {
            match rest.split_once('/') {
                Some((_, key)) => format!("arn:aws:s3:::someone-elses-bucket/{key}"),
                None => "arn:aws:s3:::someone-elses-bucket".to_string(),
            }
        } else if r.contains(&format!(":log-group:/hoist/{WORKSPACE}/")) {
            r.replace(&format!(":log-group:/hoist/{WORKSPACE}/jobs"), ":log-group:/aws/lambda/x")
        } else if let Some((prefix, _)) = r.split_once(":instance-profile/") {
            format!("{prefix}:instance-profile/Admin")
        } else if let Some((prefix, _)) = r.split_once(":policy/") {
            format!("{prefix}:policy/Admin")
        } else {
            r.clone()
        };
        Authz { resource, ..a.clone() }
    }),
];

/// Out-of-scope variants the policy is known to allow, accepted with a
/// reason: (variant, action of the allowed request, reason). Empty: every
/// variant must be denied.
const ACCEPTED: &[(&str, &str, &str)] = &[
    (
        "team-a's permissions boundary",
        "iam:DeleteRole",
        "deleting a workspace role (by its exact name) is no escalation: it can only be re-created bounded; not conditioned, since tools disagree on whether DeleteRole supports iam:PermissionsBoundary",
    ),
    (
        "a role without a permissions boundary",
        "iam:DeleteRole",
        "as above: destroy must be able to delete a workspace role made before hoist used boundaries",
    ),
];

fn show(a: &Authz) -> String {
    if a.context.is_empty() {
        format!("{} on {}", a.action, a.resource)
    } else {
        let ctx: Vec<String> = a.context.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{} on {} [{}]", a.action, a.resource, ctx.join(", "))
    }
}

/// The scenario and both halves of the proof. `mode`: the set-up mode
/// (`self-service`, `admin`) for `hoist policy --mode` and HOIST_MODE; None
/// for hoist's default (self-service). An admin-mode proof needs the
/// administrator's template applied first (init then only verifies, and
/// destroy refuses): run the same evaluation over `init` and `status`.
async fn prove(mode: Option<&str>) {
    let emu = Emulator::start();
    let mut env = emu.env();
    env.set("HOIST_WORKSPACE", WORKSPACE);
    if let Some(m) = mode {
        env.set("HOIST_MODE", m);
    }
    env.write_hoist_config("bucket_versioning = true\n");
    let docs = user_policies(&env, mode);
    let policies = parse(&docs);
    let verbose = std::env::var_os("HOIST_WIRE_PROOF_VERBOSE").is_some();

    // The scenario, run with an administrator's keys (the emulator does not
    // enforce IAM here: the proof is hoist-iam's). What only an
    // administrator may do (the permissions boundary's life cycle) is told
    // apart below and must be denied to the user.
    let mut steps = Vec::new();
    steps.push(run_step(&emu, &mut env, 0, &["init", "--yes"]).await);
    drift(&emu).await;
    steps.push(run_step(&emu, &mut env, 1, &["init", "--yes"]).await);
    steps.push(run_step(&emu, &mut env, 2, &["status"]).await);
    steps.push(run_step(&emu, &mut env, 3, &["destroy", "--yes"]).await);

    let mut untranslatable = Vec::new();
    let mut not_allowed = Vec::new();
    let mut admin_allowed = Vec::new();
    let mut leaks = Vec::new();
    let mut unscoped_unlisted = Vec::new();
    let (mut requests, mut authorizations, mut admin_requests, mut variants_checked) = (0, 0, 0, 0);
    let mut per_action: BTreeMap<String, usize> = BTreeMap::new();
    let mut per_variant: BTreeMap<&str, usize> = BTreeMap::new();
    for step in &steps {
        let admin_ops = hoist_aws::commands::admin_ops(&step.command);
        for (call, known) in step.calls_in_state() {
            requests += 1;
            let authz = match authorize(call, ACCOUNT, REGION, PARTITION, &known) {
                Ok(a) => a,
                Err(e) => {
                    untranslatable.push(format!("hoist {}: {e}", step.command));
                    continue;
                }
            };
            authorizations += authz.len();
            if verbose {
                eprintln!("hoist {}: {}:{} {:?}", step.command, call.service, call.operation, call.request);
                for a in &authz {
                    eprintln!("    {}", show(a));
                }
            }
            let is_admin = admin_ops.iter().any(|op| op.service == call.service && op.name == call.operation);
            if is_admin {
                // The boundary's life cycle: an administrator's, never the
                // user's (a user who could edit the boundary could widen it).
                admin_requests += 1;
                if !authz.is_empty() && authz.iter().all(|a| decide(&policies, a) == Decision::Allow) {
                    admin_allowed.push(format!("hoist {}: {}:{}", step.command, call.service, call.operation));
                }
                continue;
            }
            for a in &authz {
                *per_action.entry(a.action.clone()).or_default() += 1;
                let d = decide(&policies, a);
                if d != Decision::Allow {
                    not_allowed.push(format!("hoist {}: {}:{} needs {} ({d:?})", step.command, call.service, call.operation, show(a)));
                }
            }
            // Scope: every variant that changes the request is denied.
            let mut changed = false;
            for (name, rewrite) in VARIANTS {
                let variant: Vec<Authz> = authz.iter().map(rewrite).collect();
                if variant == authz {
                    continue;
                }
                changed = true;
                variants_checked += 1;
                *per_variant.entry(*name).or_default() += 1;
                let accepted = ACCEPTED.iter().any(|(v, action, _)| v == name && variant.iter().any(|a| a.action == *action));
                if !accepted && variant.iter().all(|a| decide(&policies, a) == Decision::Allow) {
                    let shown: Vec<String> = variant.iter().map(show).collect();
                    leaks.push(format!("hoist {}: {}:{} aimed at {name} is allowed: {}", step.command, call.service, call.operation, shown.join("; ")));
                }
            }
            if !changed {
                for a in &authz {
                    if !UNSCOPED.iter().any(|(action, _)| *action == a.action) {
                        unscoped_unlisted.push(format!("hoist {}: {} has no out-of-scope variant and is not in UNSCOPED", step.command, show(a)));
                    }
                }
            }
        }
    }

    eprintln!(
        "wire proof (mode {}): {requests} requests recorded over {} commands, {authorizations} authorizations \
         ({admin_requests} administrator-only requests), {variants_checked} out-of-scope variants checked",
        mode.unwrap_or("default"),
        steps.len()
    );
    for step in &steps {
        eprintln!("  hoist {:<8} {} requests", step.command, step.calls.len());
    }
    for (action, n) in &per_action {
        eprintln!("  {n:>4}  {action}");
    }
    for (name, n) in &per_variant {
        eprintln!("  {n:>4}  requests aimed at {name}, each denied");
    }
    for (variant, action, reason) in ACCEPTED {
        eprintln!("  accepted: {action} aimed at {variant}: {reason}");
    }
    for (action, reason) in UNSCOPED {
        eprintln!("  not scopable: {action}: {reason}");
    }
    // The proof is not vacuous: without any one action the requests need,
    // some request is denied (a wildcard or a duplicate grant would show
    // here as an action nothing depends on).
    let mut vacuous = Vec::new();
    let mut allowed_authz: Vec<&Authz> = Vec::new();
    let all: Vec<(String, Vec<Authz>)> = steps
        .iter()
        .flat_map(|s| {
            let admin_ops = hoist_aws::commands::admin_ops(&s.command);
            s.calls_in_state()
                .into_iter()
                .filter(|(c, _)| !admin_ops.iter().any(|op| op.service == c.service && op.name == c.operation))
                .filter_map(|(c, known)| authorize(c, ACCOUNT, REGION, PARTITION, &known).ok().map(|a| (s.command.clone(), a)))
                .collect::<Vec<_>>()
        })
        .collect();
    for (_, authz) in &all {
        allowed_authz.extend(authz.iter());
    }
    for action in per_action.keys() {
        let reduced = parse(&without(&docs, action));
        if allowed_authz.iter().filter(|a| a.action == *action).all(|a| decide(&reduced, a) == Decision::Allow) {
            vacuous.push(format!("{action}: still allowed without it (granted by a wildcard or twice?)"));
        }
    }
    let exercised: Vec<&String> = per_action.keys().collect();
    let unexercised: Vec<String> = actions_of(&docs).into_iter().filter(|a| !exercised.contains(&a)).collect();
    eprintln!("  granted but not needed by this scenario (other commands' needs): {}", unexercised.join(", "));

    let mut failures = Vec::new();
    for (title, list) in [
        ("requests the proof cannot translate", &untranslatable),
        ("requests hoist sends that the policy does not allow", &not_allowed),
        ("administrator-only requests the user's policy allows", &admin_allowed),
        ("out-of-scope variants the policy allows", &leaks),
        ("requests without any out-of-scope variant", &unscoped_unlisted),
        ("actions the proof does not depend on", &vacuous),
    ] {
        if !list.is_empty() {
            let mut list = list.clone();
            list.dedup();
            failures.push(format!("{title} ({}):\n  {}", list.len(), list.join("\n  ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[tokio::test]
async fn hoist_sends_only_what_its_policy_allows_and_nothing_outside_the_workspace() {
    prove(None).await;
}
