"""The environment of the test session and the benchmarks: local stage, dummy AWS credentials,
and no AWS config file, so a developer's real profile can never be used."""
import os
import tempfile

AWS_TEST_ENV = {
    'CIRCLES_STAGE': 'local',
    'CIRCLES_TABLE': 'circles-test',
    'CIRCLES_BASE_URL': 'http://circles.test',
    'CIRCLES_SENDER': 'Learning Circles <circles@example.org>',
    'CIRCLES_SECRET_KEY': 'test-secret-key',
    'AWS_ACCESS_KEY_ID': 'testing',
    'AWS_SECRET_ACCESS_KEY': 'testing',
    'AWS_DEFAULT_REGION': 'us-east-1',
    'AWS_XRAY_SDK_ENABLED': 'false',
    'AWS_CONFIG_FILE': os.path.join(tempfile.gettempdir(), 'circles-no-aws-config'),
    'AWS_SHARED_CREDENTIALS_FILE': os.path.join(tempfile.gettempdir(), 'circles-no-aws-credentials'),
}
