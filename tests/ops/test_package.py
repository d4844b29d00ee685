"""The deployment: infra/resources.yaml matches the models, and `chalice package` builds
a stack and a zip that Lambda can run (templates included, under the size limit, traced,
least-privilege, cfn-lint clean).

The package test runs the real `chalice package` (it fetches wheels from PyPI on a
fresh machine, which CI can reach): with no network it fails, it does not skip.
"""
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MERGE_TEMPLATE = ROOT / 'infra' / 'resources.yaml'
LAMBDA_ZIP_LIMIT = 50 * 1024 * 1024
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024
PACKAGE_TIMEOUT_SECONDS = 240


def prod_config():
    return json.loads((ROOT / '.chalice' / 'config.json').read_text())['stages']['prod']


def prod_policy():
    return json.loads((ROOT / '.chalice' / 'policy-prod.json').read_text())


def resources_of_type(template, kind):
    return {name: r for name, r in template['Resources'].items() if r.get('Type') == kind}


def the_table(template):
    tables = resources_of_type(template, 'AWS::DynamoDB::Table')
    assert len(tables) == 1, list(tables)
    return next(iter(tables.values()))


# --- the merge template against the models (fast) ---------------------------------

def _keys(key_schema):
    return {k['KeyType']: k['AttributeName'] for k in key_schema}


def _projection(projection):
    """Projection type and the sorted included attributes (their order means nothing)."""
    attributes = projection.get('NonKeyAttributes') or []
    assert len(attributes) == len(set(attributes)), f'duplicate projected attributes: {attributes}'
    return projection['ProjectionType'], sorted(attributes)


def test_merge_template_is_plain_yaml_with_long_form_intrinsics():
    # safe_load refuses short tags (!Ref, !GetAtt); long-form intrinsics read anywhere.
    assert yaml.safe_load(MERGE_TEMPLATE.read_text())['Resources']


def test_table_in_the_stack_is_exactly_the_one_the_models_define():
    from chalicelib.models import TableItem
    schema = TableItem._get_schema()
    table = the_table(yaml.safe_load(MERGE_TEMPLATE.read_text()))['Properties']

    assert table['BillingMode'] == TableItem.Meta.billing_mode
    assert _keys(table['KeySchema']) == _keys(schema['key_schema'])
    definitions = [(a['AttributeName'], a['AttributeType']) for a in table['AttributeDefinitions']]
    assert len(definitions) == len(set(definitions))
    assert set(definitions) == {(a['AttributeName'], a['AttributeType']) for a in schema['attribute_definitions']}
    in_stack = {i['IndexName']: (_keys(i['KeySchema']), _projection(i['Projection']))
                for i in table['GlobalSecondaryIndexes']}
    in_models = {i['index_name']: (_keys(i['key_schema']), _projection(i['projection']))
                 for i in schema['global_secondary_indexes']}
    assert in_stack == in_models
    assert len(table['GlobalSecondaryIndexes']) == len(in_stack)
    assert not table.get('LocalSecondaryIndexes') and not schema['local_secondary_indexes']


def _entities(model):
    for subclass in model.__subclasses__():
        yield subclass
        yield from _entities(subclass)


def test_items_expire_through_the_ttl_attribute_the_models_write():
    from pynamodb.attributes import TTLAttribute

    from chalicelib.ops import admin
    from chalicelib.models import TableItem
    table = the_table(yaml.safe_load(MERGE_TEMPLATE.read_text()))['Properties']
    assert table['TimeToLiveSpecification'] == {'AttributeName': admin.TTL_ATTRIBUTE, 'Enabled': True}
    written = {attribute.attr_name for model in _entities(TableItem)
               for attribute in model.get_attributes().values() if isinstance(attribute, TTLAttribute)}
    assert written == {admin.TTL_ATTRIBUTE}


def test_stack_names_the_table_and_email_resources_the_app_and_policy_use():
    template = yaml.safe_load(MERGE_TEMPLATE.read_text())
    table_name = the_table(template)['Properties']['TableName']
    environment = prod_config()['environment_variables']
    assert environment['CIRCLES_TABLE'] == table_name
    configuration_set = template['Resources']['EmailConfigurationSet']['Properties']['Name']
    assert environment['CIRCLES_SES_CONFIGURATION_SET'] == configuration_set
    identity = template['Resources']['EmailIdentity']['Properties']['EmailIdentity']
    assert environment['CIRCLES_SENDER'].rstrip('>').endswith('@' + identity)

    resources = [r for s in prod_policy()['Statement'] for r in s['Resource']]
    assert f'arn:aws:dynamodb:*:*:table/{table_name}' in resources
    assert f'arn:aws:ses:*:*:configuration-set/{configuration_set}' in resources
    assert f'arn:aws:ses:*:*:identity/{identity}' in resources


# --- the real package ---------------------------------------------------------------

@pytest.fixture(scope='module')
def package(tmp_path_factory):
    """Run `chalice package` for prod, as `make package` does, into a temporary folder."""
    out = tmp_path_factory.mktemp('package') / 'out'
    # A developer's shell, not the test session's: no local-stage settings leak in.
    environment = {k: v for k, v in os.environ.items() if not k.startswith(('CIRCLES_', 'AWS_'))}
    environment['AWS_DEFAULT_REGION'] = 'us-east-1'
    command = [str(BIN / 'chalice'), 'package', '--stage', 'prod', '--pkg-format', 'cloudformation',
               '--merge-template', str(MERGE_TEMPLATE.relative_to(ROOT)), str(out)]
    try:
        result = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True,
                                timeout=PACKAGE_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired as error:
        pytest.fail(f'chalice package took over {PACKAGE_TIMEOUT_SECONDS}s (no network to PyPI?): {error}')
    assert result.returncode == 0, (
        'chalice package failed (it needs PyPI for wheels):\n' + result.stdout + result.stderr)
    from scripts.trim_package import trim
    trim(out / 'deployment.zip')        # as `make package` does next
    # A YAML merge template makes Chalice write the template as YAML.
    template_path = out / 'sam.yaml'
    return {'zip': out / 'deployment.zip', 'template_path': template_path,
            'template': yaml.safe_load(template_path.read_text())}


@pytest.mark.slow
def test_zip_holds_the_app_and_every_template_under_lambdas_limits(package):
    size = package['zip'].stat().st_size
    print(f'\ndeployment.zip: {size / 1024 / 1024:.1f} MB')
    assert size < LAMBDA_ZIP_LIMIT
    with zipfile.ZipFile(package['zip']) as archive:
        infos = archive.infolist()
        names = {info.filename for info in infos}
        assert sum(info.file_size for info in infos) < LAMBDA_UNZIPPED_LIMIT
        assert 'app.py' in names
        ours = {p.relative_to(ROOT).as_posix() for p in (ROOT / 'chalicelib').rglob('*.py')}
        assert ours <= names
        # templates/ ships through the vendor/templates -> ../templates symlink.
        assert (ROOT / 'vendor' / 'templates').is_symlink()
        templates = {p.relative_to(ROOT).as_posix() for p in (ROOT / 'templates').rglob('*') if p.is_file()}
        assert {'templates/email/welcome.html', 'templates/static/style.css'} <= templates <= names
        assert archive.read('templates/email/welcome.html') == (ROOT / 'templates/email/welcome.html').read_bytes()
        # Tools and tests stay out of the Lambda, and so does the locale data of languages we do not speak.
        assert not any(n.startswith(('tests/', 'moto/', '_pytest/', 'pytest/', 'cfnlint/')) for n in names)
        from chalicelib.core.i18n import SHIPPED
        assert {n for n in names if n.startswith('babel/locale-data/') and n.endswith('.dat')} == {
            f'babel/locale-data/{code}.dat' for code in ('root', *SHIPPED)}
        assert 'chalicelib/locales/es/LC_MESSAGES/messages.mo' in names


@pytest.mark.slow
def test_stack_keeps_the_table_and_traces_functions_and_api(package):
    template = package['template']
    table = the_table(template)
    assert table['DeletionPolicy'] == 'Retain' and table['UpdateReplacePolicy'] == 'Retain'
    assert table['Properties']['PointInTimeRecoverySpecification'] == {'PointInTimeRecoveryEnabled': True}
    assert table['Properties']['TimeToLiveSpecification'] == {'AttributeName': 'expires_at', 'Enabled': True}
    assert table['Properties']['SSESpecification']['SSEEnabled'] is True

    functions = resources_of_type(template, 'AWS::Serverless::Function')
    assert {'APIHandler', 'SendDueReminders', 'SendOutbox', 'SendOutboxSweep'} <= set(functions)
    for name, function in functions.items():
        assert function['Properties']['Tracing'] == 'Active', name
        variables = function['Properties']['Environment']['Variables']
        assert variables['CIRCLES_STAGE'] == 'prod', name
        assert variables['CIRCLES_TABLE'] == table['Properties']['TableName'], name
    assert template['Resources']['RestAPI']['Properties']['TracingEnabled'] is True


@pytest.mark.slow
def test_scheduled_job_runs_from_its_own_module(package):
    job = package['template']['Resources']['SendDueReminders']['Properties']
    assert job['Handler'] == 'chalicelib.handlers.jobs.send_due_reminders_job'
    assert [e['Properties']['Schedule'] for e in job['Events'].values() if e['Type'] == 'Schedule'] \
        == ['rate(5 minutes)']


@pytest.mark.slow
def test_the_outbox_sender_reads_the_tables_stream_filtered_to_outbox_inserts(package):
    resources = package['template']['Resources']
    table = next(name for name, r in resources.items() if r['Type'] == 'AWS::DynamoDB::Table')
    assert resources[table]['Properties']['StreamSpecification'] == {'StreamViewType': 'NEW_IMAGE'}
    sender = resources['SendOutbox']['Properties']
    assert sender['Handler'] == 'chalicelib.handlers.sender.send_outbox'
    [source] = sender['Events'].values()
    properties = source['Properties']
    assert source['Type'] == 'DynamoDB' and properties['Stream'] == {'Fn::GetAtt': [table, 'StreamArn']}
    [pattern] = [json.loads(f['Pattern']) for f in properties['FilterCriteria']['Filters']]
    assert pattern == {'eventName': ['INSERT'], 'dynamodb': {'NewImage': {'kind': {'S': ['Delivery']}}}}
    assert properties['BisectBatchOnFunctionError'] is True and 0 < properties['MaximumRetryAttempts'] <= 5
    assert properties['DestinationConfig']['OnFailure']['Destination'] == {'Fn::GetAtt': ['OutboxFailures', 'Arn']}
    sweep = resources['SendOutboxSweep']['Properties']
    assert [e['Properties']['Schedule'] for e in sweep['Events'].values()] == ['rate(5 minutes)']


@pytest.mark.slow
def test_every_function_has_a_log_group_with_retention(package):
    resources = package['template']['Resources']
    functions = resources_of_type(package['template'], 'AWS::Serverless::Function')
    groups = {r['Properties']['LogGroupName']['Fn::Sub']: r for r in resources_of_type(
        package['template'], 'AWS::Logs::LogGroup').values()}
    for name in functions:
        assert groups[f'/aws/lambda/${{{name}}}']['Properties']['RetentionInDays'] <= 90, name
    assert resources


@pytest.mark.slow
def test_api_serves_the_app_routes_and_never_the_local_outbox(package):
    from app import app
    paths = set(package['template']['Resources']['RestAPI']['Properties']['DefinitionBody']['paths'])
    assert paths == {p for p in app.routes if not p.startswith('/local/')}


SECRET_SETTINGS = ('CIRCLES_SECRET_KEY', 'TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN')


@pytest.mark.slow
def test_no_secret_is_in_the_template_only_the_ssm_path_it_is_read_from(package):
    template = package['template']
    assert 'CirclesSecretKey' not in template.get('Parameters', {})
    for name, function in resources_of_type(template, 'AWS::Serverless::Function').items():
        variables = function['Properties']['Environment']['Variables']
        assert not set(SECRET_SETTINGS) & set(variables), name
        assert variables['CIRCLES_SSM_PATH'] == '/circles/prod', name
    assert not set(SECRET_SETTINGS) & set(template.get('Globals', {}).get('Function', {})
                                          .get('Environment', {}).get('Variables', {}))


# Actions AWS grants only on "*" (no resource-level permissions).
STAR_ONLY_ACTIONS = {'xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'cloudwatch:PutMetricData', 'ses:GetAccount'}


def _statements(role):
    return [s for p in role['Properties']['Policies'] for s in p['PolicyDocument']['Statement']]


@pytest.mark.slow
def test_no_role_grants_any_resource_except_for_actions_aws_allows_only_that_way(package):
    roles = resources_of_type(package['template'], 'AWS::IAM::Role')
    for role_name, role in roles.items():
        for statement in _statements(role):
            assert statement['Effect'] == 'Allow' and '*' not in _list(statement['Action']), role_name
            assert all(not a.endswith(':*') for a in _list(statement['Action'])), (role_name, statement)
            if '*' in _list(statement['Resource']):
                assert set(_list(statement['Action'])) <= STAR_ONLY_ACTIONS, (role_name, statement)


@pytest.mark.slow
def test_roles_read_only_the_stages_parameters_and_send_only_as_the_identity(package):
    for role_name, role in resources_of_type(package['template'], 'AWS::IAM::Role').items():
        by_action = {a: _list(s['Resource']) for s in _statements(role) for a in _list(s['Action'])}
        assert by_action['ssm:GetParameters'] == ['arn:aws:ssm:*:*:parameter/circles/prod/*'], role_name
        assert not {a for a in by_action if a.startswith('ssm:')} - {'ssm:GetParameters'}, role_name
        for action in ('ses:SendEmail', 'ses:SendRawEmail'):
            assert all(r.startswith(('arn:aws:ses:*:*:identity/', 'arn:aws:ses:*:*:configuration-set/'))
                       for r in by_action[action]), role_name
        assert by_action['sqs:SendMessage'] == ['arn:aws:sqs:*:*:circles-prod-outbox-failures'], role_name


def _alarms(template):
    return resources_of_type(template, 'AWS::CloudWatch::Alarm')


def _dimension(alarm):
    [dimension] = alarm['Properties']['Dimensions']
    return dimension['Value']


@pytest.mark.slow
def test_every_function_has_an_errors_and_a_throttles_alarm(package):
    template = package['template']
    alarms = [a for a in _alarms(template).values() if a['Properties'].get('Namespace') == 'AWS/Lambda']
    watched = {(a['Properties']['MetricName'], _dimension(a)['Ref']) for a in alarms}
    for name in resources_of_type(template, 'AWS::Serverless::Function'):
        assert {('Errors', name), ('Throttles', name)} <= watched, name
    for alarm in _alarms(template).values():
        assert alarm['Properties']['AlarmActions'] == [{'Ref': 'AlarmTopic'}]
    assert template['Resources']['AlarmTopic']['Type'] == 'AWS::SNS::Topic'


@pytest.mark.slow
def test_an_alarm_fires_when_reminders_or_the_sweep_have_not_succeeded_for_30_minutes(package):
    alarms = _alarms(package['template'])
    for function in ('SendDueReminders', 'SendOutboxSweep'):
        properties = alarms[f'{function}StalledAlarm']['Properties']
        stats = {m['Id']: m['MetricStat'] for m in properties['Metrics'] if 'MetricStat' in m}
        assert {s['Metric']['MetricName'] for s in stats.values()} == {'Invocations', 'Errors'}
        assert all(s['Period'] * properties['EvaluationPeriods'] == 1800 for s in stats.values())
        assert all(s['Metric']['Dimensions'][0]['Value'] == {'Ref': function} for s in stats.values())
        [expression] = [m['Expression'] for m in properties['Metrics'] if m.get('ReturnData')]
        assert expression == 'FILL(invocations, 0) - FILL(errors, 0)'
        assert properties['ComparisonOperator'] == 'LessThanThreshold' and properties['Threshold'] == 1
        assert properties['TreatMissingData'] == 'breaching'    # a job that never runs alarms too


@pytest.mark.slow
def test_alarms_watch_the_on_failure_queue_and_the_ses_reputation(package):
    alarms = {a['Properties'].get('MetricName'): a['Properties'] for a in _alarms(package['template']).values()}
    queue = alarms['ApproximateNumberOfMessagesVisible']
    assert _dimension({'Properties': queue}) == {'Fn::GetAtt': ['OutboxFailures', 'QueueName']}
    assert queue['Threshold'] == 1 and queue['ComparisonOperator'] == 'GreaterThanOrEqualToThreshold'
    for metric, threshold in (('Reputation.BounceRate', 0.05), ('Reputation.ComplaintRate', 0.001)):
        assert alarms[metric]['Namespace'] == 'AWS/SES'
        assert (alarms[metric]['Threshold'], alarms[metric]['ComparisonOperator']) \
            == (threshold, 'GreaterThanOrEqualToThreshold')


FRESH_PROCESS = """
import importlib, json, sys
sys.path[:0] = [sys.argv[1]]
handlers = json.loads(sys.argv[2])
for handler in handlers:
    module, _, name = handler.rpartition('.')
    loaded = importlib.import_module(module)
    assert loaded.__file__.startswith(sys.argv[1]), loaded.__file__
    assert callable(getattr(loaded, name)), handler
from chalicelib.core import formatting, i18n, rendering
assert str(rendering.TEMPLATES_DIR).startswith(sys.argv[1]), rendering.TEMPLATES_DIR
for code in i18n.SHIPPED:       # every language, from the trimmed locale data and the catalogs
    with i18n.language(code):
        assert f'lang="{code}"' in rendering.render('not_found.html'), code
        assert formatting.long_date('2026-12-01') and formatting.number(1234.5), code
print(len(handlers), rendering.render('not_found.html'))
"""


@pytest.mark.slow
def test_the_zip_unpacked_in_a_fresh_process_imports_every_entry_point_and_renders(package, tmp_path):
    unpacked = tmp_path / 'task'
    with zipfile.ZipFile(package['zip']) as archive:
        archive.extractall(unpacked)
    handlers = sorted({f['Properties']['Handler'] for f in resources_of_type(
        package['template'], 'AWS::Serverless::Function').values()})
    assert 'app.app' in handlers and len(handlers) >= 10
    # As Lambda starts it: only the task folder and the standard library (-S: not the venv's packages),
    # the prod stage's variables, no repository on the path.
    environment = {k: v for k, v in os.environ.items() if not k.startswith(('CIRCLES_', 'TWILIO_', 'PYTHON'))}
    environment.update(prod_config()['environment_variables'])
    environment.update({'CIRCLES_SECRET_KEY': 'p' * 48, 'TWILIO_ACCOUNT_SID': 'AC' + '0' * 32,
                        'TWILIO_AUTH_TOKEN': 't' * 32, 'AWS_LAMBDA_FUNCTION_NAME': 'circles-prod-APIHandler'})
    result = subprocess.run([sys.executable, '-I', '-S', '-c', FRESH_PROCESS, str(unpacked), json.dumps(handlers)],
                            cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    count, _, html = result.stdout.partition(' ')
    assert int(count) == len(handlers) and '<html' in html.lower()


@pytest.mark.slow
def test_roles_grant_the_table_and_nothing_wider(package):
    template = package['template']
    table_arn = f'arn:aws:dynamodb:*:*:table/{the_table(template)["Properties"]["TableName"]}'
    roles = resources_of_type(template, 'AWS::IAM::Role')
    assert roles
    for role_name, role in roles.items():
        statements = [s for p in role['Properties']['Policies'] for s in p['PolicyDocument']['Statement']]
        dynamodb = [s for s in statements if any(a.startswith('dynamodb:') for a in _list(s['Action']))]
        assert dynamodb, role_name
        for statement in dynamodb:
            actions = _list(statement['Action'])
            assert 'dynamodb:*' not in actions and 'dynamodb:Scan' not in actions, role_name
            for resource in _list(statement['Resource']):
                assert resource in (table_arn, f'{table_arn}/index/*', f'{table_arn}/stream/*'), (role_name, resource)


def _list(value):
    return value if isinstance(value, list) else [value]


@pytest.mark.slow
def test_generated_stack_passes_cfn_lint(package):
    # No rule is ignored: errors and warnings both fail (informational notes are not shown).
    result = subprocess.run([str(BIN / 'cfn-lint'), '--', str(package['template_path'])],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ''
