"""X-Ray tracing of AWS calls, only inside Lambda and only once the first event arrives.

Importing the SDK costs ~200 ms with the botocore it patches, and crashes outside
Lambda on a bad AWS_PROFILE; doing it on the first event instead of at import keeps
`import app` as fast as a bare Chalice app, and requests that never call AWS skip it.
"""
import functools
import os


def enabled():
    return (bool(os.environ.get('AWS_LAMBDA_FUNCTION_NAME'))
            and os.environ.get('AWS_XRAY_SDK_ENABLED', 'true').lower() != 'false')


@functools.cache
def ensure_patched():
    """Patch botocore for X-Ray once per process; returns whether tracing is on."""
    if not enabled():
        return False
    from aws_xray_sdk.core import patch
    patch(['botocore'])
    return True
