"""`make run` keeps local data across restarts with admin.dump/load; data from before the
catalog existed gets its cards when loaded."""
from chalicelib.circles import catalog
from chalicelib.models import Circle
from chalicelib.ops import admin
from tests.support.factories import make_circle


def test_dump_and_load_keep_every_item_binary_cards_included_and_old_circles_get_their_card(client, aws, tmp_path):
    kept, old = make_circle(name='Kept'), make_circle(name='From an older version')
    # An item written before the catalog: no card, no change time, no catalog key.
    Circle(*Circle.key(old.id)).update(actions=[Circle.card.remove(), Circle.changed_millis.remove(),
                                                Circle.catalog_pk.remove()])
    path = tmp_path / 'data.json'
    count = admin.dump(path)
    aws.reset()
    catalog.forget()
    admin.create_table()
    assert admin.load(path) == count
    names = sorted(i['name'] for i in client.http.get('/api/learningcircles').json_body['items'])
    assert names == ['From an older version', 'Kept']
    assert Circle.get(*Circle.key(kept.id)).card == kept.card


def test_loaded_team_circles_from_before_the_team_days_get_their_entries_feedback_and_signup_keys(aws, tmp_path):
    from types import SimpleNamespace

    from chalicelib.facilitators import feedback
    from chalicelib.learners.signup import sign_up
    from chalicelib.models import MeetingEntry, MeetingFeedback, Signup
    circle = make_circle(team_id='t-1', starts_in_days=-1)       # saved without its entries
    signup, _, _ = sign_up(circle.id, {'name': 'Grace', 'email': 'grace@example.org', 'consent': 'true'})
    ws = SimpleNamespace(circle=circle, of_kind=lambda kind: [])
    feedback.record(ws, SimpleNamespace(user_id='u-ada', name='Ada'), circle.meetings[0].meeting_id,
                    feedback.validate({'attendance': '3', 'rating': '4', 'reflection': 'Fine.'}))
    for item in (Signup.get(*Signup.key(circle.id, signup.signup_id)),
                 MeetingFeedback.get(*MeetingFeedback.key(circle.id, circle.meetings[0].meeting_id))):
        item.update(actions=[type(item).td_pk.remove(), type(item).td_sk.remove()])
    path = tmp_path / 'data.json'
    admin.dump(path)
    aws.reset()
    admin.create_table()
    admin.load(path)
    assert [len(list(kind.by_team_day.query('TEAM#t-1'))) for kind in (MeetingEntry, MeetingFeedback, Signup)] \
        == [6, 1, 1]


def test_loaded_teams_from_before_the_registry_are_put_on_it(aws, tmp_path):
    from chalicelib.models import Team
    from chalicelib.models.account import TEAMS_REGISTRY
    Team(*Team.key('t-old'), team_id='t-old', name='Old team').save()
    Team(*Team.key('t-old')).update(actions=[Team.due_pk.remove(), Team.due_sk.remove()])
    path = tmp_path / 'data.json'
    admin.dump(path)
    aws.reset()
    admin.create_table()
    admin.load(path)
    assert [t.team_id for t in Team.by_due.query(TEAMS_REGISTRY)] == ['t-old']
