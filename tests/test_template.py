"""template.yaml: the linters' verdicts, and what no linter checks (privacy of the bucket, caching,
least privilege, and agreement with the code)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from audiostream.config import Settings
from audiostream.sessions import Session
from devstack.gateway import ROUTES

from support.template import FUNCTIONS, actions, function, load_template, policy_statements, resources, tool

# ------------------------------------------------------------------ linters


@pytest.mark.build
def test_sam_validate_lint_passes():
    result = tool("sam", "validate", "--lint", "--template-file", "template.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


@pytest.mark.build
def test_cfn_lint_passes():
    result = tool("cfn-lint", "template.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.build
def test_checkov_fails_nothing_that_is_not_suppressed_with_a_reason():
    result = tool(
        "checkov", "-f", "template.yaml", "--framework", "cloudformation", "--skip-download", "--output", "json"
    )
    report = json.loads(result.stdout)
    summary = report["summary"]
    failed = [f"{check['check_id']} {check['resource']}" for check in report["results"]["failed_checks"]]
    assert summary["failed"] == 0, failed
    assert summary["passed"] > 10
    for resource in load_template()["Resources"].values():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert len(skip.get("comment", "")) > 20, f"{skip['id']} is suppressed without a written reason"


# ------------------------------------------------------------------ the bucket and the CDN


def test_the_bucket_is_private_and_encrypted_and_its_media_expires():
    bucket = resources()["MediaBucket"]["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    expiry = next(rule for rule in bucket["LifecycleConfiguration"]["Rules"] if rule["Id"] == "expire-session-media")
    assert expiry["Prefix"] == "media/hls/" and expiry["ExpirationInDays"] == {"Ref": "MediaExpirationDays"}


def test_only_cloudfront_reads_the_bucket():
    statements = resources()["MediaBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    allows = [statement for statement in statements if statement["Effect"] == "Allow"]
    assert len(allows) == 1
    (allow,) = allows
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    source = allow["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
    assert source.endswith(":distribution/${Distribution}")
    denies = [statement for statement in statements if statement["Effect"] == "Deny"]
    assert denies and denies[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def cache_policy(behavior: dict) -> dict:
    return resources()[behavior["CachePolicyId"]["Ref"]]["Properties"]["CachePolicyConfig"]


def distribution() -> dict:
    return resources()["Distribution"]["Properties"]["DistributionConfig"]


def test_playlists_are_cached_about_a_second_and_segments_long():
    behaviors = distribution()["CacheBehaviors"]
    patterns = [behavior["PathPattern"] for behavior in behaviors]
    # CloudFront takes the first pattern that matches, so the playlist rule must come first.
    assert patterns.index("/media/hls/*.m3u8") < patterns.index("/media/hls/*")
    playlist = cache_policy(behaviors[patterns.index("/media/hls/*.m3u8")])
    assert playlist["MaxTTL"] <= 1 and playlist["DefaultTTL"] <= 1
    segments = cache_policy(behaviors[patterns.index("/media/hls/*")])
    assert segments["MinTTL"] >= 86400 and segments["DefaultTTL"] >= 31536000
    for behavior in behaviors[:2]:
        assert behavior["TargetOriginId"] == "media" and behavior["AllowedMethods"] == ["GET", "HEAD"]


def test_the_api_is_not_cached_and_errors_are_cached_at_most_a_second():
    api = next(behavior for behavior in distribution()["CacheBehaviors"] if behavior["PathPattern"] == "/audiostream/*")
    assert api["TargetOriginId"] == "api"
    assert api["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # Managed-CachingDisabled
    assert "POST" in api["AllowedMethods"]
    errors = {error["ErrorCode"]: error["ErrorCachingMinTTL"] for error in distribution()["CustomErrorResponses"]}
    assert errors[403] <= 1 and errors[404] <= 1


def test_page_api_and_media_share_one_origin_and_s3_is_read_through_oac():
    config = distribution()
    origins = {origin["Id"]: origin for origin in config["Origins"]}
    assert set(origins) == {"media", "page", "api"}
    for name in ("media", "page"):
        assert origins[name]["OriginAccessControlId"] == {"Fn::GetAtt": ["MediaOriginAccessControl", "Id"]}
        assert origins[name]["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    assert "OriginPath" not in origins["media"]  # the CDN path of a segment is its key
    assert config["DefaultCacheBehavior"]["TargetOriginId"] == "page"
    assert config["DefaultRootObject"] == "index.html"
    assert all(behavior["ViewerProtocolPolicy"] == "redirect-to-https" for behavior in config["CacheBehaviors"])


# ------------------------------------------------------------------ functions


def test_each_function_may_do_only_what_it_needs():
    assert actions("StartFunction") == {
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "s3:PutObject",
        "lambda:InvokeFunction",
        "polly:DescribeVoices",
    }
    assert actions("StatusFunction") == {"dynamodb:GetItem", "polly:DescribeVoices"}
    assert actions("GenerateFunction") == {
        "dynamodb:UpdateItem",
        "s3:PutObject",
        "ssm:GetParameter",
        "polly:SynthesizeSpeech",
        "polly:DescribeVoices",
    }
    assert actions("FailedGenerationsFunction") == {
        "dynamodb:GetItem",
        "dynamodb:UpdateItem",
        "s3:GetObject",
        "s3:PutObject",
        "s3:ListBucket",
    }
    table = {"Fn::GetAtt": ["SessionsTable", "Arn"]}
    media = {"Fn::Sub": "${MediaBucket.Arn}/media/hls/*"}
    for name in FUNCTIONS:
        for statement in policy_statements(name):
            assert statement["Effect"] == "Allow"
            listed = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
            # Polly's actions take no resource but a lexicon; nothing else may be unscoped.
            assert statement["Resource"] != "*" or all(action.startswith("polly:") for action in listed)
            service = (statement["Action"] if isinstance(statement["Action"], str) else statement["Action"][0]).split(
                ":"
            )[0]
            expected = {"dynamodb": table, "s3": media}.get(service)
            if listed == ["s3:ListBucket"]:  # a bucket-level action: the bucket, not its keys
                expected = {"Fn::GetAtt": ["MediaBucket", "Arn"]}
            if expected is not None:
                assert statement["Resource"] == expected, f"{name}: {statement}"
    (invoke,) = [s for s in policy_statements("StartFunction") if s["Action"] == "lambda:InvokeFunction"]
    assert invoke["Resource"] == {"Fn::GetAtt": ["GenerateFunction", "Arn"]}


def test_generate_is_long_lived_bounded_and_never_loses_a_failed_invocation():
    generate = function("GenerateFunction")
    assert generate["Timeout"] == 900 and generate["MemorySize"] >= 1769
    assert generate["ReservedConcurrentExecutions"] == {"Ref": "GenerateReservedConcurrency"}
    config = generate["EventInvokeConfig"]
    assert config["MaximumRetryAttempts"] <= 2
    assert config["MaximumEventAgeInSeconds"] == {"Ref": "GenerateMaxEventAgeSeconds"}
    assert load_template()["Parameters"]["GenerateMaxEventAgeSeconds"]["Default"] <= 3600
    on_failure = config["DestinationConfig"]["OnFailure"]
    assert on_failure == {"Type": "SQS", "Destination": {"Fn::GetAtt": ["FailedGenerationsQueue", "Arn"]}}
    assert "Events" not in generate


def test_a_function_of_its_own_drains_the_failed_invocations_even_when_generate_is_saturated():
    drain = function("FailedGenerationsFunction")
    events = [event for event in drain["Events"].values() if event["Type"] == "SQS"]
    assert [event["Properties"]["Queue"] for event in events] == [{"Fn::GetAtt": ["FailedGenerationsQueue", "Arn"]}]
    assert events[0]["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert drain["Timeout"] <= 60
    # Its own reserve: generate's slots all busy cannot throttle it.
    assert isinstance(drain["ReservedConcurrentExecutions"], int) and drain["ReservedConcurrentExecutions"] >= 1
    queue = resources()["FailedGenerationsQueue"]["Properties"]
    # Lambda's SQS poller asks for at least six times the function's timeout.
    assert 6 * drain["Timeout"] <= queue["VisibilityTimeout"] <= 12 * drain["Timeout"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["UnprocessableFailuresQueue", "Arn"]}


def test_layers_core_for_all_ffmpeg_for_generate_only():
    template = load_template()
    assert template["Globals"]["Function"]["Layers"] == [{"Ref": "CoreLayer"}]
    assert function("GenerateFunction")["Layers"] == [{"Ref": "FfmpegLayer"}]
    assert "Layers" not in function("StartFunction") and "Layers" not in function("StatusFunction")
    layers = resources("AWS::Serverless::LayerVersion")
    assert layers["CoreLayer"]["Metadata"]["BuildMethod"].startswith("python3.")
    assert layers["FfmpegLayer"]["Metadata"]["BuildMethod"] == "makefile"
    assert function("GenerateFunction")["Environment"]["Variables"]["FFMPEG_PATH"] == "/opt/bin/ffmpeg"
    runtime = template["Globals"]["Function"]["Runtime"]
    assert runtime in ("python3.12", "python3.13")


def test_the_routes_are_the_ones_the_local_stack_serves():
    routes = set()
    for name, kind in (("StartFunction", "start"), ("StatusFunction", "status")):
        for event in function(name)["Events"].values():
            assert event["Properties"]["ApiId"] == {"Ref": "HttpApi"}
            routes.add((event["Properties"]["Method"], event["Properties"]["Path"], kind))
    assert routes == {(route.method, route.path, route.function) for route in ROUTES}
    throttled = resources()["HttpApi"]["Properties"]["RouteSettings"]
    assert set(throttled) == {"POST /audiostream/start/", "POST /audiostream/start"}
    for setting in throttled.values():
        assert setting["ThrottlingRateLimit"] == {"Ref": "StartThrottleRate"}
    cors = resources()["HttpApi"]["Properties"]["CorsConfiguration"]
    assert cors["AllowOrigins"] == [{"Ref": "CorsAllowOrigin"}]


def test_the_table_matches_the_code():
    table = resources()["SessionsTable"]["Properties"]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [{"AttributeName": "session_id", "KeyType": "HASH"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert "expires_at" in {field.name for field in dataclasses.fields(Session)}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_every_environment_variable_the_template_sets_is_one_the_code_reads():
    read = {name.upper() for group in Settings.model_fields.values() for name in group.annotation.model_fields}
    powertools = {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"}
    variables = set(load_template()["Globals"]["Function"]["Environment"]["Variables"])
    for name in FUNCTIONS:
        variables |= set(function(name).get("Environment", {}).get("Variables", {}))
    assert variables - powertools <= read, variables - powertools - read


def test_no_secret_passes_through_the_template():
    parameters = load_template()["Parameters"]
    for name, parameter in parameters.items():
        assert not any(word in name.lower() for word in ("secret", "password")) or parameter.get("NoEcho")
    key = parameters["OpenAiApiKeyParameter"]
    assert key["Default"].startswith("/") and "NoEcho" not in key  # a parameter *name*, not the key
    (read,) = [s for s in policy_statements("GenerateFunction") if s["Action"] == "ssm:GetParameter"]
    assert read["Resource"]["Fn::Sub"].endswith(":parameter${OpenAiApiKeyParameter}")
