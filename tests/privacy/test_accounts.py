"""A facilitator downloads their data and deletes their account: each circle goes the way they
chose (handed over, to the team, anonymised, deleted), and afterwards no item of the table holds
their name, address or id but the consent record of the deletion and its confirmation email."""
import base64
import json
import re
import zlib

import pytest

from chalicelib.accounts import accounts, sessions
from chalicelib.circles import circles
from chalicelib.facilitators import feedback
from chalicelib.facilitators.access import workspace
from chalicelib.models import Circle, MeetingFeedback, TableItem, TeamMember, User
from chalicelib.ops import admin
from chalicelib.privacy import accounts as deletion
from tests.facilitators.test_facilitator_pages import (PASSWORD, Browser, account, get, learner, organizer_of, post,
                                                       run_by)

TEAM = 'team-del'


class World:
    """Fay facilitates four circles: one with Cody, one in Olu's team, two of her own (one with a
    learner). She wrote feedback on the first meeting of each."""
    def __init__(self):
        self.organizer = organizer_of(TEAM)
        self.fay = account('Fay Facilitator', 'fay@example.org')
        self.cody = account('Cody Cofacilitator', 'cody@example.org')
        TeamMember(f'TEAM#{TEAM}', f'MEMBER#{self.fay.user_id}', team_id=TEAM, user_id=self.fay.user_id,
                   role='facilitator', user_pk=f'USER#{self.fay.user_id}', user_sk=f'TEAM#{TEAM}').save()
        self.shared = run_by(self.fay, self.cody, name='Shared circle', starts_in_days=-8)
        self.team = run_by(self.fay, name='Team circle', team_id=TEAM, starts_in_days=-8)
        self.own = run_by(self.fay, name='Own circle', starts_in_days=-8)
        self.doomed = run_by(self.fay, name='Doomed circle', starts_in_days=-8)
        self.lea = learner(self.doomed, 'Lea Learner', 'lea@example.org')
        self.kim = learner(self.own, 'Kim Learner', 'kim@example.org')
        session, _ = sessions.start(self.fay)
        for circle in (self.shared, self.team, self.own, self.doomed):
            ws = workspace(session, circle.id)
            form = feedback.validate({'attendance': '4', 'rating': '5', 'reflection': f'We read chapter one of {circle.name}',
                                      'share_with_organizers': 'yes'})
            feedback.record(ws, session, ws.circle.meetings[0].meeting_id, form)
        self.browser = Browser(self.fay)


@pytest.fixture
def world():
    return World()


def choices(world, team='team', own='anonymise', doomed='delete'):
    return {f'circle-{world.team.id}': team, f'circle-{world.own.id}': own, f'circle-{world.doomed.id}': doomed}


def table_text(tmp_path):
    """Every item of the table (the admin dump, the one place a Scan is allowed) as text, with
    compressed values (catalog cards, digests) opened, one line per item."""
    path = tmp_path / 'dump.json'
    admin.dump(path)
    lines = []
    for item in json.loads(path.read_text()):
        opened = []
        for value in item.values():
            if 'B' in value and value['B']:
                try:
                    opened.append(zlib.decompress(base64.b64decode(value['B'])).decode())
                except zlib.error:
                    opened.append(base64.b64decode(value['B']).decode(errors='replace'))
        lines.append(json.dumps(item, ensure_ascii=False) + ' ' + ' '.join(opened))
    return lines


def partition(pk):
    return list(TableItem.query(pk, consistent_read=True))


# --- the download ---------------------------------------------------------------------------

def test_the_download_holds_the_account_its_circles_and_what_it_wrote_without_secrets(client, world):
    response = get(client, '/account/data', world.browser)
    assert response.status_code == 200
    assert response.headers['Content-Disposition'].startswith('attachment;')
    data = json.loads(response.body)
    assert data['account']['email'] == 'fay@example.org' and data['account']['name'] == 'Fay Facilitator'
    text = response.body.decode()
    assert 'password' not in text and world.fay.password_hash not in text
    assert len(data['sessions']) == 2 and all(set(s) == {'created_at', 'expires_at'} for s in data['sessions'])
    assert [m['team_id'] for m in data['team_memberships']] == [TEAM]
    by_name = {c['circle']['name']: c for c in data['circles']}
    assert set(by_name) == {'Shared circle', 'Team circle', 'Own circle', 'Doomed circle'}
    assert by_name['Shared circle']['role'] == 'facilitator'
    assert by_name['Own circle']['meeting_feedback'][0]['reflection'] == 'We read chapter one of Own circle'
    assert by_name['Own circle']['circle']['venue_address'] == '400 S State St'
    # Another person's data is not in it: the learners' names are not Fay's.
    assert 'Kim Learner' not in text and 'lea@example.org' not in text


def test_the_download_and_the_delete_page_need_a_session(client):
    for path in ('/account/data', '/account/delete'):
        response = get(client, path)
        assert response.status_code == 303 and response.headers['Location'].startswith('/login?next=')


def test_the_download_costs_a_fixed_number_of_reads_per_circle_and_team(client, world):
    from tests.support import aws_calls
    aws_calls.reset()
    get(client, '/account/data', world.browser)
    calls = aws_calls.dynamodb_calls()
    assert 'Scan' not in calls
    # The session (one BatchGetItem with its team), the user, 3 by_user Queries, the team's
    # invitations, 4 circle partitions, the account's emails and its consent records.
    assert calls == {'BatchGetItem': 1, 'GetItem': 1, 'Query': 3 + 1 + 4 + 2}, calls


# --- the page and its refusals ---------------------------------------------------------------

def test_the_delete_page_says_where_each_circle_goes(client, world):
    page = get(client, '/account/delete', world.browser).body.decode()
    assert 'Handed over to Cody' in page
    assert f'name="circle-{world.team.id}" value="team"' in page
    assert f'name="circle-{world.own.id}" value="team"' not in page
    assert f'name="circle-{world.own.id}" value="anonymise"' in page and 'Chicago Public Library' in page
    assert '<label for="password">' in page


def test_a_wrong_password_answers_the_form_again_and_changes_nothing(client, world, tmp_path):
    before = sorted(table_text(tmp_path))
    response = post(client, '/account/delete', {'password': 'not my password', **choices(world)}, world.browser)
    assert response.status_code == 400
    page = response.body.decode()
    assert 'id="password-error"' in page and deletion.WRONG_PASSWORD in page
    assert f'value="delete" checked' in page        # the choices are kept
    assert sorted(table_text(tmp_path)) == before


def test_a_circle_without_a_choice_is_named_and_nothing_changes(client, world, tmp_path):
    before = sorted(table_text(tmp_path))
    body = {'password': PASSWORD, **choices(world)}
    del body[f'circle-{world.own.id}']
    response = post(client, '/account/delete', body, world.browser)
    assert response.status_code == 400 and f'id="circle-{world.own.id}-error"' in response.body.decode()
    assert sorted(table_text(tmp_path)) == before


def test_the_last_organizer_of_a_team_is_refused_until_they_hand_it_over(client, world):
    organizer = Browser(world.organizer)
    response = post(client, '/account/delete', {'password': PASSWORD}, organizer)
    assert response.status_code == 400
    assert 'last organizer of Chicago Public Library' in response.body.decode()
    assert accounts.get_user(world.organizer.user_id) is not None
    # Once someone else organizes the team, the same request deletes the account.
    TeamMember.get(f'TEAM#{TEAM}', f'MEMBER#{world.fay.user_id}').update(actions=[TeamMember.role.set('organizer')])
    assert post(client, '/account/delete', {'password': PASSWORD}, organizer).status_code == 200
    assert accounts.get_user(world.organizer.user_id) is None


# --- the deletion and what it leaves ---------------------------------------------------------

@pytest.fixture
def deleted(client, world, moto, drain):
    response = post(client, '/account/delete', {'password': PASSWORD, **choices(world)}, world.browser)
    assert response.status_code == 200, response.body
    assert 'Max-Age=0' in response.headers['Set-Cookie']
    drain()
    return world


def test_a_circle_run_with_someone_else_is_theirs_without_a_trace_of_her(deleted):
    circle = circles.get_circle(deleted.shared.id)
    assert (circle.facilitator_ids, circle.facilitator_names, circle.facilitator_emails) == (
        [deleted.cody.user_id], ['Cody'], ['cody@example.org'])
    assert circle.published
    [note] = [i for i in partition(circle.pk) if isinstance(i, MeetingFeedback)]
    assert (note.author_id, note.author_name, note.reflection) == (
        deletion.FORMER_ID, deletion.FORMER_FACILITATOR, 'We read chapter one of Shared circle')


def test_a_circle_handed_to_the_team_stays_published_for_its_organizers(client, deleted):
    circle = circles.get_circle(deleted.team.id)
    assert circle.published and circle.team_id == TEAM and circle.facilitator_ids == []
    page = get(client, f'/facilitate/circles/{circle.id}', Browser(deleted.organizer))
    assert page.status_code == 200 and 'Fay' not in page.body.decode()


def test_an_anonymised_circle_is_unpublished_keeps_its_feedback_and_tells_its_learners(deleted, moto):
    circle = circles.get_circle(deleted.own.id)
    assert not circle.published and circle.facilitator_ids == [] and circle.name == 'Own circle'
    [note] = [i for i in partition(circle.pk) if isinstance(i, MeetingFeedback)]
    assert note.author_name == deletion.FORMER_FACILITATOR and note.rating == 5
    assert any(m['To'] == 'kim@example.org' and 'no longer published' in m['Subject'] for m in moto.sent_emails())


def test_a_deleted_circle_keeps_only_a_tombstone_and_its_learners_notices(deleted, moto):
    items = partition(f'CIRCLE#{deleted.doomed.id}')
    [tomb] = [i for i in items if isinstance(i, Circle)]
    assert (tomb.name, tomb.published, tomb.meetings, tomb.facilitator_ids, tomb.card) == (
        deletion.DELETED_NAME, False, [], [], b'')
    others = [i for i in items if i is not tomb]
    assert [type(i).__name__ for i in others] == ['Delivery'] and others[0].state == 'sent'
    [notice] = [m for m in moto.sent_emails() if m['To'] == 'lea@example.org' and 'cancelled' in m['Subject']]
    assert 'Doomed circle' in notice.get_body(preferencelist=('plain',)).get_content()


def test_after_deletion_she_cannot_log_in_and_her_old_cookie_is_refused(client, deleted, moto):
    with pytest.raises(accounts.LoginRefused):
        accounts.log_in('fay@example.org', PASSWORD, '203.0.113.9')
    response = get(client, '/dashboard', deleted.browser)
    assert response.status_code == 303 and response.headers['Location'].startswith('/login')
    assert accounts.get_user(deleted.fay.user_id) is None
    [confirmation] = [m for m in moto.sent_emails()
                      if m['To'] == 'fay@example.org' and m['Subject'] == deletion.CONFIRMATION_SUBJECT]
    assert 'register again' in confirmation.get_body(preferencelist=('plain',)).get_content()


def test_she_may_register_again_with_the_same_address(deleted):
    assert accounts.register('Fay Again', 'fay@example.org', 'a brand new long passphrase') is not None


def test_no_item_names_her_but_the_deletion_record_and_its_confirmation(deleted, tmp_path):
    uid = deleted.fay.user_id
    allowed = (f'"CONSENT#USER#{uid}"', f'"ACCOUNT#{uid}"')
    traces = [line for line in table_text(tmp_path)
              if re.search(rf'fay@example\.org|Fay Facilitator|\bFay\b|{uid}', line)]
    assert traces and all(any(mark in line for mark in allowed) for line in traces), \
        [line[:300] for line in traces if not any(mark in line for mark in allowed)]
    # The confirmation is the one item holding her address: its sender needed it.
    assert len([line for line in traces if 'fay@example.org' in line]) == 1
    # Her reflections stayed with the circles that stayed, without her name.
    assert sum('We read chapter one of' in line for line in table_text(tmp_path)) == 3


def test_the_privacy_page_links_both_self_services_and_states_each_retention_period(client):
    page = get(client, '/privacy').body.decode()
    assert 'href="/my-data"' in page and 'href="/account"' in page
    assert "90 days after the circle's last meeting" in page          # the retention_days default
    assert 'until you delete your account' in page and 'keyed hash' in page
    assert 'deleted after 90 days' in page                              # the log groups' retention
