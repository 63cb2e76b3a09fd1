//! The artifact bucket: observed, created, hardened, emptied and deleted.

use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, BucketLocationConstraint, BucketVersioningStatus,
    CreateBucketConfiguration, Delete, ExpirationStatus, LifecycleRule, LifecycleRuleFilter, ObjectIdentifier,
    ObjectOwnership, OwnershipControls, OwnershipControlsRule, PublicAccessBlockConfiguration,
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
    Tag, Tagging, VersioningConfiguration,
};
use serde::Serialize;

use crate::catalog::s3 as ops;
use crate::error::AwsError;
use crate::session::Session;
use crate::tags::Tags;

/// The lifecycle rule hoist adds (found again by this id).
pub const ABORT_RULE_ID: &str = "hoist-abort-incomplete-multipart-uploads";
pub const ABORT_AFTER_DAYS: i32 = 7;
/// The bucket policy statement hoist adds (found again by this Sid).
pub const TLS_SID: &str = "HoistDenyInsecureTransport";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Encryption {
    /// `AES256` (SSE-S3) or `aws:kms`.
    pub algorithm: String,
    pub kms_key: Option<String>,
}

/// What the bucket looks like now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BucketState {
    pub tags: Tags,
    /// BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets.
    pub public_access_block: [bool; 4],
    pub encryption: Option<Encryption>,
    pub policy: Option<serde_json::Value>,
    pub ownership: Option<String>,
    /// Days after which incomplete multipart uploads are aborted by hoist's rule.
    pub abort_multipart_days: Option<i32>,
    /// `Enabled`, `Suspended`, or `None` (never enabled).
    pub versioning: Option<String>,
    /// Whether it holds no object; asked only of an untagged bucket (see
    /// [`BucketState::orphaned`]).
    pub empty: Option<bool>,
}

impl BucketState {
    /// Untagged and empty: what an `init` interrupted between CreateBucket
    /// and PutBucketTagging leaves (S3 cannot tag at creation). The name is
    /// the workspace's own, derived from the caller's account and region,
    /// and nothing in it can be lost, so it is taken as the workspace's; a
    /// bucket holding data is never taken without `--adopt`.
    pub fn orphaned(&self) -> bool {
        self.tags.is_empty() && self.empty == Some(true)
    }
}

pub struct Bucket<'a> {
    session: &'a Session,
    client: aws_sdk_s3::Client,
    pub name: String,
    arn: String,
}

fn absent(e: &AwsError, codes: &[&str]) -> bool {
    e.code().is_some_and(|c| codes.contains(&c))
}

impl<'a> Bucket<'a> {
    pub fn new(session: &'a Session, name: &str) -> Self {
        Self { session, client: session.s3_client(), name: name.to_string(), arn: format!("arn:aws:s3:::{name}") }
    }

    fn r(&self) -> Option<&str> {
        Some(&self.arn)
    }

    /// Whether the bucket exists (and is the caller's to use).
    pub async fn exists(&self) -> Result<bool, AwsError> {
        match self.session.call(ops::HEAD_BUCKET, self.r(), self.client.head_bucket().bucket(&self.name).send()).await {
            Ok(_) => Ok(true),
            Err(e) if absent(&e, &["NotFound", "NoSuchBucket", "HTTP 404"]) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// `None` if the bucket does not exist. A bucket of this name owned by
    /// someone else answers 403: that is an error, never "missing".
    pub async fn observe(&self) -> Result<Option<BucketState>, AwsError> {
        match self.session.call(ops::HEAD_BUCKET, self.r(), self.client.head_bucket().bucket(&self.name).send()).await {
            Ok(_) => {}
            Err(e) if absent(&e, &["NotFound", "NoSuchBucket", "HTTP 404"]) => return Ok(None),
            Err(e) => return Err(e),
        }
        let c = &self.client;
        let b = &self.name;
        let (tags, pab, enc, policy, own, life, ver) = tokio::join!(
            self.session.call(ops::GET_BUCKET_TAGGING, self.r(), c.get_bucket_tagging().bucket(b).send()),
            self.session.call(ops::GET_PUBLIC_ACCESS_BLOCK, self.r(), c.get_public_access_block().bucket(b).send()),
            self.session.call(ops::GET_BUCKET_ENCRYPTION, self.r(), c.get_bucket_encryption().bucket(b).send()),
            self.session.call(ops::GET_BUCKET_POLICY, self.r(), c.get_bucket_policy().bucket(b).send()),
            self.session.call(ops::GET_BUCKET_OWNERSHIP_CONTROLS, self.r(), c.get_bucket_ownership_controls().bucket(b).send()),
            self.session.call(ops::GET_BUCKET_LIFECYCLE, self.r(), c.get_bucket_lifecycle_configuration().bucket(b).send()),
            self.session.call(ops::GET_BUCKET_VERSIONING, self.r(), c.get_bucket_versioning().bucket(b).send()),
        );
        let tags = match tags {
            Ok(t) => t.tag_set().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect(),
            Err(e) if absent(&e, &["NoSuchTagSet", "NoSuchTagSetError"]) => Tags::new(),
            Err(e) => return Err(e),
        };
        let public_access_block = match pab {
            Ok(o) => o
                .public_access_block_configuration()
                .map(|p| {
                    [
                        p.block_public_acls() == Some(true),
                        p.ignore_public_acls() == Some(true),
                        p.block_public_policy() == Some(true),
                        p.restrict_public_buckets() == Some(true),
                    ]
                })
                .unwrap_or_default(),
            Err(e) if absent(&e, &["NoSuchPublicAccessBlockConfiguration"]) => [false; 4],
            Err(e) => return Err(e),
        };
        let encryption = match enc {
            Ok(o) => o
                .server_side_encryption_configuration()
                .and_then(|c| c.rules().first())
                .and_then(|r| r.apply_server_side_encryption_by_default())
                .map(|d| Encryption {
                    algorithm: d.sse_algorithm().as_str().to_string(),
                    kms_key: d.kms_master_key_id().map(str::to_owned),
                }),
            Err(e) if absent(&e, &["ServerSideEncryptionConfigurationNotFoundError"]) => None,
            Err(e) => return Err(e),
        };
        let policy = match policy {
            Ok(o) => o.policy().and_then(|p| serde_json::from_str(p).ok()),
            Err(e) if absent(&e, &["NoSuchBucketPolicy"]) => None,
            Err(e) => return Err(e),
        };
        let ownership = match own {
            Ok(o) => o
                .ownership_controls()
                .and_then(|c| c.rules().first())
                .map(|r| r.object_ownership().as_str().to_string()),
            Err(e) if absent(&e, &["OwnershipControlsNotFoundError"]) => None,
            Err(e) => return Err(e),
        };
        let abort_multipart_days = match life {
            Ok(o) => o
                .rules()
                .iter()
                .find(|r| r.id() == Some(ABORT_RULE_ID) && r.status() == &ExpirationStatus::Enabled)
                .and_then(|r| r.abort_incomplete_multipart_upload())
                .and_then(|a| a.days_after_initiation()),
            Err(e) if absent(&e, &["NoSuchLifecycleConfiguration"]) => None,
            Err(e) => return Err(e),
        };
        let versioning = ver?.status().map(|s| s.as_str().to_string());
        let empty = match tags.is_empty() {
            true => {
                let req = c.list_objects_v2().bucket(b).max_keys(1).send();
                let out = self.session.call(crate::catalog::agent::LIST_OBJECTS_V2, self.r(), req).await?;
                Some(out.key_count().unwrap_or_default() == 0 && out.contents().is_empty())
            }
            false => None,
        };
        Ok(Some(BucketState { tags, public_access_block, encryption, policy, ownership, abort_multipart_days, versioning, empty }))
    }

    /// Create the bucket in the session's region (us-east-1 takes no
    /// LocationConstraint; every other region requires one).
    pub async fn create(&self) -> Result<(), AwsError> {
        let mut req = self.client.create_bucket().bucket(&self.name);
        let region = self.session.region();
        if region != "us-east-1" {
            req = req.create_bucket_configuration(
                CreateBucketConfiguration::builder().location_constraint(BucketLocationConstraint::from(region)).build(),
            );
        }
        self.session.call(ops::CREATE_BUCKET, self.r(), req.send()).await.map(drop)
    }

    pub async fn put_tags(&self, tags: &Tags) -> Result<(), AwsError> {
        let set: Vec<Tag> = tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build().expect("set")).collect();
        let tagging = Tagging::builder().set_tag_set(Some(set)).build().expect("set");
        let req = self.client.put_bucket_tagging().bucket(&self.name).tagging(tagging).send();
        self.session.call(ops::PUT_BUCKET_TAGGING, self.r(), req).await.map(drop)
    }

    pub async fn block_public_access(&self) -> Result<(), AwsError> {
        let cfg = PublicAccessBlockConfiguration::builder()
            .block_public_acls(true)
            .ignore_public_acls(true)
            .block_public_policy(true)
            .restrict_public_buckets(true)
            .build();
        let req = self.client.put_public_access_block().bucket(&self.name).public_access_block_configuration(cfg).send();
        self.session.call(ops::PUT_PUBLIC_ACCESS_BLOCK, self.r(), req).await.map(drop)
    }

    /// Default encryption: SSE-S3, or SSE-KMS with `kms_key` (and an S3
    /// bucket key, which cuts KMS requests and cost).
    pub async fn encrypt(&self, kms_key: Option<&str>) -> Result<(), AwsError> {
        let default = match kms_key {
            Some(key) => ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::AwsKms).kms_master_key_id(key),
            None => ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::Aes256),
        }
        .build()
        .expect("algorithm set");
        let rule = ServerSideEncryptionRule::builder()
            .apply_server_side_encryption_by_default(default)
            .bucket_key_enabled(kms_key.is_some())
            .build();
        let cfg = ServerSideEncryptionConfiguration::builder().rules(rule).build().expect("rules set");
        let req = self.client.put_bucket_encryption().bucket(&self.name).server_side_encryption_configuration(cfg).send();
        self.session.call(ops::PUT_BUCKET_ENCRYPTION, self.r(), req).await.map(drop)
    }

    pub async fn put_policy(&self, policy: &serde_json::Value) -> Result<(), AwsError> {
        let req = self.client.put_bucket_policy().bucket(&self.name).policy(policy.to_string()).send();
        self.session.call(ops::PUT_BUCKET_POLICY, self.r(), req).await.map(drop)
    }

    pub async fn enforce_owner(&self) -> Result<(), AwsError> {
        let rule = OwnershipControlsRule::builder().object_ownership(ObjectOwnership::BucketOwnerEnforced).build().expect("set");
        let controls = OwnershipControls::builder().rules(rule).build().expect("set");
        let req = self.client.put_bucket_ownership_controls().bucket(&self.name).ownership_controls(controls).send();
        self.session.call(ops::PUT_BUCKET_OWNERSHIP_CONTROLS, self.r(), req).await.map(drop)
    }

    /// Replace the lifecycle configuration with hoist's one rule. (hoist
    /// owns the bucket; other rules would be drift.)
    pub async fn put_lifecycle(&self) -> Result<(), AwsError> {
        let rule = LifecycleRule::builder()
            .id(ABORT_RULE_ID)
            .status(ExpirationStatus::Enabled)
            .filter(LifecycleRuleFilter::builder().prefix("").build())
            .abort_incomplete_multipart_upload(AbortIncompleteMultipartUpload::builder().days_after_initiation(ABORT_AFTER_DAYS).build())
            .build()
            .expect("status set");
        let cfg = BucketLifecycleConfiguration::builder().rules(rule).build().expect("rules set");
        let req = self.client.put_bucket_lifecycle_configuration().bucket(&self.name).lifecycle_configuration(cfg).send();
        self.session.call(ops::PUT_BUCKET_LIFECYCLE, self.r(), req).await.map(drop)
    }

    pub async fn set_versioning(&self, enabled: bool) -> Result<(), AwsError> {
        let status = if enabled { BucketVersioningStatus::Enabled } else { BucketVersioningStatus::Suspended };
        let cfg = VersioningConfiguration::builder().status(status).build();
        let req = self.client.put_bucket_versioning().bucket(&self.name).versioning_configuration(cfg).send();
        self.session.call(ops::PUT_BUCKET_VERSIONING, self.r(), req).await.map(drop)
    }

    /// Remove everything: every object version and delete marker, and
    /// every unfinished multipart upload. Returns how many were removed.
    pub async fn empty(&self) -> Result<u64, AwsError> {
        let mut removed = 0;
        loop {
            // Always list from the start: what was listed has been deleted.
            let out = self
                .session
                .call(ops::LIST_OBJECT_VERSIONS, self.r(), self.client.list_object_versions().bucket(&self.name).send())
                .await?;
            let mut ids: Vec<ObjectIdentifier> = Vec::new();
            for v in out.versions() {
                ids.push(ObjectIdentifier::builder().key(v.key().unwrap_or_default()).set_version_id(v.version_id().map(str::to_owned)).build().expect("key"));
            }
            for m in out.delete_markers() {
                ids.push(ObjectIdentifier::builder().key(m.key().unwrap_or_default()).set_version_id(m.version_id().map(str::to_owned)).build().expect("key"));
            }
            if ids.is_empty() {
                break;
            }
            for chunk in ids.chunks(1000) {
                let delete = Delete::builder().set_objects(Some(chunk.to_vec())).quiet(true).build().expect("objects");
                let req = self.client.delete_objects().bucket(&self.name).delete(delete).send();
                let res = self.session.call(ops::DELETE_OBJECT_VERSIONS, self.r(), req).await?;
                if let Some(e) = crate::s3::first_delete_error(self.session, ops::DELETE_OBJECT_VERSIONS, &self.arn, &res) {
                    return Err(e);
                }
                removed += chunk.len() as u64;
            }
        }
        loop {
            let out = self
                .session
                .call(ops::LIST_MULTIPART_UPLOADS, self.r(), self.client.list_multipart_uploads().bucket(&self.name).send())
                .await?;
            if out.uploads().is_empty() {
                break;
            }
            for u in out.uploads() {
                let key = u.key().unwrap_or_default();
                let req = self
                    .client
                    .abort_multipart_upload()
                    .bucket(&self.name)
                    .key(key)
                    .upload_id(u.upload_id().unwrap_or_default())
                    .send();
                self.session.call(ops::ABORT_MULTIPART_UPLOAD, Some(&format!("{}/{key}", self.arn)), req).await?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    pub async fn delete(&self) -> Result<(), AwsError> {
        self.session.call(ops::DELETE_BUCKET, self.r(), self.client.delete_bucket().bucket(&self.name).send()).await.map(drop)
    }
}
