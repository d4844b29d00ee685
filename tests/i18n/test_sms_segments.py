"""Every text message, in every shipped language, with the longest realistic values, keeps to
its segment budget (chalicelib/messaging/sms_text.py counts as carriers do).

Longest realistic values: a circle name of the field's whole 200 characters, a venue name and
address of 120, the facilitator's reminder words at their 160-character limit, a learner's
name of 60, the date with the longest weekday and month names of the language (the 28th of a
month, in September or December, on a Wednesday) at 23:59, a timezone with a long abbreviation,
and links as long as production's (`https://<a 30-character host>/r/<12-character code>`).
"""
from datetime import date, datetime, timezone

import pytest

from chalicelib.core import i18n
from chalicelib.core.fields import REMINDER_SMS_WORDS
from chalicelib.messaging.sms_text import MAX_SEGMENTS, segments
from tests.support.factories import make_circle

BASE = 'https://learning-circles.example.org'          # 36 characters, a realistic host
SHORT = f'{BASE}/r/ABCDEFGH2345'
SIGNED = f'{BASE}/survey/' + 'x' * 72                     # a signed link: ~110 characters
LONG_NAME = ('Introducción a la programación con Python para principiantes absolutos, '
             'en la Biblioteca Pública Central, con ejercicios prácticos cada semana y mucha paciencia '
             'para todas las preguntas')[:200]
LONG_VENUE = 'Biblioteca Pública Municipal Doctor Bernardo Houssay, Sala de Lectura del Segundo Piso'
LONG_WORDS = ('Traigan el capítulo 3 leído y una pregunta. ' * 5)[:REMINDER_SMS_WORDS.max_length]
# Longest weekday/month names in every shipped language fall on Wednesday 2027-09-29 / 2027-12-29.
LONG_DAYS = [date(2027, 9, 29), date(2027, 12, 29)]
LANGUAGES = list(i18n.SHIPPED)


def circles_for(code):
    for day in LONG_DAYS:
        yield make_circle(name=LONG_NAME, language=code, first_date=day, meeting_time='23:59', weeks=2,
                          venue_name=LONG_VENUE, place=dict(city='Buenos Aires', region='Ciudad Autónoma',
                                                            country='Argentina',
                                                            timezone_name='America/Argentina/Buenos_Aires'),
                          save=False)


def assert_fits(text, budget, what):
    encoding, length, count = segments(text)
    assert count <= budget, f'{what}: {count} segments ({encoding}, {length}) > {budget}: {text!r}'


@pytest.mark.parametrize('code', LANGUAGES)
def test_the_reminder_and_the_change_notices_fit_one_text(code):
    from chalicelib.reminders import render
    from chalicelib.reminders.change_notices import change_notice
    for circle in circles_for(code):
        meeting = circle.meetings[0]
        for words in (LONG_WORDS, ''):
            sms = render.render_sms(circle, meeting, words, SHORT)
            assert_fits(sms, render.SMS_LIMIT_SEGMENTS, f'{code} reminder')
            assert SHORT in sms and 'STOP' in sms
        signup = type('Signup', (), {'name': 'María Fernanda de los Ángeles Rodríguez Etcheverry'})()
        links = {'yes': SIGNED, 'no': SIGNED, 'withdraw': SIGNED, 'unsubscribe': SIGNED, 'texts': SIGNED,
                 'short': SHORT}
        for kind in ('moved', 'cancelled'):
            *_email, sms = change_notice(circle, meeting, signup, links, kind)
            assert_fits(sms, render.SMS_LIMIT_SEGMENTS, f'{code} {kind}')
            assert SHORT in sms and 'STOP' in sms


@pytest.mark.parametrize('code', LANGUAGES)
def test_the_survey_texts_fit_two_segments(code):
    from chalicelib.ending.survey_job import survey_sms
    for circle in circles_for(code):
        with i18n.language(code):
            for reminder in (False, True):
                sms = survey_sms(circle, SIGNED, reminder=reminder)
                assert_fits(sms, 2, f'{code} survey{" reminder" if reminder else ""}')
                assert SIGNED in sms and 'STOP' in sms


@pytest.mark.parametrize('code', LANGUAGES)
def test_the_answers_to_a_learners_text_fit_one_text(code):
    from chalicelib.sms_inbound import inbound
    for circle in circles_for(code):
        match = type('Match', (), {'circle': circle})()
        assert_fits(inbound.help_text([match]), 1, f'{code} help')
        for answer in ('yes', 'no'):
            text = inbound.confirmation(circle, circle.meetings[0], answer)
            assert_fits(text, 1, f'{code} confirmation {answer}')
        with i18n.language(code):
            for message in (inbound.NOTHING_TO_ANSWER, inbound.SEVERAL_TO_ANSWER):
                assert_fits(i18n.gettext(message), 1, f'{code} {message[:20]}')
    assert_fits(inbound.help_text([]), 1, 'help for an unknown number')


@pytest.mark.parametrize('code', LANGUAGES)
def test_the_my_data_link_fits_two_segments(code):
    from chalicelib.privacy import my_data
    item = type('Item', (), {'params': {}, 'language': code})()
    with i18n.language(code):
        text = my_data.MY_DATA_LINK_SMS.render(item, {}, '+5491155550123', datetime.now(timezone.utc))
    assert_fits(text, 2, f'{code} my-data link')


@pytest.mark.parametrize('code', LANGUAGES)
def test_the_report_and_the_erasure_texts_fit_one_text(code):
    from chalicelib.core.settings import get_settings
    from chalicelib.insights import publish
    from chalicelib.privacy import erasure
    for circle in circles_for(code):
        with i18n.language(code):
            sms = publish.report_sms(circle).replace(get_settings().public_base_url, BASE)   # production's length
        assert BASE in sms
        assert_fits(sms, 1, f'{code} report')
    with i18n.language(code):
        assert_fits(erasure.MY_DATA_ERASED_SMS.render(None, {}, '+5491155550123', None), 1, f'{code} erased')


@pytest.mark.parametrize('code', LANGUAGES)
def test_a_facilitators_message_leaves_room_for_their_words(code):
    """The frame around a facilitator's text (the circle's name, the opt-out words) takes at most
    one of the MAX_SEGMENTS segments, whatever the language."""
    from chalicelib.facilitators import messages
    for circle in circles_for(code):
        prefix, suffix = messages.sms_frame(circle, 'María Fernanda de los Ángeles')
        assert_fits(prefix + 'x' + suffix, 1, f'{code} message frame')
        assert MAX_SEGMENTS >= 2


def test_the_check_counts_a_long_text_as_several_segments():
    with pytest.raises(AssertionError):
        assert_fits('x' * 161, 1, 'too long')
    with pytest.raises(AssertionError):
        assert_fits('á' * 71, 1, 'UCS-2')
    assert_fits('x' * 160, 1, 'one')
