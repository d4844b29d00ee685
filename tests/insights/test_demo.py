"""The demo's finished circle has a published report that shows its figures and none of its
learners' names or addresses."""
from chalicelib.circles import circles
from chalicelib.insights import demo
from tests.facilitators.test_facilitator_pages import account, organizer_of
from tests.insights.delivery import report_items


def test_the_demo_finished_circle_has_a_published_report(client):
    organizer_of('t-demo')
    circle = demo.seed_finished_circle(circles.utcnow(), account('Amara Okafor'), team_id='t-demo')
    assert circles.get_circle(circle.id).report_published_at is not None
    page = client.http.get(f'/circles/{circle.id}/insights')
    html = page.body.decode()
    assert page.status_code == 200 and html.count('<svg') == 3
    assert '7 answered the closing survey' in html and 'Publish my portfolio.' in html
    assert 'Show the pastor.' not in html       # Elena did not agree to be quoted
    for name, email, *_ in demo.LEARNERS:
        assert name not in html and name.split()[0] not in html and email not in html
    assert [i.channel for i in report_items(circle.id)] == ['fan-out']
