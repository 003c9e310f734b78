"""template.yaml: the linters' verdicts, and what no linter checks (privacy of the bucket, caching,
least privilege, what a deployment offers and who can reach it, for each setting of its parameters,
and agreement with the code)."""

from __future__ import annotations

import dataclasses
import itertools
import json
import re

import pytest
from pydantic import ValidationError

from audiostream.config import Settings, SpeechSettings
from audiostream.store.sessions import Session
from devstack.gateway import ROUTES

from support.paths import REPO
from support.template import (
    FUNCTIONS,
    actions,
    conditions,
    function,
    function_environment,
    function_layers,
    load_template,
    parameter_values,
    policy_statements,
    resolved,
    resources,
    rule_failures,
    text_of,
    tool,
)

# The deployments the tests look at: the defaults, and each optional part switched on.
POLLY = {"EnablePolly": "true"}
NEURAL = {"EnableNeuralVoice": "true"}
CUSTOM_DOMAIN = {
    "ApiDomainName": "api.audio.example.com",
    "ApiCertificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/1a2b3c4d-0000-4000-8000-123456789abc",
}
HOSTED_ZONE = {"ApiHostedZoneId": "Z0123456789ABCDEFGHIJ"}
MUTUAL_TLS = {
    "ApiTruststoreUri": "s3://audio-example-truststore/cloudfront-ca.pem",
    "OriginClientCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/5e6f7a8b-0000-4000-8000-123456789abc",
}
WEB_ACL = {"WebAclArn": "arn:aws:wafv2:us-east-1:123456789012:global/webacl/audiostream/0a1b2c3d-0000-4000-8000-1234"}
EVERYTHING = {**POLLY, **NEURAL, **CUSTOM_DOMAIN, **HOSTED_ZONE, **MUTUAL_TLS, **WEB_ACL}

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


def distribution(parameters: dict | None = None) -> dict:
    return resources(parameters=parameters)["Distribution"]["Properties"]["DistributionConfig"]


def api_origin(parameters: dict | None = None) -> dict:
    (origin,) = [origin for origin in distribution(parameters)["Origins"] if origin["Id"] == "api"]
    return origin


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


@pytest.mark.parametrize("parameters", [{}, POLLY], ids=["default", "polly-enabled"])
def test_each_function_may_do_only_what_it_needs(parameters):
    polly = {"polly:DescribeVoices"} if parameters else set()
    assert (
        actions("StartFunction", parameters)
        == {
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:GetItem",
            "s3:PutObject",
            "lambda:InvokeFunction",
        }
        | polly
    )
    assert actions("StatusFunction", parameters) == {"dynamodb:GetItem"} | polly
    assert actions("CancelFunction", parameters) == {"dynamodb:GetItem", "dynamodb:UpdateItem", "s3:PutObject"}
    assert actions("GenerateFunction", parameters) == {
        "dynamodb:GetItem",
        "dynamodb:UpdateItem",
        "s3:PutObject",
        "ssm:GetParameter",
    } | ({"polly:SynthesizeSpeech", "polly:DescribeVoices"} if parameters else set())
    assert actions("FailedGenerationsFunction", parameters) == {
        "dynamodb:GetItem",
        "dynamodb:UpdateItem",
        "s3:GetObject",
        "s3:PutObject",
        "s3:ListBucket",
    }
    table = {"Fn::GetAtt": ["SessionsTable", "Arn"]}
    media = {"Fn::Sub": "${MediaBucket.Arn}/media/hls/*"}
    for name in FUNCTIONS:
        for statement in policy_statements(name, parameters):
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
    (invoke,) = [s for s in policy_statements("StartFunction", parameters) if s["Action"] == "lambda:InvokeFunction"]
    assert invoke["Resource"] == {"Fn::GetAtt": ["GenerateFunction", "Arn"]}


# ------------------------------------------------------------------ what a deployment offers, and who gets in


def accepted(name: str, value: str) -> bool:
    """Whether CloudFormation takes ``value`` for the parameter ``name`` (its pattern, its values)."""
    parameter = load_template()["Parameters"][name]
    if "AllowedValues" in parameter and value not in [str(allowed) for allowed in parameter["AllowedValues"]]:
        return False
    return "AllowedPattern" not in parameter or re.fullmatch(parameter["AllowedPattern"], value) is not None


def test_the_parameter_values_the_tests_use_are_ones_cloudformation_accepts():
    for name, value in {**parameter_values(), **EVERYTHING}.items():
        assert accepted(name, value), f"{name}={value!r} does not match its AllowedPattern or AllowedValues"
    assert not accepted("WebAclArn", "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/audiostream/0a1b")
    assert not accepted("OriginClientCertificateArn", CUSTOM_DOMAIN["ApiCertificateArn"])  # CloudFront's: us-east-1
    assert not accepted("ApiDomainName", "https://api.audio.example.com/")
    assert rule_failures() == [] and rule_failures(EVERYTHING) == []


def test_polly_is_offered_and_may_be_called_only_when_the_deployer_enables_it():
    assert load_template()["Parameters"]["EnablePolly"]["Default"] == "false"
    for parameters, offered in (({}, ["gtts"]), (POLLY, ["gtts", "polly"])):
        assert conditions(parameters)["PollyEnabled"] == bool(parameters)
        for name in FUNCTIONS:
            assert function_environment(name, parameters)["TTS_ENGINES"].split(",") == offered
            granted = {action for action in actions(name, parameters) if action.startswith("polly:")}
            needs_polly = name not in ("FailedGenerationsFunction", "CancelFunction")
            assert bool(granted) == ("polly" in offered and needs_polly), (name, granted)
    # Nothing else names Polly: no other statement, variable or output of the default deployment.
    default = json.dumps(resolved()["Resources"]) + json.dumps(resolved()["Globals"])
    assert "polly:" not in default and "gtts,polly" not in default


def test_a_default_engine_the_deployment_does_not_offer_is_refused_at_deploy_time():
    assert load_template()["Parameters"]["TtsEngine"]["Default"] == "gtts"
    engines = load_template()["Parameters"]["TtsEngine"]["AllowedValues"]
    for engine, enabled, neural in itertools.product(engines, ("true", "false"), ("true", "false")):
        parameters = {"TtsEngine": engine, "EnablePolly": enabled, "EnableNeuralVoice": neural}
        environment = function_environment("StartFunction", parameters)
        offered = environment["TTS_ENGINES"].split(",")
        preferred = text_of(environment["TTS_ENGINE"], parameters)
        # Best first: the neural voice for English, then the chosen engine for everything else.
        assert preferred.split(",") == ["hibari"] * (neural == "true") + [engine], parameters
        failures = rule_failures(parameters)
        assert bool(failures) == (engine not in offered), (parameters, failures)
        # A deployment the rules accept passes the code's own check at cold start, and only those.
        if failures:
            with pytest.raises(ValidationError):
                SpeechSettings(tts_engine=preferred, tts_engines=environment["TTS_ENGINES"])
        else:
            SpeechSettings(tts_engine=preferred, tts_engines=environment["TTS_ENGINES"])
    (message,) = rule_failures({"TtsEngine": "polly"})
    assert "EnablePolly=true" in message and "TtsEngine" in message


def test_every_route_is_throttled_and_start_more_strictly():
    api = resources()["HttpApi"]["Properties"]
    assert api["DefaultRouteSettings"] == {
        "ThrottlingRateLimit": {"Ref": "ApiThrottleRate"},
        "ThrottlingBurstLimit": {"Ref": "ApiThrottleBurst"},
    }
    routes = {
        f"{event['Properties']['Method']} {event['Properties']['Path']}"
        for name in ("StartFunction", "StatusFunction", "CancelFunction")
        for event in function(name)["Events"].values()
    }
    # The default applies to every route; the routes with settings of their own are real ones (a
    # setting for a route key the API lacks fails the deploy), and their throttle is stricter.
    assert set(api["RouteSettings"]) <= routes
    values = {name: int(value) for name, value in parameter_values().items() if value.isdigit()}
    for key, setting in api["RouteSettings"].items():
        rate, burst = (values[setting[limit]["Ref"]] for limit in ("ThrottlingRateLimit", "ThrottlingBurstLimit"))
        assert rate < values["ApiThrottleRate"] and burst < values["ApiThrottleBurst"], key
    # The status route must not throttle the demo page: every session that can be generating at once
    # may poll at the page's fastest pace (until its first segment) within the default rate.
    page = (REPO / "web" / "status-poll.js").read_text()
    fastest_poll_ms = int(re.search(r"const POLL_UNTIL_FIRST_SEGMENT_MS = (\d+);", page).group(1))
    assert values["GenerateReservedConcurrency"] * 1000 / fastest_poll_ms <= values["ApiThrottleRate"]
    assert values["ApiThrottleBurst"] >= values["ApiThrottleRate"]


def test_without_a_custom_domain_cloudfront_uses_the_execute_api_endpoint_which_stays_open():
    assert not {"ApiDomain", "ApiDomainMapping", "ApiDomainRecord"} & set(resources())
    assert resources()["HttpApi"]["Properties"]["DisableExecuteApiEndpoint"] is False
    origin = api_origin()
    assert origin["DomainName"] == {"Fn::Sub": "${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"}
    assert "OriginMtlsConfig" not in origin["CustomOriginConfig"]
    assert resolved()["Outputs"]["ApiUrl"]["Value"]["Fn::Sub"].startswith("https://${HttpApi}.execute-api.")


def test_with_a_custom_domain_the_execute_api_endpoint_is_disabled_and_cloudfront_uses_the_domain():
    api = resources(parameters=CUSTOM_DOMAIN)
    assert api["HttpApi"]["Properties"]["DisableExecuteApiEndpoint"] is True
    domain = api["ApiDomain"]["Properties"]
    assert domain["DomainName"] == {"Ref": "ApiDomainName"}
    assert domain["DomainNameConfigurations"] == [
        {"CertificateArn": {"Ref": "ApiCertificateArn"}, "EndpointType": "REGIONAL", "SecurityPolicy": "TLS_1_2"}
    ]
    mapping = api["ApiDomainMapping"]["Properties"]
    assert mapping["ApiId"] == {"Ref": "HttpApi"} and mapping["DomainName"] == {"Ref": "ApiDomain"}
    assert mapping["Stage"] == {"Ref": "HttpApiApiGatewayDefaultStage"}  # the stage SAM makes for HttpApi
    origin = api_origin(CUSTOM_DOMAIN)
    assert origin["DomainName"] == {"Ref": "ApiDomain"}  # the domain's name (Ref), through its resource
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    # CloudFront must send the domain as Host (and SNI): API Gateway routes a custom domain by it.
    behavior = next(b for b in distribution(CUSTOM_DOMAIN)["CacheBehaviors"] if b["TargetOriginId"] == "api")
    assert behavior["OriginRequestPolicyId"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"  # AllViewerExceptHostHeader
    assert "ApiDomainRecord" not in api and "MutualTlsAuthentication" not in domain
    assert resolved(CUSTOM_DOMAIN)["Outputs"]["ApiUrl"]["Value"] == {"Fn::Sub": "https://${ApiDomainName}"}
    assert resolved(CUSTOM_DOMAIN)["Outputs"]["ApiDomainTarget"]["Value"] == {
        "Fn::GetAtt": ["ApiDomain", "RegionalDomainName"]
    }

    record = resources(parameters={**CUSTOM_DOMAIN, **HOSTED_ZONE})["ApiDomainRecord"]["Properties"]
    assert record["Name"] == {"Ref": "ApiDomainName"} and record["HostedZoneId"] == {"Ref": "ApiHostedZoneId"}
    assert record["AliasTarget"]["DNSName"] == {"Fn::GetAtt": ["ApiDomain", "RegionalDomainName"]}

    # Mutual TLS: the domain trusts only the CA of the certificate CloudFront presents.
    locked = {**CUSTOM_DOMAIN, **MUTUAL_TLS}
    assert resources(parameters=locked)["ApiDomain"]["Properties"]["MutualTlsAuthentication"] == {
        "TruststoreUri": {"Ref": "ApiTruststoreUri"}
    }
    assert api_origin(locked)["CustomOriginConfig"]["OriginMtlsConfig"] == {
        "ClientCertificateArn": {"Ref": "OriginClientCertificateArn"}
    }


def test_every_accepted_combination_of_the_domain_parameters_closes_the_execute_api_endpoint_with_a_domain():
    """Whatever a deployer passes: a deployment the rules accept disables the execute-api endpoint exactly
    when CloudFront has the custom domain to use instead, and mutual TLS is on at both ends or neither."""
    given = {**CUSTOM_DOMAIN, **HOSTED_ZONE, **MUTUAL_TLS}
    accepted_deployments = []
    for chosen in itertools.product((False, True), repeat=len(given)):
        parameters = {name: value for on, (name, value) in zip(chosen, given.items(), strict=True) if on}
        if rule_failures(parameters):
            continue
        accepted_deployments.append(sorted(parameters))
        has_domain = "ApiDomainName" in parameters
        assert has_domain == ("ApiCertificateArn" in parameters), parameters
        assert resources(parameters=parameters)["HttpApi"]["Properties"]["DisableExecuteApiEndpoint"] is has_domain
        assert (api_origin(parameters)["DomainName"] == {"Ref": "ApiDomain"}) is has_domain
        domain = resources(parameters=parameters).get("ApiDomain", {}).get("Properties", {})
        mutual = "OriginMtlsConfig" in api_origin(parameters)["CustomOriginConfig"]
        assert mutual == ("MutualTlsAuthentication" in domain) == ("ApiTruststoreUri" in parameters), parameters
    # No domain; or the domain and its certificate, with or without its DNS record and mutual TLS.
    assert len(accepted_deployments) == 5, accepted_deployments


def test_the_web_acl_parameter_is_wired_to_the_distribution():
    assert "WebACLId" not in distribution()
    assert distribution(WEB_ACL)["WebACLId"] == {"Ref": "WebAclArn"}
    assert conditions(WEB_ACL)["HasWebAcl"] and not conditions()["HasWebAcl"]


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
    for name in FUNCTIONS:
        expected = [{"Ref": "CoreLayer"}, *([{"Ref": "FfmpegLayer"}] if name == "GenerateFunction" else [])]
        assert function_layers(name) == expected, name
    layers = resources("AWS::Serverless::LayerVersion", NEURAL)
    assert set(layers) == {"CoreLayer", "FfmpegLayer", "NeuralVoiceLayer"}
    for name, layer in layers.items():
        # Each is built by its own Makefile (pip for Lambda's platform, then pruned), whose target sam
        # build calls by the layer's name.
        assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "x86_64"}, name
        makefile = REPO / layer["Properties"]["ContentUri"] / "Makefile"
        assert re.search(rf"^build-{name}:", makefile.read_text(), re.MULTILINE), f"{makefile} builds no {name}"
        assert layer["Properties"]["CompatibleRuntimes"] == [template["Globals"]["Function"]["Runtime"]]
    assert function("GenerateFunction")["Environment"]["Variables"]["FFMPEG_PATH"] == "/opt/bin/ffmpeg"
    runtime = template["Globals"]["Function"]["Runtime"]
    assert runtime in ("python3.12", "python3.13")


# The functions that speak (generate) or pick and list engines (start, status): with the neural voice
# offered, each must be able to load it, or start and status would disagree with generate about it.
NEURAL_VOICE_USERS = ("StartFunction", "StatusFunction", "GenerateFunction")


@pytest.mark.parametrize("others", [{}, POLLY], ids=["gtts", "polly-enabled"])
def test_the_neural_voice_is_offered_and_its_layer_attached_only_when_the_deployer_enables_it(others):
    assert load_template()["Parameters"]["EnableNeuralVoice"]["Default"] == "false"
    neural_layer = {"Ref": "NeuralVoiceLayer"}
    # Off (the default): no layer, no engine, no trace of it in the deployment.
    assert not conditions(others)["NeuralVoiceEnabled"]
    assert "NeuralVoiceLayer" not in resources(parameters=others)
    deployed = resolved(others)
    assert "hibari" not in json.dumps(deployed["Resources"]) + json.dumps(deployed["Globals"])
    for name in FUNCTIONS:
        assert neural_layer not in function_layers(name, others), name
        assert function_environment(name, others)["TTS_ENGINE"] == {"Ref": "TtsEngine"}
    # On: the layer, for the functions that use the voice, after their other layers; the engine
    # offered, and first for the languages it speaks.
    enabled = {**others, **NEURAL}
    assert conditions(enabled)["NeuralVoiceEnabled"]
    layer = resources(parameters=enabled)["NeuralVoiceLayer"]
    assert layer["Condition"] == "NeuralVoiceEnabled"
    assert layer["Properties"]["ContentUri"] == "layers/neural/"
    for name in FUNCTIONS:
        before = function_layers(name, others)
        expected = [*before, neural_layer] if name in NEURAL_VOICE_USERS else before
        assert function_layers(name, enabled) == expected, name
        offered_before = function_environment(name, others)["TTS_ENGINES"].split(",")
        environment = function_environment(name, enabled)
        assert environment["TTS_ENGINES"].split(",") == [*offered_before, "hibari"], name
        assert text_of(environment["TTS_ENGINE"], enabled) == "hibari,gtts", name
        # It runs inside the function: no grant of any kind comes with it.
        assert actions(name, enabled) == actions(name, others), name


def test_the_routes_are_the_ones_the_local_stack_serves():
    routes = set()
    for name, kind in (("StartFunction", "start"), ("StatusFunction", "status"), ("CancelFunction", "cancel")):
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
    variables = set()
    for name in FUNCTIONS:
        variables |= set(function_environment(name)) | set(function_environment(name, EVERYTHING))
    assert variables - powertools <= read, variables - powertools - read


def test_no_secret_passes_through_the_template():
    parameters = load_template()["Parameters"]
    for name, parameter in parameters.items():
        assert not any(word in name.lower() for word in ("secret", "password")) or parameter.get("NoEcho")
    key = parameters["OpenAiApiKeyParameter"]
    assert key["Default"].startswith("/") and "NoEcho" not in key  # a parameter *name*, not the key
    (read,) = [s for s in policy_statements("GenerateFunction") if s["Action"] == "ssm:GetParameter"]
    assert read["Resource"]["Fn::Sub"].endswith(":parameter${OpenAiApiKeyParameter}")
