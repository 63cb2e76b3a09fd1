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
    /// Files larger than this go up in parts of (at least) this size.
    part_size: u64,
}

/// Told of uploads of files as they go (a CLI shows a progress bar).
pub trait TransferObserver: Send + Sync {
    fn started(&self, key: &str, total: u64);
    /// `bytes` more of `key` were sent.
    fn advanced(&self, key: &str, bytes: u64);
    fn finished(&self, key: &str);
}

static OBSERVER: std::sync::OnceLock<Box<dyn TransferObserver>> = std::sync::OnceLock::new();

/// Tell `observer` of every file upload this process makes (once; later
/// calls are ignored).
pub fn observe_transfers(observer: Box<dyn TransferObserver>) {
    let _ = OBSERVER.set(observer);
}

/// Reports an upload's end to the observer however it ends.
struct Observed<'a>(&'a str);

impl<'a> Observed<'a> {
    fn start(key: &'a str, total: u64) -> Self {
        if let Some(o) = OBSERVER.get() {
            o.started(key, total);
        }
        Self(key)
    }

    fn advance(&self, bytes: u64) {
        if let Some(o) = OBSERVER.get() {
            o.advanced(self.0, bytes);
        }
    }
}

impl Drop for Observed<'_> {
    fn drop(&mut self) {
        if let Some(o) = OBSERVER.get() {
            o.finished(self.0);
        }
    }
}

/// Parts of a multipart upload sent at once.
pub const PART_CONCURRENCY: usize = 4;
/// The default part size: 64 MiB (S3's minimum is 5 MiB, its maximum
/// part count 10,000). `HOIST_S3_PART_SIZE` (bytes) overrides it.
pub const DEFAULT_PART_SIZE: u64 = 64 << 20;
const MIN_PART_SIZE: u64 = 5 << 20;
const MAX_PARTS: u64 = 10_000;

/// The part size for a file of `size` bytes: the configured size, grown
/// so the file fits in S3's 10,000 parts.
pub fn part_size_for(size: u64, configured: u64) -> u64 {
    configured.max(MIN_PART_SIZE).max(size.div_ceil(MAX_PARTS))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectEntry {
    pub key: String,
    pub size: u64,
    /// Changes whenever the object does.
    pub etag: String,
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
        let part_size = std::env::var("HOIST_S3_PART_SIZE").ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_PART_SIZE);
        Self { session: session.clone(), client: session.s3_client(), name: name.into(), part_size }
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

    fn local_error(&self, op: crate::Op, key: &str, message: String) -> AwsError {
        AwsError { op, resource: Some(self.arn(key)), endpoint: String::new(), kind: ErrorKind::Other(message) }
    }

    /// A stream of `len` bytes of the file from `offset`, read as it is
    /// sent (never the whole file in memory).
    async fn file_part(&self, op: crate::Op, key: &str, path: &Path, offset: u64, len: u64) -> Result<ByteStream, AwsError> {
        ByteStream::read_from()
            .path(path)
            .offset(offset)
            .length(aws_sdk_s3::primitives::Length::Exact(len))
            .build()
            .await
            .map_err(|e| self.local_error(op, key, format!("cannot read {}: {e}", path.display())))
    }

    /// Upload a file, streamed from disk: one PutObject up to the part
    /// size, else a multipart upload of parts sent [`PART_CONCURRENCY`] at
    /// a time (aborted if any part fails, so no parts are left billing).
    pub async fn put_file(&self, key: &str, path: &Path) -> Result<(), AwsError> {
        let size = std::fs::metadata(path)
            .map_err(|e| self.local_error(ops::PUT_OBJECT, key, format!("cannot read {}: {e}", path.display())))?
            .len();
        let part_size = part_size_for(size, self.part_size);
        let observed = Observed::start(key, size);
        if size <= part_size {
            let body = self.file_part(ops::PUT_OBJECT, key, path, 0, size).await?;
            let req = self.client.put_object().bucket(&self.name).key(key).body(body).send();
            self.session.call(ops::PUT_OBJECT, Some(&self.arn(key)), req).await?;
            observed.advance(size);
            return Ok(());
        }
        let req = self.client.create_multipart_upload().bucket(&self.name).key(key).send();
        let upload = self.session.call(ops::CREATE_MULTIPART_UPLOAD, Some(&self.arn(key)), req).await?;
        let upload_id = upload.upload_id().unwrap_or_default().to_string();
        match self.upload_parts(key, path, size, part_size, &upload_id, &observed).await {
            Ok(parts) => {
                let done = aws_sdk_s3::types::CompletedMultipartUpload::builder().set_parts(Some(parts)).build();
                let req = self
                    .client
                    .complete_multipart_upload()
                    .bucket(&self.name)
                    .key(key)
                    .upload_id(&upload_id)
                    .multipart_upload(done)
                    .send();
                self.session.call(ops::COMPLETE_MULTIPART_UPLOAD, Some(&self.arn(key)), req).await.map(drop)
            }
            Err(e) => {
                let req = self.client.abort_multipart_upload().bucket(&self.name).key(key).upload_id(&upload_id).send();
                if let Err(abort) = self.session.call(ops::ABORT_MULTIPART_UPLOAD, Some(&self.arn(key)), req).await {
                    tracing::warn!("could not abort the multipart upload of {key}: {abort}");
                }
                Err(e)
            }
        }
    }

    async fn upload_parts(
        &self,
        key: &str,
        path: &Path,
        size: u64,
        part_size: u64,
        upload_id: &str,
        observed: &Observed<'_>,
    ) -> Result<Vec<aws_sdk_s3::types::CompletedPart>, AwsError> {
        use futures_util::StreamExt as _;
        let count = size.div_ceil(part_size);
        let sends = (0..count).map(|i| async move {
            let offset = i * part_size;
            let len = part_size.min(size - offset);
            let number = (i + 1) as i32;
            let body = self.file_part(ops::UPLOAD_PART, key, path, offset, len).await?;
            let req = self
                .client
                .upload_part()
                .bucket(&self.name)
                .key(key)
                .upload_id(upload_id)
                .part_number(number)
                .content_length(len as i64)
                .body(body)
                .send();
            let out = self.session.call(ops::UPLOAD_PART, Some(&self.arn(key)), req).await?;
            observed.advance(len);
            Ok::<_, AwsError>(aws_sdk_s3::types::CompletedPart::builder().part_number(number).set_e_tag(out.e_tag().map(str::to_string)).build())
        });
        let mut parts: Vec<aws_sdk_s3::types::CompletedPart> =
            futures_util::stream::iter(sends).buffer_unordered(PART_CONCURRENCY).collect::<Vec<_>>().await.into_iter().collect::<Result<_, _>>()?;
        parts.sort_by_key(|p| p.part_number());
        Ok(parts)
    }

    /// Download an object into `dest`, streamed (never whole in memory),
    /// via a temporary file renamed into place. False if no such key.
    pub async fn get_to_file(&self, key: &str, dest: &Path) -> Result<bool, AwsError> {
        use tokio::io::AsyncWriteExt as _;
        let req = self.client.get_object().bucket(&self.name).key(key).send();
        let out = match self.session.call(ops::GET_OBJECT, Some(&self.arn(key)), req).await {
            Ok(out) => out,
            Err(e) if e.code() == Some("NoSuchKey") => return Ok(false),
            Err(e) => return Err(e),
        };
        let mut tmp_name = dest.file_name().unwrap_or_default().to_os_string();
        tmp_name.push(format!(".tmp-{}", std::process::id()));
        let tmp = dest.with_file_name(tmp_name);
        let io = |e: std::io::Error| self.local_error(ops::GET_OBJECT, key, format!("writing {}: {e}", dest.display()));
        let mut file = tokio::fs::File::create(&tmp).await.map_err(io)?;
        let mut body = out.body;
        loop {
            match body.next().await {
                Some(Ok(chunk)) => file.write_all(&chunk).await.map_err(io)?,
                Some(Err(e)) => {
                    let _ = tokio::fs::remove_file(&tmp).await;
                    return Err(AwsError {
                        op: ops::GET_OBJECT,
                        resource: Some(self.arn(key)),
                        endpoint: self.session.endpoint_description("s3"),
                        kind: ErrorKind::Other(format!("reading the response body: {e}")),
                    });
                }
                None => break,
            }
        }
        file.flush().await.map_err(io)?;
        drop(file);
        tokio::fs::rename(&tmp, dest).await.map_err(io)?;
        Ok(true)
    }

    /// The object's bytes and ETag, or `None` if there is no such key.
    pub async fn get_versioned(&self, key: &str) -> Result<Option<(Vec<u8>, String)>, AwsError> {
        let req = self.client.get_object().bucket(&self.name).key(key).send();
        match self.session.call(ops::GET_OBJECT, Some(&self.arn(key)), req).await {
            Ok(out) => {
                let etag = out.e_tag().unwrap_or_default().to_string();
                let bytes = out.body.collect().await.map_err(|e| AwsError {
                    op: ops::GET_OBJECT,
                    resource: Some(self.arn(key)),
                    endpoint: self.session.endpoint_description("s3"),
                    kind: ErrorKind::Other(format!("reading the response body: {e}")),
                })?;
                Ok(Some((bytes.into_bytes().to_vec(), etag)))
            }
            Err(e) if e.code() == Some("NoSuchKey") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Write only if the object is as the caller last saw it: `expect`
    /// `None` means "must not exist yet" (If-None-Match: *), `Some(etag)`
    /// "must still have this ETag" (If-Match). `Ok(None)` when the
    /// condition failed (someone else wrote first); else the new ETag.
    pub async fn put_if(&self, key: &str, body: Vec<u8>, expect: Option<&str>) -> Result<Option<String>, AwsError> {
        let mut req = self.client.put_object().bucket(&self.name).key(key).body(ByteStream::from(body));
        req = match expect {
            None => req.if_none_match("*"),
            Some(etag) => req.if_match(etag),
        };
        match self.session.call(ops::PUT_OBJECT, Some(&self.arn(key)), req.send()).await {
            Ok(out) => Ok(Some(out.e_tag().unwrap_or_default().to_string())),
            // 412: the condition failed. 409: a concurrent conditional
            // write is in flight; the caller re-reads and tries again. 404:
            // If-Match on an object that is gone.
            Err(e) if matches!(e.code(), Some("PreconditionFailed" | "ConditionalRequestConflict" | "NoSuchKey" | "HTTP 412" | "HTTP 409")) => Ok(None),
            Err(e) => Err(e),
        }
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
                    entries.push(ObjectEntry {
                        key: key.to_string(),
                        size: obj.size().unwrap_or(0).max(0) as u64,
                        etag: obj.e_tag().unwrap_or_default().to_string(),
                    });
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
