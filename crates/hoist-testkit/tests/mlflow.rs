//! The MLflow harness: a real tracking server whose registered versions'
//! files are in the emulator's S3, aliases set over its REST API, and an
//! outage a test can start and end.

use std::time::Instant;

use hoist_testkit::{Emulator, MlflowServer};

#[tokio::test]
async fn registers_into_the_emulators_s3_sets_aliases_and_survives_a_restart() {
    let emu = Emulator::start();
    let started = Instant::now();
    let mut mlflow = MlflowServer::start(&emu).await;
    eprintln!("MLflow started in {:?}", started.elapsed());
    assert!(mlflow.uri().starts_with("http://127.0.0.1:"));

    let started = Instant::now();
    let versions = mlflow.register("churn", &[3.0, 5.0]);
    eprintln!("2 versions registered in {:?}", started.elapsed());
    let numbers: Vec<_> = versions.iter().map(|v| v.version.as_str()).collect();
    assert_eq!(numbers, ["1", "2"]);

    mlflow.set_alias("churn", "champion", "1");
    assert_eq!(champion(&mlflow).as_deref(), Some("1"));

    // MLflow's client wrote the files straight to the emulator.
    let bucket_prefix = format!("s3://{}/", mlflow.artifact_bucket());
    let prefix = versions[0].artifact_uri.strip_prefix(&bucket_prefix).unwrap_or_else(|| panic!("{versions:?}"));
    let sdk = emu.sdk_config().await;
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
    let listed = s3.list_objects_v2().bucket(mlflow.artifact_bucket()).prefix(prefix).send().await.expect("ListObjectsV2");
    let keys: Vec<_> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert!(keys.contains(&format!("{prefix}/MLmodel").as_str()), "{keys:?}");

    mlflow.delete_alias("churn", "champion");
    assert_eq!(champion(&mlflow), None);
    mlflow.set_alias("churn", "champion", "2");

    // An outage: the port refuses; then the same store answers again.
    let port = mlflow.uri().rsplit(':').next().unwrap().parse::<u16>().unwrap();
    mlflow.stop();
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err(), "still listening after stop");
    let started = Instant::now();
    mlflow.restart();
    eprintln!("MLflow restarted in {:?}", started.elapsed());
    assert_eq!(mlflow.request("GET", "/health", None), (200, "OK".to_string()));
    assert_eq!(champion(&mlflow).as_deref(), Some("2"), "{}", mlflow.log());
}

/// The version the `champion` alias of `churn` points at, if any.
fn champion(mlflow: &MlflowServer) -> Option<String> {
    let (status, body) = mlflow.request("GET", "/api/2.0/mlflow/registered-models/alias?name=churn&alias=champion", None);
    // A missing alias is a 400 INVALID_PARAMETER_VALUE ("... not found"),
    // not a 404.
    if status == 400 && body.contains("not found") {
        return None;
    }
    assert_eq!(status, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    Some(answer["model_version"]["version"].as_str().expect(&body).to_string())
}
