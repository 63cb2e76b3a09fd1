//! Default machine images, found through AWS's public SSM parameters (so
//! they are always the current, patched release): Amazon Linux 2023 for
//! CPU instances, the Deep Learning Base AMI (NVIDIA driver, CUDA) for GPU
//! instances. The parameter can be overridden (`ami_parameter` setting).

use crate::catalog::ssm as ops;
use crate::error::AwsError;
use crate::session::Session;

/// The SSM parameter naming the default image for an architecture
/// (`x86_64` or `arm64`) with or without GPUs.
pub fn default_parameter(architecture: &str, gpu: bool) -> String {
    if gpu {
        format!("/aws/service/deeplearning/ami/{architecture}/base-oss-nvidia-driver-gpu-amazon-linux-2023/latest/ami-id")
    } else {
        format!("/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{architecture}")
    }
}

/// The parameter's value (an AMI id); `None` if there is no such parameter.
pub async fn resolve(session: &Session, parameter: &str) -> Result<Option<String>, AwsError> {
    let client = session.ssm_client();
    let req = client.get_parameter().name(parameter).send();
    match session.call(ops::GET_PARAMETER, Some(parameter), req).await {
        Ok(out) => Ok(out.parameter().and_then(|p| p.value()).map(str::to_string)),
        Err(e) if e.code() == Some("ParameterNotFound") => Ok(None),
        Err(e) => Err(e),
    }
}
