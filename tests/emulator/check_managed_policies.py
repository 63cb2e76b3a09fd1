"""Manual check of emulator patch 7 (policy variables) for IAM users whose
permissions come from managed policies, group policies and inline policies.

    .venv/bin/python tests/emulator/check_managed_policies.py [SERVER_SCRIPT]

Starts the emulator (tests/emulator/server.py, or SERVER_SCRIPT) on a free
loopback port with IAM enforced, the way crates/hoist-testkit/src/emulator.rs
does: INITIAL_NO_AUTH_ACTION_COUNT=3, spent on creating an admin user. Then
makes users holding the same permissions in different ways and checks that
each request is allowed or denied as AWS would decide it. Needs boto3 in the
same Python (`.venv/bin/pip install boto3`). Exits non-zero on any mismatch.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

HERE = Path(__file__).resolve().parent
BOOTSTRAP_REQUESTS = 3
CONFIG = Config(retries={"max_attempts": 1, "mode": "standard"})


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(script):
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="hoist-moto-", suffix=".log", delete=False)
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
    env.update(INITIAL_NO_AUTH_ACTION_COUNT=str(BOOTSTRAP_REQUESTS), MOTO_IAM_LOAD_MANAGED_POLICIES="false")
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


def client(service, endpoint, keys):
    return boto3.client(
        service, endpoint_url=endpoint, region_name="us-east-1", config=CONFIG,
        aws_access_key_id=keys[0], aws_secret_access_key=keys[1],
    )


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource):
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def main():
    script = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "server.py"
    proc, endpoint, log = start_server(script)
    try:
        return run(endpoint, log)
    finally:
        proc.kill()
        proc.wait()


def run(endpoint, log):
    # The bootstrap: exactly BOOTSTRAP_REQUESTS unauthenticated requests.
    iam = client("iam", endpoint, ("AKIAIOSFODNN7EXAMPLE", "testing"))
    iam.create_user(UserName="admin")
    iam.put_user_policy(UserName="admin", PolicyName="all", PolicyDocument=doc(allow("*", "*")))
    k = iam.create_access_key(UserName="admin")["AccessKey"]
    admin = (k["AccessKeyId"], k["SecretAccessKey"])
    iam = client("iam", endpoint, admin)
    account = client("sts", endpoint, admin).get_caller_identity()["Account"]
    self_user = f"arn:aws:iam::{account}:user/${{aws:username}}"

    def s3_and_self(bucket):
        return doc(
            allow("s3:ListAllMyBuckets", "*"),
            allow("s3:CreateBucket", f"arn:aws:s3:::{bucket}"),
            allow("iam:GetUser", self_user),
        )

    def managed(name, document):
        return iam.create_policy(PolicyName=name, PolicyDocument=document)["Policy"]["Arn"]

    def user(name, groups=()):
        iam.create_user(UserName=name)
        for g in groups:
            iam.add_user_to_group(GroupName=g, UserName=name)
        k = iam.create_access_key(UserName=name)["AccessKey"]
        return (k["AccessKeyId"], k["SecretAccessKey"])

    users = {}

    # 1. A customer-managed policy attached to the user. Its first version
    #    grants nothing useful; the default (v2) is the one that counts.
    arn = managed("direct", doc(allow("sqs:ListQueues", "*")))
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=s3_and_self("direct-bucket"), SetAsDefault=True)
    users["direct"] = user("direct")
    iam.attach_user_policy(UserName="direct", PolicyArn=arn)

    # 2. The same through a group's managed policy.
    iam.create_group(GroupName="g-managed")
    iam.attach_group_policy(GroupName="g-managed", PolicyArn=managed("via-group", s3_and_self("group-bucket")))
    users["group"] = user("group", ["g-managed"])

    # 3. Inline only (what the Rust harness makes).
    users["inline"] = user("inline")
    iam.put_user_policy(UserName="inline", PolicyName="p", PolicyDocument=s3_and_self("inline-bucket"))

    # 4. All kinds at once: S3 from a managed policy on the user, GetUser
    #    from a group's inline policy, and a Deny on the user's own ARN
    #    (for iam:ListUserTags) in a group's managed policy, next to an
    #    inline Allow of it.
    iam.create_group(GroupName="g-mixed")
    iam.put_group_policy(GroupName="g-mixed", PolicyName="p", PolicyDocument=doc(allow("iam:GetUser", self_user)))
    iam.attach_group_policy(
        GroupName="g-mixed",
        PolicyArn=managed("mixed-deny", doc({"Effect": "Deny", "Action": "iam:ListUserTags", "Resource": self_user})),
    )
    users["mixed"] = user("mixed", ["g-mixed"])
    iam.attach_user_policy(
        UserName="mixed",
        PolicyArn=managed("mixed-s3", doc(allow("s3:ListAllMyBuckets", "*"), allow("s3:CreateBucket", "arn:aws:s3:::mixed-bucket"))),
    )
    iam.put_user_policy(UserName="mixed", PolicyName="tags", PolicyDocument=doc(allow("iam:ListUserTags", "*")))

    def expect(who, what, call, allowed):
        nonlocal failures
        try:
            call()
            got = "allowed"
        except ClientError as e:
            code = e.response["Error"]["Code"]
            status = e.response["ResponseMetadata"]["HTTPStatusCode"]
            got = "denied" if code == "AccessDenied" else f"error {status} {code}: {e.response['Error'].get('Message', '')[:120]}"
        except Exception as e:  # e.g. a 500 page botocore cannot parse
            got = f"error {str(e)[:160]!r}"
        want = "allowed" if allowed else "denied"
        ok = got == want
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {who:7} {what:40} want {want:8} got {got}")

    failures = 0
    for who, bucket in (("direct", "direct-bucket"), ("group", "group-bucket"), ("inline", "inline-bucket"), ("mixed", "mixed-bucket")):
        s3 = client("s3", endpoint, users[who])
        u = client("iam", endpoint, users[who])
        expect(who, "s3:ListAllMyBuckets", s3.list_buckets, True)
        expect(who, f"s3:CreateBucket {bucket}", lambda: s3.create_bucket(Bucket=bucket), True)
        expect(who, f"s3:CreateBucket {who}-other", lambda: s3.create_bucket(Bucket=f"{who}-other"), False)
        expect(who, f"iam:GetUser {who} (self)", lambda: u.get_user(UserName=who), True)
        expect(who, "iam:GetUser admin", lambda: u.get_user(UserName="admin"), False)
    u = client("iam", endpoint, users["mixed"])
    expect("mixed", "iam:ListUserTags mixed (managed Deny)", lambda: u.list_user_tags(UserName="mixed"), False)
    expect("mixed", "iam:ListUserTags admin", lambda: u.list_user_tags(UserName="admin"), True)
    print(f"{failures} mismatch(es); emulator log: {log}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
