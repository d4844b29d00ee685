"""SMS segment counting: GSM-7 with its extension table, UCS-2 with surrogate pairs, and the
browser's counter (templates/static/sms-counter.js) agreeing with the server on every case."""
import json
import shutil
import subprocess

import pytest

from chalicelib.core.rendering import TEMPLATES_DIR
from chalicelib.messaging.sms_text import encoding_of, normalise, segments

CASES = [
    ('', ('GSM-7', 0, 0)),
    ('See you Tuesday at the library!', ('GSM-7', 31, 1)),
    ('a' * 160, ('GSM-7', 160, 1)),
    ('a' * 161, ('GSM-7', 161, 2)),
    ('a' * 306, ('GSM-7', 306, 2)),
    ('a' * 307, ('GSM-7', 307, 3)),
    # Accented letters of the basic table, newline and @ stay GSM-7 and count once.
    ('Ça va? Müller & Søren @ café\nÑoño ¿qué?', ('GSM-7', 39, 1)),
    ('Ñandú', ('UCS-2', 5, 1)),     # ú is not in the GSM-7 table (ù is)
    # Extension characters are an escape plus a septet: two each.
    ('€', ('GSM-7', 2, 1)),
    ('[x]{y}~|^\\', ('GSM-7', 18, 1)),
    ('a' * 158 + '€', ('GSM-7', 160, 1)),
    ('a' * 159 + '€', ('GSM-7', 161, 2)),
    ('a' * 158 + '[', ('GSM-7', 160, 1)),
    # An escaped pair is never split: 152 + "€" does not fit 153, so it opens segment 2,
    # which then overflows: 3 segments where 306 / 153 would say 2.
    ('a' * 152 + '€' + 'a' * 152, ('GSM-7', 306, 3)),
    # One character outside GSM-7 makes the whole text UCS-2.
    ('ç' + 'a' * 69, ('UCS-2', 70, 1)),
    ('Łódź ' + 'a' * 66, ('UCS-2', 71, 2)),
    ('“quoted”', ('UCS-2', 8, 1)),
    # An emoji is a surrogate pair: two UTF-16 units.
    ('😀', ('UCS-2', 2, 1)),
    ('a' * 68 + '😀', ('UCS-2', 70, 1)),
    ('a' * 69 + '😀', ('UCS-2', 71, 2)),
    ('a' * 134, ('GSM-7', 134, 1)),
    # A surrogate pair is never split across segments: 33 emoji fill 66 of 67 units.
    ('😀' * 67, ('UCS-2', 134, 3)),
    ('a' * 66 + '😀' + 'a' * 66, ('UCS-2', 134, 3)),
    ('a' * 201, ('GSM-7', 201, 2)),
    ('€' * 100, ('GSM-7', 200, 2)),
]


@pytest.mark.parametrize('text, expected', CASES)
def test_segments_are_counted_like_carriers_count_them(text, expected):
    assert segments(text) == expected


def test_windows_line_breaks_count_once():
    assert normalise('Hi\r\nthere\r\n') == 'Hi\nthere'
    assert segments(normalise('a\r\n' * 80)) == ('GSM-7', 159, 1)


@pytest.mark.skipif(shutil.which('node') is None, reason='needs node to run the browser script')
def test_the_browser_counter_agrees_with_the_server_on_every_case():
    script = (TEMPLATES_DIR / 'static' / 'sms-counter.js').read_text(encoding='utf-8')
    texts = [text for text, _ in CASES] + ['a\n' * 90, 'naïve café ☕ ' * 5]
    harness = ('global.window = {}; global.document = {querySelectorAll: () => []};\n' + script +
               '\nconst texts = JSON.parse(require("fs").readFileSync(0, "utf8"));'
               '\nconsole.log(JSON.stringify(texts.map(t => { const r = window.smsSegments(t); '
               'return [r.encoding, r.length, r.segments]; })));')
    result = subprocess.run(['node', '-e', harness], input=json.dumps(texts), capture_output=True,
                            text=True, timeout=30, check=True)
    assert [tuple(r) for r in json.loads(result.stdout)] == [segments(t) for t in texts]


# --- the words around every text: the circle's short name first, the opt-out words last --------

from chalicelib.facilitators import messages  # noqa: E402
from chalicelib.reminders import change_notices, render  # noqa: E402
from chalicelib.reminders import schedule as reminders  # noqa: E402
from chalicelib.core import i18n  # noqa: E402
from tests.support.factories import make_circle  # noqa: E402

LONG_NAME = 'A very long learning circle name that goes on and on about what we study together'
# As long as a deployed short link: https, a real domain, `/r/` and a 12-letter code.
DEPLOYED_SHORT = 'https://learningcircles.example.org/r/AbCdEfGhIjKl'


class Learner:
    name, mobile = 'Grace', '+13125550101'


def opt_out_words(language):
    with i18n.language(language):
        return render.sms_stop()


@pytest.mark.parametrize('language', sorted(i18n.SHIPPED))
def test_every_language_has_gsm7_opt_out_words_with_the_stop_keyword(language):
    words = opt_out_words(language)
    assert 'STOP' in words.split() and encoding_of(words) == 'GSM-7'


@pytest.mark.parametrize('name, expected', [
    ('Python for Everybody', 'Python for Everybody'),
    (LONG_NAME, 'A very long learning...'),
    ('Supercalifragilisticexpialidocious', 'Supercalifragilistice...'),
    ('Introducción a la programación', 'Introduccion a la...'),     # in GSM-7: 160 characters a text
])
def test_a_long_circle_name_is_cut_at_a_word_to_its_short_name(name, expected):
    from chalicelib.messaging.sms_text import SHORT_NAME_LENGTH
    circle = make_circle(save=False, name=name)
    assert render.short_name(circle) == expected and len(expected) <= SHORT_NAME_LENGTH


@pytest.mark.parametrize('language', sorted(i18n.SHIPPED))
@pytest.mark.parametrize('name, words, venue', [
    ('Python for Everybody', 'See you soon!', 'Harold Washington Library'),
    (LONG_NAME, 'Please read chapters 3 and 4 before we meet, and bring your laptop, charger and questions!',
     'The Harold Washington Library Center, ninth floor, room 9-204 next to the elevators'),
    ('Python', 'Bring snacks 🎉 and a friend', 'Library'),
])
def test_a_reminder_sms_starts_with_the_short_name_and_ends_with_the_opt_out_words_in_one_message(
        language, name, words, venue):
    circle = make_circle(first_date='2027-02-02', weeks=2, save=False, name=name, venue_name=venue, language=language)
    meeting = circle.meetings[0]
    reminder = reminders.new_reminder(circle, meeting, circle.created_at)
    reminder.sms_text = words
    sms = render.render_sms(circle, meeting, reminder.sms_text, DEPLOYED_SHORT)
    assert segments(sms)[2] == 1, sms
    assert sms.startswith(render.short_name(circle)[:4])
    assert sms.endswith(f'{DEPLOYED_SHORT} {opt_out_words(language)}'), sms
    assert render.facts(circle, meeting)['sms_when'] in sms      # the date and time whole


@pytest.mark.parametrize('kind', ['moved', 'cancelled'])
def test_a_change_notice_sms_ends_with_the_opt_out_words_in_one_message(kind):
    circle = make_circle(first_date='2027-02-02', weeks=2, save=False, name=LONG_NAME)
    meeting = circle.meetings[1]
    links = {'yes': 'y', 'no': 'n', 'withdraw': 'w', 'unsubscribe': 'u', 'texts': 't', 'short': DEPLOYED_SHORT}
    sms = change_notices.change_notice(circle, meeting, Learner(), links, kind)[3]
    assert segments(sms)[2] == 1 and sms.startswith('A very long') and sms.endswith(' Reply STOP to stop texts'), sms
    assert DEPLOYED_SHORT in sms


def test_a_facilitators_text_names_the_circle_and_sender_and_ends_with_the_opt_out_words():
    circle = make_circle(save=False, name=LONG_NAME)
    assert messages.full_sms(circle, 'Ada Lovelace', 'Room change: 2nd floor') == (
        'A very long learning... (Ada): Room change: 2nd floor Reply STOP to stop texts')
    german = make_circle(save=False, name='Python-Lernkreis', language='de')
    assert messages.full_sms(german, 'Dee', 'Bis Dienstag!') == (
        'Python-Lernkreis (Dee): Bis Dienstag! Keine SMS mehr: STOP')


def test_the_compose_form_counts_the_text_with_the_words_around_it():
    circle = make_circle(save=False)
    prefix, suffix = messages.sms_frame(circle, 'Ada')
    room = 3 * 153 - len(prefix) - len(suffix)
    fields = {'message_key': messages.new_message_key(), 'subject': 'S', 'body': 'B'}
    draft = messages.validate({**fields, 'sms_text': 'a' * room}, circle, 'Ada')
    assert segments(messages.full_sms(circle, 'Ada', draft.sms_text))[2] == 3
    with pytest.raises(messages.ValidationFailed) as refused:
        messages.validate({**fields, 'sms_text': 'a' * (room + 1)}, circle, 'Ada')
    assert 'needs 4 messages' in refused.value.errors['sms_text'][0]
    # Not told the circle, the form keeps room for the longest name, sender and opt-out words.
    with pytest.raises(messages.ValidationFailed):
        messages.validate({**fields, 'sms_text': 'a' * room}, None)
    assert messages.validate({**fields, 'sms_text': ''}, None).sms_text == ''


def test_a_circle_name_that_forces_ucs2_loses_its_accents_only_when_they_cost_more_messages():
    circle = make_circle(save=False, name='Programação para todos')
    assert messages.full_sms(circle, 'Zoë', 'See you Tuesday') == (
        'Programação para todos (Zoë): See you Tuesday Reply STOP to stop texts')    # 68 of 70 UCS-2
    longer = 'See you Tuesday at the library, second floor, room 204.'
    sms = messages.full_sms(circle, 'Zoë', longer)
    assert sms == f'Programacao para todos (Zoe): {longer} Reply STOP to stop texts'
    assert segments(sms) == ('GSM-7', len(sms), 1)


@pytest.mark.skipif(shutil.which('node') is None, reason='needs node to run the browser script')
def test_the_browser_counter_counts_the_words_around_the_text_as_the_server_does():
    circle = make_circle(save=False, name=LONG_NAME, language='fr')
    prefix, suffix = messages.sms_frame(circle, 'Ada')
    texts = ['', 'Room change', 'a' * 380, 'café ☕ ' * 10]
    script = (TEMPLATES_DIR / 'static' / 'sms-counter.js').read_text(encoding='utf-8')
    harness = ('global.window = {}; global.document = {querySelectorAll: () => []};\n' + script +
               '\nconst c = JSON.parse(require("fs").readFileSync(0, "utf8"));'
               '\nconsole.log(JSON.stringify(c.texts.map(t => { const r = window.smsSegments('
               'window.smsFramed(t, c.prefix, c.suffix)); return [r.encoding, r.length, r.segments]; })));')
    result = subprocess.run(['node', '-e', harness], input=json.dumps({'texts': texts, 'prefix': prefix, 'suffix': suffix}),
                            capture_output=True, text=True, timeout=30, check=True)
    assert [tuple(r) for r in json.loads(result.stdout)] == [
        segments(messages.full_sms(circle, 'Ada', t) if t else '') for t in texts]
