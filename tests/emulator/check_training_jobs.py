"""Check of emulator patch 11 (SageMaker training jobs).

    .venv/bin/python tests/emulator/check_training_jobs.py [SERVER_SCRIPT]

Starts the emulator (tests/emulator/server.py, or SERVER_SCRIPT) on a free
loopback port, IAM not enforced (INITIAL_NO_AUTH_ACTION_COUNT unset), and
checks that training jobs behave as AWS documents them: what
CreateTrainingJob keeps, what it refuses, the states a job goes through
(StopTrainingJob, and the control endpoint standing in for SageMaker's
machines), ListTrainingJobs and tags. Needs boto3 in the same Python.
Exits non-zero on any mismatch.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
from pathlib import Path

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

HERE = Path(__file__).resolve().parent
CONFIG = Config(retries={"max_attempts": 1, "mode": "standard"})
KEYS = ("AKIAIOSFODNN7EXAMPLE", "testing")
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/hoist-default-sagemaker"
STATUS_PATH = "/hoist-emulator/sagemaker/training-job-status"
NOT_FOUND = "Requested resource not found."


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(script):
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="hoist-moto-", suffix=".log", delete=False)
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_ENDPOINT_URL", "INITIAL_NO_AUTH_ACTION_COUNT")}
    proc = subprocess.Popen(
        [sys.executable, str(script), "-H", "127.0.0.1", "-p", str(port)],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"emulator exited early; log: {log.name}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"http://127.0.0.1:{port}", log.name
        except OSError:
            time.sleep(0.1)
    proc.kill()
    sys.exit(f"emulator did not listen; log: {log.name}")


def main():
    script = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "server.py"
    proc, endpoint, log = start_server(script)
    try:
        failures = run(endpoint)
    except Exception:  # a check that could not even be made counts as one
        traceback.print_exc()
        failures = 1
    finally:
        proc.kill()
        proc.wait()
    print(f"{failures} mismatch(es); emulator log: {log}")
    return 1 if failures else 0


def run(endpoint):
    failures = 0

    def check(what, ok, detail=""):
        nonlocal failures
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {what}" + ("" if ok else f": {detail}"))

    def client(service, region="us-east-1", keys=KEYS, token=None):
        return boto3.client(
            service, endpoint_url=endpoint, region_name=region, config=CONFIG,
            aws_access_key_id=keys[0], aws_secret_access_key=keys[1], aws_session_token=token,
        )

    def error(call):
        """(HTTP status, code, message) of a call expected to fail."""
        try:
            call()
        except ClientError as e:
            return (e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"],
                    e.response["Error"].get("Message"))
        return (200, None, None)

    def expect_error(what, call, status, code, message):
        got = error(call)
        check(what, got == (status, code, message), f"got {got}, want {(status, code, message)}")

    def raw(target, body, region="us-east-1"):
        """A signed SageMaker JSON request: (status, parsed body)."""
        data = json.dumps(body).encode()
        req = AWSRequest(method="POST", url=endpoint + "/", data=data, headers={
            "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"SageMaker.{target}",
            "Host": f"api.sagemaker.{region}.amazonaws.com",
        })
        SigV4Auth(Credentials(*KEYS), "sagemaker", region).add_auth(req)
        http = urllib.request.Request(endpoint + "/", data=data, headers=dict(req.headers), method="POST")
        try:
            with urllib.request.urlopen(http) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def control(body, method="POST"):
        """The unsigned control endpoint: (status, parsed JSON body, or the
        text when it is not JSON)."""
        http = urllib.request.Request(endpoint + STATUS_PATH, data=json.dumps(body).encode(),
                                      headers={"Content-Type": "application/json"}, method=method)
        try:
            with urllib.request.urlopen(http) as r:
                status, text = r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read().decode()
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text

    sm = client("sagemaker")

    def job_request(name, **extra):
        request = dict(
            TrainingJobName=name,
            AlgorithmSpecification={
                "TrainingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/hoist:latest",
                "TrainingInputMode": "File",
                "ContainerEntrypoint": ["python", "-m", "hoist_runner"],
                "ContainerArguments": ["--task", "train.toml"],
            },
            RoleArn=ROLE,
            InputDataConfig=[{
                "ChannelName": "code",
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://hoist-artifacts/code/",
                                                "S3DataDistributionType": "FullyReplicated"}},
                "InputMode": "File",
            }],
            OutputDataConfig={"S3OutputPath": "s3://hoist-artifacts/output"},
            ResourceConfig={"InstanceType": "ml.g5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 50},
            StoppingCondition={"MaxRuntimeInSeconds": 3600},
            Environment={"HOIST_TASK": "train", "HOIST_RUN_ID": "r-1"},
            Tags=[{"Key": "hoist:workspace", "Value": "default"}],
        )
        request.update(extra)
        return request

    # 1. What CreateTrainingJob keeps.
    spot_request = job_request(
        "hoist-full",
        StoppingCondition={"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 7200},
        EnableManagedSpotTraining=True,
        EnableNetworkIsolation=True,
        EnableInterContainerTrafficEncryption=True,
        CheckpointConfig={"S3Uri": "s3://hoist-artifacts/checkpoints/hoist-full", "LocalPath": "/opt/ml/checkpoints"},
        VpcConfig={"SecurityGroupIds": ["sg-0123456789abcdef0"], "Subnets": ["subnet-0123456789abcdef0"]},
        HyperParameters={"epochs": "3"},
        RetryStrategy={"MaximumRetryAttempts": 2},
    )
    arn = sm.create_training_job(**spot_request)["TrainingJobArn"]
    check("CreateTrainingJob returns the job's ARN",
          arn == f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:training-job/hoist-full", arn)
    d = sm.describe_training_job(TrainingJobName="hoist-full")
    for key in ("AlgorithmSpecification", "RoleArn", "InputDataConfig", "OutputDataConfig", "ResourceConfig",
                "StoppingCondition", "Environment", "EnableManagedSpotTraining", "EnableNetworkIsolation",
                "EnableInterContainerTrafficEncryption", "CheckpointConfig", "VpcConfig", "HyperParameters",
                "RetryStrategy"):
        check(f"DescribeTrainingJob reads back {key}", d.get(key) == spot_request[key],
              f"got {d.get(key)!r}, want {spot_request[key]!r}")
    check("DescribeTrainingJob names the job", (d["TrainingJobName"], d["TrainingJobArn"]) == ("hoist-full", arn))
    tags = sm.list_tags(ResourceArn=arn)["Tags"]
    check("ListTags reads back the tags given at creation", tags == spot_request["Tags"], tags)

    # 4. A new job is starting, with nothing made up.
    transitions = d.get("SecondaryStatusTransitions", [])
    check("a new job is InProgress/Starting", (d["TrainingJobStatus"], d["SecondaryStatus"]) == ("InProgress", "Starting"),
          (d["TrainingJobStatus"], d["SecondaryStatus"]))
    check("a new job has one open Starting transition",
          len(transitions) == 1 and transitions[0]["Status"] == "Starting"
          and transitions[0]["StatusMessage"] == "Launching requested ML instances"
          and transitions[0]["StartTime"] == d["CreationTime"] and "EndTime" not in transitions[0], transitions)
    for key in ("TrainingStartTime", "TrainingEndTime", "ModelArtifacts", "FinalMetricDataList", "FailureReason"):
        check(f"a new job has no {key}", key not in d, d.get(key))
    check("no metric definition is made up", "MetricDefinitions" not in d["AlgorithmSpecification"],
          d["AlgorithmSpecification"])
    check("LastModifiedTime is the creation time", d["LastModifiedTime"] == d["CreationTime"])

    # 2. Validation.
    spot_message = "Invalid MaxWaitTimeInSeconds. It is required when EnableManagedSpotTraining is set to true"
    below_message = ("Invalid MaxWaitTimeInSeconds. It must be equal to or greater than MaxRuntimeInSeconds (3600) "
                     "when EnableManagedSpotTraining is set to true")
    without_message = "Invalid MaxWaitTimeInSeconds. It is only supported when EnableManagedSpotTraining is set to true"
    expect_error("managed spot without MaxWaitTimeInSeconds is refused",
                 lambda: sm.create_training_job(**job_request("bad-spot", EnableManagedSpotTraining=True)),
                 400, "ValidationException", spot_message)
    expect_error("MaxWaitTimeInSeconds below MaxRuntimeInSeconds is refused",
                 lambda: sm.create_training_job(**job_request(
                     "bad-wait", EnableManagedSpotTraining=True,
                     StoppingCondition={"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 1800})),
                 400, "ValidationException", below_message)
    expect_error("MaxWaitTimeInSeconds below the default MaxRuntimeInSeconds (1 day) is refused",
                 lambda: sm.create_training_job(**job_request(
                     "bad-default", EnableManagedSpotTraining=True, StoppingCondition={"MaxWaitTimeInSeconds": 3600})),
                 400, "ValidationException", below_message.replace("(3600)", "(86400)"))
    expect_error("MaxWaitTimeInSeconds without managed spot is refused",
                 lambda: sm.create_training_job(**job_request(
                     "bad-nospot", StoppingCondition={"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 7200})),
                 400, "ValidationException", without_message)
    sm.create_training_job(**job_request("spot-equal", EnableManagedSpotTraining=True,
                                         StoppingCondition={"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 3600}))
    check("MaxWaitTimeInSeconds equal to MaxRuntimeInSeconds is accepted", True)
    for name in ("bad-spot", "bad-wait", "bad-default", "bad-nospot"):
        expect_error(f"refused job {name} was not made",
                     lambda: sm.describe_training_job(TrainingJobName=name), 400, "ValidationException", NOT_FOUND)
    status, body = raw("CreateTrainingJob", job_request("raw-bad", EnableManagedSpotTraining=True))
    parsed = json.loads(body)
    # moto names the member as the error shapes do (`Message`); the SDKs
    # read either spelling.
    check("a ValidationException is JSON with __type and Message",
          status == 400 and parsed.get("__type") == "ValidationException" and parsed.get("Message") == spot_message,
          (status, body))

    # 3. Names are unique in an account and region.
    plain = job_request("hoist-plain")
    sm.create_training_job(**plain)
    before = sm.describe_training_job(TrainingJobName="hoist-plain")
    expect_error("a name already taken is refused",
                 lambda: sm.create_training_job(**job_request("hoist-plain", Environment={"OTHER": "1"},
                                                              Tags=[{"Key": "other", "Value": "1"}])),
                 400, "ResourceInUse",
                 "Training job names must be unique within an AWS account and region, and a training job with "
                 f"this name already exists (arn:aws:sagemaker:us-east-1:{ACCOUNT}:training-job/hoist-plain)")
    after = sm.describe_training_job(TrainingJobName="hoist-plain")
    before.pop("ResponseMetadata")
    after.pop("ResponseMetadata")
    check("the job already there is unchanged", before == after, (before, after))
    plain_arn = after["TrainingJobArn"]
    check("... and so are its tags", sm.list_tags(ResourceArn=plain_arn)["Tags"] == plain["Tags"])
    west = client("sagemaker", "us-west-2")
    west_arn = west.create_training_job(**plain)["TrainingJobArn"]
    check("the same name is free in another region",
          west_arn == f"arn:aws:sagemaker:us-west-2:{ACCOUNT}:training-job/hoist-plain", west_arn)
    status, body = raw("CreateTrainingJob", plain)
    parsed = json.loads(body)
    check("ResourceInUse is JSON with __type and Message",
          status == 400 and parsed.get("__type") == "ResourceInUse" and "already exists" in parsed.get("Message", ""),
          (status, body))

    # 5. StopTrainingJob.
    status, body = raw("StopTrainingJob", {"TrainingJobName": "hoist-plain"})
    check("StopTrainingJob answers 200 {}", (status, body) == (200, "{}"), (status, body))
    d = sm.describe_training_job(TrainingJobName="hoist-plain")
    t = d["SecondaryStatusTransitions"]
    check("a stopped job is Stopping/Stopping", (d["TrainingJobStatus"], d["SecondaryStatus"]) == ("Stopping", "Stopping"),
          (d["TrainingJobStatus"], d["SecondaryStatus"]))
    check("stopping closes Starting and opens Stopping",
          [x["Status"] for x in t] == ["Starting", "Stopping"] and "EndTime" in t[0] and "EndTime" not in t[1]
          and t[0]["EndTime"] == t[1]["StartTime"], t)
    check("stopping does not end the job", "TrainingEndTime" not in d and "ModelArtifacts" not in d)
    check("LastModifiedTime is when it was stopped", d["LastModifiedTime"] == t[1]["StartTime"], d)
    expect_error("a Stopping job cannot be stopped again",
                 lambda: sm.stop_training_job(TrainingJobName="hoist-plain"), 400, "ValidationException",
                 "The request was rejected because the training job is in status Stopping.")
    expect_error("StopTrainingJob of an unknown job",
                 lambda: sm.stop_training_job(TrainingJobName="no-such-job"), 400, "ValidationException", NOT_FOUND)
    expect_error("DescribeTrainingJob of an unknown job",
                 lambda: sm.describe_training_job(TrainingJobName="no-such-job"), 400, "ValidationException", NOT_FOUND)
    check("the same name in us-west-2 is still InProgress",
          west.describe_training_job(TrainingJobName="hoist-plain")["TrainingJobStatus"] == "InProgress")

    # 6. The control endpoint.
    status, body = control({"TrainingJobName": "hoist-plain", "TrainingJobStatus": "Stopped", "SecondaryStatus": "Stopped",
                            "StatusMessage": "Training job stopped by the user"})
    check("control: Stopping -> Stopped answers 200", status == 200, (status, body))
    d = sm.describe_training_job(TrainingJobName="hoist-plain")
    t = d["SecondaryStatusTransitions"]
    check("control: the job is Stopped/Stopped", (d["TrainingJobStatus"], d["SecondaryStatus"]) == ("Stopped", "Stopped"))
    check("control: the final transition is closed", [x["Status"] for x in t] == ["Starting", "Stopping", "Stopped"]
          and all("EndTime" in x for x in t) and t[2]["StatusMessage"] == "Training job stopped by the user", t)
    check("control: a stopped job has an end time and no artifacts", "TrainingEndTime" in d and "ModelArtifacts" not in d, d)
    expect_error("a Stopped job cannot be stopped", lambda: sm.stop_training_job(TrainingJobName="hoist-plain"),
                 400, "ValidationException", "The request was rejected because the training job is in status Stopped.")

    steps = [
        ({"SecondaryStatus": "Downloading", "StatusMessage": "Downloading input data"}, "InProgress", "Downloading"),
        ({"SecondaryStatus": "Training", "StatusMessage": "Training image download completed. Training in progress."},
         "InProgress", "Training"),
        ({"SecondaryStatus": "Uploading", "StatusMessage": "Uploading generated training model"}, "InProgress", "Uploading"),
        ({"SecondaryStatus": "Completed", "TrainingJobStatus": "Completed", "StatusMessage": "Training job completed"},
         "Completed", "Completed"),
    ]
    seen = []
    for step, want_status, want_secondary in steps:
        time.sleep(0.01)
        status, body = control({"TrainingJobName": "hoist-full", **step})
        seen.append(body)
        check(f"control: -> {want_secondary} answers 200 with the description",
              status == 200 and body.get("TrainingJobName") == "hoist-full"
              and (body.get("TrainingJobStatus"), body.get("SecondaryStatus")) == (want_status, want_secondary),
              (status, body))
        if want_secondary == "Downloading":
            check("control: no TrainingStartTime before Training", "TrainingStartTime" not in body, body)
        if want_secondary == "Training":
            check("control: TrainingStartTime is set at Training",
                  body.get("TrainingStartTime") == body["SecondaryStatusTransitions"][-1]["StartTime"], body)
    d = sm.describe_training_job(TrainingJobName="hoist-full")
    t = d["SecondaryStatusTransitions"]
    check("control: the transitions are recorded in order",
          [x["Status"] for x in t] == ["Starting", "Downloading", "Training", "Uploading", "Completed"], t)
    check("control: each transition ends where the next starts",
          all(t[i]["EndTime"] == t[i + 1]["StartTime"] for i in range(len(t) - 1)), t)
    check("control: the final transition is closed at the end time",
          t[-1].get("EndTime") == d.get("TrainingEndTime") and t[-1]["StatusMessage"] == "Training job completed", t)
    check("control: TrainingStartTime stays the Training transition's start",
          d.get("TrainingStartTime") == t[2]["StartTime"], d)
    check("control: a completed job has its model artifacts",
          d.get("ModelArtifacts") == {"S3ModelArtifacts": "s3://hoist-artifacts/output/hoist-full/output/model.tar.gz"},
          d.get("ModelArtifacts"))
    last = seen[-1]
    check("control: the answer is DescribeTrainingJob's JSON (timestamps as epoch seconds, Environment kept)",
          isinstance(last.get("CreationTime"), (int, float)) and last.get("Environment") == spot_request["Environment"]
          and last.get("TrainingJobArn") == arn and "Tags" not in last, last)
    status, body = control({"TrainingJobName": "hoist-full", "SecondaryStatus": "Completed",
                            "StatusMessage": "Training job completed (again)"})
    t2 = body["SecondaryStatusTransitions"]
    check("control: the same secondary status again updates its message, adds no transition",
          status == 200 and len(t2) == len(t) and t2[-1]["StatusMessage"] == "Training job completed (again)", body)
    expect_error("a Completed job cannot be stopped", lambda: sm.stop_training_job(TrainingJobName="hoist-full"),
                 400, "ValidationException", "The request was rejected because the training job is in status Completed.")

    sm.create_training_job(**job_request("hoist-fails"))
    status, body = control({"TrainingJobName": "hoist-fails", "TrainingJobStatus": "Failed", "SecondaryStatus": "Failed",
                            "FailureReason": "AlgorithmError: exit code 1"})
    d = sm.describe_training_job(TrainingJobName="hoist-fails")
    check("control: a failed job has its reason and end time, no artifacts",
          status == 200 and d["TrainingJobStatus"] == "Failed" and d.get("FailureReason") == "AlgorithmError: exit code 1"
          and "TrainingEndTime" in d and "ModelArtifacts" not in d, d)

    status, body = control({"TrainingJobName": "no-such-job", "SecondaryStatus": "Training"})
    check("control: an unknown job is 404", status == 404, (status, body))
    status, body = control({"TrainingJobName": "hoist-full", "SecondaryStatus": "Training", "Region": "eu-west-1"})
    check("control: a job is looked up in the given region (404 elsewhere)", status == 404, (status, body))
    status, body = control({"TrainingJobName": "hoist-plain", "SecondaryStatus": "Training", "Region": "us-west-2"})
    check("control: Region picks the region's job", status == 200 and body["TrainingJobArn"] == west_arn
          and west.describe_training_job(TrainingJobName="hoist-plain")["SecondaryStatus"] == "Training", (status, body))
    status, body = control({"TrainingJobName": "hoist-full", "SecondaryStatus": "Sleeping"})
    check("control: an unknown SecondaryStatus is 400", status == 400, (status, body))
    status, body = control({"TrainingJobName": "hoist-full", "SecondaryStatus": "Training", "TrainingJobStatus": "Done"})
    check("control: an unknown TrainingJobStatus is 400", status == 400, (status, body))
    status, body = control({"SecondaryStatus": "Training"})
    check("control: a body without TrainingJobName is 400", status == 400, (status, body))
    status, body = control({}, method="GET")
    check("control: only POST", status == 405, (status, body))

    other = "210987654321"
    creds = client("sts").assume_role(RoleArn=f"arn:aws:iam::{other}:role/x", RoleSessionName="check")["Credentials"]
    other_sm = client("sagemaker", keys=(creds["AccessKeyId"], creds["SecretAccessKey"]), token=creds["SessionToken"])
    other_arn = other_sm.create_training_job(**job_request("hoist-other"))["TrainingJobArn"]
    check("a job in another account", other_arn == f"arn:aws:sagemaker:us-east-1:{other}:training-job/hoist-other",
          other_arn)
    status, body = control({"TrainingJobName": "hoist-other", "SecondaryStatus": "Downloading"})
    check("control: the default account does not hold another account's job", status == 404, (status, body))
    status, body = control({"TrainingJobName": "hoist-other", "SecondaryStatus": "Downloading", "AccountId": other})
    check("control: AccountId picks the account's job", status == 200 and body["TrainingJobArn"] == other_arn
          and other_sm.describe_training_job(TrainingJobName="hoist-other")["SecondaryStatus"] == "Downloading",
          (status, body))

    # 7. ListTrainingJobs and tags.
    def names(**kwargs):
        return [s["TrainingJobName"] for s in sm.list_training_jobs(**kwargs)["TrainingJobSummaries"]]

    everyone = ["hoist-full", "spot-equal", "hoist-plain", "hoist-fails"]
    check("ListTrainingJobs lists every job, oldest first", names() == everyone, names())
    check("SortOrder=Descending lists newest first", names(SortOrder="Descending") == everyone[::-1],
          names(SortOrder="Descending"))
    check("SortBy=Name", names(SortBy="Name") == sorted(everyone), names(SortBy="Name"))
    check("StatusEquals=InProgress", names(StatusEquals="InProgress") == ["spot-equal"], names(StatusEquals="InProgress"))
    check("StatusEquals=Completed", names(StatusEquals="Completed") == ["hoist-full"], names(StatusEquals="Completed"))
    check("StatusEquals=Stopped", names(StatusEquals="Stopped") == ["hoist-plain"], names(StatusEquals="Stopped"))
    check("StatusEquals=Failed", names(StatusEquals="Failed") == ["hoist-fails"], names(StatusEquals="Failed"))
    check("StatusEquals=Stopping (none)", names(StatusEquals="Stopping") == [], names(StatusEquals="Stopping"))
    check("NameContains=hoist-", names(NameContains="hoist-") == ["hoist-full", "hoist-plain", "hoist-fails"],
          names(NameContains="hoist-"))
    check("NameContains and StatusEquals together", names(NameContains="hoist-", StatusEquals="InProgress") == [])
    first = sm.list_training_jobs(MaxResults=1, StatusEquals="Failed")
    check("MaxResults=1 with StatusEquals finds the match on the first page",
          [s["TrainingJobName"] for s in first["TrainingJobSummaries"]] == ["hoist-fails"]
          and "NextToken" not in first, first)
    pages, token = [], None
    while True:
        page = sm.list_training_jobs(MaxResults=3, **({"NextToken": token} if token else {}))
        pages.append([s["TrainingJobName"] for s in page["TrainingJobSummaries"]])
        token = page.get("NextToken")
        if not token:
            break
    check("MaxResults/NextToken pages through every job once", pages == [everyone[:3], everyone[3:]], pages)
    paged = [s["TrainingJobName"] for p in sm.get_paginator("list_training_jobs").paginate(
        NameContains="hoist-", PaginationConfig={"PageSize": 1}) for s in p["TrainingJobSummaries"]]
    check("the SDK's paginator with a filter", paged == ["hoist-full", "hoist-plain", "hoist-fails"], paged)
    summary = {s["TrainingJobName"]: s for s in sm.list_training_jobs()["TrainingJobSummaries"]}
    check("a summary has the job's status, secondary status and ARN",
          (summary["hoist-full"]["TrainingJobStatus"], summary["hoist-full"]["SecondaryStatus"],
           summary["hoist-full"]["TrainingJobArn"]) == ("Completed", "Completed", arn), summary["hoist-full"])
    check("a summary has an end time only once the job ended",
          "TrainingEndTime" in summary["hoist-full"] and "TrainingEndTime" not in summary["spot-equal"], summary)
    check("ListTrainingJobs is per region", [s["TrainingJobName"] for s in
                                             west.list_training_jobs()["TrainingJobSummaries"]] == ["hoist-plain"])

    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "hoist:run", "Value": "r-1"}])
    tags = sm.list_tags(ResourceArn=arn)["Tags"]
    check("AddTags adds a tag", tags == [{"Key": "hoist:workspace", "Value": "default"}, {"Key": "hoist:run", "Value": "r-1"}],
          tags)
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "hoist:workspace", "Value": "other"}])
    tags = sm.list_tags(ResourceArn=arn)["Tags"]
    check("AddTags overwrites a key already there",
          tags == [{"Key": "hoist:workspace", "Value": "other"}, {"Key": "hoist:run", "Value": "r-1"}], tags)
    return failures


if __name__ == "__main__":
    sys.exit(main())
