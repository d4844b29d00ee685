"""X-Ray, only inside Lambda: importing the SDK elsewhere costs ~200 ms and can crash."""


def patch_for_lambda():
    from aws_xray_sdk.core import patch
    patch(['botocore'])
