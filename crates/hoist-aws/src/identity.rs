//! Who the caller is, according to STS.

use serde::Serialize;

use crate::catalog;
use crate::error::AwsError;
use crate::session::Session;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallerIdentity {
    /// e.g. `arn:aws:iam::123456789012:user/alice` or
    /// `arn:aws:sts::123456789012:assumed-role/Admin/alice`.
    pub arn: String,
    pub account: String,
    pub user_id: String,
    /// `aws`, `aws-cn`, `aws-us-gov`: the second field of the ARN.
    pub partition: String,
}

/// Ask STS who we are. Needs no IAM permission, so it is also the cheapest
/// way to prove that credentials and endpoint work.
pub async fn caller_identity(session: &Session) -> Result<CallerIdentity, AwsError> {
    let client = session.sts_client();
    let out = session
        .call(catalog::sts::GET_CALLER_IDENTITY, None, client.get_caller_identity().send())
        .await?;
    let arn = out.arn.unwrap_or_default();
    Ok(CallerIdentity {
        partition: partition_of(&arn).to_string(),
        account: out.account.unwrap_or_default(),
        user_id: out.user_id.unwrap_or_default(),
        arn,
    })
}

/// The partition field of an ARN (`arn:PARTITION:service:...`); `aws` if the
/// ARN is malformed, which STS never returns.
pub fn partition_of(arn: &str) -> &str {
    arn.split(':').nth(1).filter(|p| !p.is_empty()).unwrap_or("aws")
}

#[cfg(test)]
mod tests {
    use super::partition_of;

    #[test]
    fn partition_is_read_from_the_arn() {
        assert_eq!(partition_of("arn:aws:iam::123456789012:user/a"), "aws");
        assert_eq!(partition_of("arn:aws-cn:sts::1:assumed-role/r/s"), "aws-cn");
        assert_eq!(partition_of("garbage"), "aws");
    }
}
