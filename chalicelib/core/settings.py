"""Deployment settings, read from the environment once per process.

Only the `local` stage (`make run`, the tests) has development defaults. Every other stage
(`dev`, which `chalice deploy` uses by default, and `prod`) must be given its secret key, table,
public URL and sender (`.chalice/config.json` and `infra/`), and refuses to start without
them: a deployed stage never signs links with the public development key.

Secrets (the signing key, Twilio's account SID and auth token) are SSM Parameter Store
SecureStrings under the stage's path (`CIRCLES_SSM_PATH`, e.g. `/circles/prod`: `secret-key`,
`twilio-account-sid`, `twilio-auth-token`), read in one `GetParameters` call once per container.
An environment variable of the same setting, when set, wins (the tests and benchmarks use that);
`.chalice/config.json` and the template never hold one.
"""
import functools
import os
from dataclasses import dataclass

LOCAL_SECRET = 'local-development-secret-not-for-production'
# The local stage signs and checks Twilio's webhooks with this token (the local outbox's "reply as
# this learner" form signs with it): public, like LOCAL_SECRET. A deployed stage without
# TWILIO_AUTH_TOKEN refuses every webhook (403).
LOCAL_TWILIO_AUTH_TOKEN = 'local-twilio-auth-token-not-for-production'
LOCAL_STAGE = 'local'
MIN_SECRET_LENGTH = 32
# What a deployed stage must be given: there is no safe default for any of these.
REQUIRED_OUTSIDE_LOCAL = ('CIRCLES_SECRET_KEY', 'CIRCLES_TABLE', 'CIRCLES_BASE_URL', 'CIRCLES_SENDER')
LOCAL_DEFAULTS = {
    'CIRCLES_SECRET_KEY': LOCAL_SECRET,
    'CIRCLES_TABLE': 'circles-local',
    'CIRCLES_BASE_URL': 'http://127.0.0.1:8000',
    'CIRCLES_SENDER': 'Learning Circles <circles@example.org>',
    'CIRCLES_SUPPORT_EMAIL': 'support@example.org',
    'TWILIO_AUTH_TOKEN': LOCAL_TWILIO_AUTH_TOKEN,
}


# When the Monday digest goes out: an EventBridge cron expression (minutes hours day-of-month month
# day-of-week year), in UTC. Read by chalicelib/handlers/jobs.py when the app is packaged.
DEFAULT_DIGEST_SCHEDULE = '0 10 ? * MON *'


def digest_schedule(environ=os.environ):
    """The digest's cron fields (CIRCLES_DIGEST_SCHEDULE, default Monday 10:00 UTC) as a tuple of
    six strings. Needs no other setting: `chalice package` reads it without a stage's secrets."""
    fields = (environ.get('CIRCLES_DIGEST_SCHEDULE') or DEFAULT_DIGEST_SCHEDULE).split()
    if len(fields) != 6:
        raise ValueError('CIRCLES_DIGEST_SCHEDULE must have six cron fields, e.g. "0 10 ? * MON *"')
    return tuple(fields)


# The SNS topic SES publishes bounces and complaints to (the configuration set's event destination,
# infra/resources.yaml). Read by chalicelib/handlers/sns.py when the app is packaged, like the digest's
# schedule: the merge template then points the subscription at the stack's own topic.
DEFAULT_SES_FEEDBACK_TOPIC = 'circles-ses-feedback'
# Where an SNS message's signing certificate may come from: https on AWS's SNS hosts only. Only the
# local stage (the tests' certificate server) may name other hosts and trust another CA bundle.
SNS_CERTIFICATE_HOSTS = r'sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?'


def ses_feedback_topic(environ=os.environ):
    """The SNS topic's name (CIRCLES_SES_FEEDBACK_TOPIC); needs no other setting."""
    return environ.get('CIRCLES_SES_FEEDBACK_TOPIC') or DEFAULT_SES_FEEDBACK_TOPIC


# The SecureStrings a deployed stage reads, by the setting each fills: CIRCLES_SSM_PATH + '/' + name.
SSM_SECRETS = {
    'CIRCLES_SECRET_KEY': 'secret-key',
    'TWILIO_ACCOUNT_SID': 'twilio-account-sid',
    'TWILIO_AUTH_TOKEN': 'twilio-auth-token',
}
SSM_TIMEOUT_SECONDS = 5


def ssm_parameter_names(path):
    return {setting: f"{path.rstrip('/')}/{name}" for setting, name in SSM_SECRETS.items()}


@functools.cache
def read_ssm_secrets(path, region, endpoint_url=''):
    """The SecureStrings under `path` that exist, decrypted, by setting name; read once per
    container (one GetParameters call). Raises botocore's error when SSM cannot be read."""
    import boto3
    from botocore.config import Config
    names = ssm_parameter_names(path)
    client = boto3.client('ssm', region_name=region, endpoint_url=endpoint_url or None,
                          config=Config(connect_timeout=SSM_TIMEOUT_SECONDS, read_timeout=SSM_TIMEOUT_SECONDS,
                                        retries={'max_attempts': 2}))
    found = client.get_parameters(Names=list(names.values()), WithDecryption=True)['Parameters']
    values = {p['Name']: p['Value'] for p in found}
    return {setting: values[name] for setting, name in names.items() if values.get(name)}


def with_secrets(environ):
    """`environ` with the stage's secrets from SSM filled in where the environment has none, and
    the problems reading them (a deployed stage with CIRCLES_SSM_PATH only; local: unchanged)."""
    path = environ.get('CIRCLES_SSM_PATH', '')
    if environ.get('CIRCLES_STAGE', LOCAL_STAGE) == LOCAL_STAGE or not path:
        return dict(environ), []
    if all(environ.get(setting) for setting in SSM_SECRETS):
        return dict(environ), []
    try:
        secrets = read_ssm_secrets(path, environ.get('AWS_DEFAULT_REGION') or environ.get('AWS_REGION') or 'us-east-1',
                                   environ.get('AWS_ENDPOINT_URL', ''))
    except Exception as error:    # botocore's errors: no network, no permission, throttled
        return dict(environ), [f'the SSM parameters under {path} could not be read ({type(error).__name__})']
    return {**{k: v for k, v in secrets.items() if not environ.get(k)}, **environ}, []


def sms_enabled(environ):
    """A Twilio number or Messaging Service is configured: texts will be sent."""
    return bool(environ.get('TWILIO_FROM_NUMBER') or environ.get('TWILIO_MESSAGING_SERVICE_SID'))


# The languages pages, emails and texts are translated into (chalicelib/locales/<code>), each
# named in its own language for the switcher. A new language: its catalog and one line here.
INTERFACE_LANGUAGES = {
    'en': 'English',
    'es': 'Español',
    'de': 'Deutsch',
    'fr': 'Français',
    'pt': 'Português',
}


class SettingsMissing(RuntimeError):
    """A deployed stage was started without what it needs (names only, never values)."""


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
    surveys_close_days: float = 7        # the end-of-circle surveys close this long after the last meeting ends
    survey_reminder_days: float = 3      # the one survey reminder, this long after the surveys went out
    max_sends_per_second: float = 14     # the SES account's sending rate, across every sender
    max_sms_per_second: float = 1        # Twilio's rate for one long code (10DLC/toll-free allow more)
    send_workers: int = 8                # threads sending at once in one sender invocation
    rate_limits: bool = True             # off only on the local stage (CIRCLES_RATE_LIMITS=off, benchmarks)
    catalog_refresh_seconds: float = 10  # how long a container answers browse requests before asking what changed
    digest_schedule: tuple = tuple(DEFAULT_DIGEST_SCHEDULE.split())    # the weekly digest's cron (UTC)
    site_admin_emails: frozenset = frozenset()  # lowercased; they may create teams at /admin/teams/new
    # Texts go from this Messaging Service when set (its number pool, its opt-out handling),
    # else from `twilio_from_number`.
    twilio_messaging_service_sid: str = ''
    retention_days: float = 90           # learners' personal data is anonymised this long after their circle's last meeting
    ses_feedback_topic: str = DEFAULT_SES_FEEDBACK_TOPIC    # SNS messages from another topic are refused
    sns_certificate_hosts: str = SNS_CERTIFICATE_HOSTS      # a regular expression for the whole host name
    sns_ca_bundle: str = ''              # a CA bundle for the certificate's https request ('' = the system's)

    @property
    def is_local(self):
        return self.stage == LOCAL_STAGE

    @property
    def secure_cookies(self):
        return not self.is_local


def check_stage(environ):
    """The problems that stop a non-local stage from starting (empty for the local stage)."""
    stage = environ.get('CIRCLES_STAGE', LOCAL_STAGE)
    if stage == LOCAL_STAGE:
        return []
    problems = [f'{name} is not set' for name in REQUIRED_OUTSIDE_LOCAL if not environ.get(name)]
    secret = environ.get('CIRCLES_SECRET_KEY', '')
    if secret and (secret == LOCAL_SECRET or len(secret) < MIN_SECRET_LENGTH):
        problems.append(f'CIRCLES_SECRET_KEY must be a random value of at least {MIN_SECRET_LENGTH} characters, '
                        'not the development key')
    base_url = environ.get('CIRCLES_BASE_URL', '')
    if base_url and not base_url.startswith('https://'):
        problems.append('CIRCLES_BASE_URL must be an https:// address')
    if bool(environ.get('TWILIO_ACCOUNT_SID')) != bool(environ.get('TWILIO_AUTH_TOKEN')):
        problems.append('TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN must be set together')
    elif sms_enabled(environ) and not environ.get('TWILIO_ACCOUNT_SID'):
        problems.append('SMS is enabled (TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID) but '
                        'TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are not set: every text would fail')
    return problems


@functools.cache
def get_settings() -> Settings:
    environ, problems = with_secrets(os.environ)
    problems += check_stage(environ)
    stage = environ.get('CIRCLES_STAGE', LOCAL_STAGE)
    if problems:
        path = environ.get('CIRCLES_SSM_PATH')
        where = ('. Secrets are SSM SecureStrings: ' + ', '.join(ssm_parameter_names(path).values())
                 if path else '')
        raise SettingsMissing(f'The {stage!r} stage cannot start: ' + '; '.join(problems) + where
                              + f". Only the {LOCAL_STAGE!r} stage has development defaults.")
    defaults = LOCAL_DEFAULTS if stage == LOCAL_STAGE else {}

    def env(name, default=''):
        return environ.get(name) or defaults.get(name, default)
    secret = env('CIRCLES_SECRET_KEY')
    return Settings(
        stage=stage,
        table_name=env('CIRCLES_TABLE'),
        region=env('AWS_DEFAULT_REGION', 'us-east-1'),
        sender=env('CIRCLES_SENDER'),
        support_email=env('CIRCLES_SUPPORT_EMAIL') or env('CIRCLES_SENDER'),
        public_base_url=env('CIRCLES_BASE_URL').rstrip('/'),
        secret_key=secret,
        ses_configuration_set=env('CIRCLES_SES_CONFIGURATION_SET', ''),
        default_phone_region=env('CIRCLES_DEFAULT_PHONE_REGION', 'US'),
        twilio_account_sid=env('TWILIO_ACCOUNT_SID', ''),
        twilio_auth_token=env('TWILIO_AUTH_TOKEN', ''),
        twilio_from_number=env('TWILIO_FROM_NUMBER', ''),
        twilio_api_base=env('TWILIO_API_BASE', ''),
        moto_url=env('AWS_ENDPOINT_URL', ''),
        reminder_lead_hours=float(env('CIRCLES_REMINDER_LEAD_HOURS', '48')),
        surveys_close_days=float(env('CIRCLES_SURVEYS_CLOSE_DAYS', '7')),
        survey_reminder_days=float(env('CIRCLES_SURVEY_REMINDER_DAYS', '3')),
        max_sends_per_second=float(env('CIRCLES_MAX_SENDS_PER_SECOND', '14')),
        max_sms_per_second=float(env('CIRCLES_MAX_SMS_PER_SECOND', '1')),
        send_workers=int(env('CIRCLES_SEND_WORKERS', '8')),
        rate_limits=not (stage == LOCAL_STAGE and environ.get('CIRCLES_RATE_LIMITS') == 'off'),
        catalog_refresh_seconds=float(env('CIRCLES_CATALOG_REFRESH_SECONDS', '10')),
        digest_schedule=digest_schedule(environ),
        twilio_messaging_service_sid=env('TWILIO_MESSAGING_SERVICE_SID', ''),
        retention_days=float(env('CIRCLES_RETENTION_DAYS', '90')),
        ses_feedback_topic=ses_feedback_topic(environ),
        sns_certificate_hosts=(environ.get('CIRCLES_SNS_CERTIFICATE_HOSTS') if stage == LOCAL_STAGE else None)
        or SNS_CERTIFICATE_HOSTS,
        sns_ca_bundle=environ.get('CIRCLES_SNS_CA_BUNDLE', '') if stage == LOCAL_STAGE else '',
        site_admin_emails=frozenset(a.strip().lower() for a in env('CIRCLES_SITE_ADMINS', '').split(',') if a.strip()),
    )
