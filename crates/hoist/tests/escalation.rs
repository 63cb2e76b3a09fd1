//! Known IAM privilege-escalation methods, each expressed as the requests
//! an attacker holding hoist's generated user policy would send, shown
//! denied by that policy in both set-up modes (`hoist policy all --mode
//! self-service|admin`), evaluated with hoist-iam, conditions included.
//!
//! The methods are the published catalogue (Rhino Security Labs' "AWS IAM
//! privilege escalation", as cloudsplaining and pacu implement it) plus the
//! ones that apply to permissions boundaries. Where the self-service policy
//! does allow a role write (a workspace role that carries the boundary),
//! the test shows what it buys: the role's effective permissions (its
//! policy intersected with the boundary) stay inside the workspace, even
//! with `"Action": "*", "Resource": "*"` put on it.
//!
//! The emulator ignores conditions, so this part of the proof is here and
//! not in an end-to-end run; `least_privilege.rs` proves the same policy is
//! sufficient and minimal against the emulator.

mod common;

use common::hoist;
use hoist_iam::{Context, Decision, Policy, Request, evaluate};
use hoist_testkit::{ACCOUNT, IsolatedEnv};
use serde_json::{Value, json};

const WS: &str = "team";

fn policy_json(env: &IsolatedEnv, extra: &[&str]) -> Value {
    let mut args = vec!["policy", "-w", WS, "--account", ACCOUNT, "--region", "us-east-1", "-o", "json"];
    args.extend(extra);
    let r = hoist(env, &args);
    r.expect_code(0);
    r.json()
}

/// The user's policy in `mode`, all documents as one.
fn user_policy(env: &IsolatedEnv, mode: &str) -> Policy {
    let v = policy_json(env, &["all", "--mode", mode]);
    let statements: Vec<Value> = match v {
        Value::Array(docs) => docs.iter().flat_map(|d| d["Statement"].as_array().unwrap().clone()).collect(),
        doc => doc["Statement"].as_array().unwrap().clone(),
    };
    Policy::from_value(&json!({"Version": "2012-10-17", "Statement": statements})).unwrap()
}

fn arn(kind: &str, name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:{kind}/{name}")
}

fn boundary_arn() -> String {
    arn("policy", &format!("hoist-{WS}-boundary"))
}

fn decide(policies: &[Policy], boundary: Option<&[Policy]>, action: &str, resource: &str, ctx: &[(&str, &str)]) -> Decision {
    let mut c = Context::new().with("aws:username", "attacker").with("aws:PrincipalAccount", ACCOUNT);
    for (k, v) in ctx {
        c = c.with(k, *v);
    }
    evaluate(policies, boundary, &Request { action, resource, context: &c }).decision
}

/// One escalation method: the requests it needs, every one of which must
/// be allowed for the method to work. It is blocked when any is denied.
struct Method {
    name: &'static str,
    steps: Vec<(String, String, Vec<(&'static str, String)>)>,
}

fn step(action: &str, resource: String) -> (String, String, Vec<(&'static str, String)>) {
    (action.to_string(), resource, Vec::new())
}

fn step_ctx(action: &str, resource: String, ctx: Vec<(&'static str, String)>) -> (String, String, Vec<(&'static str, String)>) {
    (action.to_string(), resource, ctx)
}

fn methods() -> Vec<Method> {
    let admin_role = arn("role", "Admin");
    let other_ws_role = arn("role", "hoist-team-a-sagemaker");
    let sm_role = arn("role", &format!("hoist-{WS}-sagemaker"));
    let inst_role = arn("role", &format!("hoist-{WS}-instance"));
    let me = arn("user", "attacker");
    let victim = arn("user", "alice");
    let admin_policy = "arn:aws:iam::aws:policy/AdministratorAccess".to_string();
    let own_policy = arn("policy", &format!("hoist-{WS}-user-1"));
    let ec2_instance = format!("arn:aws:ec2:us-east-1:{ACCOUNT}:instance/*");
    let lambda = format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:x");
    let other_boundary = arn("policy", "wide-open");
    let pass = |role: &str, service: &str| step_ctx("iam:PassRole", role.to_string(), vec![("iam:PassedToService", service.to_string())]);
    let m = |name, steps| Method { name, steps };
    vec![
        m("CreatePolicyVersion on the user's own policy", vec![step("iam:CreatePolicyVersion", own_policy.clone())]),
        m("SetDefaultPolicyVersion on the user's own policy", vec![step("iam:SetDefaultPolicyVersion", own_policy.clone())]),
        m("CreatePolicyVersion on the workspace boundary", vec![step("iam:CreatePolicyVersion", boundary_arn())]),
        m("SetDefaultPolicyVersion on the workspace boundary", vec![step("iam:SetDefaultPolicyVersion", boundary_arn())]),
        m("DeletePolicy on the boundary, then CreatePolicy with the same name", vec![
            step("iam:DeletePolicy", boundary_arn()),
            step("iam:CreatePolicy", boundary_arn()),
        ]),
        m("CreateAccessKey for another user", vec![step("iam:CreateAccessKey", victim.clone())]),
        m("CreateLoginProfile for another user", vec![step("iam:CreateLoginProfile", victim.clone())]),
        m("UpdateLoginProfile of another user", vec![step("iam:UpdateLoginProfile", victim.clone())]),
        m("AttachUserPolicy AdministratorAccess to oneself", vec![step_ctx("iam:AttachUserPolicy", me.clone(), vec![("iam:PolicyARN", admin_policy.clone())])]),
        m("AttachGroupPolicy to one's group", vec![step("iam:AttachGroupPolicy", arn("group", "ml"))]),
        m("AttachRolePolicy AdministratorAccess to a workspace role", vec![step_ctx(
            "iam:AttachRolePolicy",
            sm_role.clone(),
            vec![("iam:PolicyARN", admin_policy.clone()), ("iam:PermissionsBoundary", boundary_arn())],
        )]),
        m("PutUserPolicy on oneself", vec![step("iam:PutUserPolicy", me.clone())]),
        m("PutGroupPolicy on one's group", vec![step("iam:PutGroupPolicy", arn("group", "ml"))]),
        m("AddUserToGroup admins", vec![step("iam:AddUserToGroup", arn("group", "admins"))]),
        m("PutRolePolicy on an administrator's role", vec![step("iam:PutRolePolicy", admin_role.clone())]),
        m("PutRolePolicy on another workspace's role", vec![step_ctx(
            "iam:PutRolePolicy",
            other_ws_role.clone(),
            vec![("iam:PermissionsBoundary", arn("policy", "hoist-team-a-boundary"))],
        )]),
        m("PutRolePolicy on a workspace role whose boundary was removed", vec![step("iam:PutRolePolicy", sm_role.clone())]),
        m("UpdateAssumeRolePolicy on an administrator's role, then assume it", vec![
            step("iam:UpdateAssumeRolePolicy", admin_role.clone()),
            step("sts:AssumeRole", admin_role.clone()),
        ]),
        m("UpdateAssumeRolePolicy on an unbounded workspace role", vec![step("iam:UpdateAssumeRolePolicy", inst_role.clone())]),
        m("CreateRole without the boundary", vec![step("iam:CreateRole", sm_role.clone())]),
        m("CreateRole with another boundary", vec![step_ctx("iam:CreateRole", sm_role.clone(), vec![("iam:PermissionsBoundary", other_boundary.clone())])]),
        m("CreateRole named outside the workspace, bounded", vec![step_ctx("iam:CreateRole", admin_role.clone(), vec![("iam:PermissionsBoundary", boundary_arn())])]),
        m("DeleteRolePermissionsBoundary on a workspace role", vec![step_ctx(
            "iam:DeleteRolePermissionsBoundary",
            sm_role.clone(),
            vec![("iam:PermissionsBoundary", boundary_arn())],
        )]),
        m("PutRolePermissionsBoundary to a wider policy", vec![step_ctx("iam:PutRolePermissionsBoundary", sm_role.clone(), vec![("iam:PermissionsBoundary", other_boundary)])]),
        m("DeleteUserPermissionsBoundary on oneself", vec![step("iam:DeleteUserPermissionsBoundary", me.clone())]),
        m("CreateUser, then give it keys", vec![step("iam:CreateUser", arn("user", "sock")), step("iam:CreateAccessKey", arn("user", "sock"))]),
        m("PassRole an administrator's role + RunInstances", vec![pass(&admin_role, "ec2.amazonaws.com"), step("ec2:RunInstances", ec2_instance.clone())]),
        m("PassRole an administrator's role + CreateTrainingJob", vec![
            pass(&admin_role, "sagemaker.amazonaws.com"),
            step("sagemaker:CreateTrainingJob", format!("arn:aws:sagemaker:us-east-1:{ACCOUNT}:training-job/x")),
        ]),
        m("PassRole + CreateNotebookInstance", vec![
            pass(&sm_role, "sagemaker.amazonaws.com"),
            step("sagemaker:CreateNotebookInstance", format!("arn:aws:sagemaker:us-east-1:{ACCOUNT}:notebook-instance/x")),
        ]),
        m("PassRole + Lambda CreateFunction + InvokeFunction", vec![
            pass(&admin_role, "lambda.amazonaws.com"),
            step("lambda:CreateFunction", lambda.clone()),
            step("lambda:InvokeFunction", lambda.clone()),
        ]),
        m("UpdateFunctionCode of an existing function", vec![step("lambda:UpdateFunctionCode", lambda)]),
        m("PassRole + Glue CreateDevEndpoint", vec![pass(&admin_role, "glue.amazonaws.com"), step("glue:CreateDevEndpoint", "*".into())]),
        m("PassRole + CloudFormation CreateStack", vec![
            pass(&admin_role, "cloudformation.amazonaws.com"),
            step("cloudformation:CreateStack", format!("arn:aws:cloudformation:us-east-1:{ACCOUNT}:stack/x/*")),
        ]),
        m("PassRole + Data Pipeline", vec![pass(&admin_role, "datapipeline.amazonaws.com"), step("datapipeline:CreatePipeline", "*".into())]),
        m("Instance role: AddRoleToInstanceProfile of an administrator's role", vec![step(
            "iam:AddRoleToInstanceProfile",
            arn("instance-profile", "admin-profile"),
        )]),
        m("SSM SendCommand to another instance", vec![step("ssm:SendCommand", ec2_instance)]),
    ]
}

#[test]
fn every_known_escalation_method_is_denied_in_both_modes() {
    let env = IsolatedEnv::new();
    let mut report = Vec::new();
    for mode in ["self-service", "admin"] {
        let policy = user_policy(&env, mode);
        let policies = std::slice::from_ref(&policy);
        let mut open = Vec::new();
        for method in methods() {
            let blocked = method.steps.iter().any(|(action, resource, ctx)| {
                let ctx: Vec<(&str, &str)> = ctx.iter().map(|(k, v)| (*k, v.as_str())).collect();
                decide(policies, None, action, resource, &ctx) != Decision::Allow
            });
            if !blocked {
                open.push(method.name);
            }
        }
        assert!(open.is_empty(), "{mode}: escalation methods the user policy allows: {open:?}");
        report.push(format!("{mode}: {} methods, all denied", methods().len()));
    }
    eprintln!("{}", report.join("; "));
}

#[test]
fn admin_mode_holds_no_iam_write_and_no_bucket_configuration_write() {
    let env = IsolatedEnv::new();
    let actions_of = |v: &serde_json::Value| -> Vec<String> {
        let docs = match v {
            serde_json::Value::Array(d) => d.clone(),
            d => vec![d.clone()],
        };
        docs.iter()
            .flat_map(|d| d["Statement"].as_array().unwrap().clone())
            .flat_map(|s| s["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()).collect::<Vec<_>>())
            .collect()
    };
    // The footprint is the administrator's: a user's part of it only reads.
    let footprint = actions_of(&policy_json(&env, &["init", "status", "destroy", "--mode", "admin"]));
    assert!(!footprint.is_empty());
    for a in &footprint {
        let (_, name) = a.split_once(':').unwrap();
        assert!(["Get", "List", "Describe", "Head"].iter().any(|p| name.starts_with(p)), "admin mode's footprint grants a write: {a}");
    }
    // Running jobs writes instances, secrets and job objects, and passes
    // the instance role: never an IAM or bucket-configuration write.
    let all = policy_json(&env, &["all", "--mode", "admin"]);
    for a in actions_of(&all) {
        let (service, name) = a.split_once(':').unwrap();
        let read = ["Get", "List", "Describe", "Head"].iter().any(|p| name.starts_with(p));
        assert!(!(service == "iam" && !read && a != "iam:PassRole"), "admin mode grants an IAM write: {a}");
        assert!(!(service == "s3" && name.starts_with("PutBucket")), "admin mode grants a bucket write: {a}");
    }
    let text = all.to_string();
    assert!(!text.contains("iam:Create") && !text.contains("iam:Put") && !text.contains("s3:PutBucket"), "{text}");
}

#[test]
fn a_bounded_role_stays_inside_the_workspace_whatever_is_put_on_it() {
    let env = IsolatedEnv::new();
    let policy = user_policy(&env, "self-service");
    let sm_role = arn("role", &format!("hoist-{WS}-sagemaker"));
    let bounded = [("iam:PermissionsBoundary", boundary_arn())];
    let bounded: Vec<(&str, &str)> = bounded.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // The self-service user may edit a workspace role only while it
    // carries the boundary...
    for action in ["iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:DeleteRolePolicy", "iam:PutRolePermissionsBoundary"] {
        assert_eq!(decide(std::slice::from_ref(&policy), None, action, &sm_role, &bounded), Decision::Allow, "{action}");
        assert_ne!(decide(std::slice::from_ref(&policy), None, action, &sm_role, &[]), Decision::Allow, "{action} on an unbounded role");
    }
    // ...and what such a role can do, even holding `*` on `*`, is the
    // boundary: the workspace's objects and logs, nothing else.
    let boundary = Policy::from_value(&policy_json(&env, &["--boundary"])).unwrap();
    let star = Policy::from_value(&json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})).unwrap();
    let effective = |action: &str, resource: &str| decide(std::slice::from_ref(&star), Some(std::slice::from_ref(&boundary)), action, resource, &[]);
    let bucket = format!("hoist-{WS}-{ACCOUNT}-us-east-1");
    assert_eq!(effective("s3:GetObject", &format!("arn:aws:s3:::{bucket}/jobs/j/job.json")), Decision::Allow);
    let outside = [
        ("iam:CreateUser", arn("user", "x")),
        ("iam:CreateAccessKey", arn("user", "alice")),
        ("iam:PutRolePolicy", arn("role", "Admin")),
        ("iam:AttachUserPolicy", arn("user", "attacker")),
        ("iam:PassRole", arn("role", "Admin")),
        ("sts:AssumeRole", arn("role", "Admin")),
        ("s3:GetObject", "arn:aws:s3:::someone-elses-bucket/data.csv".into()),
        ("s3:GetObject", format!("arn:aws:s3:::hoist-team-a-{ACCOUNT}-us-east-1/jobs/x")),
        ("s3:PutBucketPolicy", format!("arn:aws:s3:::{bucket}")),
        ("s3:DeleteBucket", format!("arn:aws:s3:::{bucket}")),
        ("ec2:RunInstances", format!("arn:aws:ec2:us-east-1:{ACCOUNT}:instance/*")),
        ("ec2:TerminateInstances", format!("arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-1")),
        ("secretsmanager:GetSecretValue", format!("arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:prod-db")),
        ("logs:PutLogEvents", format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/hoist/team-a/jobs:log-stream:x")),
        ("kms:Decrypt", format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/k")),
        ("lambda:InvokeFunction", format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:x")),
    ];
    for (action, resource) in &outside {
        assert_ne!(effective(action, resource), Decision::Allow, "a bounded role with *:* may {action} on {resource}");
    }
}

#[test]
fn destroy_and_init_scope_is_exact_names_not_prefixes() {
    // Workspace `team`'s policy reaches none of workspace `team-a`'s IAM
    // resources (their names share the prefix `hoist-team-`).
    let env = IsolatedEnv::new();
    let policy = user_policy(&env, "self-service");
    for name in ["hoist-team-a-sagemaker", "hoist-team-a-instance"] {
        for action in ["iam:GetRole", "iam:DeleteRole", "iam:TagRole", "iam:PassRole"] {
            assert_ne!(decide(std::slice::from_ref(&policy), None, action, &arn("role", name), &[]), Decision::Allow, "{action} {name}");
        }
    }
    assert_ne!(
        decide(std::slice::from_ref(&policy), None, "iam:GetInstanceProfile", &arn("instance-profile", "hoist-team-a-instance"), &[]),
        Decision::Allow
    );
    let text = policy_json(&env, &["all"]).to_string();
    assert!(!text.contains("iam:ListRoles") && !text.contains("iam:ListInstanceProfiles"), "no listing by prefix: {text}");
}
