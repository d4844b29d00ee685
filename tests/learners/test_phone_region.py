"""Mobile numbers typed without a country code are read in the circle's country, and the
signup form shows an example number written the way people there write it."""
import json

import phonenumbers
import pytest

from chalicelib.learners import phone
from chalicelib.models import Signup
from tests.support.factories import make_circle

NAIROBI = dict(city='Nairobi', region='Nairobi County', country='Kenya', latitude=-1.2864, longitude=36.8172,
               timezone_name='Africa/Nairobi')
BERLIN = dict(city='Berlin', region='Berlin', country='Germany', latitude=52.52, longitude=13.405,
              timezone_name='Europe/Berlin')


def sign_up(client, circle, mobile):
    body = {'learning_circle': circle.id, 'name': 'Wanjiru', 'email': 'wanjiru@example.org', 'mobile': mobile,
            'consent': True, 'signup_questions': {'goals': '', 'support': ''}}
    return client.http.post('/api/signup/', headers={'Content-Type': 'application/json'}, body=json.dumps(body))


def stored_mobile(circle):
    [signup] = Signup.query(f'CIRCLE#{circle.id}', Signup.sk.startswith('SIGNUP#'))
    return signup.mobile


@pytest.mark.parametrize('place, typed, stored', [
    (NAIROBI, '0712 123456', '+254712123456'),
    (BERLIN, '01512 3456789', '+4915123456789'),
    (NAIROBI, '+1 312 555 0142', '+13125550142'),     # a number with its country code stays as typed
])
def test_a_number_without_country_code_is_read_in_the_circles_country(client, place, typed, stored):
    circle = make_circle(place=place)
    response = sign_up(client, circle, typed)
    assert response.status_code == 200, response.body
    assert stored_mobile(circle) == stored


def test_a_kenyan_local_number_is_refused_in_a_us_circle_rather_than_read_as_american(client):
    circle = make_circle()
    response = sign_up(client, circle, '0712 123456')
    assert response.status_code == 400 and 'mobile' in response.json_body['errors']


def test_an_online_circle_reads_local_numbers_in_the_default_region(client):
    circle = make_circle(place=NAIROBI, online=True, online_link='https://meet.example.org/x')
    assert phone.region_for(circle) == 'US'
    assert sign_up(client, circle, '(312) 555-0142').status_code == 200
    assert stored_mobile(circle) == '+13125550142'


def test_the_signup_form_shows_an_example_number_of_the_circles_country(client):
    kenya, chicago = make_circle(place=NAIROBI), make_circle()
    page = client.http.get(f'/circles/{kenya.id}').body.decode()
    assert '<p class="hint" id="mobile-hint">For example 0712 123456</p>' in page
    assert 'aria-describedby="mobile-hint"' in page
    page = client.http.get(f'/circles/{chicago.id}').body.decode()
    assert 'For example (201) 555-0123' in page


def test_a_refused_number_keeps_the_example_on_the_form(client):
    circle = make_circle(place=NAIROBI)
    response = client.http.post(f'/circles/{circle.id}/signup', headers={'Content-Type': 'application/x-www-form-urlencoded'},
                                body='name=W&email=w%40example.org&mobile=12&consent=true')
    page = response.body.decode()
    assert response.status_code == 400 and 'id="mobile-error"' in page and 'For example 0712 123456' in page


def test_every_country_of_the_gazetteer_has_its_phone_region():
    codes = phone.country_codes()
    assert codes['Kenya'] == 'KE' and codes['United States'] == 'US' and len(codes) > 200
    # Islands without a numbering plan of their own: their numbers always carry a country code.
    without_plan = {'PN', 'GS', 'TF'}
    unknown = [name for name, code in codes.items()
               if phonenumbers.country_code_for_region(code) == 0 and code not in without_plan]
    assert unknown == []


def test_the_country_list_is_exactly_the_countries_of_the_cities_file():
    import gzip

    from chalicelib.circles import gazetteer
    with gzip.open(gazetteer.DATA_FILE, 'rt', encoding='utf-8') as data:
        rows = [line.rstrip('\n').split('\t') for line in data]
    countries = {row[gazetteer.COLUMNS.index('country')]: row[gazetteer.COLUMNS.index('country_code')] for row in rows}
    assert phone.country_codes() == countries
