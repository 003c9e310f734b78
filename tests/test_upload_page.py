"""`make deploy`'s last step: the page goes to the bucket's web/ prefix, and CloudFront forgets the old one."""

import importlib.util

import boto3

from audiostream import aws

from support.template import REPO

spec = importlib.util.spec_from_file_location("upload_page", REPO / "scripts" / "upload_page.py")
upload_page = importlib.util.module_from_spec(spec)
spec.loader.exec_module(upload_page)


def test_the_page_is_uploaded_with_its_types_and_the_cdn_is_invalidated(moto, settings, tmp_path):
    (tmp_path / "index.html").write_text("<!doctype html><title>x</title>")
    (tmp_path / "hls.min.js").write_text("var Hls;")
    (tmp_path / ".built").write_text("")
    cloudfront = boto3.client("cloudfront", region_name="us-east-1")
    distribution = cloudfront.create_distribution(
        DistributionConfig={
            "CallerReference": "test",
            "Comment": "",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "page",
                        "DomainName": "example.s3.amazonaws.com",
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "page",
                "ViewerProtocolPolicy": "redirect-to-https",
                "CachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
            },
        }
    )["Distribution"]["Id"]

    keys = upload_page.upload_page(tmp_path, settings.storage.media_bucket, distribution, "us-east-1")

    assert keys == ["web/hls.min.js", "web/index.html"]
    page = aws.s3().get_object(Bucket=settings.storage.media_bucket, Key="web/index.html")
    assert page["ContentType"] == "text/html" and page["CacheControl"] == "max-age=60"
    assert (
        aws.s3().get_object(Bucket=settings.storage.media_bucket, Key="web/hls.min.js")["ContentType"]
        == "text/javascript"
    )
    invalidations = cloudfront.list_invalidations(DistributionId=distribution)["InvalidationList"]
    assert invalidations["Quantity"] == 1


def test_the_defaults_come_from_samconfig():
    assert upload_page.samconfig_defaults() == {"stack": "audiostream", "region": "us-east-1"}
