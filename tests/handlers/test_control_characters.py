"""Every text a person types is checked by the one field-rules module: the compose form, the
feedback form, a reminder's words and the registration name refuse control characters (a
line break only where the field is multi-line) with a readable message, and nothing is written."""
import pytest

from chalicelib.accounts import accounts
from chalicelib.core.errors import ValidationFailed
from chalicelib.facilitators import feedback, messages
from chalicelib.reminders import schedule

BELL, NUL = '\x07', '\x00'
GOOD_MESSAGE = {'message_key': messages.new_message_key(), 'subject': 'Room change', 'body': 'Room 4.\nSee you.'}
GOOD_FEEDBACK = {'attendance': '7', 'rating': '4', 'reflection': 'It went well.\nMore next time.'}
GOOD_WORDS = {'subject': 'See you Monday', 'intro': 'Bring a laptop.\nAnd a question.', 'sms_text': 'Bring a laptop'}


def refused_fields(call):
    with pytest.raises(ValidationFailed) as refusal:
        call()
    return set(refusal.value.errors)


def test_good_texts_with_line_breaks_in_multi_line_fields_pass():
    assert messages.validate(GOOD_MESSAGE).body == 'Room 4.\nSee you.'
    assert feedback.validate(GOOD_FEEDBACK).reflection == 'It went well.\nMore next time.'
    assert schedule.validate_words(GOOD_WORDS)[1] == 'Bring a laptop.\nAnd a question.'


@pytest.mark.parametrize('field', ['subject', 'body', 'sms_text'])
def test_the_compose_form_refuses_control_characters(field):
    assert refused_fields(lambda: messages.validate({**GOOD_MESSAGE, field: f'Hello {BELL} there'})) == {field}


def test_the_feedback_reflection_refuses_control_characters():
    assert refused_fields(lambda: feedback.validate({**GOOD_FEEDBACK, 'reflection': f'Fine{NUL}'})) == {'reflection'}


@pytest.mark.parametrize('field', ['subject', 'intro', 'sms_text'])
def test_a_reminders_words_refuse_control_characters(field):
    assert refused_fields(lambda: schedule.validate_words({**GOOD_WORDS, field: f'Hi {BELL}'})) == {field}


@pytest.mark.parametrize('name', ['Dee\nFacilitator', f'Dee{BELL}', 'Dee\tF'])
def test_a_registration_name_must_be_one_line_and_nothing_is_written(name):
    fields = refused_fields(lambda: accounts.register(name, 'dee@example.org', 'a long unusual passphrase 42'))
    assert fields == {'name'}
    assert accounts.user_for_email('dee@example.org') is None
