"""IAM as moto's server enforces it: identities that hold exactly some actions, and finding refusals.

moto checks IAM only when told to (``INITIAL_NO_AUTH_ACTION_COUNT``, or at run time
``POST /moto-api/reset-auth`` with the number of requests still let through unchecked). Then every
request must be signed by an IAM user's access key (or an assumed role's), and its *action* must be
allowed by that identity's policies. Measured with moto 5.2, for the services the functions use:

- DynamoDB, SSM: the action is the operation's name (``dynamodb:GetItem``, ``ssm:GetParameter``).
- S3: the IAM action name (``s3:PutObject``, ``s3:GetObject``); S3 alone also matches the resource
  (``arn:aws:s3:::bucket/key``).
- Lambda: moto checks ``lambda:Invoke`` (the API operation's name) where IAM says ``lambda:InvokeFunction``.
- Polly: moto checks the URL's last word: ``polly:speech`` for SynthesizeSpeech, ``polly:voices`` for
  DescribeVoices; and a bodiless GET (DescribeVoices) only passes the signature check if it names its
  payload hash (see run_built_handler.payload_hash_signing).
- Outside S3 the resource checked is always ``*``: a statement scoped to an ARN never matches, so the
  policies here use ``Resource: "*"`` and test actions only.

A refused request answers HTTP 403. S3's error code is ``AccessDenied``; the JSON services answer an XML
body botocore cannot parse, so their code reads ``403`` and the message holds
``<Code>AccessDenied</Code>`` and "is not authorized to perform: <action>".
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

import boto3
import requests

REGION = "us-east-1"

# IAM's name -> the name moto checks, where they differ (measured; see the module's docstring).
MOTO_ACTION_NAMES = {
    "lambda:InvokeFunction": "lambda:Invoke",
    "polly:DescribeVoices": "polly:voices",
    "polly:SynthesizeSpeech": "polly:speech",
}
# botocore's service:operation -> the IAM action it needs, where they differ.
IAM_ACTION_OF_OPERATION = {"lambda:Invoke": "lambda:InvokeFunction"}

DENIAL_MARKERS = ("AccessDenied", "Access Denied", "not authorized to perform", "UnauthorizedOperation")
# A request moto could not tie to an identity is a broken harness, not a passing test.
AUTH_FAILURE_MARKERS = ("SignatureDoesNotMatch", "InvalidClientTokenId", "InvalidAccessKeyId", "security token")


class PermissionMissing(AssertionError):
    """A function made an AWS call that its identity was not allowed to make."""


@dataclass(frozen=True)
class Identity:
    name: str
    access_key_id: str
    secret_access_key: str
    endpoint_url: str

    def client(self, service: str):
        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
        )

    def environment(self) -> dict[str, str]:
        """What Lambda gives a function for its execution role (here an IAM user's key: no token)."""
        return {"AWS_ACCESS_KEY_ID": self.access_key_id, "AWS_SECRET_ACCESS_KEY": self.secret_access_key}


def as_moto_checks(actions: Iterable[str]) -> list[str]:
    """``actions`` with the names moto checks added where they differ from IAM's."""
    actions = set(actions)
    return sorted(actions | {MOTO_ACTION_NAMES[action] for action in actions if action in MOTO_ACTION_NAMES})


def policy_document(actions: Iterable[str]) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "Granted", "Effect": "Allow", "Action": as_moto_checks(actions), "Resource": "*"}],
    }


def create_identity(admin, name: str, actions: Iterable[str]) -> Identity:
    """An IAM user holding exactly ``actions`` (one inline policy), made with ``admin``'s IAM client."""
    iam = admin.client("iam") if isinstance(admin, Identity) else admin
    iam.create_user(UserName=name)
    actions = list(actions)
    if actions:
        iam.put_user_policy(UserName=name, PolicyName="granted", PolicyDocument=json.dumps(policy_document(actions)))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return Identity(name, key["AccessKeyId"], key["SecretAccessKey"], iam.meta.endpoint_url)


def enforce_iam(url: str) -> None:
    """From now on moto checks every request (none left unchecked)."""
    requests.post(f"{url}/moto-api/reset-auth", data=b"0", timeout=10).raise_for_status()


def iam_action(call: dict) -> str:
    """The IAM action a recorded call (see run_built_handler) needs."""
    name = f"{call['service']}:{call['operation']}"
    return IAM_ACTION_OF_OPERATION.get(name, name)


def is_refusal(call: dict) -> bool:
    text = f"{call.get('code')} {call.get('message')}"
    return call.get("status") == 403 or any(marker in text for marker in DENIAL_MARKERS + AUTH_FAILURE_MARKERS)


def refusals_in(calls: list[dict], output: str) -> list[str]:
    """Every refusal seen: calls the storage answered 403 or AccessDenied, and any trace of one in the
    function's own output (its logs, its answer), whatever the handler made of it."""
    found = [
        f"{iam_action(call)} -> HTTP {call.get('status')} {call.get('code')}: {call.get('message', '')[:300]}"
        for call in calls
        if is_refusal(call)
    ]
    for line in output.splitlines():
        if any(marker in line for marker in DENIAL_MARKERS + AUTH_FAILURE_MARKERS):
            found.append(f"in the output: {line[:300]}")
    return found
