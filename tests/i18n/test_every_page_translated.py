"""Every page, email and text of the demo world in each shipped language: none shows a message
of the catalog left in English, and none fails.

The demo (chalicelib/ops/demo.py) is loaded with every circle and account in the language under
test; the jobs then run over a whole term (reminders, wrap-ups, the Monday digest, the end of
circle surveys and their reminder, the insights reports), the outbox is delivered, and every
email and SMS is read. Pages are crawled as a visitor who chose the language: the public pages,
every link of every email (RSVP, details, surveys, reports...), and all that a facilitator and
an organizer can reach from their dashboards by following links.
"""
import re
from datetime import timedelta
from urllib.parse import urljoin, urlsplit

import pytest

from chalicelib.core.i18n import SHIPPED, SOURCE
from chalicelib.core.settings import get_settings
from tests.i18n.untranslated import Catalog, html_texts, plain_texts

TRANSLATED = [code for code in SHIPPED if code != SOURCE]
# Links a crawl must not follow: they change state, leave the pages, or are not HTML.
NOT_CRAWLED = re.compile(r'^/(logout|language/|static/|api/)|\.ics$|\.css$|\.js$|/account/data$|/export|'
                         r'/download|/unsubscribe/one-click|/calendar')
CRAWL_LIMIT = 400
HREF = re.compile(r'href="([^"#]+)')


def in_language(code, now):
    """Load the demo with everything in `code`, then run a term's jobs and deliver the outbox."""
    from chalicelib.ops.cli import job_function
    from chalicelib.ops.demo import load_demo_data
    from chalicelib.learners.signup import sign_up
    from chalicelib.reminders.sync import sync_reminders
    from tests.support.factories import make_circle
    load_demo_data(now, language=code)
    # Learners with a mobile, on a circle that meets tomorrow: reminders and the survey by text.
    circle = make_circle(name='Café & Código', language=code, starts_in_days=1, weeks=1)
    sync_reminders(circle, existing=[], now=now, entries=[])
    sign_up(circle.id, {'name': 'Grace Hopper', 'email': 'grace@example.org', 'mobile': '+13125550123',
                        'consent': True}, now)
    sign_up(circle.id, {'name': 'Alan Kay', 'email': 'alan@example.org', 'mobile': '+13125550124',
                        'consent': True}, now)
    monday = (now + timedelta(days=7 - now.weekday())).replace(hour=10, minute=0, second=0, microsecond=0)
    for name, at in [('send-due-reminders', now), ('send-meeting-wrapups', now + timedelta(hours=3)),
                     ('send-weekly-digests', monday)]:
        job_function(name)(at)
    end = now + timedelta(weeks=10)
    for name, at in [('send-end-of-circle-surveys', end), ('send-end-of-circle-surveys', end + timedelta(days=4)),
                     ('publish-insights', end + timedelta(days=8))]:
        job_function(name)(at)


def site_path(url):
    base = get_settings().public_base_url
    if url.startswith(base):
        url = url[len(base):] or '/'
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not url.startswith('/'):
        return None
    return url


def crawl(client, start, headers, allowed=None):
    """{path: page} of every page reachable from `start` by following links (GET only)."""
    pages, queue = {}, list(start)
    while queue and len(pages) < CRAWL_LIMIT:
        path = queue.pop(0)
        if path in pages or NOT_CRAWLED.search(urlsplit(path).path):
            continue
        response = client.http.get(path, headers=headers)
        assert response.status_code < 500, f'{path}: {response.status_code}'
        if response.status_code in (301, 302, 303):
            location = site_path(response.headers['Location'])
            if location:
                queue.append(location)
            continue
        if not response.headers.get('Content-Type', '').startswith('text/html'):
            continue
        page = response.body.decode()
        pages[path] = page
        for href in HREF.findall(page):
            link = site_path(urljoin(path, href.replace('&amp;', '&')))
            if link and (allowed is None or urlsplit(link).path.startswith(allowed)):
                queue.append(link)
    return pages


def signed_in_headers(email, code):
    from chalicelib.accounts import accounts, sessions
    _session, cookie = sessions.start(accounts.user_for_email(email))
    return {'Cookie': f'{cookie.split(";")[0]}; lang={code}'}


@pytest.mark.parametrize('code', TRANSLATED)
def test_every_page_email_and_text_is_in_the_language(client, moto, twilio, code):
    from chalicelib.core.clock import utcnow
    from chalicelib.ops.demo import FACILITATOR, ORGANIZER, TEAM_SLUG
    now = utcnow()
    in_language(code, now)
    catalog = Catalog(code)
    problems = {}

    emails = moto.sent_emails()
    texts = [sms['Body'] for sms in twilio.sent()]
    assert len(emails) > 20 and texts, (len(emails), len(texts))
    links = []
    for email in emails:
        where = f"email {email['Subject']!r}"
        found = catalog.left_in_english([email['Subject']])
        for part in email.walk():
            if part.get_content_type() == 'text/plain':
                found += catalog.left_in_english(plain_texts(part.get_content()))
            elif part.get_content_type() == 'text/html':
                body = part.get_content()
                assert f'<html lang="{code}"' in body, where
                found += catalog.left_in_english(html_texts(body))
                links += [site_path(href.replace('&amp;', '&')) for href in HREF.findall(body)]
        if found:
            problems[where] = sorted(set(found))
    for text in texts:
        found = catalog.left_in_english(plain_texts(text))
        if found:
            problems[f'text {text[:40]!r}'] = found

    visitor = {'Cookie': f'lang={code}'}
    public = ['/', '/about', '/privacy', '/run-a-circle', '/login', '/register', '/forgot', '/my-data',
              f'/teams/{TEAM_SLUG}', f'/teams/{TEAM_SLUG}/embed', '/no-such-page']
    pages = crawl(client, public + [link for link in links if link], visitor,
                  allowed=('/circles/', '/teams/', '/insights/', '/rsvp', '/r/', '/my-data', '/surveys',
                           '/survey', '/details', '/withdraw', '/unsubscribe', '/texts', '/digest'))
    for email in (FACILITATOR['email'], ORGANIZER['email']):
        pages.update(crawl(client, ['/dashboard', '/account'], signed_in_headers(email, code),
                           allowed=('/dashboard', '/account', '/facilitate/', '/organize/', '/teams/', '/insights/')))
    assert len(pages) > 40, sorted(pages)
    for path, page in pages.items():
        assert f'<html lang="{code}"' in page, path
        found = catalog.left_in_english(html_texts(page))
        if found:
            problems[path] = found
    if problems:
        import json
        from pathlib import Path
        report = Path(__file__).resolve().parents[2] / 'test-output' / f'untranslated-{code}.json'
        report.parent.mkdir(exist_ok=True)
        report.write_text(json.dumps(problems, indent=1, ensure_ascii=False))
    assert not problems, f'{code}: English left in {len(problems)} places (test-output/untranslated-{code}.json): ' + \
        '; '.join(f'{where}: {found[:4]}' for where, found in list(problems.items())[:15])


def test_the_check_finds_a_message_left_in_english(monkeypatch):
    catalog = Catalog.__new__(Catalog)
    catalog.whole = {'Dashboard': 'Panel'}
    catalog.runs = [('We sent you a link', 'We sent you a link to %(email)s.', 'Te enviamos un enlace a %(email)s.')]
    assert catalog.left_in_english(html_texts('<p>Panel</p><a>Dashboard</a>')) == ['Dashboard']
    # Text in another language than the page's is the circle's own, or a language's own name.
    assert catalog.left_in_english(html_texts('<html lang="es"><p lang="en">Dashboard <b>x</b></p><br><p>Panel</p>')) == []
    assert catalog.left_in_english(html_texts('<html lang="es"><p lang="en">x</p><br><p>Dashboard</p>')) == ['Dashboard']
    assert catalog.left_in_english(plain_texts('Hola\nWe sent you a link to ana@example.org.')) == [
        'We sent you a link to %(email)s.']
    assert catalog.left_in_english(html_texts('<p>Te enviamos un enlace a ana@example.org.</p>')) == []
