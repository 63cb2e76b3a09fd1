//! Objects in one bucket: the store behind job records, code bundles,
//! checkpoints and artifacts.

use std::path::Path;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};

// Job objects are the agent's: its operations (on the bucket's `jobs/`)
// are the instance role's policy.
use crate::catalog::agent as ops;
use crate::error::{AwsError, ErrorKind};
use crate::session::Session;

#[derive(Debug, Clone)]
pub struct Bucket {
    session: Session,
    client: aws_sdk_s3::Client,
    name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectEntry {
    pub key: String,
    pub size: u64,
}

/// S3 deletes at most this many keys per DeleteObjects request.
const DELETE_BATCH: usize = 1000;

/// DeleteObjects answers 200 even when some keys failed: the first failed
/// key, as an error naming it.
pub(crate) fn first_delete_error(
    session: &Session,
    op: crate::Op,
    bucket_arn: &str,
    out: &aws_sdk_s3::operation::delete_objects::DeleteObjectsOutput,
) -> Option<AwsError> {
    let failed = out.errors().first()?;
    Some(AwsError {
        op,
        resource: failed.key().map(|k| format!("{bucket_arn}/{k}")),
        endpoint: session.endpoint_description("s3"),
        kind: crate::error::classify_code(
            failed.code().unwrap_or("Unknown").to_string(),
            failed.message().unwrap_or_default().to_string(),
        ),
    })
}

impl Bucket {
    pub fn new(session: &Session, name: impl Into<String>) -> Self {
        Self { session: session.clone(), client: session.s3_client(), name: name.into() }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    fn arn(&self, key: &str) -> String {
        format!("arn:aws:s3:::{}/{key}", self.name)
    }

    pub async fn put(&self, key: &str, body: Vec<u8>) -> Result<(), AwsError> {
        let req = self.client.put_object().bucket(&self.name).key(key).body(ByteStream::from(body)).send();
        self.session.call(ops::PUT_OBJECT, Some(&self.arn(key)), req).await.map(drop)
    }

    /// Upload a file with one PutObject (up to 5 GiB, S3's single-request
    /// limit).
    pub async fn put_file(&self, key: &str, path: &Path) -> Result<(), AwsError> {
        let body = ByteStream::from_path(path).await.map_err(|e| AwsError {
            op: ops::PUT_OBJECT,
            resource: Some(self.arn(key)),
            endpoint: String::new(),
            kind: ErrorKind::Other(format!("cannot read {}: {e}", path.display())),
        })?;
        let req = self.client.put_object().bucket(&self.name).key(key).body(body).send();
        self.session.call(ops::PUT_OBJECT, Some(&self.arn(key)), req).await.map(drop)
    }

    /// The object's bytes, or `None` if there is no such key.
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, AwsError> {
        let req = self.client.get_object().bucket(&self.name).key(key).send();
        match self.session.call(ops::GET_OBJECT, Some(&self.arn(key)), req).await {
            Ok(out) => {
                let bytes = out.body.collect().await.map_err(|e| AwsError {
                    op: ops::GET_OBJECT,
                    resource: Some(self.arn(key)),
                    endpoint: self.session.endpoint_description("s3"),
                    kind: ErrorKind::Other(format!("reading the response body: {e}")),
                })?;
                Ok(Some(bytes.into_bytes().to_vec()))
            }
            Err(e) if e.code() == Some("NoSuchKey") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Whether the key exists.
    pub async fn exists(&self, key: &str) -> Result<bool, AwsError> {
        let req = self.client.head_object().bucket(&self.name).key(key).send();
        match self.session.call(ops::HEAD_OBJECT, Some(&self.arn(key)), req).await {
            Ok(_) => Ok(true),
            // HeadObject has no body, so a missing key is a bare 404.
            Err(e) if matches!(e.code(), Some("NotFound" | "NoSuchKey" | "HTTP 404")) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Every object under `prefix`, following continuation tokens.
    pub async fn list(&self, prefix: &str) -> Result<Vec<ObjectEntry>, AwsError> {
        let mut entries = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let req = self
                .client
                .list_objects_v2()
                .bucket(&self.name)
                .prefix(prefix)
                .set_continuation_token(token.take())
                .send();
            let resource = format!("arn:aws:s3:::{}", self.name);
            let out = self.session.call(ops::LIST_OBJECTS_V2, Some(&resource), req).await?;
            for obj in out.contents() {
                if let Some(key) = obj.key() {
                    entries.push(ObjectEntry { key: key.to_string(), size: obj.size().unwrap_or(0).max(0) as u64 });
                }
            }
            match out.next_continuation_token() {
                Some(t) if out.is_truncated() == Some(true) => token = Some(t.to_string()),
                _ => break,
            }
        }
        Ok(entries)
    }

    /// Delete keys, in batches of a thousand. Missing keys are not errors.
    pub async fn delete(&self, keys: &[String]) -> Result<(), AwsError> {
        for chunk in keys.chunks(DELETE_BATCH) {
            let objects: Vec<ObjectIdentifier> = chunk
                .iter()
                .map(|k| ObjectIdentifier::builder().key(k).build().expect("key is set"))
                .collect();
            let delete = Delete::builder().set_objects(Some(objects)).quiet(true).build().expect("objects are set");
            let resource = self.arn(&chunk[0]);
            let req = self.client.delete_objects().bucket(&self.name).delete(delete).send();
            let out = self.session.call(ops::DELETE_OBJECTS, Some(&resource), req).await?;
            if let Some(e) = first_delete_error(&self.session, ops::DELETE_OBJECTS, &format!("arn:aws:s3:::{}", self.name), &out) {
                return Err(e);
            }
        }
        Ok(())
    }
}
