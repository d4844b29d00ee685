"""The report's figures on a seeded circle: attendance against RSVPs that still hold, goals and
recommendation distributions, small counts suppressed, quotes only with consent and without any
learner's name, address or number, on the page and in every email and text."""
import json
import re
from datetime import timedelta

from chalicelib.circles import circles
from chalicelib.insights import publish, report
from chalicelib.learners.signup import withdraw
from chalicelib.models import InsightsReport
from tests.insights.delivery import deliver
from tests.insights.world import build


def publish_now(world):
    assert publish.publish_due_insights(world.closes_at + timedelta(minutes=1)) == {publish.PUBLISHED: 1}
    return InsightsReport.get(*InsightsReport.key(world.circle.id)).figures


def page_text(client, world):
    response = client.http.get(f'/circles/{world.circle.id}/insights')
    assert response.status_code == 200
    return response.body.decode()


def test_figures_of_a_finished_circle():
    world = build(learners=6)
    # Meeting 2 moved before it took place: the RSVPs given to its old time no longer count.
    circle = circles.get_circle(world.circle.id)
    moved = sorted(circle.meetings, key=lambda m: m.starts_at)[1]
    moved.sequence = 1
    circles.save(circle)
    withdraw(world.signups[5])          # a learner who left: not counted, their answers neither
    figures = publish_now(world)

    assert figures['learners'] == {'signed_up': 5, 'answered': 5}
    rows = figures['attendance']['meetings']
    assert [r['number'] for r in rows] == [1, 2, 3, 4]
    assert [r['rsvp_yes'] for r in rows] == [3, 0, 3, 3]     # learners 0, 2 and 4 said yes
    assert [r['attended'] for r in rows] == [2, 3, 4, 5]     # the facilitator's counts
    assert figures['attendance']['mean_attended'] == 3.5
    goals = figures['goal_reached']
    assert goals['enough'] and goals['answers'] == 5 and goals['mean'] == 3.6
    assert [c['count'] for c in goals['counts']] == [0, 1, 1, 2, 1]
    recommend = figures['recommend']      # 10, 9, 8, 7, 3
    assert (recommend['promoters'], recommend['passives'], recommend['detractors'], recommend['score']) == (2, 2, 1, 20)
    assert [c['count'] for c in recommend['counts']] == [0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1]
    assert figures['course_rating'] == {'answers': 1, 'mean': 4.0}
    assert [r['number'] for r in figures['reflections']] == [1]      # only the reflection chosen in the survey
    assert figures['improve']['quotes'] == ['Improve: more breaks (0)', 'Improve: more breaks (2)',
                                            'Improve: more breaks (4)']


def test_the_page_shows_each_chart_with_its_text_alternative_and_data_table(client):
    world = build(learners=5)
    publish_now(world)
    html = page_text(client, world)
    svgs = re.findall(r'<svg[^>]*>.*?</svg>', html, re.S)
    assert len(svgs) == 3
    for svg in svgs:
        labelled = re.search(r'aria-labelledby="([\w-]+) ([\w-]+)"', svg).groups()
        assert f'<title id="{labelled[0]}">' in svg and f'<desc id="{labelled[1]}">' in svg
        assert 'role="img"' in svg and 'style=' not in svg and '<script' not in svg
    assert html.count('<div class="visually-hidden"><table>') == 3
    assert 'Said they would come' in html and '<th scope="row">4</th>' in html


def test_fewer_than_three_answers_are_too_few_answers_everywhere(client):
    world = build(learners=5, survey=lambda n: n < 2, consent=lambda n: True)
    figures = publish_now(world)
    for name in ('goal_reached', 'recommend', 'goals', 'worked_well', 'improve', 'next_step'):
        assert figures[name] == {'answers': 2, 'enough': False}, name     # no counts, no mean, no quotes stored
    html = page_text(client, world)
    # Goals reached, recommendation and the three questions in words (the goals' quotes go with
    # the goals reached, under one notice).
    assert html.count('Too few answers to show: 2 answers') == 5
    assert 'Improve: more breaks' not in html and 'Goal of' not in html
    assert len(re.findall('<svg', html)) == 1     # attendance only


def test_a_learner_who_did_not_consent_is_never_quoted(client):
    said = {n: f'secret-phrase-{n}' for n in range(4)}
    world = build(learners=4, consent=lambda n: n == 1, answers=lambda n: {
        'goal_reached': 4, 'recommend': 9, 'goal': f'goal {said[n]}', 'worked_well': f'worked {said[n]}',
        'improve': f'improve {said[n]}', 'next_step': f'next {said[n]}'})
    figures = publish_now(world)
    html = page_text(client, world)
    for text in (json.dumps(figures), html):
        assert said[1] in text
        for n in (0, 2, 3):
            assert said[n] not in text
    assert figures['worked_well'] == {'answers': 4, 'enough': True, 'quotes': [f'worked {said[1]}']}
    assert figures['goals']['quotes'] == [f'goal {said[1]}']


def personal_data(world):
    """Every name, name part, address and number of the learners, in the forms a page might show."""
    found = []
    for person in world.people:
        digits = re.sub(r'\D', '', person['mobile'])
        found += [person['name'], *person['name'].split(), person['email'], digits, digits[1:], digits[-7:],
                  f'{digits[-7:-4]}-{digits[-4:]}', f'{digits[-7:-4]} {digits[-4:]}']
    return found


def test_no_learner_name_email_or_mobile_in_the_snapshot_page_emails_or_texts(client, moto, twilio):
    world = build(learners=5, consent=lambda n: True, mobile_only=(4,))
    figures = publish_now(world)
    html = page_text(client, world)
    items = deliver(world.circle.id)
    assert {item.state for item in items} == {'sent'}
    emails = [m for m in moto.sent_emails() if m['Subject'].startswith('The insights report of')]
    texts = [t['Body'] for t in twilio.sent() if '/insights' in t['Body']]
    assert len(emails) == 4 + 2 and len(texts) == 1     # 4 learners, the facilitator, the organizer; 1 text
    bodies = [m['Subject'] + m.get_body(('plain',)).get_content() + m.get_body(('html',)).get_content()
              for m in emails]
    # The quotes and the reflection named learners and gave an address and a number: all replaced.
    assert '[a learner]' in html and '[contact removed]' in html
    for where, text in [('snapshot', json.dumps(figures)), ('page', html), *(('email', b) for b in bodies),
                        *(('text', t) for t in texts)]:
        leaked = [value for value in personal_data(world) if value.lower() in text.lower()]
        assert not leaked, f'the {where} shows {leaked}'


def test_the_redactor_replaces_names_addresses_and_numbers():
    class Person:
        def __init__(self, name):
            self.name = name
    redactor = report.Redactor([Person('Ada Lovelace'), Person('Al Ng')])
    assert redactor.clean('ada lovelace and Ada came; ADA too. Al stayed.') == \
        '[a learner] and [a learner] came; [a learner] too. Al stayed.'     # parts under 3 letters stay
    assert redactor.clean('mail me: a.b+c@example.org, or +1 (312) 555-0101') == \
        'mail me: [contact removed], or [contact removed]'
    assert redactor.clean('adaptive learning in 2026') == 'adaptive learning in 2026'
