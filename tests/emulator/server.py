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

2. IAM resources: when moto enforces IAM it judges an IAM request against
   the role's ARN only if `RoleName` names a role that already exists, and
   against `*` otherwise (instance profiles, users, roles not yet created).
   AWS judges it against the ARN the request names, existing or not. The
   resource is derived here from the request's names, as AWS does
   (roles and profiles at path `/`, which is where hoist makes them).

3. S3 actions: moto's map from S3 requests to IAM actions has gaps: HEAD on
   a bucket is judged as `s3:HeadBucket` (not an IAM action: AWS checks
   `s3:ListBucket`), `?encryption` and `?ownershipControls` fall through to
   ListBucket / CreateBucket, the public-access-block actions are misnamed,
   and POST `?delete` is not mapped. The map is corrected to the actions AWS
   authorizes, so a least-privilege test proves the right thing.

4. Services whose resources moto does not model (all but S3, IAM and STS):
   moto judges their requests against the resource `*`, which only a
   statement with `"Resource": "*"` matches, so a policy scoped the way AWS
   recommends (a log group's ARN) is always denied. Such requests are
   judged on their action alone: any Resource element matches `*`.

5. Signatures: for a form-encoded request (IAM, STS) moto has no raw body
   (werkzeug parsed it into form fields) and re-encodes the fields the way
   botocore does, a space as `+`. The AWS SDK for Rust encodes it as `%20`,
   so any value with a space fails the signature check under enforcement.
   The check also accepts the RFC 3986 encoding of the same fields.

6. DeleteObjects: AWS authorizes s3:DeleteObject on each key deleted; moto
   checks it once, against the bucket's ARN, which no object-scoped policy
   matches. It is judged against the bucket's objects (`bucket/*`) instead.

7. Policy variables: moto does not substitute `${aws:username}` in an IAM
   user's policies, so a statement letting each user read only their own
   policies (`user/${aws:username}`) matches nothing. It is substituted with
   the requesting user's name, as AWS does: in every policy the user holds
   (inline and attached managed policies, the user's own and those of its
   groups; for a managed policy, its default version), in the Resource,
   NotResource and Condition values of documents of version 2012-10-17
   (other versions take the variable literally). Each policy is handed to
   moto's judge as its document text, whatever moto collected it as.
   (`tests/emulator/check_managed_policies.py` checks this by hand.)

8. Conditions in identity policies: moto has no request context for most
   condition keys, and treats an Allow whose condition it cannot satisfy as
   an explicit Deny (AWS merely does not apply it). Identity-policy
   conditions are not judged here: requests are judged on action and
   resource. (hoist's tests prove its conditions with hoist-iam instead.)

9. GetBucketVersioning: moto names the response's root element
   `GetBucketVersioningResponse`; S3 sends `VersioningConfiguration`, which
   is what the AWS SDK for Rust parses (it cannot parse moto's answer for a
   bucket never versioned). The response is rendered as S3 renders it.

10. Placement groups: moto has no CreatePlacementGroup,
   DescribePlacementGroups or DeletePlacementGroup, and RunInstances drops
   `Placement.GroupName`. They are modelled here as AWS documents them
   (per account and region; a name is unique, `InvalidPlacementGroup.
   Duplicate` when taken, `InvalidPlacementGroup.Unknown` when missing;
   tags given at creation; `GroupNames` and `tag:KEY`/`group-name`
   filters; RunInstances into an unknown group fails with
   `InvalidPlacementGroup.Unknown`, into a known one records the group in
   the instance's `Placement.GroupName`; a group still holding instances
   that are not terminated cannot be deleted: `InvalidPlacementGroup.InUse`).
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


def _iam_resource(self):
    account = self.current_account
    data = self.data
    # A request naming both a profile and a role (AddRoleToInstanceProfile)
    # is authorized against the profile.
    for param, kind in (("InstanceProfileName", "instance-profile"), ("RoleName", "role"), ("UserName", "user")):
        if param in data:
            return f"arn:aws:iam::{account}:{kind}/{data[param][0]}"
    if "PolicyArn" in data:
        return data["PolicyArn"][0]
    return "*"


from moto.iam.responses import IamResponse  # noqa: E402

IamResponse._determine_resource = _iam_resource

from moto.s3 import responses as s3_responses  # noqa: E402

_bucket = s3_responses.ACTION_MAP["BUCKET"]
_bucket["HEAD"]["DEFAULT"] = "ListBucket"
_bucket["GET"].update(
    encryption="GetEncryptionConfiguration",
    ownershipControls="GetBucketOwnershipControls",
    publicAccessBlock="GetBucketPublicAccessBlock",
    public_access_block="GetBucketPublicAccessBlock",
)
_bucket["PUT"].update(
    encryption="PutEncryptionConfiguration",
    ownershipControls="PutBucketOwnershipControls",
    publicAccessBlock="PutBucketPublicAccessBlock",
    public_access_block="PutBucketPublicAccessBlock",
)
_bucket["DELETE"].update(
    encryption="PutEncryptionConfiguration",
    ownershipControls="PutBucketOwnershipControls",
    publicAccessBlock="PutBucketPublicAccessBlock",
    public_access_block="PutBucketPublicAccessBlock",
)
_bucket.setdefault("POST", {}).update(delete="DeleteObject")

from moto.iam.access_control import IAMPolicyStatement  # noqa: E402

_original_matches = IAMPolicyStatement._check_element_matches


def _element_matches(self, element, value):
    if element == "Resource" and value == "*":
        return True
    return _original_matches(self, element, value)


IAMPolicyStatement._check_element_matches = _element_matches

from urllib.parse import quote, urlencode  # noqa: E402

from moto.iam.access_control import IAMRequestBase  # noqa: E402

_original_calculate = IAMRequestBase._calculate_signature


def _calculate_signature(self):
    signature = _original_calculate(self)
    sent = self._get_string_between("Signature=", ",", self._headers["Authorization"])
    if signature == sent or self._body:
        return signature
    # Re-encode the form fields as RFC 3986 (space as %20) and try again.
    pairs = [(k, v) for k, values in self._data.items() for v in (values if isinstance(values, list) else [values])]
    self._body = urlencode(pairs, quote_via=quote, safe="")
    try:
        return _original_calculate(self)
    finally:
        self._body = None


IAMRequestBase._calculate_signature = _calculate_signature

from moto.core.authorization import ActionAuthenticatorMixin  # noqa: E402

_original_s3_authorize = ActionAuthenticatorMixin._authenticate_and_authorize_s3_action


def _s3_authorize(self, bucket_name=None, key_name=None):
    if key_name is None and bucket_name and self.data.get("Action") == "DeleteObject":
        key_name = "*"
    return _original_s3_authorize(self, bucket_name=bucket_name, key_name=key_name)


ActionAuthenticatorMixin._authenticate_and_authorize_s3_action = _s3_authorize

from moto.iam.access_control import IAMUserAccessKey  # noqa: E402
from moto.iam.models import Policy  # noqa: E402

_original_collect = IAMUserAccessKey.collect_policies


def _policy_document(policy):
    """The JSON text of one entry of moto's collect_policies: an inline
    user or group policy is a dict holding `policy_document`, an attached
    (customer or AWS managed) policy a Policy object whose default version
    holds the document. (A plain string is taken as the document.)"""
    if isinstance(policy, Policy):
        return next(v for v in policy.versions if v.is_default).document
    if isinstance(policy, str):
        return policy
    return policy["policy_document"]


def _substitute_username(value, user):
    if isinstance(value, str):
        return value.replace("${aws:username}", user)
    if isinstance(value, list):
        return [_substitute_username(v, user) for v in value]
    if isinstance(value, dict):
        return {k: _substitute_username(v, user) for k, v in value.items()}
    return value


def _with_username(document, user):
    policy = json.loads(document)
    if not isinstance(policy, dict) or policy.get("Version") != "2012-10-17":
        return document
    statements = policy.get("Statement")
    single = isinstance(statements, dict)
    out = []
    for s in [statements] if single else statements or []:
        if isinstance(s, dict):
            s = {k: _substitute_username(v, user) if k in ("Resource", "NotResource", "Condition") else v
                 for k, v in s.items()}
        out.append(s)
    return json.dumps({**policy, "Statement": out[0] if single else out})


def _collect_policies(self):
    user = getattr(self, "_owner_user_name", None)
    documents = [_policy_document(p) for p in _original_collect(self)]
    if not user:
        return documents
    return [_with_username(d, user) for d in documents]


IAMUserAccessKey.collect_policies = _collect_policies

IAMPolicyStatement._check_conditions = lambda self, incoming_condition_values: True

from moto.s3.responses import S3Response  # noqa: E402


def _get_bucket_versioning(self):
    status = self.backend.get_bucket_versioning(self.bucket_name)
    self.data["Action"] = "GetBucketVersioning"
    inner = f"<Status>{status}</Status>" if status else ""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{inner}</VersioningConfiguration>'
    )
    return 200, {"Content-Type": "application/xml"}, body


S3Response.get_bucket_versioning = _get_bucket_versioning

# 10. Placement groups.
import contextvars
import itertools

from moto.core.responses import ActionResult, EmptyResult
from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models.instances import Instance
from moto.ec2.responses import EC2Response

_PLACEMENT_GROUPS = {}  # (account, region) -> {name: group}
_GROUP_IDS = itertools.count(1)
_LAUNCH_GROUP = contextvars.ContextVar("launch_group", default="")


def _groups(self):
    return _PLACEMENT_GROUPS.setdefault((self.current_account, self.region), {})


def _create_placement_group(self):
    name = self._get_param("GroupName")
    strategy = self._get_param("Strategy", "cluster")
    groups = _groups(self)
    if name in groups:
        raise EC2ClientError("InvalidPlacementGroup.Duplicate", f"The placement group '{name}' already exists.")
    tags = self._parse_tag_specification().get("placement-group", {})
    group = {
        "GroupName": name,
        "GroupId": f"pg-{next(_GROUP_IDS):017x}",
        "Strategy": strategy,
        "State": "available",
        "GroupArn": f"arn:aws:ec2:{self.region}:{self.current_account}:placement-group/{name}",
        "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
    }
    groups[name] = group
    return ActionResult({"PlacementGroup": group})


def _describe_placement_groups(self):
    names = self._get_param("GroupNames", [])
    filters = self._filters_from_querystring()
    groups = _groups(self)
    for name in names:
        if name not in groups:
            raise EC2ClientError("InvalidPlacementGroup.Unknown", f"The Placement Group '{name}' is unknown.")

    def matches(g):
        if names and g["GroupName"] not in names:
            return False
        for key, values in filters.items():
            if key == "group-name" and g["GroupName"] not in values:
                return False
            if key.startswith("tag:"):
                tag = key[4:]
                if not any(t["Key"] == tag and t["Value"] in values for t in g["Tags"]):
                    return False
        return True

    return ActionResult({"PlacementGroups": [g for g in groups.values() if matches(g)]})


def _delete_placement_group(self):
    name = self._get_param("GroupName")
    groups = _groups(self)
    if name not in groups:
        raise EC2ClientError("InvalidPlacementGroup.Unknown", f"The Placement Group '{name}' is unknown.")
    for reservation in self.ec2_backend.reservations.values():
        for i in reservation.instances:
            if i.placement.group_name == name and i.state != "terminated":
                raise EC2ClientError("InvalidPlacementGroup.InUse", f"The placement group '{name}' is in use.")
    del groups[name]
    return EmptyResult()


_original_run_instances = EC2Response.run_instances


def _run_instances(self):
    group = self._get_param("Placement.GroupName") or ""
    if group and group not in _groups(self):
        raise EC2ClientError("InvalidPlacementGroup.Unknown", f"The Placement Group '{group}' is unknown.")
    token = _LAUNCH_GROUP.set(group)
    try:
        return _original_run_instances(self)
    finally:
        _LAUNCH_GROUP.reset(token)


_original_instance_init = Instance.__init__


def _instance_init(self, *args, **kwargs):
    _original_instance_init(self, *args, **kwargs)
    self._placement.group_name = _LAUNCH_GROUP.get()


EC2Response.create_placement_group = _create_placement_group
EC2Response.describe_placement_groups = _describe_placement_groups
EC2Response.delete_placement_group = _delete_placement_group
EC2Response.run_instances = _run_instances
Instance.__init__ = _instance_init


if __name__ == "__main__":
    import os
    import threading

    from moto.server import main

    # The test harness holds this server's stdin open for as long as the
    # test process lives: end of file means the test is gone (even killed),
    # so the server goes too. (PR_SET_PDEATHSIG would fire when the *thread*
    # that started the server ends, which a test's short-lived threads do.)
    if os.environ.get("HOIST_EXIT_ON_STDIN_EOF"):
        threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()

    sys.exit(main(sys.argv[1:]))
