"""Which language a page is in: the switcher's cookie, then Accept-Language, then (on a circle's
own page) the circle's language, then English; `<html lang>` and Content-Language say which."""
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib.core import i18n
from tests.support.factories import make_circle


def get(client, path, **headers):
    response = client.http.get(path, headers=headers)
    return response, response.body.decode()


def page_language(client, path, **headers):
    response, body = get(client, path, **headers)
    assert response.status_code == 200, path
    declared = re.search(r'<html lang="([^"]+)"', body).group(1)
    assert response.headers['Content-Language'] == declared
    return declared


@pytest.mark.parametrize('header, expected', [
    (None, 'en'),
    ('de-DE,de;q=0.9,en;q=0.8', 'de'),
    ('pt-BR', 'pt'),
    ('ja, sw;q=0.9', 'en'),                      # nothing we ship: English
    ('es;q=0, fr;q=0.4, en;q=0.3', 'fr'),        # q=0 refuses a language
    ('en;q=0.2, fr-CA;q=0.9', 'fr'),             # quality, not order, decides
])
def test_pages_follow_accept_language(client, header, expected):
    headers = {'Accept-Language': header} if header else {}
    assert page_language(client, '/about', **headers) == expected


def test_the_switchers_cookie_beats_accept_language(client):
    assert page_language(client, '/about', **{'Accept-Language': 'de', 'Cookie': 'lang=fr'}) == 'fr'
    # A cookie naming a language we do not ship is no choice.
    assert page_language(client, '/about', **{'Accept-Language': 'de', 'Cookie': 'lang=xx'}) == 'de'


def test_a_circles_page_is_in_the_circles_language_unless_the_visitor_named_one(client):
    circle = make_circle(language='es')
    path = f'/circles/{circle.id}'
    assert page_language(client, path) == 'es'
    assert page_language(client, path, **{'Accept-Language': 'ja'}) == 'es'
    assert page_language(client, path, **{'Accept-Language': 'de'}) == 'de'
    assert page_language(client, path, **{'Cookie': 'lang=en'}) == 'en'
    assert page_language(client, '/about') == 'en'      # other pages do not follow any circle


def test_a_circle_in_a_language_we_do_not_translate_shows_english_pages(client):
    circle = make_circle(language='sw')
    assert page_language(client, f'/circles/{circle.id}') == 'en'


def test_the_switcher_sets_a_cookie_for_a_year_and_goes_back(client):
    response = client.http.get('/language/es?next=%2Fcircles%2Fabc%3Fx%3D1')
    assert response.status_code == 303
    assert response.headers['Location'] == '/circles/abc?x=1'
    cookie = response.headers['Set-Cookie']
    assert cookie.startswith('lang=es;') and f'Max-Age={i18n.COOKIE_MAX_AGE}' in cookie
    assert 'HttpOnly' in cookie and 'SameSite=Lax' in cookie and 'Path=/' in cookie


@pytest.mark.parametrize('target', ['https://evil.example/', '//evil.example/x', '/\\evil.example', 'javascript:alert(1)', ''])
def test_the_switcher_never_sends_the_visitor_to_another_site(client, target):
    response = client.http.get('/language/de?next=' + target)
    assert response.status_code == 303 and response.headers['Location'] == '/'


def test_the_switcher_refuses_a_language_we_do_not_ship(client):
    response = client.http.get('/language/xx')
    assert response.status_code == 404 and 'Set-Cookie' not in response.headers


def test_every_page_offers_every_shipped_language_and_comes_back_to_it(client):
    _, body = get(client, '/?q=python&city=Chicago', **{'Accept-Language': 'de'})
    nav = body.split('<nav class="languages"', 1)[1].split('</nav>', 1)[0]
    links = re.findall(r'<a href="([^"]+)" lang="(\w+)" hreflang="\w+"( aria-current="true")?>', nav)
    assert [code for _link, code, _current in links] == list(i18n.SHIPPED)
    assert [code for _link, code, current in links if current] == ['de']
    link = links[0][0].replace('&amp;', '&')
    assert urlsplit(link).path == '/language/en'
    assert parse_qs(urlsplit(link).query)['next'] == ['/?q=python&city=Chicago']


def test_the_language_of_the_moment_is_each_requests_own(client):
    get(client, '/about', **{'Cookie': 'lang=de'})
    assert i18n.current() == i18n.SOURCE      # nothing leaks past the request
    assert page_language(client, '/about') == 'en'
