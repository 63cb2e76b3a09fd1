//! Carry out a plan with the shared applier ([`crate::reconcile`]): the
//! plan's items and their dependencies come from [`super::plan::work`];
//! this module only says how each step is sent.

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
use crate::progress::Progress;
use crate::reconcile;

pub async fn apply(session: &Session, n: &Names, changes: &[Change], printer: &Printer) -> Result<()> {
    let work = super::plan::work(n, changes);
    let bar = Progress::steps(printer, work.iter().filter(|w| !w.steps.is_empty()).count() as u64, "setting up");
    let outcome = reconcile::apply(
        work,
        PARALLEL,
        |step: Step| async move { execute(session, n, &step).await },
        |key| {
            printer.status(format!("  done  {key}"));
            bar.inc(1);
        },
    )
    .await?;
    drop(bar);
    if !outcome.skipped.is_empty() {
        printer.status(format!("  not started (what they wait for failed): {}", outcome.skipped.join(", ")));
    }
    let mut failures: Vec<hoist_aws::AwsError> = outcome.failed.into_iter().map(|(_, e)| e).collect();
    match failures.len() {
        0 => Ok(()),
        1 => Err(failures.remove(0).into()),
        k => {
            for e in &failures[1..] {
                printer.status(format!("error: {e}"));
            }
            let first = failures.remove(0);
            bail!(anyhow::Error::new(first).context(format!("{k} resources could not be set up; re-run `hoist init` after fixing the cause")))
        }
    }
}

/// A footprint has at most eight resources: all may go at once.
const PARALLEL: usize = 8;

impl reconcile::Step for Step {
    fn goes_first(&self) -> bool {
        Step::goes_first(self)
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
