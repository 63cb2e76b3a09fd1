"""The AWS emulator hoist's tests run against: moto's own server, started
with a few documented patches for what moto does not model. Each patch
changes the emulator, never hoist: hoist's code must work against AWS as is.

    python tests/emulator/server.py -H 127.0.0.1 -p PORT

Patches:

1. Bucket policies: moto enforces a bucket policy's Deny statements but does
   not evaluate their conditions, so a Deny conditioned on
   `aws:SecureTransport = false` (hoist's TLS-only statement) denies every
   request. The emulator is plain HTTP on loopback standing in for AWS's
   HTTPS endpoints, where that statement matches no request the SDK sends;
   so statements whose only condition is "not over TLS" are skipped when
   moto judges a request. Every other statement is judged as moto does.
"""

import json
import sys

from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.s3.models import FakeBucket


def _only_denies_insecure_transport(statement):
    condition = statement.get("Condition")
    if statement.get("Effect") != "Deny" or not isinstance(condition, dict) or list(condition) != ["Bool"]:
        return False
    value = condition["Bool"]
    if list(value) != ["aws:SecureTransport"]:
        return False
    v = value["aws:SecureTransport"]
    return v in ("false", False) or v in (["false"], [False])


def _get_permission(self, action, resource):
    if self.policy is None:
        return PermissionResult.NEUTRAL
    policy = json.loads(self.policy)
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    kept = [s for s in statements if not _only_denies_insecure_transport(s)]
    if not kept:
        return PermissionResult.NEUTRAL
    return IAMPolicy(json.dumps({**policy, "Statement": kept})).is_action_permitted(action, resource)


FakeBucket.get_permission = _get_permission

if __name__ == "__main__":
    from moto.server import main

    sys.exit(main(sys.argv[1:]))
