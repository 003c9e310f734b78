"""Upload the demo page (web/dist) to the deployed stack's bucket under web/, where CloudFront serves
it at the root, and invalidate CloudFront's cached copy. Run by `make deploy` after `sam deploy`.

Usage: python scripts/upload_page.py [--stack NAME] [--region REGION]
(defaults: samconfig.toml's stack_name and region, or AWS_REGION)
"""

from __future__ import annotations

import argparse
import mimetypes
import os
import time
import tomllib
from pathlib import Path

import boto3

REPO = Path(__file__).resolve().parents[1]
PAGE_CACHE_CONTROL = "max-age=60"


def samconfig_defaults() -> dict:
    config = tomllib.loads((REPO / "samconfig.toml").read_text())["default"]
    return {
        "stack": config["global"]["parameters"]["stack_name"],
        "region": config["deploy"]["parameters"]["region"],
    }


def stack_outputs(stack: str, region: str) -> dict[str, str]:
    described = boto3.client("cloudformation", region_name=region).describe_stacks(StackName=stack)
    return {output["OutputKey"]: output["OutputValue"] for output in described["Stacks"][0]["Outputs"]}


def upload_page(web_dir: Path, bucket: str, distribution_id: str, region: str) -> list[str]:
    s3 = boto3.client("s3", region_name=region)
    keys = []
    for path in sorted(web_dir.iterdir()):
        if not path.is_file() or path.name.startswith("."):
            continue
        key = f"web/{path.name}"
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        s3.put_object(
            Bucket=bucket, Key=key, Body=path.read_bytes(), ContentType=content_type, CacheControl=PAGE_CACHE_CONTROL
        )
        keys.append(key)
    boto3.client("cloudfront", region_name=region).create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": str(time.time())},
    )
    return keys


def main() -> None:
    defaults = samconfig_defaults()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default=defaults["stack"])
    parser.add_argument("--region", default=os.environ.get("AWS_REGION") or defaults["region"])
    parser.add_argument("--web-dir", type=Path, default=REPO / "web" / "dist")
    arguments = parser.parse_args()
    outputs = stack_outputs(arguments.stack, arguments.region)
    keys = upload_page(arguments.web_dir, outputs["MediaBucketName"], outputs["DistributionId"], arguments.region)
    print(f"uploaded {', '.join(keys)} to s3://{outputs['MediaBucketName']}/")
    print(f"open {outputs['DemoPageUrl']}")


if __name__ == "__main__":
    main()
