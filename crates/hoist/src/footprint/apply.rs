//! Carry out a plan. Independent resources are changed concurrently (the
//! bucket, each role, the log group, the security group); the instance
//! profile waits for its role. A failure stops only its own resource; the
//! others finish, and re-running `init` converges.

use anyhow::{Result, bail};
use hoist_aws::Session;
use hoist_aws::bucket::Bucket;
use hoist_aws::iam::Iam;
use hoist_aws::log_group::LogGroups;
use hoist_aws::security_group::SecurityGroups;

use super::names::Names;
use super::plan::{Change, Step};
use super::policies::INLINE_POLICY;
use crate::printer::Printer;

pub async fn apply(session: &Session, n: &Names, changes: &[Change], printer: &Printer) -> Result<()> {
    let steps_of = |resource: &str, name: &str| -> Vec<Step> {
        changes.iter().filter(|c| c.resource == resource && c.name == name).flat_map(|c| c.steps.clone()).collect()
    };
    let run = |label: String, steps: Vec<Step>| async move {
        // What creates a resource (or puts the boundary on a role, which
        // the role's other writes are conditioned on) goes first, in order;
        // the rest only need that (the bucket's six settings, a role's
        // inline and trust policies), so they go out together.
        let (first, rest): (Vec<&Step>, Vec<&Step>) = steps.iter().partition(|s| s.goes_first());
        for step in first {
            execute(session, n, step).await?;
        }
        for result in futures_util::future::join_all(rest.into_iter().map(|step| execute(session, n, step))).await {
            result?;
        }
        if !steps.is_empty() {
            printer.status(format!("  done  {label}"));
        }
        Ok::<_, hoist_aws::AwsError>(())
    };
    // The boundary first and alone: roles are created carrying it, and
    // only an administrator may make it, so a user without the right
    // learns so before anything else has been changed.
    run(format!("boundary {}", n.boundary), steps_of("boundary", &n.boundary)).await?;
    let roles = async {
        // The profile is made alongside its role; the role goes into it
        // once both exist.
        let (add, profile): (Vec<Step>, Vec<Step>) =
            steps_of("instance profile", &n.instance_profile).into_iter().partition(|s| matches!(s, Step::AddRoleToProfile { .. }));
        let instance = async {
            let (role, profile) = tokio::join!(
                run(format!("role {}", n.instance_role), steps_of("role", &n.instance_role)),
                run(format!("instance profile {}", n.instance_profile), profile),
            );
            role.and(profile)?;
            run(format!("instance profile {} holds its role", n.instance_profile), add).await
        };
        let (sagemaker, instance) =
            tokio::join!(run(format!("role {}", n.sagemaker_role), steps_of("role", &n.sagemaker_role)), instance);
        sagemaker.and(instance)
    };
    let (bucket, roles, logs, sg) = tokio::join!(
        run(format!("bucket {}", n.bucket), steps_of("bucket", &n.bucket)),
        roles,
        run(format!("log group {}", n.log_group), steps_of("log group", &n.log_group)),
        run(format!("security group {}", n.security_group), steps_of("security group", &n.security_group)),
    );
    let failures: Vec<hoist_aws::AwsError> = [bucket, roles, logs, sg].into_iter().filter_map(Result::err).collect();
    match failures.len() {
        0 => Ok(()),
        1 => Err(failures.into_iter().next().expect("one").into()),
        k => {
            for e in &failures[1..] {
                printer.status(format!("error: {e}"));
            }
            let first = failures.into_iter().next().expect("several");
            bail!(anyhow::Error::new(first).context(format!("{k} resources could not be set up; re-run `hoist init` after fixing the cause")))
        }
    }
}

async fn execute(session: &Session, n: &Names, step: &Step) -> Result<(), hoist_aws::AwsError> {
    let bucket = || Bucket::new(session, &n.bucket);
    let iam = || Iam::new(session);
    let logs = || LogGroups::new(session);
    let sgs = || SecurityGroups::new(session);
    match step {
        Step::CreateBucket => bucket().create().await,
        Step::TagBucket(tags) => bucket().put_tags(tags).await,
        Step::BlockPublicAccess => bucket().block_public_access().await,
        Step::Encrypt(kms) => bucket().encrypt(kms.as_deref()).await,
        Step::PutBucketPolicy(policy) => bucket().put_policy(policy).await,
        Step::EnforceOwner => bucket().enforce_owner().await,
        Step::PutLifecycle => bucket().put_lifecycle().await,
        Step::SetVersioning(on) => bucket().set_versioning(*on).await,
        Step::CreateBoundary { doc, tags } => {
            let description = format!("hoist workspace {}: the most any of its roles may do", n.workspace);
            iam().create_policy(&n.boundary, &description, doc, tags).await
        }
        Step::UpdateBoundary(doc) => iam().set_policy_document(&n.boundary_arn(), doc).await,
        Step::CreateRole { name, description, trust, tags } => {
            iam().create_role(name, description, trust, &n.boundary_arn(), tags).await.map(drop)
        }
        Step::PutRoleBoundary { role } => iam().put_role_boundary(role, &n.boundary_arn()).await,
        Step::UpdateTrust { role, trust } => iam().update_trust(role, trust).await,
        Step::PutInline { role, doc } => iam().put_inline(role, INLINE_POLICY, doc).await,
        Step::TagRole { role, tags } => iam().tag_role(role, tags).await,
        Step::CreateProfile { name, tags } => iam().create_profile(name, tags).await,
        Step::TagProfile { name, tags } => iam().tag_profile(name, tags).await,
        Step::AddRoleToProfile { profile, role } => iam().add_role_to_profile(profile, role).await,
        Step::RemoveRoleFromProfile { profile, role } => iam().remove_role_from_profile(profile, role).await,
        Step::CreateLogGroup { name, tags } => logs().create(name, tags).await,
        Step::SetRetention { name, days } => logs().set_retention(name, *days).await,
        Step::TagLogGroup { name, arn, tags } => logs().tag(name, arn, tags).await,
        Step::CreateSecurityGroup { name, vpc, tags } => {
            let description = format!("hoist workspace {}: inbound only from itself", n.workspace);
            let id = sgs().create(name, vpc, &description, tags).await?;
            // Interrupted here, the next init finds the rule missing and
            // adds it (AllowSelf).
            sgs().allow_self(&id).await
        }
        Step::CloseIngress(sg) => sgs().close_ingress(sg).await,
        Step::AllowSelf(id) => sgs().allow_self(id).await,
        Step::OpenEgress(id) => sgs().open_egress(id).await,
        Step::TagSecurityGroup { id, tags } => sgs().tag(id, tags).await,
    }
}
