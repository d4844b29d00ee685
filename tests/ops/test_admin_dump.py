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
