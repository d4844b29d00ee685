"""Deployment settings, read from the environment once per process.

Every value has a default that works for the local stack (`make run`) and the
tests; the `prod` stage in `.chalice/config.json` and `infra/` override them.
"""
import functools
import os
from dataclasses import dataclass

LOCAL_SECRET = 'local-development-secret-not-for-production'


@dataclass(frozen=True)
class Settings:
    stage: str
    table_name: str
    region: str
    sender: str
    support_email: str
    public_base_url: str
    secret_key: str
    ses_configuration_set: str
    default_phone_region: str
    twilio_account_sid: str
    twilio_auth_token: str
    twilio_from_number: str
    twilio_api_base: str
    moto_url: str
    reminder_lead_hours: float = 48
    max_sends_per_second: float = 14     # the SES account's sending rate, across every sender
    max_sms_per_second: float = 1        # Twilio's rate for one long code (10DLC/toll-free allow more)
    send_workers: int = 8                # threads sending at once in one sender invocation

    @property
    def is_local(self):
        return self.stage == 'local'

    @property
    def secure_cookies(self):
        return not self.is_local


@functools.cache
def get_settings() -> Settings:
    env = os.environ.get
    stage = env('CIRCLES_STAGE', 'local')
    secret = env('CIRCLES_SECRET_KEY', LOCAL_SECRET if stage == 'local' else '')
    if not secret:
        raise RuntimeError('CIRCLES_SECRET_KEY must be set outside the local stage')
    return Settings(
        stage=stage,
        table_name=env('CIRCLES_TABLE', 'circles-local'),
        region=env('AWS_DEFAULT_REGION', 'us-east-1'),
        sender=env('CIRCLES_SENDER', 'Learning Circles <circles@example.org>'),
        support_email=env('CIRCLES_SUPPORT_EMAIL', 'support@example.org'),
        public_base_url=env('CIRCLES_BASE_URL', 'http://127.0.0.1:8000').rstrip('/'),
        secret_key=secret,
        ses_configuration_set=env('CIRCLES_SES_CONFIGURATION_SET', ''),
        default_phone_region=env('CIRCLES_DEFAULT_PHONE_REGION', 'US'),
        twilio_account_sid=env('TWILIO_ACCOUNT_SID', ''),
        twilio_auth_token=env('TWILIO_AUTH_TOKEN', ''),
        twilio_from_number=env('TWILIO_FROM_NUMBER', ''),
        twilio_api_base=env('TWILIO_API_BASE', ''),
        moto_url=env('AWS_ENDPOINT_URL', ''),
        reminder_lead_hours=float(env('CIRCLES_REMINDER_LEAD_HOURS', '48')),
        max_sends_per_second=float(env('CIRCLES_MAX_SENDS_PER_SECOND', '14')),
        max_sms_per_second=float(env('CIRCLES_MAX_SMS_PER_SECOND', '1')),
        send_workers=int(env('CIRCLES_SEND_WORKERS', '8')),
    )
