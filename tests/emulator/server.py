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
   matches. It is judged as AWS does: against each key the request's XML
   body names (a policy scoped to `bucket/models/*` may delete there and
   nowhere else); a body with no key is judged against `bucket/*`.

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

11. SageMaker training jobs: moto's CreateTrainingJob drops `Environment`
   (and the other inputs it does not name, such as `RetryStrategy`),
   accepts any stopping condition, overwrites a job of the same name, and
   makes every job `Completed` at once, with model artifacts and a metric
   definition and metric of its own; it has no StopTrainingJob, and
   ListTrainingJobs takes a page before it filters (and ignores the sort).
   AWS keeps every input DescribeTrainingJob returns; refuses managed spot
   training without `MaxWaitTimeInSeconds`, a `MaxWaitTimeInSeconds` below
   `MaxRuntimeInSeconds` (1 day when not given), or one without managed spot
   (`ValidationException`) and a name already taken in the account and
   region (`ResourceInUse`, the job unchanged); starts a job `InProgress` /
   `Starting` with no start time, metrics or artifacts; stops only an
   `InProgress` job (to `Stopping`); and answers an unknown name with
   `ValidationException` "Requested resource not found.". All that is
   modelled here, and AddTags overwrites a key it already holds, as AWS
   does. What SageMaker's machines would do next is the test's to say:
   `POST /hoist-emulator/sagemaker/training-job-status` (JSON, unsigned:
   `TrainingJobName`, `SecondaryStatus`, optional `TrainingJobStatus`,
   `StatusMessage`, `FailureReason`, `Region`, `AccountId`) moves a job on
   as SageMaker would record it (a transition per secondary status, the
   start time at `Training`, the end time and, for `Completed`, the model
   artifacts at `<S3OutputPath>/<name>/output/model.tar.gz` when it ends)
   and answers with the job's description (404 for an unknown job).
   Under IAM enforcement moto answers a denied SageMaker request with its
   XML `<ErrorResponse>` body, which an awsJson client cannot parse (the
   AWS SDK for Rust reports a malformed response, not the denial); AWS
   answers `{"__type": "AccessDeniedException", "Message": ...}`. Error
   answers to SageMaker requests are rendered as JSON here.

12. SageMaker endpoints: moto has no UpdateEndpoint (HTTP 500); makes an
   endpoint `InService` at once; lets CreateModel, CreateEndpointConfig and
   CreateEndpoint overwrite a name already taken; answers ListModels with
   every model, unfiltered and unpaged, and ListEndpoints /
   ListEndpointConfigs oldest first in pages of 100 by default; quotes the
   ARN in "Could not find ..." with `'` (and names a missing model in
   DeleteModel by name only); refuses every instance type newer than its
   2019 list (ml.g5...); and InvokeEndpoint answers any name, existing or
   not, with a canned body (a 500 for a body that is not UTF-8). AWS:
   UpdateEndpoint (`EndpointName` and `EndpointConfigName` required) deploys
   the new configuration's variants and leaves the endpoint `Updating`;
   only an `InService` endpoint can be updated ("DeleteEndpoint is the only
   operation that can be performed on a failed endpoint");
   CreateEndpoint leaves it `Creating`; either becomes `InService` (or
   `Failed`, with a `FailureReason`) later. A name taken is refused with
   `ValidationException` 'Cannot create already existing model|endpoint
   configuration|endpoint "ARN".' (an endpoint's name case-insensitively),
   the resource unchanged; a missing one is 'Could not find model|endpoint
   configuration|endpoint "ARN".'. The three List* filter (`NameContains`,
   creation times; ListEndpoints also status and modification times), sort
   (default `CreationTime`, `Descending`) and page (`MaxResults` 1 to 100,
   default 10; `NextToken`), ListModels with summaries (name, ARN, creation
   time). InvokeEndpoint (sagemaker-runtime, restJson) answers an unknown
   endpoint with 400 `ValidationError` "Endpoint NAME of account ACCOUNT
   not found." (code in `x-amzn-ErrorType`, message in the body). All that
   is modelled here, with instance types from the service model. An
   endpoint becomes `InService` by itself once
   HOIST_EMULATOR_ENDPOINT_SETTLE_SECONDS (read at start-up, default 0.3)
   have passed since it became `Creating` or `Updating`, judged whenever it
   is read (DescribeEndpoint, ListEndpoints, InvokeEndpoint, UpdateEndpoint).
   Anything else is the test's to say: `POST /hoist-emulator/sagemaker/
   endpoint-status` (JSON, unsigned: `EndpointName`, `EndpointStatus`,
   optional `FailureReason` (kept until the next status), `Hold` (stay in
   the status, no settling), `Region`, `AccountId`) sets it and answers
   DescribeEndpoint's JSON (404 for an unknown endpoint, 400 for bad
   input); a `Failed` or held endpoint never settles. With
   `FailNextUpdate` (a reason; `EndpointStatus` then optional) the
   endpoint's next update fails as a blue/green update does on AWS: once
   settled it is `InService` again on its previous configuration, with
   that `FailureReason`. Refusing an update,
   the message names the status: 'Cannot update in-progress|failed
   endpoint "ARN" (status S).' (the parenthesis is the emulator's). No
   container runs here, so an invocation of a serving endpoint (`InService`,
   or `Updating` and the like, whose old fleet serves on) answers JSON
   showing what reached the endpoint and what serves it: `EndpointName`,
   `ContentType`, `Accept`, `Body` (UTF-8 text, or base64 with
   `"BodyEncoding": "base64"`), `Variant` (the first production variant,
   also in `x-Amzn-Invoked-Production-Variant`) and `Model` (`ModelName`,
   `Image`, `ModelDataUrl`, `Environment` of its primary container; null
   once the model is deleted). An endpoint that does not serve answers 400
   `ValidationError` "Endpoint NAME of account ACCOUNT is not in service
   (status S)." (the wording is the emulator's). Runtime errors, denials
   under IAM enforcement included (judged as `sagemaker:InvokeEndpoint`,
   from the path: moto would take an `Action` form field from the body),
   are restJson: `x-amzn-ErrorType: CODE:<namespace>` and `{"Message": ...}`.
   InvokeEndpointWithResponseStream (`POST /endpoints/NAME/invocations-
   response-stream`) moto neither routes (a `sagemaker`-signed path not
   ending in "invocations" goes to the control plane) nor implements. AWS
   judges it as `sagemaker:InvokeEndpoint`, reads Accept from
   `X-Amzn-SageMaker-Accept` and answers `application/vnd.amazon.eventstream`
   (the model's content type in `X-Amzn-SageMaker-Content-Type`): event
   stream messages, each `PayloadPart` carrying raw bytes of the answer
   (its `Bytes` member is the event payload). Here it makes the checks and
   errors of InvokeEndpoint and streams InvokeEndpoint's JSON echo split in
   three `PayloadPart` events (`:message-type` event, `:event-type`
   PayloadPart, `:content-type` application/octet-stream), concatenated
   exactly the JSON; no model runs, so no `ModelStreamError` or
   `InternalStreamFailure` event is ever sent. AddTags, ListTags and
   DeleteTags of a resource that does not exist (an endpoint deleted since
   it was listed) fail in moto with HTTP 500 (an AttributeError on None);
   here with the ValidationException moto meant to raise ("Could not find
   endpoint with name NAME"), as AWS answers an unknown resource.
13. RunInstances idempotency: AWS answers a RunInstances repeated with the
   same `ClientToken` with the original reservation and launches nothing
   ("Ensuring idempotency of Amazon EC2 API requests"); moto records the
   token and launches again. Here a request whose token a reservation of
   the same account and region already carries gets that reservation back.
   (A retry after a lost answer is the case that matters: the SDK repeats
   the request with its token.)
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


def _deleted_keys(body):
    """The <Key> elements of a DeleteObjects request body."""
    import xml.etree.ElementTree as ET

    try:
        root = ET.fromstring(body)
    except (ET.ParseError, TypeError, ValueError):
        return []
    return [e.text for e in root.iter() if e.tag.rsplit("}", 1)[-1] == "Key" and e.text]


def _s3_authorize(self, bucket_name=None, key_name=None):
    if key_name is None and bucket_name and self.data.get("Action") == "DeleteObject":
        keys = _deleted_keys(self.body) or ["*"]
        for key in keys:
            _original_s3_authorize(self, bucket_name=bucket_name, key_name=key)
        return None
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


# 11. SageMaker training jobs.
import copy
import functools
import threading

from werkzeug.wrappers import Request, Response

from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.serialize import get_serializer_class
from moto.core.utils import get_service_model, utcnow
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.sagemaker.exceptions import ResourceInUseException, ValidationError
from moto.sagemaker.models import SageMakerModelBackend, sagemaker_backends
from moto.sagemaker.responses import SageMakerResponse

_TRAINING_JOBS_LOCK = threading.RLock()
_LIST_SORT = contextvars.ContextVar("list_sort", default=("CreationTime", "Ascending"))
_DEFAULT_MAX_RUNTIME = 86400  # AWS: MaxRuntimeInSeconds defaults to 1 day
_ENDED = ("Completed", "Failed", "Stopped")
_STATUS_PATH = "/hoist-emulator/sagemaker/training-job-status"
_NOT_FOUND = "Requested resource not found."


def _sagemaker_model():
    return get_service_model("sagemaker")


@functools.cache
def _kept_inputs():
    """The CreateTrainingJob inputs DescribeTrainingJob returns."""
    model = _sagemaker_model()
    given = model.operation_model("CreateTrainingJob").input_shape.members
    shown = model.operation_model("DescribeTrainingJob").output_shape.members
    return [name for name in given if name in shown]


def _check_stopping_condition(spot, condition):
    max_wait = condition.get("MaxWaitTimeInSeconds")
    if max_wait is not None and not spot:
        raise ValidationError("Invalid MaxWaitTimeInSeconds. It is only supported when EnableManagedSpotTraining is set to true")
    if spot and max_wait is None:
        raise ValidationError("Invalid MaxWaitTimeInSeconds. It is required when EnableManagedSpotTraining is set to true")
    max_runtime = condition.get("MaxRuntimeInSeconds", _DEFAULT_MAX_RUNTIME)
    if spot and max_wait < max_runtime:
        raise ValidationError(
            f"Invalid MaxWaitTimeInSeconds. It must be equal to or greater than MaxRuntimeInSeconds ({max_runtime}) "
            "when EnableManagedSpotTraining is set to true"
        )


_original_create_training_job = SageMakerResponse.create_training_job


def _create_training_job(self):
    name = self._get_param("TrainingJobName")
    _check_stopping_condition(bool(self._get_param("EnableManagedSpotTraining", False)),
                              self._get_param("StoppingCondition") or {})
    given = {k: copy.deepcopy(self._get_param(k)) for k in _kept_inputs()}
    jobs = self.sagemaker_backend.training_jobs
    with _TRAINING_JOBS_LOCK:
        if name in jobs:
            raise ResourceInUseException(
                "Training job names must be unique within an AWS account and region, "
                f"and a training job with this name already exists ({jobs[name].arn})"
            )
        result = _original_create_training_job(self)
        job = jobs[name]
        # moto adds a metric definition to the caller's algorithm specification.
        job.algorithm_specification = given["AlgorithmSpecification"]
        # What moto does not keep is kept under the name AWS returns it by
        # (moto's response_object capitalizes the attribute's name).
        shown = job.gen_response_object()
        for key, value in given.items():
            if value is not None and key not in shown:
                setattr(job, key, value)
        now = job.creation_time
        job.last_modified_time = now
        job.training_job_status = "InProgress"
        job.secondary_status = "Starting"
        job.secondary_status_transitions = [
            {"Status": "Starting", "StartTime": now, "StatusMessage": "Launching requested ML instances"}
        ]
        job.training_start_time = job.training_end_time = None
        job.model_artifacts = job.final_metric_data_list = None
    return result


def _find_training_job(backend, name):
    job = backend.training_jobs.get(name)
    if job is None:
        raise ValidationError(_NOT_FOUND)
    return job


def _describe_training_job(self, training_job_name):
    return _find_training_job(self, training_job_name).response_object


def _move_training_job(job, secondary, status=None, message=None, failure=None):
    """Record what SageMaker would: a transition per secondary status (a
    repeated one only updates its message), the times it starts and ends."""
    now = utcnow()
    transitions = job.secondary_status_transitions
    if transitions and transitions[-1]["Status"] == secondary:
        current = transitions[-1]
        if message is not None:
            current["StatusMessage"] = message
    else:
        if transitions:
            transitions[-1].setdefault("EndTime", now)
        current = {"Status": secondary, "StartTime": now}
        if message is not None:
            current["StatusMessage"] = message
        transitions.append(current)
    job.secondary_status = secondary
    if secondary == "Training" and job.training_start_time is None:
        job.training_start_time = now
    if failure is not None:
        job.failure_reason = failure
    if status is not None:
        ending = status in _ENDED and job.training_job_status not in _ENDED
        job.training_job_status = status
        if ending:
            job.training_end_time = now
            current.setdefault("EndTime", now)
        if status == "Completed":
            job.model_artifacts = {
                "S3ModelArtifacts": "/".join(
                    [job.output_data_config["S3OutputPath"].rstrip("/"), job.training_job_name, "output", "model.tar.gz"]
                )
            }
    job.last_modified_time = now


def _stop_training_job(self):
    with _TRAINING_JOBS_LOCK:
        job = _find_training_job(self.sagemaker_backend, self._get_param("TrainingJobName"))
        if job.training_job_status != "InProgress":
            raise ValidationError(f"The request was rejected because the training job is in status {job.training_job_status}.")
        _move_training_job(job, "Stopping", status="Stopping")
    return EmptyResult()


_original_list_training_jobs = SageMakerResponse.list_training_jobs


def _list_training_jobs_response(self):
    token = _LIST_SORT.set((self._get_param("SortBy", "CreationTime"), self._get_param("SortOrder", "Ascending")))
    try:
        return _original_list_training_jobs(self)
    finally:
        _LIST_SORT.reset(token)


def _list_training_jobs(self, next_token, max_results, creation_time_after, creation_time_before,
                        last_modified_time_after, last_modified_time_before, name_contains, status_equals):
    def matches(j):
        return ((name_contains is None or name_contains in j.training_job_name)
                and (creation_time_after is None or j.creation_time > creation_time_after)
                and (creation_time_before is None or j.creation_time < creation_time_before)
                and (last_modified_time_after is None or j.last_modified_time > last_modified_time_after)
                and (last_modified_time_before is None or j.last_modified_time < last_modified_time_before)
                and (status_equals is None or j.training_job_status == status_equals))

    sort_by, sort_order = _LIST_SORT.get()
    key = {"Name": lambda j: j.training_job_name, "Status": lambda j: j.training_job_status}.get(
        sort_by, lambda j: j.creation_time)
    jobs = sorted((j for j in list(self.training_jobs.values()) if matches(j)), key=key,
                  reverse=sort_order == "Descending")
    try:
        start = int(next_token) if next_token else 0
        if not 0 <= start <= len(jobs):
            raise ValueError
    except ValueError:
        raise ValidationError(f'Invalid pagination token because "{next_token}".')
    end = start + max_results if max_results else len(jobs)
    return {
        "TrainingJobSummaries": [
            {
                "TrainingJobName": j.training_job_name,
                "TrainingJobArn": j.arn,
                "CreationTime": j.creation_time,
                "TrainingEndTime": j.training_end_time,
                "LastModifiedTime": j.last_modified_time,
                "TrainingJobStatus": j.training_job_status,
                "SecondaryStatus": j.secondary_status,
            }
            for j in jobs[start:end]
        ],
        "NextToken": str(end) if end < len(jobs) else None,
    }


def _add_tags(self, arn, tags):
    resource = self._get_resource_from_arn(arn)
    given = {t["Key"]: t for t in tags}
    resource.tags = [given.pop(t["Key"], t) for t in resource.tags] + list(given.values())
    return resource.tags


def _training_job_body(job):
    operation = _sagemaker_model().operation_model("DescribeTrainingJob")
    serialized = get_serializer_class("sagemaker", "json")(operation_model=operation).serialize(job.response_object)
    return serialized["body"]


def _training_job_status(request):
    def answer(status, body):
        return Response(body if isinstance(body, str) else json.dumps(body), status=status,
                        content_type="application/json")

    if request.method != "POST":
        return answer(405, {"message": "POST a JSON body"})
    try:
        body = json.loads(request.get_data(as_text=True) or "null")
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("TrainingJobName"), str):
        return answer(400, {"message": "expected a JSON object with TrainingJobName"})
    model = _sagemaker_model()
    secondary = body.get("SecondaryStatus")
    status = body.get("TrainingJobStatus")
    if secondary not in model.shape_for("SecondaryStatus").enum:
        return answer(400, {"message": f"SecondaryStatus must be one of {model.shape_for('SecondaryStatus').enum}"})
    if status is not None and status not in model.shape_for("TrainingJobStatus").enum:
        return answer(400, {"message": f"TrainingJobStatus must be one of {model.shape_for('TrainingJobStatus').enum}"})
    account = body.get("AccountId", DEFAULT_ACCOUNT_ID)
    region = body.get("Region", "us-east-1")
    name = body["TrainingJobName"]
    with _TRAINING_JOBS_LOCK:
        try:
            job = sagemaker_backends[account][region].training_jobs.get(name)
        except KeyError:
            job = None
        if job is None:
            return answer(404, {"message": f"no training job {name!r} in account {account}, region {region}"})
        _move_training_job(job, secondary, status, body.get("StatusMessage"), body.get("FailureReason"))
        return answer(200, _training_job_body(job))


_original_dispatch = DomainDispatcherApplication.__call__


def _dispatch(self, environ, start_response):
    if environ.get("PATH_INFO") == _STATUS_PATH:
        return _training_job_status(Request(environ))(environ, start_response)
    return _original_dispatch(self, environ, start_response)


_original_sagemaker_call_action = SageMakerResponse.call_action


def _sagemaker_call_action(self):
    status, headers, body = _original_sagemaker_call_action(self)
    text = body.decode() if isinstance(body, bytes) else body
    if int(status) >= 400 and isinstance(text, str) and text.lstrip().startswith("<"):
        import re

        def element(name):
            m = re.search(rf"<{name}>(.*?)</{name}>", text, re.S)
            return m.group(1) if m else ""

        code = element("Code") or "InternalFailure"
        if code == "AccessDenied":
            code = "AccessDeniedException"
        body = json.dumps({"__type": code, "Message": element("Message")})
        headers = dict(headers)
        headers["Content-Type"] = "application/x-amz-json-1.1"
        headers["X-Amzn-ErrorType"] = code
        headers.pop("Content-Length", None)
        headers.pop("content-length", None)
    return status, headers, body


SageMakerResponse.call_action = _sagemaker_call_action
SageMakerResponse.create_training_job = _create_training_job
SageMakerResponse.stop_training_job = _stop_training_job
SageMakerResponse.list_training_jobs = _list_training_jobs_response
SageMakerModelBackend.describe_training_job = _describe_training_job
SageMakerModelBackend.list_training_jobs = _list_training_jobs
SageMakerModelBackend.add_tags = _add_tags
DomainDispatcherApplication.__call__ = _dispatch


# 12. SageMaker endpoints.
import base64
import datetime
import os
import re
import struct
import zlib
from urllib.parse import unquote

from moto.sagemaker.models import FakeEndpointConfig
from moto.sagemaker.utils import arn_formatter
from moto.sagemakerruntime import urls as sagemakerruntime_urls
from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

_ENDPOINTS_LOCK = threading.RLock()
# How long SageMaker takes to create or update an endpoint here (read once,
# at start-up): long enough for a test to see Creating, short enough not to wait.
_ENDPOINT_SETTLE = datetime.timedelta(seconds=float(os.environ.get("HOIST_EMULATOR_ENDPOINT_SETTLE_SECONDS", "0.3")))
_ENDPOINT_STATUS_PATH = "/hoist-emulator/sagemaker/endpoint-status"
_SETTLING = ("Creating", "Updating")  # what becomes InService by itself
_IN_PROGRESS = ("Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting")
# An endpoint answers invocations while its instances run: during an update
# the old fleet serves until traffic shifts ("there is no availability loss").
_SERVING = ("InService", "Updating", "SystemUpdating", "RollingBack", "UpdateRollbackFailed")
_LIST_DEFAULT, _LIST_MAX = 10, 100  # MaxResults: AWS's default and limit
# What moto does not keep about an endpoint, by its ARN (which names the
# account and region): when its status last changed, whether a test holds
# it there, and the production variants of its configuration (moto keeps
# only their counts and weights, not which model each variant serves).
_ENDPOINTS = {}
# kind -> (what AWS calls it in messages, the backend's dict of them)
_KINDS = {
    "model": ("model", "_models"),
    "endpoint-config": ("endpoint configuration", "endpoint_configs"),
    "endpoint": ("endpoint", "endpoints"),
}


def _arn(backend, kind, name):
    return arn_formatter(kind, name, backend.account_id, backend.region_name)


def _existing(backend, kind, name):
    """The model, endpoint configuration or endpoint `name`, or AWS's
    ValidationException (moto quotes the ARN with ' and names a missing
    model by name only; AWS quotes with " and names the ARN)."""
    found = getattr(backend, _KINDS[kind][1]).get(name)
    if found is None:
        raise ValidationError(f'Could not find {_KINDS[kind][0]} "{_arn(backend, kind, name)}".')
    return found


def _refuse_taken(backend, kind, name):
    taken = getattr(backend, _KINDS[kind][1])
    # AWS: an endpoint's name is case-insensitive in CreateEndpoint.
    same = (lambda n: n.lower() == name.lower()) if kind == "endpoint" else (lambda n: n == name)
    for existing in list(taken):
        if same(existing):
            raise ValidationError(f'Cannot create already existing {_KINDS[kind][0]} "{_arn(backend, kind, existing)}".')


def _require(self, *names):
    for name in names:
        if self._get_param(name) is None:
            member = name[0].lower() + name[1:]
            raise ValidationError(
                f"1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null")


def _set_endpoint_status(endpoint, status, failure=None, hold=False):
    now = utcnow()
    state = _ENDPOINTS.setdefault(endpoint.arn, {"variants": []})
    state.update(since=now, hold=hold)
    endpoint.endpoint_status = status
    endpoint.failure_reason = failure
    endpoint.last_modified_time = now


def _settle(endpoint):
    """What SageMaker would have done by now: a Creating or Updating
    endpoint is InService once the settle time has passed since it got
    there, unless a test holds it."""
    state = _ENDPOINTS.get(endpoint.arn)
    if endpoint.endpoint_status not in _SETTLING or state is None or state["hold"]:
        return endpoint
    ready = state["since"] + _ENDPOINT_SETTLE
    if utcnow() >= ready:
        endpoint.endpoint_status = "InService"
        endpoint.last_modified_time = ready
        state["since"] = ready
        # An update a test said would fail: SageMaker's blue/green update
        # keeps the old fleet, so the endpoint is back InService on its
        # previous configuration, with the reason (AWS's behaviour when the
        # new fleet does not pass its health check).
        failing, previous = state.pop("fail_update", None), state.pop("previous", None)
        if failing is not None and endpoint.endpoint_status == "InService" and previous is not None:
            _serve_config(endpoint, previous)
            endpoint.failure_reason = failing
    return endpoint


def _serve_config(endpoint, config):
    """Make `config` the one the endpoint runs, as moto's FakeEndpoint
    derives it at creation, and remember which model each variant serves."""
    endpoint.endpoint_config_name = config.endpoint_config_name
    endpoint.production_variants = endpoint._process_production_variants(config.production_variants)
    endpoint.data_capture_config = config.data_capture_config
    _ENDPOINTS.setdefault(endpoint.arn, {"since": utcnow(), "hold": False})["variants"] = copy.deepcopy(
        config.production_variants)


def _named(args, kwargs, key):
    return kwargs[key] if key in kwargs else args[0]


_original_create_model = SageMakerModelBackend.create_model


def _create_model(self, *args, **kwargs):
    with _ENDPOINTS_LOCK:
        _refuse_taken(self, "model", _named(args, kwargs, "model_name"))
        return _original_create_model(self, *args, **kwargs)


_original_create_endpoint_config = SageMakerModelBackend.create_endpoint_config


def _create_endpoint_config(self, *args, **kwargs):
    with _ENDPOINTS_LOCK:
        _refuse_taken(self, "endpoint-config", _named(args, kwargs, "endpoint_config_name"))
        for variant in kwargs.get("production_variants") or []:
            _existing(self, "model", variant.get("ModelName"))
        return _original_create_endpoint_config(self, *args, **kwargs)


@functools.cache
def _instance_types():
    return _sagemaker_model().shape_for("ProductionVariantInstanceType").enum


def _validate_instance_type(self, instance_type):
    # moto checks a list of 2019 (no ml.g5, ml.inf2...); AWS's is the
    # service model's.
    if instance_type not in _instance_types():
        raise ValidationError(
            f"Value '{instance_type}' at 'instanceType' failed to satisfy constraint: "
            f"Member must satisfy enum value set: {_instance_types()}")


_original_create_endpoint = SageMakerModelBackend.create_endpoint


def _create_endpoint(self, *args, **kwargs):
    name = _named(args, kwargs, "endpoint_name")
    with _ENDPOINTS_LOCK:
        _refuse_taken(self, "endpoint", name)
        config = _existing(self, "endpoint-config", kwargs.get("endpoint_config_name"))
        endpoint = _original_create_endpoint(self, *args, **kwargs)
        _ENDPOINTS.pop(endpoint.arn, None)  # a name used before starts afresh
        _serve_config(endpoint, config)
        _set_endpoint_status(endpoint, "Creating")
        endpoint.creation_time = endpoint.last_modified_time
    return endpoint


def _update_endpoint(self, endpoint_name, endpoint_config_name):
    with _ENDPOINTS_LOCK:
        endpoint = _settle(_existing(self, "endpoint", endpoint_name))
        config = _existing(self, "endpoint-config", endpoint_config_name)
        status = endpoint.endpoint_status
        if status != "InService":
            # AWS's wording for the cases it names; the status, for all.
            kind = "failed " if status == "Failed" else "in-progress " if status in _IN_PROGRESS else ""
            raise ValidationError(f'Cannot update {kind}endpoint "{endpoint.arn}" (status {status}).')
        previous = self.endpoint_configs.get(endpoint.endpoint_config_name)
        _serve_config(endpoint, config)
        _set_endpoint_status(endpoint, "Updating")
        _ENDPOINTS[endpoint.arn]["previous"] = previous
    return endpoint


def _update_endpoint_response(self):
    _require(self, "EndpointName", "EndpointConfigName")
    endpoint = self.sagemaker_backend.update_endpoint(self._get_param("EndpointName"),
                                                      self._get_param("EndpointConfigName"))
    return ActionResult({"EndpointArn": endpoint.arn})


def _describe_model(self, model_name):
    return _existing(self, "model", model_name)


def _delete_model(self, model_name):
    with _ENDPOINTS_LOCK:
        _existing(self, "model", model_name)
        del self._models[model_name]


def _describe_endpoint_config(self, endpoint_config_name):
    return _existing(self, "endpoint-config", endpoint_config_name).response_object


def _delete_endpoint_config(self, endpoint_config_name):
    with _ENDPOINTS_LOCK:
        _existing(self, "endpoint-config", endpoint_config_name)
        del self.endpoint_configs[endpoint_config_name]


def _describe_endpoint(self, endpoint_name):
    with _ENDPOINTS_LOCK:
        return _settle(_existing(self, "endpoint", endpoint_name)).response_object


def _delete_endpoint(self, endpoint_name):
    with _ENDPOINTS_LOCK:
        endpoint = _existing(self, "endpoint", endpoint_name)
        del self.endpoints[endpoint_name]
        _ENDPOINTS.pop(endpoint.arn, None)


def _naive_utc(t):
    """A timestamp parameter as moto's (naive UTC) times compare with it."""
    if isinstance(t, (int, float)):
        t = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
    if isinstance(t, datetime.datetime) and t.tzinfo is not None:
        t = t.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return t


def _listed(self, items, name, sort_keys, key, summary, extra_filter=lambda item: True):
    """What the List* operations of these three share (moto: no filter or
    page for ListModels, a page of 100 by default and oldest first for the
    other two): NameContains, CreationTimeBefore/After, SortBy (default
    CreationTime), SortOrder (default Descending), MaxResults (default 10,
    at most 100), NextToken."""
    contains = self._get_param("NameContains")
    before = _naive_utc(self._get_param("CreationTimeBefore"))
    after = _naive_utc(self._get_param("CreationTimeAfter"))
    max_results = self._get_param("MaxResults")
    if max_results is not None and not 1 <= int(max_results) <= _LIST_MAX:
        relation = "greater than or equal to 1" if int(max_results) < 1 else f"less than or equal to {_LIST_MAX}"
        raise ValidationError(f"1 validation error detected: Value '{max_results}' at 'maxResults' failed to "
                              f"satisfy constraint: Member must have value {relation}")
    chosen = [i for i in items
              if (contains is None or contains in name(i))
              and (before is None or i.creation_time < before)
              and (after is None or i.creation_time >= after)
              and extra_filter(i)]
    sort_by = self._get_param("SortBy", "CreationTime")
    chosen.sort(key=sort_keys.get(sort_by, lambda i: i.creation_time),
                reverse=self._get_param("SortOrder", "Descending") == "Descending")
    token = self._get_param("NextToken")
    try:
        start = int(token) if token else 0
        if not 0 <= start <= len(chosen):
            raise ValueError
    except ValueError:
        raise ValidationError(f'Invalid pagination token because "{token}".')
    end = start + int(max_results or _LIST_DEFAULT)
    return ActionResult({key: [summary(i) for i in chosen[start:end]],
                         "NextToken": str(end) if end < len(chosen) else None})


def _list_models(self):
    return _listed(self, list(self.sagemaker_backend._models.values()), lambda m: m.model_name,
                   {"Name": lambda m: m.model_name}, "Models",
                   lambda m: {"ModelName": m.model_name, "ModelArn": m.arn, "CreationTime": m.creation_time})


def _list_endpoint_configs(self):
    return _listed(self, list(self.sagemaker_backend.endpoint_configs.values()), lambda c: c.endpoint_config_name,
                   {"Name": lambda c: c.endpoint_config_name}, "EndpointConfigs", lambda c: c.summary())


def _list_endpoints(self):
    modified_before = _naive_utc(self._get_param("LastModifiedTimeBefore"))
    modified_after = _naive_utc(self._get_param("LastModifiedTimeAfter"))
    status = self._get_param("StatusEquals")

    def matches(e):
        return ((modified_before is None or e.last_modified_time < modified_before)
                and (modified_after is None or e.last_modified_time > modified_after)
                and (status is None or e.endpoint_status == status))

    with _ENDPOINTS_LOCK:
        endpoints = [_settle(e) for e in list(self.sagemaker_backend.endpoints.values())]
        return _listed(self, endpoints, lambda e: e.endpoint_name,
                       {"Name": lambda e: e.endpoint_name, "Status": lambda e: e.endpoint_status},
                       "Endpoints", lambda e: e.summary(), matches)


def _endpoint_body(endpoint):
    operation = _sagemaker_model().operation_model("DescribeEndpoint")
    return get_serializer_class("sagemaker", "json")(operation_model=operation).serialize(endpoint.response_object)["body"]


def _endpoint_status(request):
    def answer(status, body):
        return Response(body if isinstance(body, str) else json.dumps(body), status=status,
                        content_type="application/json")

    if request.method != "POST":
        return answer(405, {"message": "POST a JSON body"})
    try:
        body = json.loads(request.get_data(as_text=True) or "null")
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("EndpointName"), str):
        return answer(400, {"message": "expected a JSON object with EndpointName"})
    statuses = _sagemaker_model().shape_for("EndpointStatus").enum
    status, fail_next = body.get("EndpointStatus"), body.get("FailNextUpdate")
    if fail_next is not None and not isinstance(fail_next, str):
        return answer(400, {"message": "FailNextUpdate must be a string (the FailureReason)"})
    if status not in statuses and not (status is None and fail_next is not None):
        return answer(400, {"message": f"EndpointStatus must be one of {statuses}"})
    failure, hold = body.get("FailureReason"), body.get("Hold", False)
    if failure is not None and not isinstance(failure, str):
        return answer(400, {"message": "FailureReason must be a string"})
    if not isinstance(hold, bool):
        return answer(400, {"message": "Hold must be true or false"})
    account = body.get("AccountId", DEFAULT_ACCOUNT_ID)
    region = body.get("Region", "us-east-1")
    name = body["EndpointName"]
    with _ENDPOINTS_LOCK:
        try:
            endpoint = sagemaker_backends[account][region].endpoints.get(name)
        except KeyError:
            endpoint = None
        if endpoint is None:
            return answer(404, {"message": f"no endpoint {name!r} in account {account}, region {region}"})
        if fail_next is not None:
            _ENDPOINTS.setdefault(endpoint.arn, {"since": utcnow(), "hold": False, "variants": []})["fail_update"] = fail_next
        if status is not None:
            _set_endpoint_status(endpoint, status, failure, hold)
        return answer(200, _endpoint_body(endpoint))


_original_dispatch_11 = DomainDispatcherApplication.__call__


def _dispatch_12(self, environ, start_response):
    if environ.get("PATH_INFO") == _ENDPOINT_STATUS_PATH:
        return _endpoint_status(Request(environ))(environ, start_response)
    return _original_dispatch_11(self, environ, start_response)


# The runtime is restJson: the error's code in `x-amzn-ErrorType` (AWS adds
# its namespace after a colon, which the SDKs strip), the message in the body.
_RUNTIME_ERROR_NAMESPACE = ":http://internal.amazon.com/coral/com.amazon.sagemaker.runtime/"


def _runtime_error(status, code, message):
    return status, {"status": status, "Content-Type": "application/json",
                    "x-amzn-ErrorType": code + _RUNTIME_ERROR_NAMESPACE}, json.dumps({"Message": message})


def _invocation_model(backend, variant):
    model = backend._models.get(variant.get("ModelName"))
    if model is None:
        return None
    container = model.primary_container or (model.containers[0] if model.containers else {})
    return {"ModelName": model.model_name, "Image": container.get("Image"),
            "ModelDataUrl": container.get("ModelDataUrl"), "Environment": container.get("Environment")}


def _invocation(self, accept):
    """No container runs here: the answer shows what reached the endpoint
    and what serves it, so a test can check both. `accept` is the request
    header the operation reads the Accept member from."""
    name = unquote(self.path.split("/")[2])
    account = self.current_account
    backend = sagemaker_backends[account][self.region]
    with _ENDPOINTS_LOCK:
        endpoint = backend.endpoints.get(name)  # AWS: the name's case must match here
        if endpoint is None:
            return _runtime_error(400, "ValidationError", f"Endpoint {name} of account {account} not found.")
        status = _settle(endpoint).endpoint_status
        if status not in _SERVING:
            return _runtime_error(400, "ValidationError",
                                  f"Endpoint {name} of account {account} is not in service (status {status}).")
        variants = _ENDPOINTS.get(endpoint.arn, {}).get("variants") or [{}]
        variant = variants[0]
        model = _invocation_model(backend, variant)
    body = self.raw_body or b""
    try:
        echoed = {"Body": body.decode("utf-8")}
    except UnicodeDecodeError:
        echoed = {"Body": base64.b64encode(body).decode(), "BodyEncoding": "base64"}
    answer = {"EndpointName": name, "ContentType": self.headers.get("Content-Type"),
              "Accept": self.headers.get(accept), **echoed, "Variant": variant.get("VariantName"), "Model": model}
    headers = {"Content-Type": "application/json"}
    if variant.get("VariantName"):
        headers["x-Amzn-Invoked-Production-Variant"] = variant["VariantName"]
    return 200, headers, json.dumps(answer)


def _invoke_endpoint(self):
    return _invocation(self, "Accept")


# InvokeEndpointWithResponseStream answers with the AWS event stream
# encoding (application/vnd.amazon.eventstream): each message is a prelude
# (total length, headers length: u32 big-endian; the CRC32 of those 8
# bytes), the headers (name length u8, name, type 7 = string, value length
# u16 big-endian, value), the payload and the CRC32 of all before it.
_STREAM_PARTS = 3  # a client that streams sees several parts


def _event_message(headers, payload):
    encoded = b"".join(bytes([len(n)]) + n + b"\x07" + struct.pack(">H", len(v)) + v
                       for n, v in ((n.encode(), v.encode()) for n, v in headers))
    prelude = struct.pack(">II", 12 + len(encoded) + len(payload) + 4, len(encoded))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + encoded + payload
    return message + struct.pack(">I", zlib.crc32(message))


def _payload_part(data):
    # PayloadPart's one member, Bytes, is its event payload: the raw bytes.
    return _event_message((
        (":event-type", "PayloadPart"),
        (":content-type", "application/octet-stream"),
        (":message-type", "event"),
    ), data)


def _invoke_endpoint_with_response_stream(self):
    """The same answer as InvokeEndpoint, in PayloadPart events; errors
    (before any event) are InvokeEndpoint's. Accept comes in
    X-Amzn-SageMaker-Accept here, and the answer's content type goes out in
    X-Amzn-SageMaker-Content-Type (Content-Type is the stream's)."""
    status, headers, body = _invocation(self, "X-Amzn-SageMaker-Accept")
    if "status" in headers:  # an error
        return status, headers, body
    data = body.encode()
    size = -(-len(data) // _STREAM_PARTS)
    headers["X-Amzn-SageMaker-Content-Type"] = headers["Content-Type"]
    headers["Content-Type"] = "application/vnd.amazon.eventstream"
    return 200, headers, b"".join(_payload_part(data[i:i + size]) for i in range(0, len(data), size))


# The IAM action a runtime operation is judged as, where it is not the
# operation's name (AWS: "your IAM permissions must allow the
# sagemaker:InvokeEndpoint action").
_RUNTIME_IAM_ACTIONS = {"InvokeEndpointWithResponseStream": "InvokeEndpoint"}


def _runtime_action(self):
    # The operation is the one the path names: moto would first look for an
    # `Action` among the form fields it reads from any body.
    action = self._get_action_from_method_and_request_uri(self.normalized_request)
    if getattr(self, "_judging", False):
        return _RUNTIME_IAM_ACTIONS.get(action, action)
    return action


_original_runtime_authorize = SageMakerRuntimeResponse._authenticate_and_authorize_action


def _runtime_authorize(self, *args, **kwargs):
    # moto names the IAM action after the operation (_get_action).
    self._judging = True
    try:
        return _original_runtime_authorize(self, *args, **kwargs)
    finally:
        self._judging = False


# moto routes a `sagemaker`-signed request to the runtime only when its path
# ends in "invocations", and its runtime has no route for the stream.
_STREAM_PATH = re.compile(r"/endpoints/[^/]+/invocations-response-stream")
sagemakerruntime_urls.url_paths["{0}/endpoints/(?P<name>[^/]+)/invocations-response-stream$"] = \
    SageMakerRuntimeResponse.dispatch
_original_infer_host = DomainDispatcherApplication.infer_service_region_host


def _infer_host(self, environ, path):
    host = _original_infer_host(self, environ, path)
    if host and host.startswith("api.sagemaker.") and _STREAM_PATH.fullmatch(environ.get("PATH_INFO", "")):
        host = "runtime." + host[len("api."):]
    return host


_original_runtime_call_action = SageMakerRuntimeResponse.call_action


def _runtime_call_action(self):
    status, headers, body = _original_runtime_call_action(self)
    text = body.decode(errors="replace") if isinstance(body, bytes) else body
    if int(status) >= 400 and isinstance(text, str) and text.lstrip().startswith("<"):
        # A denial or a bad signature, rendered as moto renders them (XML).
        def element(name):
            m = re.search(rf"<{name}>(.*?)</{name}>", text, re.S)
            return m.group(1) if m else ""

        code = element("Code") or "InternalFailure"
        if code == "AccessDenied":
            code = "AccessDeniedException"
        _, error_headers, body = _runtime_error(int(status), code, element("Message"))
        headers = {k: v for k, v in dict(headers).items() if k.lower() not in ("content-type", "content-length")}
        headers.update(error_headers)
    return status, headers, body


SageMakerModelBackend.create_model = _create_model
SageMakerModelBackend.create_endpoint_config = _create_endpoint_config
SageMakerModelBackend.create_endpoint = _create_endpoint
SageMakerModelBackend.update_endpoint = _update_endpoint
SageMakerModelBackend.describe_model = _describe_model
SageMakerModelBackend.delete_model = _delete_model
SageMakerModelBackend.describe_endpoint_config = _describe_endpoint_config
SageMakerModelBackend.delete_endpoint_config = _delete_endpoint_config
SageMakerModelBackend.describe_endpoint = _describe_endpoint
SageMakerModelBackend.delete_endpoint = _delete_endpoint
FakeEndpointConfig.validate_instance_type = _validate_instance_type
SageMakerResponse.update_endpoint = _update_endpoint_response
SageMakerResponse.list_models = _list_models
SageMakerResponse.list_endpoint_configs = _list_endpoint_configs
SageMakerResponse.list_endpoints = _list_endpoints
# Bytes as they came: moto decodes a body as UTF-8 first (a 500 for an
# image or any other binary payload).
SageMakerRuntimeResponse.use_raw_body = True
SageMakerRuntimeResponse._get_action = _runtime_action
SageMakerRuntimeResponse.invoke_endpoint = _invoke_endpoint
SageMakerRuntimeResponse.invoke_endpoint_with_response_stream = _invoke_endpoint_with_response_stream
SageMakerRuntimeResponse._authenticate_and_authorize_action = _runtime_authorize
DomainDispatcherApplication.infer_service_region_host = _infer_host
SageMakerRuntimeResponse.call_action = _runtime_call_action
DomainDispatcherApplication.__call__ = _dispatch_12


# 12, continued: tags of a resource that does not exist.
_original_resource_from_arn = SageMakerModelBackend._get_resource_from_arn


def _resource_from_arn(self, arn):
    resource = _original_resource_from_arn(self, arn)
    if resource is None:
        kind, _, name = arn.split(":")[-1].partition("/")
        raise ValidationError(message=f"Could not find {kind} with name {name}")
    return resource


SageMakerModelBackend._get_resource_from_arn = _resource_from_arn


# 13. RunInstances is idempotent by ClientToken (on top of patch 10's).
_run_instances_10 = EC2Response.run_instances


def _run_instances_13(self):
    token = self._get_param("ClientToken")
    if token:
        for reservation in list(self.ec2_backend.reservations.values()):
            if any(getattr(i, "client_token", None) == token for i in reservation.instances):
                return ActionResult(reservation)
    return _run_instances_10(self)


EC2Response.run_instances = _run_instances_13


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
