"""What 1,000 minutes of speech cost in AWS, from what `make bench` counted per minute of audio.

List prices, us-east-1, first tier, read 2026-12-02 (the sources below; AWS's own pricing pages fill
their tables in by script, so several figures are from dated copies of them). Free tiers are left out:
the figures are what the work costs once they are used up.
"""

from __future__ import annotations

import yaml
from plan import REPO

# (price, unit, source)
PRICES = {
    "lambda_gb_second_x86_64": (
        0.0000166667,
        "per GB-s",
        "aws.amazon.com/lambda/pricing (copy: cloudchipr.com/blog/aws-lambda-pricing)",
    ),
    "lambda_gb_second_arm64": (0.0000133334, "per GB-s", "the same"),
    "lambda_request": (0.20 / 1e6, "per invocation", "aws.amazon.com/lambda/pricing"),
    "api_gateway_http_request": (
        1.00 / 1e6,
        "per request (first 300 M)",
        "aws.amazon.com/api-gateway/pricing (copy: awsforengineers.com, 2025-05-19)",
    ),
    "dynamodb_write_unit": (
        0.625 / 1e6,
        "per write request unit, on demand",
        "aws.amazon.com/dynamodb/pricing (after the 2024-11-01 cut; copy: airbyte.com, 2025-07-21)",
    ),
    "dynamodb_read_unit": (0.125 / 1e6, "per read request unit, on demand", "the same"),
    "s3_put": (0.005 / 1000, "per PUT", "aws.amazon.com/s3/pricing"),
    "s3_get": (0.0004 / 1000, "per GET", "aws.amazon.com/s3/pricing"),
    "s3_gb_month": (0.023, "per GB-month, Standard", "aws.amazon.com/s3/pricing (copy: cloudburn.io, 2026-03)"),
    "cloudfront_gb": (0.085, "per GB out, North America, first 10 TB", "aws.amazon.com/cloudfront/pricing"),
    "cloudfront_https_request": (0.01 / 10000, "per HTTPS request, North America", "aws.amazon.com/cloudfront/pricing"),
}
# Hosted voices, for the same minutes (characters per minute as measured for the engine compared).
HOSTED = {
    "Amazon Polly standard": (4.0 / 1e6, "per character", "aws.amazon.com/polly/pricing"),
    "Amazon Polly neural": (16.0 / 1e6, "per character", "aws.amazon.com/polly/pricing"),
    "OpenAI tts-1": (15.0 / 1e6, "per character", "platform.openai.com/docs/models/tts-1"),
    "OpenAI gpt-4o-mini-tts": (
        0.015,
        "per minute (OpenAI's estimate)",
        "platform.openai.com/docs/models/gpt-4o-mini-tts",
    ),
}
MINUTES = 1000


def _template() -> dict:
    """template.yaml; its CloudFormation tags (!Ref, !If, ...) read as None: only plain values are used."""

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    return yaml.load((REPO / "template.yaml").read_text(), Loader=Loader)


def _memory_gb(template: dict, function: str) -> float:
    size = template["Resources"][function]["Properties"].get(
        "MemorySize", template["Globals"]["Function"]["MemorySize"]
    )
    return size / 1024


TEMPLATE = _template()
# The functions' memory sizes in the template, in GB.
MEMORY_GB = {name: _memory_gb(TEMPLATE, f"{name.capitalize()}Function") for name in ("generate", "start", "status")}
# How long media is kept: the lifecycle rule's days (MediaExpirationDays' default).
MEDIA_KEPT_DAYS = TEMPLATE["Parameters"]["MediaExpirationDays"]["Default"]


def price(name: str) -> float:
    return PRICES[name][0]


def cost_of(per_minute: dict, architecture: str = "x86_64") -> dict:
    """Dollars for 1,000 minutes of audio, by item, from one engine's per-minute counts (see
    bench/measurements/per_minute.py for what each count is)."""
    gb_second = price(f"lambda_gb_second_{architecture}")
    lambda_seconds = (
        per_minute["generate_billed_s"] * MEMORY_GB["generate"]
        + per_minute["start_requests"] * per_minute["start_answer_s"] * MEMORY_GB["start"]
        + per_minute["status_requests"] * per_minute["status_answer_s"] * MEMORY_GB["status"]
    )
    sessions = per_minute["start_requests"]  # each start invokes generate once
    invocations = sessions + per_minute["status_requests"] + sessions
    items = {
        "lambda_compute": lambda_seconds * gb_second,
        "lambda_requests": invocations * price("lambda_request"),
        "api_gateway": (per_minute["start_requests"] + per_minute["status_requests"])
        * price("api_gateway_http_request"),
        "dynamodb": per_minute["dynamodb_writes"] * price("dynamodb_write_unit")
        + per_minute["dynamodb_reads"] * price("dynamodb_read_unit"),
        "s3_puts": per_minute["s3_puts"] * price("s3_put"),
        "s3_gets": per_minute["player_requests"] * price("s3_get"),
        "s3_storage": per_minute["bytes_stored"] / 1e9 * price("s3_gb_month") * per_minute["kept_days"] / 30,
        "cloudfront_bytes": per_minute["player_bytes"] / 1e9 * price("cloudfront_gb"),
        "cloudfront_requests": per_minute["player_requests"] * price("cloudfront_https_request"),
    }
    dollars = {name: value * MINUTES for name, value in items.items()}
    dollars["total"] = sum(dollars.values())
    return dollars


def hosted_costs(characters_per_minute: float) -> dict:
    return {
        name: MINUTES * (value if unit.startswith("per minute") else value * characters_per_minute)
        for name, (value, unit, _source) in HOSTED.items()
    }
