//! Typed classification of SDK failures.
//!
//! Decisions are made on types and AWS error codes, never on message text:
//! the SDK's wording changes between releases, codes do not.

use std::error::Error as StdError;
use std::fmt;

use aws_credential_types::provider::error::CredentialsError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::catalog::Op;

/// A failed AWS call: which operation, on what, against which endpoint,
/// and what kind of failure it was.
#[derive(Debug)]
pub struct AwsError {
    pub op: Op,
    pub resource: Option<String>,
    /// Where the request went (an override URL, or "the AWS sts endpoint in
    /// eu-west-1"), for messages about reachability.
    pub endpoint: String,
    pub kind: ErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// No credentials could be found, or AWS rejected the ones found
    /// (invalid, expired). The user must fix their credentials.
    Credentials(String),
    /// The endpoint could not be reached (refused, DNS, TLS).
    Unreachable(String),
    /// Connected, but no answer in time.
    Timeout(String),
    /// The caller lacks a permission.
    AccessDenied { code: String, message: String },
    /// Any other error AWS answered with.
    Service { code: String, message: String },
    /// Anything else (unparseable response, request construction).
    Other(String),
}

impl AwsError {
    pub fn code(&self) -> Option<&str> {
        match &self.kind {
            ErrorKind::AccessDenied { code, .. } | ErrorKind::Service { code, .. } => Some(code),
            _ => None,
        }
    }

    /// AWS's message, for errors AWS answered.
    pub fn message(&self) -> Option<&str> {
        match &self.kind {
            ErrorKind::AccessDenied { message, .. } | ErrorKind::Service { message, .. } => Some(message),
            _ => None,
        }
    }

    pub fn is_access_denied(&self) -> bool {
        matches!(self.kind, ErrorKind::AccessDenied { .. })
    }

    fn on(&self) -> String {
        match &self.resource {
            Some(r) => format!("{} on {r}", self.op),
            None => self.op.to_string(),
        }
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::Credentials(detail) => write!(
                f,
                "{} failed: no usable AWS credentials ({detail})\n{CREDENTIALS_HELP}",
                self.op
            ),
            ErrorKind::Unreachable(detail) => write!(
                f,
                "{} failed: could not reach {} ({detail})\n\
                 Check the endpoint (--endpoint-url, AWS_ENDPOINT_URL, or `endpoint_url` in \
                 hoist's config), your network and any proxy settings.",
                self.op, self.endpoint
            ),
            ErrorKind::Timeout(detail) => write!(
                f,
                "{} failed: {} did not answer in time ({detail})",
                self.op, self.endpoint
            ),
            ErrorKind::AccessDenied { code, message } => {
                write!(f, "{} was denied ({code}: {message})", self.on())?;
                // The permissions boundary's life cycle is an administrator's:
                // no user should be told to ask for these.
                let admin_only = ["init", "destroy"].iter().any(|c| crate::commands::admin_ops(c).contains(&self.op));
                match self.op.actions().as_slice() {
                    [] => Ok(()),
                    actions if admin_only => write!(f, "\nOnly an administrator does this ({}); it is never granted to users.", actions.join(", ")),
                    actions => write!(f, "\nThe caller needs IAM permission {}.", actions.join(" and ")),
                }
            }
            ErrorKind::Service { code, message } => {
                write!(f, "{} failed: {code}: {message}", self.on())
            }
            ErrorKind::Other(detail) => write!(f, "{} failed: {detail}", self.on()),
        }
    }
}

impl StdError for AwsError {}

/// How to provide credentials, shown whenever none were usable.
pub const CREDENTIALS_HELP: &str = "\
Provide AWS credentials in one of these ways:
  - environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary keys)
  - a named profile from ~/.aws/credentials or ~/.aws/config: `--profile NAME` or AWS_PROFILE=NAME
  - AWS IAM Identity Center (SSO): `aws sso login --profile NAME`, then `--profile NAME`
  - an instance role, when running on EC2 (or a task role on ECS)";

/// Error codes meaning "who you are is fine, what you asked is not allowed".
const ACCESS_DENIED_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation", // EC2
    "AuthorizationError",    // SNS and friends
    "Forbidden",
];

/// Error codes meaning "the credentials themselves were rejected".
const BAD_CREDENTIALS_CODES: &[&str] = &[
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
    "InvalidToken",
];

/// Classify an SDK failure by type and error code.
pub fn classify<E>(err: &SdkError<E, HttpResponse>) -> ErrorKind
where
    E: ProvideErrorMetadata + StdError + 'static,
{
    if let Some(creds) = find_in_chain::<CredentialsError>(err) {
        return ErrorKind::Credentials(chain_text(creds));
    }
    match err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            let (code, message) = match e.code() {
                Some(code) => (code.to_string(), e.message().unwrap_or_default().to_string()),
                // The SDK could not find the code where the protocol puts
                // it. Some servers (the moto emulator among them) wrap
                // awsQuery errors as <ErrorResponse><Errors><Error>, the
                // EC2 shape; read the code from the body rather than
                // report "Unknown".
                None => {
                    let body = service.raw().body().bytes().map(String::from_utf8_lossy).unwrap_or_default();
                    match xml_element(&body, "Code") {
                        Some(code) => (code.to_string(), xml_element(&body, "Message").unwrap_or_default().to_string()),
                        None => (
                            format!("HTTP {}", service.raw().status().as_u16()),
                            "the response carried no error code".to_string(),
                        ),
                    }
                }
            };
            classify_code(code, message)
        }
        SdkError::TimeoutError(_) => ErrorKind::Timeout(chain_text(err)),
        SdkError::DispatchFailure(dispatch) => {
            if dispatch.is_timeout() {
                ErrorKind::Timeout(chain_text(err))
            } else if dispatch.is_io() {
                ErrorKind::Unreachable(chain_text(err))
            } else {
                ErrorKind::Other(chain_text(err))
            }
        }
        _ => ErrorKind::Other(chain_text(err)),
    }
}

/// Classify an AWS error code (also used for errors that carry a code but
/// did not come through `SdkError`, e.g. S3 batch-delete entries).
pub fn classify_code(code: String, message: String) -> ErrorKind {
    // HEAD responses carry no body: S3 answers a denied HeadBucket or
    // HeadObject with a bare 403.
    if code == "HTTP 403" {
        return ErrorKind::AccessDenied { code: "AccessDenied".into(), message: "403 Forbidden (a HEAD response carries no details)".into() };
    }
    if ACCESS_DENIED_CODES.contains(&code.as_str()) {
        ErrorKind::AccessDenied { code, message }
    } else if BAD_CREDENTIALS_CODES.contains(&code.as_str()) {
        ErrorKind::Credentials(format!("{code}: {message}"))
    } else {
        ErrorKind::Service { code, message }
    }
}

/// The text of the first `<name>...</name>` element: enough to read an
/// error code out of an AWS XML error body.
fn xml_element<'a>(body: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let start = body.find(&open)? + open.len();
    let len = body[start..].find(&format!("</{name}>"))?;
    Some(body[start..start + len].trim())
}

fn find_in_chain<'a, T: StdError + 'static>(err: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        current = e.source();
    }
    None
}

/// The error and its causes on one line, without the repetition the SDK's
/// nested wrappers produce ("dispatch failure: io error: io error: ...").
fn chain_text(err: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = current {
        let text = e.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text) || text.contains(p.as_str())) {
            parts.push(text);
        } else if let Some(last) = parts.last_mut() {
            // Prefer the more specific (longer) of two overlapping messages.
            if text.len() > last.len() && text.contains(last.as_str()) {
                *last = text;
            }
        }
        current = e.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_classified() {
        assert!(matches!(
            classify_code("AccessDenied".into(), "no".into()),
            ErrorKind::AccessDenied { .. }
        ));
        assert!(matches!(
            classify_code("UnauthorizedOperation".into(), "no".into()),
            ErrorKind::AccessDenied { .. }
        ));
        assert!(matches!(
            classify_code("ExpiredToken".into(), "old".into()),
            ErrorKind::Credentials(_)
        ));
        assert_eq!(
            classify_code("NoSuchBucket".into(), "gone".into()),
            ErrorKind::Service { code: "NoSuchBucket".into(), message: "gone".into() }
        );
    }

    #[test]
    fn error_code_is_read_from_a_nonstandard_xml_body() {
        let body = "<ErrorResponse><Errors><Error><Code>InvalidClientTokenId</Code>\
                    <Message>The security token is invalid.</Message></Error></Errors></ErrorResponse>";
        assert_eq!(xml_element(body, "Code"), Some("InvalidClientTokenId"));
        assert_eq!(xml_element(body, "Message"), Some("The security token is invalid."));
        assert_eq!(xml_element("<a>b</a>", "Code"), None);
    }

    #[test]
    fn access_denied_names_operation_resource_and_action() {
        const OP: Op = Op {
            service: "s3",
            name: "PutObject",
            grants: &[crate::catalog::Grant { actions: &["s3:PutObject"], resources: &["*"], conditions: &[] }],
        };
        let err = AwsError {
            op: OP,
            resource: Some("arn:aws:s3:::b/k".into()),
            endpoint: "x".into(),
            kind: ErrorKind::AccessDenied { code: "AccessDenied".into(), message: "m".into() },
        };
        let text = err.to_string();
        assert!(text.starts_with("s3:PutObject on arn:aws:s3:::b/k was denied"), "{text}");
        assert!(text.contains("needs IAM permission s3:PutObject"), "{text}");
    }
}
