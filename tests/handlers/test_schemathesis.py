"""Fuzzing every documented operation with schemathesis, within a bounded time.

Every operation of `/api/openapi.json`, as served by the live server (tests/support/live_server.py),
gets a few generated requests: once anonymous, once signed in with a facilitator's session cookie
(and the session's CSRF token in form bodies, the path naming the facilitator's own circle and
meeting, so the generated values reach the validation behind the sign-in). No answer may be a
5xx, and every answer must match the documented schema and content type of its status.

Deterministic (derandomized, no example database) and small (`EXAMPLES` per operation and
identity): about a minute on these machines.
"""
import pytest

from chalicelib.accounts import sessions
from chalicelib.circles import circles
from chalicelib.facilitators import circle_admin
from tests.facilitators.test_facilitator_pages import account, run_by

pytestmark = pytest.mark.slow
EXAMPLES = 8


@pytest.fixture(scope='module')
def live():
    from tests.support.live_server import LiveServer
    server = LiveServer()
    yield server
    server.stop()


def _signed_in(case, user, circle):
    """The case as the circle's facilitator sends it."""
    session, set_cookie = sessions.start(user)
    own = {'circle_id': circle.id, 'meeting_id': circle.meetings[-1].meeting_id}
    for name, value in own.items():
        if name in (case.path_parameters or {}):
            case.path_parameters[name] = value
    if isinstance(case.body, dict) and 'csrf_token' in case.body:
        case.body['csrf_token'] = sessions.csrf_token(session)
    if isinstance(case.body, dict) and 'version' in case.body:     # the edit form's copy of the circle
        case.body['version'] = circle_admin.version_of(circles.get_circle(circle.id))
    return {'Cookie': set_cookie.split(';')[0]}


def test_no_documented_operation_answers_a_server_error_or_strays_from_its_schema(live):
    import hypothesis
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

    schema = schemathesis.openapi.from_url(f'{live.url}/api/openapi.json')
    dee = account('Dee Facilitator', 'dee@example.org')
    circle = run_by(dee)
    checks = [not_a_server_error, response_schema_conformance, content_type_conformance]
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 30
    for operation in operations:
        for identity in ('anonymous', 'facilitator'):
            @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None, print_blob=False,
                      suppress_health_check=list(HealthCheck), phases=[hypothesis.Phase.explicit,
                                                                          hypothesis.Phase.generate])
            @given(case=operation.as_strategy())
            def run(case):
                headers = _signed_in(case, dee, circle) if identity == 'facilitator' else {}
                case.call_and_validate(base_url=live.url, headers=headers, checks=checks,
                                       allow_redirects=False, timeout=20)
            try:
                run()
            except (Exception, BaseExceptionGroup) as failure:  # noqa: BLE001 - one run names every failing one
                summary = ' '.join(str(failure).split())[:1500]
                failures.append(f'{operation.method.upper()} {operation.path} ({identity}): {summary}')
    assert not failures, '\n\n'.join(failures)
