"""Check of emulator patch 12 (SageMaker endpoints).

    .venv/bin/python tests/emulator/check_endpoints.py [SERVER_SCRIPT]

Starts the emulator (tests/emulator/server.py, or SERVER_SCRIPT) on a free
loopback port with HOIST_EMULATOR_ENDPOINT_SETTLE_SECONDS=0.2, IAM not
enforced, and checks that models, endpoint configurations and endpoints
behave as AWS documents them: the statuses an endpoint goes through
(UpdateEndpoint, and the control endpoint standing in for SageMaker's
machines), names already taken, ListModels / ListEndpointConfigs /
ListEndpoints, deletes of what is not there, tags, InvokeEndpoint and
InvokeEndpointWithResponseStream (its event stream decoded by boto3 and,
frame by frame, here). Then starts a second server that enforces IAM and
checks that UpdateEndpoint and InvokeEndpoint are authorized as those
actions (InvokeEndpointWithResponseStream as sagemaker:InvokeEndpoint),
with denials the SDKs can parse. Needs boto3 in the same Python. Exits non-zero
on any mismatch.
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
import zlib
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
STATUS_PATH = "/hoist-emulator/sagemaker/endpoint-status"
SETTLE = 0.2
# Long enough after a change for the endpoint to have settled.
AFTER_SETTLE = SETTLE + 0.15
BOOTSTRAP_REQUESTS = 3  # CreateUser, PutUserPolicy, CreateAccessKey


def arn(kind, name, region="us-east-1", account=ACCOUNT):
    return f"arn:aws:sagemaker:{region}:{account}:{kind}/{name}"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(script, no_auth_count=None):
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="hoist-moto-", suffix=".log", delete=False)
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_ENDPOINT_URL", "INITIAL_NO_AUTH_ACTION_COUNT")}
    env["HOIST_EMULATOR_ENDPOINT_SETTLE_SECONDS"] = str(SETTLE)
    env["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "false"
    if no_auth_count is not None:
        env["INITIAL_NO_AUTH_ACTION_COUNT"] = str(no_auth_count)
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
    failures = 0
    for name, no_auth_count, checks in (("plain", None, run), ("enforced IAM", BOOTSTRAP_REQUESTS, run_enforced)):
        proc, endpoint, log = start_server(script, no_auth_count)
        print(f"-- {name} emulator (log: {log})")
        try:
            failures += checks(endpoint)
        except Exception:  # a check that could not even be made counts as one
            traceback.print_exc()
            failures += 1
        finally:
            proc.kill()
            proc.wait()
    print(f"{failures} mismatch(es)")
    return 1 if failures else 0


class Harness:
    """What both runs use: boto3 clients, checks, raw requests."""

    def __init__(self, endpoint):
        self.endpoint = endpoint
        self.failures = 0

    def check(self, what, ok, detail=""):
        self.failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {what}" + ("" if ok else f": {detail}"))

    def client(self, service, region="us-east-1", keys=KEYS):
        return boto3.client(
            service, endpoint_url=self.endpoint, region_name=region, config=CONFIG,
            aws_access_key_id=keys[0], aws_secret_access_key=keys[1],
        )

    @staticmethod
    def error(call):
        """(HTTP status, code, message) of a call expected to fail."""
        try:
            call()
        except ClientError as e:
            return (e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"],
                    e.response["Error"].get("Message"))
        return (200, None, None)

    def expect_error(self, what, call, status, code, message):
        got = self.error(call)
        self.check(what, got == (status, code, message), f"got {got}, want {(status, code, message)}")

    def raw(self, path, body, headers, keys=KEYS, region="us-east-1", text=True):
        """A signed request: (status, headers, body text, or bytes if not
        `text`)."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        url = self.endpoint + path
        req = AWSRequest(method="POST", url=url, data=data, headers=headers)
        SigV4Auth(Credentials(*keys), "sagemaker", region).add_auth(req)
        http = urllib.request.Request(url, data=data, headers=dict(req.headers), method="POST")
        try:
            with urllib.request.urlopen(http) as r:
                status, headers, data = r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            status, headers, data = e.code, dict(e.headers), e.read()
        return status, headers, data.decode() if text else data

    def raw_sagemaker(self, target, body, keys=KEYS):
        return self.raw("/", body, {"Content-Type": "application/x-amz-json-1.1",
                                    "X-Amz-Target": f"SageMaker.{target}"}, keys)

    def raw_invoke(self, name, body, keys=KEYS):
        return self.raw(f"/endpoints/{name}/invocations", body, {"Content-Type": "application/json"}, keys)

    def raw_stream(self, name, body, keys=KEYS, text=True):
        return self.raw(f"/endpoints/{name}/invocations-response-stream", body,
                        {"Content-Type": "application/json"}, keys, text=text)

    def control(self, body, method="POST"):
        """The unsigned control endpoint: (status, parsed JSON body, or the
        text when it is not JSON)."""
        http = urllib.request.Request(self.endpoint + STATUS_PATH, data=json.dumps(body).encode(),
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


def header(headers, name):
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)


def event_messages(data):
    """The messages of an AWS event stream body, [(headers, payload)],
    each length and CRC32 verified (ValueError if one is wrong)."""
    messages = []
    while data:
        if len(data) < 16:
            raise ValueError(f"{len(data)} bytes left, less than a message")
        total, headers_length = int.from_bytes(data[0:4], "big"), int.from_bytes(data[4:8], "big")
        if zlib.crc32(data[:8]) != int.from_bytes(data[8:12], "big"):
            raise ValueError("prelude CRC")
        if total > len(data) or zlib.crc32(data[:total - 4]) != int.from_bytes(data[total - 4:total], "big"):
            raise ValueError("message CRC (or length)")
        raw_headers, headers = data[12:12 + headers_length], {}
        while raw_headers:
            n = raw_headers[0]
            name, kind = raw_headers[1:1 + n].decode(), raw_headers[1 + n]
            if kind != 7:
                raise ValueError(f"header {name}: type {kind}, not 7 (string)")
            length = int.from_bytes(raw_headers[2 + n:4 + n], "big")
            headers[name] = raw_headers[4 + n:4 + n + length].decode()
            raw_headers = raw_headers[4 + n + length:]
        messages.append((headers, data[12 + headers_length:total - 4]))
        data = data[total:]
    return messages


def model_request(name, image="123456789012.dkr.ecr.us-east-1.amazonaws.com/hoist-serve:1", **extra):
    request = dict(
        ModelName=name,
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": image, "ModelDataUrl": f"s3://hoist-artifacts/output/{name}/output/model.tar.gz",
                          "Environment": {"HOIST_MODEL": name}},
        Tags=[{"Key": "hoist:workspace", "Value": "default"}],
    )
    request.update(extra)
    return request


def config_request(name, model, variant="primary", instance_type="ml.g5.xlarge", count=1, **extra):
    request = dict(
        EndpointConfigName=name,
        ProductionVariants=[{"VariantName": variant, "ModelName": model, "InstanceType": instance_type,
                             "InitialInstanceCount": count, "InitialVariantWeight": 1.0}],
        Tags=[{"Key": "hoist:workspace", "Value": "default"}],
    )
    request.update(extra)
    return request


def run(endpoint):
    h = Harness(endpoint)
    check, expect_error = h.check, h.expect_error
    sm, rt = h.client("sagemaker"), h.client("sagemaker-runtime")

    def describe(name):
        d = sm.describe_endpoint(EndpointName=name)
        d.pop("ResponseMetadata")
        return d

    def create_endpoint(name, config, **extra):
        """Create, describe at once: (description, whether the describe came
        soon enough that the endpoint cannot have settled yet)."""
        started = time.monotonic()
        sm.create_endpoint(EndpointName=name, EndpointConfigName=config, **extra)
        d = describe(name)
        return d, time.monotonic() - started < SETTLE * 0.75

    # 1. Models, endpoint configurations, endpoints: what they keep.
    m1 = model_request("hoist-model-a")
    got = sm.create_model(**m1)["ModelArn"]
    check("CreateModel returns the model's ARN", got == arn("model", "hoist-model-a"), got)
    m2 = model_request("hoist-model-b", image="123456789012.dkr.ecr.us-east-1.amazonaws.com/hoist-serve:2",
                       Tags=[{"Key": "hoist:workspace", "Value": "default"}, {"Key": "hoist:model", "Value": "b"}])
    sm.create_model(**m2)
    c1 = config_request("hoist-config-a", "hoist-model-a")
    got = sm.create_endpoint_config(**c1)["EndpointConfigArn"]
    check("CreateEndpointConfig returns the configuration's ARN", got == arn("endpoint-config", "hoist-config-a"), got)
    c2 = config_request("hoist-config-b", "hoist-model-b", variant="second", instance_type="ml.m5.large", count=2)
    sm.create_endpoint_config(**c2)
    check("an instance type moto does not know (ml.g5.xlarge) is accepted",
          sm.describe_endpoint_config(EndpointConfigName="hoist-config-a")["ProductionVariants"][0]["InstanceType"]
          == "ml.g5.xlarge")
    got = h.error(lambda: sm.create_endpoint_config(**config_request("bad-type", "hoist-model-a",
                                                                     instance_type="ml.nothing.xlarge")))
    check("an instance type AWS does not know is refused",
          got[:2] == (400, "ValidationException") and "ml.nothing.xlarge" in got[2], got)
    expect_error("a configuration naming a missing model is refused",
                 lambda: sm.create_endpoint_config(**config_request("bad-model", "no-such-model")),
                 400, "ValidationException", f'Could not find model "{arn("model", "no-such-model")}".')
    expect_error("... and was not made", lambda: sm.describe_endpoint_config(EndpointConfigName="bad-model"),
                 400, "ValidationException",
                 f'Could not find endpoint configuration "{arn("endpoint-config", "bad-model")}".')

    # 2. An endpoint is Creating, then InService.
    e_tags = [{"Key": "hoist:workspace", "Value": "default"}, {"Key": "hoist:endpoint", "Value": "a"}]
    d, fresh = create_endpoint("hoist-endpoint-a", "hoist-config-a", Tags=e_tags)
    check("a new endpoint is Creating" if fresh else "a new endpoint is Creating (or, slow here, settled)",
          d["EndpointStatus"] == "Creating" or (not fresh and d["EndpointStatus"] == "InService"), d)
    check("a new endpoint: LastModifiedTime is CreationTime, no FailureReason",
          d["LastModifiedTime"] == d["CreationTime"] and "FailureReason" not in d or not fresh, d)
    check("a new endpoint runs its configuration's variants",
          d["EndpointConfigName"] == "hoist-config-a"
          and d["ProductionVariants"] == [{"VariantName": "primary", "CurrentInstanceCount": 1,
                                           "DesiredInstanceCount": 1, "CurrentWeight": 1.0, "DesiredWeight": 1.0}],
          d["ProductionVariants"])
    time.sleep(AFTER_SETTLE)
    d = describe("hoist-endpoint-a")
    check("after the settle time it is InService", d["EndpointStatus"] == "InService", d)
    check("LastModifiedTime is when it became InService (the settle time after creation)",
          abs((d["LastModifiedTime"] - d["CreationTime"]).total_seconds() - SETTLE) < 0.01, d)
    sm.get_waiter("endpoint_in_service").wait(EndpointName="hoist-endpoint-a", WaiterConfig={"Delay": 0.1})
    check("boto3's endpoint_in_service waiter is satisfied", True)

    # 3. UpdateEndpoint.
    before = describe("hoist-endpoint-a")
    time.sleep(0.01)
    started = time.monotonic()
    got = sm.update_endpoint(EndpointName="hoist-endpoint-a", EndpointConfigName="hoist-config-b")["EndpointArn"]
    d = describe("hoist-endpoint-a")
    fresh = time.monotonic() - started < SETTLE * 0.75
    check("UpdateEndpoint returns the endpoint's ARN", got == arn("endpoint", "hoist-endpoint-a"), got)
    check("an updated endpoint is Updating" if fresh else "an updated endpoint is Updating (or, slow here, settled)",
          d["EndpointStatus"] == "Updating" or (not fresh and d["EndpointStatus"] == "InService"), d)
    check("... runs the new configuration and its variants",
          d["EndpointConfigName"] == "hoist-config-b"
          and d["ProductionVariants"] == [{"VariantName": "second", "CurrentInstanceCount": 2,
                                           "DesiredInstanceCount": 2, "CurrentWeight": 1.0, "DesiredWeight": 1.0}],
          d)
    check("... was modified now, created when it was",
          d["LastModifiedTime"] > before["LastModifiedTime"] and d["CreationTime"] == before["CreationTime"], d)
    # Held there, so that a slow machine cannot let it settle first.
    h.control({"EndpointName": "hoist-endpoint-a", "EndpointStatus": "Updating", "Hold": True})
    expect_error("an Updating endpoint cannot be updated",
                 lambda: sm.update_endpoint(EndpointName="hoist-endpoint-a", EndpointConfigName="hoist-config-a"),
                 400, "ValidationException",
                 f'Cannot update in-progress endpoint "{arn("endpoint", "hoist-endpoint-a")}" (status Updating).')
    h.control({"EndpointName": "hoist-endpoint-a", "EndpointStatus": "Updating"})
    time.sleep(AFTER_SETTLE)
    d = describe("hoist-endpoint-a")
    check("after the settle time the update is done: InService", d["EndpointStatus"] == "InService"
          and d["EndpointConfigName"] == "hoist-config-b", d)
    # An update that fails (FailNextUpdate): AWS's blue/green update keeps
    # the old fleet, so the endpoint is InService again on the old
    # configuration, with the reason.
    status, body = h.control({"EndpointName": "hoist-endpoint-a", "FailNextUpdate": "the new fleet failed its ping health check"})
    check("control: FailNextUpdate alone answers 200 and changes no status",
          status == 200 and body.get("EndpointStatus") == "InService", (status, body))
    sm.update_endpoint(EndpointName="hoist-endpoint-a", EndpointConfigName="hoist-config-a")
    d = describe("hoist-endpoint-a")
    check("a failing update is Updating on the new configuration first (or, slow here, rolled back)",
          (d["EndpointStatus"] == "Updating" and d["EndpointConfigName"] == "hoist-config-a")
          or d["EndpointConfigName"] == "hoist-config-b", d)
    time.sleep(AFTER_SETTLE)
    d = describe("hoist-endpoint-a")
    check("... then InService on its previous configuration and variants, with the FailureReason",
          d["EndpointStatus"] == "InService" and d["EndpointConfigName"] == "hoist-config-b"
          and d["ProductionVariants"][0]["VariantName"] == "second"
          and d.get("FailureReason") == "the new fleet failed its ping health check", d)
    sm.update_endpoint(EndpointName="hoist-endpoint-a", EndpointConfigName="hoist-config-b")
    time.sleep(AFTER_SETTLE)
    d = describe("hoist-endpoint-a")
    check("the next update is not failed, and clears the FailureReason",
          d["EndpointStatus"] == "InService" and d["EndpointConfigName"] == "hoist-config-b" and "FailureReason" not in d, d)
    expect_error("UpdateEndpoint of a missing endpoint",
                 lambda: sm.update_endpoint(EndpointName="no-such-endpoint", EndpointConfigName="hoist-config-a"),
                 400, "ValidationException", f'Could not find endpoint "{arn("endpoint", "no-such-endpoint")}".')
    expect_error("UpdateEndpoint to a missing configuration",
                 lambda: sm.update_endpoint(EndpointName="hoist-endpoint-a", EndpointConfigName="no-such-config"),
                 400, "ValidationException",
                 f'Could not find endpoint configuration "{arn("endpoint-config", "no-such-config")}".')
    check("... leaves the endpoint as it was", describe("hoist-endpoint-a") == d)
    expect_error("ListTags of an endpoint that does not exist (deleted since it was listed)",
                 lambda: sm.list_tags(ResourceArn=arn("endpoint", "no-such-endpoint")),
                 400, "ValidationException", "Could not find endpoint with name no-such-endpoint")
    for missing in ("EndpointName", "EndpointConfigName"):
        given = {"EndpointName": "hoist-endpoint-a", "EndpointConfigName": "hoist-config-a"}
        given.pop(missing)
        status, _, body = h.raw_sagemaker("UpdateEndpoint", given)
        member = missing[0].lower() + missing[1:]
        check(f"UpdateEndpoint without {missing} is refused",
              status == 400 and json.loads(body).get("__type") == "ValidationException"
              and f"Value null at '{member}'" in json.loads(body).get("Message", ""), (status, body))
    status, headers, body = h.raw_sagemaker("UpdateEndpoint", {"EndpointName": "no-such-endpoint",
                                                              "EndpointConfigName": "hoist-config-a"})
    check("UpdateEndpoint's error is awsJson: 400, x-amzn-ErrorType, {__type, Message}",
          status == 400 and header(headers, "x-amzn-ErrorType") == "ValidationException"
          and json.loads(body) == {"__type": "ValidationException",
                                   "Message": f'Could not find endpoint "{arn("endpoint", "no-such-endpoint")}".'},
          (status, headers, body))

    # 4. The control endpoint: Failed, held statuses.
    d, _ = create_endpoint("hoist-endpoint-held", "hoist-config-a")
    status, body = h.control({"EndpointName": "hoist-endpoint-held", "EndpointStatus": "Creating", "Hold": True})
    check("control: Hold Creating answers 200 with DescribeEndpoint's JSON",
          status == 200 and body.get("EndpointStatus") == "Creating"
          and body.get("EndpointArn") == arn("endpoint", "hoist-endpoint-held")
          and isinstance(body.get("CreationTime"), (int, float)) and "Tags" not in body, (status, body))
    time.sleep(AFTER_SETTLE)
    check("a held Creating endpoint does not settle", describe("hoist-endpoint-held")["EndpointStatus"] == "Creating")
    expect_error("a Creating endpoint cannot be updated",
                 lambda: sm.update_endpoint(EndpointName="hoist-endpoint-held", EndpointConfigName="hoist-config-b"),
                 400, "ValidationException",
                 f'Cannot update in-progress endpoint "{arn("endpoint", "hoist-endpoint-held")}" (status Creating).')
    check("... and is unchanged", describe("hoist-endpoint-held")["EndpointConfigName"] == "hoist-config-a")
    expect_error("a Creating endpoint does not answer invocations",
                 lambda: rt.invoke_endpoint(EndpointName="hoist-endpoint-held", Body=b"{}",
                                            ContentType="application/json"),
                 400, "ValidationError",
                 f"Endpoint hoist-endpoint-held of account {ACCOUNT} is not in service (status Creating).")
    h.control({"EndpointName": "hoist-endpoint-held", "EndpointStatus": "Creating"})
    check("released (Hold false) it is still Creating at once",
          describe("hoist-endpoint-held")["EndpointStatus"] == "Creating")
    time.sleep(AFTER_SETTLE)
    check("... and settles after the settle time", describe("hoist-endpoint-held")["EndpointStatus"] == "InService")

    reason = "The primary container for production variant primary did not pass the ping health check."
    status, body = h.control({"EndpointName": "hoist-endpoint-held", "EndpointStatus": "Failed",
                              "FailureReason": reason})
    check("control: Failed with a reason answers 200", status == 200 and body.get("EndpointStatus") == "Failed"
          and body.get("FailureReason") == reason, (status, body))
    time.sleep(AFTER_SETTLE)
    d = describe("hoist-endpoint-held")
    check("a Failed endpoint stays Failed, with its FailureReason",
          d["EndpointStatus"] == "Failed" and d.get("FailureReason") == reason, d)
    expect_error("a Failed endpoint cannot be updated",
                 lambda: sm.update_endpoint(EndpointName="hoist-endpoint-held", EndpointConfigName="hoist-config-b"),
                 400, "ValidationException",
                 f'Cannot update failed endpoint "{arn("endpoint", "hoist-endpoint-held")}" (status Failed).')
    expect_error("a Failed endpoint does not answer invocations",
                 lambda: rt.invoke_endpoint(EndpointName="hoist-endpoint-held", Body=b"{}",
                                            ContentType="application/json"),
                 400, "ValidationError",
                 f"Endpoint hoist-endpoint-held of account {ACCOUNT} is not in service (status Failed).")
    try:
        sm.get_waiter("endpoint_in_service").wait(EndpointName="hoist-endpoint-held",
                                                  WaiterConfig={"Delay": 0.1, "MaxAttempts": 3})
        check("boto3's endpoint_in_service waiter fails on Failed", False, "it succeeded")
    except Exception as e:
        check("boto3's endpoint_in_service waiter fails on Failed", "Failed" in str(e), e)
    status, body = h.control({"EndpointName": "hoist-endpoint-held", "EndpointStatus": "InService"})
    check("control: InService without a reason clears FailureReason",
          status == 200 and body.get("EndpointStatus") == "InService" and "FailureReason" not in body, body)

    status, body = h.control({"EndpointName": "no-such-endpoint", "EndpointStatus": "Failed"})
    check("control: an unknown endpoint is 404", status == 404, (status, body))
    status, body = h.control({"EndpointName": "hoist-endpoint-a", "EndpointStatus": "InService", "Region": "eu-west-1"})
    check("control: an endpoint is looked up in the given region (404 elsewhere)", status == 404, (status, body))
    status, body = h.control({"EndpointName": "hoist-endpoint-a", "EndpointStatus": "InService",
                              "AccountId": "210987654321"})
    check("control: ... and account (404 elsewhere)", status == 404, (status, body))
    status, body = h.control({"EndpointName": "hoist-endpoint-a", "EndpointStatus": "Sleeping"})
    check("control: an unknown EndpointStatus is 400", status == 400, (status, body))
    status, body = h.control({"EndpointName": "hoist-endpoint-a", "EndpointStatus": "Creating", "Hold": "yes"})
    check("control: a Hold that is not a boolean is 400", status == 400, (status, body))
    status, body = h.control({"EndpointStatus": "Creating"})
    check("control: a body without EndpointName is 400", status == 400, (status, body))
    status, body = h.control({}, method="GET")
    check("control: only POST", status == 405, (status, body))
    check("control: refused requests changed nothing", describe("hoist-endpoint-a")["EndpointStatus"] == "InService")

    # 5. Names already taken.
    for kind, label, name, create, request, read in (
        ("model", "model", "hoist-model-a", sm.create_model, model_request("hoist-model-a", image="other:1", Tags=[]),
         lambda: sm.describe_model(ModelName="hoist-model-a")),
        ("endpoint-config", "endpoint configuration", "hoist-config-a", sm.create_endpoint_config,
         config_request("hoist-config-a", "hoist-model-b", variant="other", Tags=[]),
         lambda: sm.describe_endpoint_config(EndpointConfigName="hoist-config-a")),
        ("endpoint", "endpoint", "hoist-endpoint-a", sm.create_endpoint,
         {"EndpointName": "hoist-endpoint-a", "EndpointConfigName": "hoist-config-a", "Tags": []},
         lambda: sm.describe_endpoint(EndpointName="hoist-endpoint-a")),
    ):
        was = read()
        was.pop("ResponseMetadata")
        tags = sm.list_tags(ResourceArn=arn(kind, name))["Tags"]
        expect_error(f"CreateX of a {label} name already taken is refused", lambda: create(**request),
                     400, "ValidationException", f'Cannot create already existing {label} "{arn(kind, name)}".')
        now = read()
        now.pop("ResponseMetadata")
        check(f"... the {label} there is unchanged", now == was, (was, now))
        check("... and so are its tags", sm.list_tags(ResourceArn=arn(kind, name))["Tags"] == tags)
    expect_error("an endpoint name is taken whatever its case",
                 lambda: sm.create_endpoint(EndpointName="HOIST-endpoint-A", EndpointConfigName="hoist-config-a"),
                 400, "ValidationException",
                 f'Cannot create already existing endpoint "{arn("endpoint", "hoist-endpoint-a")}".')
    expect_error("CreateEndpoint with a missing configuration",
                 lambda: sm.create_endpoint(EndpointName="hoist-endpoint-x", EndpointConfigName="no-such-config"),
                 400, "ValidationException",
                 f'Could not find endpoint configuration "{arn("endpoint-config", "no-such-config")}".')
    expect_error("... was not made", lambda: sm.describe_endpoint(EndpointName="hoist-endpoint-x"),
                 400, "ValidationException", f'Could not find endpoint "{arn("endpoint", "hoist-endpoint-x")}".')
    west = h.client("sagemaker", "us-west-2")
    west.create_model(**m1)
    check("a model name is free in another region",
          west.describe_model(ModelName="hoist-model-a")["ModelArn"] == arn("model", "hoist-model-a", "us-west-2"))
    status, headers, body = h.raw_sagemaker("CreateModel", m1)
    check("the refusal is awsJson: 400, x-amzn-ErrorType, {__type, Message}",
          status == 400 and header(headers, "x-amzn-ErrorType") == "ValidationException"
          and json.loads(body) == {"__type": "ValidationException",
                                   "Message": f'Cannot create already existing model "{arn("model", "hoist-model-a")}".'},
          (status, headers, body))

    # 6. Tags.
    for kind, name, want in (("model", "hoist-model-b", m2["Tags"]), ("endpoint-config", "hoist-config-a", c1["Tags"]),
                             ("endpoint", "hoist-endpoint-a", e_tags)):
        got = sm.list_tags(ResourceArn=arn(kind, name))["Tags"]
        check(f"ListTags on a {kind} reads back the tags given at creation", got == want, got)
        sm.add_tags(ResourceArn=arn(kind, name), Tags=[{"Key": "hoist:run", "Value": "r-1"},
                                                       {"Key": "hoist:workspace", "Value": "other"}])
        got = sm.list_tags(ResourceArn=arn(kind, name))["Tags"]
        want = [{"Key": "hoist:workspace", "Value": "other"}] + want[1:] + [{"Key": "hoist:run", "Value": "r-1"}]
        check(f"AddTags on a {kind} adds and overwrites", got == want, got)
        sm.delete_tags(ResourceArn=arn(kind, name), TagKeys=["hoist:run"])
        got = sm.list_tags(ResourceArn=arn(kind, name))["Tags"]
        check(f"DeleteTags on a {kind}", got == want[:-1], got)

    # 7. InvokeEndpoint.
    r = rt.invoke_endpoint(EndpointName="hoist-endpoint-a", Body=b'{"inputs": "hello"}',
                           ContentType="application/json", Accept="application/json")
    answer = json.loads(r["Body"].read())
    echo = {"EndpointName": "hoist-endpoint-a", "ContentType": "application/json", "Accept": "application/json",
            "Body": '{"inputs": "hello"}', "Variant": "second",
            "Model": {"ModelName": "hoist-model-b", "Image": m2["PrimaryContainer"]["Image"],
                      "ModelDataUrl": m2["PrimaryContainer"]["ModelDataUrl"],
                      "Environment": {"HOIST_MODEL": "hoist-model-b"}}}
    check("InvokeEndpoint answers JSON", r["ContentType"] == "application/json", r["ContentType"])
    check("... naming the variant that served it", r.get("InvokedProductionVariant") == "second", r)
    check("... echoing what reached the endpoint and what serves it (the updated configuration's model)",
          answer == echo, answer)
    r = rt.invoke_endpoint(EndpointName="hoist-endpoint-a", Body=b"\x89PNG\r\n\x1a\n\xff", ContentType="image/png")
    answer = json.loads(r["Body"].read())
    check("a body that is not UTF-8 is echoed as base64",
          (answer["Body"], answer.get("BodyEncoding"), answer["ContentType"], answer["Accept"])
          == ("iVBORw0KGgr/", "base64", "image/png", None), answer)
    expect_error("InvokeEndpoint of a missing endpoint",
                 lambda: rt.invoke_endpoint(EndpointName="no-such-endpoint", Body=b"{}", ContentType="application/json"),
                 400, "ValidationError", f"Endpoint no-such-endpoint of account {ACCOUNT} not found.")

    # 7b. InvokeEndpointWithResponseStream: InvokeEndpoint's answer, as events.
    r = rt.invoke_endpoint_with_response_stream(EndpointName="hoist-endpoint-a", Body=b'{"inputs": "hello"}',
                                                ContentType="application/json", Accept="application/json")
    http_headers = r["ResponseMetadata"]["HTTPHeaders"]
    check("InvokeEndpointWithResponseStream answers an event stream",
          http_headers.get("content-type") == "application/vnd.amazon.eventstream", http_headers)
    check("... the answer's content type in X-Amzn-SageMaker-Content-Type, the variant that served it",
          (r.get("ContentType"), r.get("InvokedProductionVariant")) == ("application/json", "second"), r)
    events = list(r["Body"])
    parts = [e["PayloadPart"]["Bytes"] for e in events if list(e) == ["PayloadPart"]]
    check("... of PayloadPart events only, several of them (boto3 decodes them)",
          len(parts) == len(events) and len(parts) >= 2, events)
    try:
        answer = json.loads(b"".join(parts))
    except ValueError as e:
        answer = e
    check("... whose bytes concatenate to InvokeEndpoint's echo (the Accept of X-Amzn-SageMaker-Accept)",
          answer == echo, answer)
    status, headers, data = h.raw_stream("hoist-endpoint-a", b'{"inputs": "hello"}', text=False)
    try:
        messages = event_messages(data)
    except ValueError as e:
        messages = e
    check("... framed as AWS event stream messages (lengths and CRC32s verified here)",
          status == 200 and isinstance(messages, list) and len(messages) == 3, (status, messages))
    if isinstance(messages, list):
        check("... each an event, PayloadPart, application/octet-stream, with the raw bytes as payload",
              all(m[0] == {":event-type": "PayloadPart", ":content-type": "application/octet-stream",
                           ":message-type": "event"} for m in messages)
              and json.loads(b"".join(m[1] for m in messages)) == {**echo, "Accept": None}, messages)
    r = rt.invoke_endpoint_with_response_stream(EndpointName="hoist-endpoint-a", Body=b"\x89PNG\r\n\x1a\n\xff",
                                                ContentType="image/png")
    answer = json.loads(b"".join(e["PayloadPart"]["Bytes"] for e in r["Body"]))
    check("... a body that is not UTF-8 is echoed as base64",
          (answer["Body"], answer.get("BodyEncoding"), answer["ContentType"], answer["Accept"])
          == ("iVBORw0KGgr/", "base64", "image/png", None), answer)
    expect_error("InvokeEndpointWithResponseStream of a missing endpoint",
                 lambda: rt.invoke_endpoint_with_response_stream(EndpointName="no-such-endpoint", Body=b"{}",
                                                                 ContentType="application/json"),
                 400, "ValidationError", f"Endpoint no-such-endpoint of account {ACCOUNT} not found.")
    status, headers, body = h.raw_stream("no-such-endpoint", b"{}")
    check("... a restJson error: 400, x-amzn-ErrorType ValidationError:<namespace>, {Message}",
          status == 400 and (header(headers, "x-amzn-ErrorType") or "").startswith("ValidationError:")
          and header(headers, "Content-Type") == "application/json"
          and json.loads(body) == {"Message": f"Endpoint no-such-endpoint of account {ACCOUNT} not found."},
          (status, headers, body))
    h.control({"EndpointName": "hoist-endpoint-held", "EndpointStatus": "Creating", "Hold": True})
    expect_error("InvokeEndpointWithResponseStream of a Creating endpoint",
                 lambda: rt.invoke_endpoint_with_response_stream(EndpointName="hoist-endpoint-held", Body=b"{}",
                                                                 ContentType="application/json"),
                 400, "ValidationError",
                 f"Endpoint hoist-endpoint-held of account {ACCOUNT} is not in service (status Creating).")
    h.control({"EndpointName": "hoist-endpoint-held", "EndpointStatus": "InService"})

    expect_error("InvokeEndpoint matches the name's case",
                 lambda: rt.invoke_endpoint(EndpointName="HOIST-endpoint-a", Body=b"{}", ContentType="application/json"),
                 400, "ValidationError", f"Endpoint HOIST-endpoint-a of account {ACCOUNT} not found.")
    status, headers, body = h.raw_invoke("no-such-endpoint", b"{}")
    check("the runtime's error is restJson: 400, x-amzn-ErrorType ValidationError:<namespace>, {Message}",
          status == 400 and header(headers, "x-amzn-ErrorType").startswith("ValidationError:")
          and header(headers, "Content-Type") == "application/json"
          and json.loads(body) == {"Message": f"Endpoint no-such-endpoint of account {ACCOUNT} not found."},
          (status, headers, body))
    sm.update_endpoint(EndpointName="hoist-endpoint-a", EndpointConfigName="hoist-config-a")
    r = rt.invoke_endpoint(EndpointName="hoist-endpoint-a", Body=b"{}", ContentType="application/json")
    answer = json.loads(r["Body"].read())
    check("an Updating endpoint answers invocations", answer["Variant"] == "primary"
          and answer["Model"]["ModelName"] == "hoist-model-a", answer)
    time.sleep(AFTER_SETTLE)
    sm.delete_model(ModelName="hoist-model-a")
    answer = json.loads(rt.invoke_endpoint(EndpointName="hoist-endpoint-a", Body=b"{}",
                                           ContentType="application/json")["Body"].read())
    check("once the variant's model is deleted, Model is null", answer["Model"] is None
          and answer["Variant"] == "primary", answer)

    # 8. Deletes of what is not there.
    expect_error("DeleteModel of a missing model", lambda: sm.delete_model(ModelName="hoist-model-a"),
                 400, "ValidationException", f'Could not find model "{arn("model", "hoist-model-a")}".')
    expect_error("DescribeModel of a missing model", lambda: sm.describe_model(ModelName="hoist-model-a"),
                 400, "ValidationException", f'Could not find model "{arn("model", "hoist-model-a")}".')
    expect_error("DeleteEndpointConfig of a missing configuration",
                 lambda: sm.delete_endpoint_config(EndpointConfigName="no-such-config"), 400, "ValidationException",
                 f'Could not find endpoint configuration "{arn("endpoint-config", "no-such-config")}".')
    expect_error("DescribeEndpointConfig of a missing configuration",
                 lambda: sm.describe_endpoint_config(EndpointConfigName="no-such-config"), 400, "ValidationException",
                 f'Could not find endpoint configuration "{arn("endpoint-config", "no-such-config")}".')
    expect_error("DeleteEndpoint of a missing endpoint", lambda: sm.delete_endpoint(EndpointName="no-such-endpoint"),
                 400, "ValidationException", f'Could not find endpoint "{arn("endpoint", "no-such-endpoint")}".')
    expect_error("DescribeEndpoint of a missing endpoint",
                 lambda: sm.describe_endpoint(EndpointName="no-such-endpoint"),
                 400, "ValidationException", f'Could not find endpoint "{arn("endpoint", "no-such-endpoint")}".')
    sm.delete_endpoint(EndpointName="hoist-endpoint-held")
    expect_error("a deleted endpoint is gone", lambda: sm.describe_endpoint(EndpointName="hoist-endpoint-held"),
                 400, "ValidationException", f'Could not find endpoint "{arn("endpoint", "hoist-endpoint-held")}".')
    sm.get_waiter("endpoint_deleted").wait(EndpointName="hoist-endpoint-held", WaiterConfig={"Delay": 0.1})
    check("boto3's endpoint_deleted waiter is satisfied", True)
    d, fresh = create_endpoint("hoist-endpoint-held", "hoist-config-b")
    check("a deleted endpoint's name can be used again, and starts afresh",
          d["EndpointConfigName"] == "hoist-config-b" and "FailureReason" not in d
          and (d["EndpointStatus"] == "Creating" or not fresh), d)

    # 9. The lists: 150 of each, filtered, sorted, paged.
    bulk = [f"bulk-{i:03d}" for i in range(150)]
    sm.create_model(**model_request("bulk-model-source"))
    for name in bulk:
        sm.create_model(**model_request(f"{name}-model"))
    for name in bulk:
        sm.create_endpoint_config(**config_request(f"{name}-config", "bulk-model-source"))
    for name in bulk:
        sm.create_endpoint(EndpointName=f"{name}-endpoint", EndpointConfigName=f"{name}-config")
    h.control({"EndpointName": "bulk-007-endpoint", "EndpointStatus": "Creating", "Hold": True})
    h.control({"EndpointName": "bulk-008-endpoint", "EndpointStatus": "Failed", "FailureReason": "no capacity"})

    for operation, target, key, member, suffix in (
        ("list_models", "ListModels", "Models", "ModelName", "-model"),
        ("list_endpoint_configs", "ListEndpointConfigs", "EndpointConfigs", "EndpointConfigName", "-config"),
        ("list_endpoints", "ListEndpoints", "Endpoints", "EndpointName", "-endpoint"),
    ):
        call = getattr(sm, operation)
        mine = [n + suffix for n in bulk]

        def names(**kwargs):
            return [s[member] for s in call(**kwargs)[key]]

        pages, token = [], None
        while True:
            page = call(NameContains="bulk-", MaxResults=100, **({"NextToken": token} if token else {}))
            pages.append([s[member] for s in page[key] if s[member] != "bulk-model-source"])
            token = page.get("NextToken")
            if not token:
                break
        check(f"{operation}: MaxResults=100 over 150 gives 2 pages, newest first, each once",
              [len(p) for p in pages] == [100, 50] and pages[0] + pages[1] == mine[::-1], [len(p) for p in pages])
        first = call()
        check(f"{operation}: by default 10, newest first, and a NextToken",
              [s[member] for s in first[key]] == mine[::-1][:10] and "NextToken" in first,
              [s[member] for s in first[key]])
        check(f"{operation}: SortOrder=Ascending is oldest first",
              names(NameContains="bulk-1", SortOrder="Ascending", MaxResults=100) == mine[100:],
              names(NameContains="bulk-1", SortOrder="Ascending", MaxResults=100))
        got = names(NameContains="bulk-14", SortBy="Name", SortOrder="Ascending")
        check(f"{operation}: NameContains and SortBy=Name",
              got == sorted(n for n in mine if "bulk-14" in n), got)
        check(f"{operation}: SortBy=Name, Descending", names(NameContains="bulk-00", SortBy="Name")
              == sorted((n for n in mine if "bulk-00" in n), reverse=True), names(NameContains="bulk-00", SortBy="Name"))
        check(f"{operation}: NameContains matching nothing", call(NameContains="nothing-like-it")[key] == []
              and "NextToken" not in call(NameContains="nothing-like-it"))
        paged = [s[member] for p in sm.get_paginator(operation).paginate(
            NameContains="bulk-0", PaginationConfig={"PageSize": 7}) for s in p[key]]
        check(f"{operation}: the SDK's paginator", paged == [n for n in mine if "bulk-0" in n][::-1], paged)
        for bad in (0, 101):  # (boto3 itself refuses 0)
            status, _, body = h.raw_sagemaker(target, {"MaxResults": bad})
            check(f"{operation}: MaxResults={bad} is refused", status == 400
                  and json.loads(body).get("__type") == "ValidationException"
                  and "'maxResults'" in json.loads(body).get("Message", ""), (status, body))
        got = h.error(lambda: call(NextToken="not-a-token"))
        check(f"{operation}: a bad NextToken is refused", got[:2] == (400, "ValidationException"), got)

    summary = sm.list_models(NameContains="bulk-000")["Models"]
    check("ListModels: a summary is the name, ARN and creation time",
          [sorted(s) for s in summary] == [["CreationTime", "ModelArn", "ModelName"]]
          and summary[0]["ModelArn"] == arn("model", "bulk-000-model"), summary)
    cutoff = sm.describe_model(ModelName="bulk-100-model")["CreationTime"]
    got = [s["ModelName"] for s in sm.list_models(NameContains="bulk-", CreationTimeAfter=cutoff, MaxResults=100,
                                                  SortOrder="Ascending")["Models"]]
    check("ListModels: CreationTimeAfter (at or after)", got == [n + "-model" for n in bulk[100:]], got)
    cutoff = sm.describe_model(ModelName="bulk-050-model")["CreationTime"]
    got = [s["ModelName"] for s in sm.list_models(NameContains="bulk-", CreationTimeBefore=cutoff, MaxResults=100,
                                                  SortOrder="Ascending")["Models"]]
    check("ListModels: CreationTimeBefore", got == ["bulk-model-source"] + [n + "-model" for n in bulk[:50]], got)

    time.sleep(AFTER_SETTLE)
    got = [s["EndpointName"] for s in sm.list_endpoints(NameContains="bulk-", StatusEquals="Creating")["Endpoints"]]
    # None of them was described: ListEndpoints itself settles them.
    check("ListEndpoints settles statuses: StatusEquals=Creating lists only the held one",
          got == ["bulk-007-endpoint"], got)
    got = [s["EndpointName"] for s in sm.list_endpoints(StatusEquals="Failed")["Endpoints"]]
    check("ListEndpoints StatusEquals=Failed", got == ["bulk-008-endpoint"], got)
    got = [s["EndpointName"] for s in sm.list_endpoints(NameContains="bulk-0", SortBy="Status", SortOrder="Ascending",
                                                        MaxResults=100)["Endpoints"]]
    check("ListEndpoints SortBy=Status", got[:2] == ["bulk-007-endpoint", "bulk-008-endpoint"], got[:3])
    summary = sm.list_endpoints(NameContains="bulk-000")["Endpoints"]
    check("ListEndpoints: a summary has the status",
          [sorted(s) for s in summary] == [["CreationTime", "EndpointArn", "EndpointName", "EndpointStatus",
                                            "LastModifiedTime"]] and summary[0]["EndpointStatus"] == "InService",
          summary)
    summary = sm.list_endpoint_configs(NameContains="bulk-000")["EndpointConfigs"]
    check("ListEndpointConfigs: a summary is the name, ARN and creation time",
          [sorted(s) for s in summary] == [["CreationTime", "EndpointConfigArn", "EndpointConfigName"]]
          and summary[0]["EndpointConfigArn"] == arn("endpoint-config", "bulk-000-config"), summary)
    check("the lists are per region", [m["ModelName"] for m in west.list_models()["Models"]] == ["hoist-model-a"]
          and west.list_endpoints()["Endpoints"] == [])
    return h.failures


def run_enforced(endpoint):
    """Under IAM enforcement: UpdateEndpoint and InvokeEndpoint are judged
    as those actions (InvokeEndpointWithResponseStream as InvokeEndpoint),
    and denials parse."""
    h = Harness(endpoint)
    check = h.check
    bootstrap = h.client("iam")
    bootstrap.create_user(UserName="admin")
    bootstrap.put_user_policy(UserName="admin", PolicyName="all", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    key = bootstrap.create_access_key(UserName="admin")["AccessKey"]
    admin = (key["AccessKeyId"], key["SecretAccessKey"])
    iam = h.client("iam", keys=admin)

    def user(name, actions):
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": actions,
                           "Resource": arn("endpoint", "*")}]}))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return key["AccessKeyId"], key["SecretAccessKey"]

    sm = h.client("sagemaker", keys=admin)
    sm.create_model(**model_request("guarded-model"))
    sm.create_endpoint_config(**config_request("guarded-config", "guarded-model"))
    sm.create_endpoint_config(**config_request("guarded-config-2", "guarded-model", variant="two"))
    sm.create_endpoint(EndpointName="guarded", EndpointConfigName="guarded-config")
    time.sleep(AFTER_SETTLE)
    reader = user("reader", ["sagemaker:DescribeEndpoint"])
    updater = user("updater", ["sagemaker:DescribeEndpoint", "sagemaker:UpdateEndpoint"])
    invoker = user("invoker", ["sagemaker:InvokeEndpoint"])

    denied = h.client("sagemaker", keys=reader)
    got = h.error(lambda: denied.update_endpoint(EndpointName="guarded", EndpointConfigName="guarded-config-2"))
    check("a user without sagemaker:UpdateEndpoint is denied (403 AccessDeniedException naming the action)",
          got[:2] == (403, "AccessDeniedException") and got[2].endswith("sagemaker:UpdateEndpoint"), got)
    status, headers, body = h.raw_sagemaker("UpdateEndpoint", {"EndpointName": "guarded",
                                                              "EndpointConfigName": "guarded-config-2"}, keys=reader)
    parsed = json.loads(body)
    check("... answered as awsJson: x-amzn-ErrorType and {__type, Message}",
          status == 403 and header(headers, "x-amzn-ErrorType") == "AccessDeniedException"
          and parsed.get("__type") == "AccessDeniedException"
          and parsed.get("Message") == f"User: arn:aws:iam::{ACCOUNT}:user/reader is not authorized to perform: "
                                       "sagemaker:UpdateEndpoint", (status, headers, body))
    check("... and the endpoint is unchanged",
          denied.describe_endpoint(EndpointName="guarded")["EndpointConfigName"] == "guarded-config")
    allowed = h.client("sagemaker", keys=updater)
    allowed.update_endpoint(EndpointName="guarded", EndpointConfigName="guarded-config-2")
    check("a user with sagemaker:UpdateEndpoint updates it",
          allowed.describe_endpoint(EndpointName="guarded")["EndpointConfigName"] == "guarded-config-2")

    time.sleep(AFTER_SETTLE)
    got = h.error(lambda: h.client("sagemaker-runtime", keys=reader).invoke_endpoint(
        EndpointName="guarded", Body=b"{}", ContentType="application/json"))
    check("a user without sagemaker:InvokeEndpoint is denied (403 AccessDeniedException naming the action)",
          got[:2] == (403, "AccessDeniedException") and got[2].endswith("sagemaker:InvokeEndpoint"), got)
    status, headers, body = h.raw_invoke("guarded", b"{}", keys=reader)
    check("... answered as restJson: x-amzn-ErrorType AccessDeniedException:<namespace>, {Message}",
          status == 403 and header(headers, "x-amzn-ErrorType").startswith("AccessDeniedException:")
          and json.loads(body) == {"Message": f"User: arn:aws:iam::{ACCOUNT}:user/reader is not authorized to "
                                              "perform: sagemaker:InvokeEndpoint"}, (status, headers, body))
    r = h.client("sagemaker-runtime", keys=invoker).invoke_endpoint(
        EndpointName="guarded", Body=b"\x00\xff binary", ContentType="application/octet-stream")
    answer = json.loads(r["Body"].read())
    check("a user with sagemaker:InvokeEndpoint invokes it (a binary body's signature verifies)",
          answer["Variant"] == "two" and answer["BodyEncoding"] == "base64", answer)

    got = h.error(lambda: h.client("sagemaker-runtime", keys=reader).invoke_endpoint_with_response_stream(
        EndpointName="guarded", Body=b"{}", ContentType="application/json"))
    check("InvokeEndpointWithResponseStream: a user without sagemaker:InvokeEndpoint is denied "
          "(403 AccessDeniedException naming sagemaker:InvokeEndpoint)",
          got[:2] == (403, "AccessDeniedException") and got[2].endswith("sagemaker:InvokeEndpoint"), got)
    status, headers, body = h.raw_stream("guarded", b"{}", keys=reader)
    check("... answered as restJson: x-amzn-ErrorType AccessDeniedException:<namespace>, {Message}",
          status == 403 and (header(headers, "x-amzn-ErrorType") or "").startswith("AccessDeniedException:")
          and json.loads(body) == {"Message": f"User: arn:aws:iam::{ACCOUNT}:user/reader is not authorized to "
                                              "perform: sagemaker:InvokeEndpoint"}, (status, headers, body))
    r = h.client("sagemaker-runtime", keys=invoker).invoke_endpoint_with_response_stream(
        EndpointName="guarded", Body=b"\x00\xff binary", ContentType="application/octet-stream")
    answer = json.loads(b"".join(e["PayloadPart"]["Bytes"] for e in r["Body"]))
    check("... a user with sagemaker:InvokeEndpoint streams the answer (a binary body's signature verifies)",
          answer["Variant"] == "two" and answer["BodyEncoding"] == "base64", answer)
    return h.failures


if __name__ == "__main__":
    sys.exit(main())
