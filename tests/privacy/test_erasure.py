"""Erasing everything from /my-data: afterwards an admin-only Scan of every item of the table
finds no trace of the learner (email, mobile, name, goals, answers, survey words, text bodies,
signup id) and the local SMS outbox neither; only the salted hashes of the suppression list
remain. The circle keeps an anonymous stand-in, shown as "Personal information removed"."""
from urllib.parse import urlencode

from chalicelib.circles import circles
from chalicelib.models import MeetingEntry, Signup
from chalicelib.ops import admin
from chalicelib.messaging import suppression
from tests.privacy.test_my_data import FORM, ZED, Everything


def traces(world):
    return [ZED['email'], ZED['mobile'], ZED['mobile'].removeprefix('+1'), ZED['name'], 'Quillfeather', ZED['goals'],
            ZED['support'], ZED['custom_answer'], ZED['survey'], ZED['text'], world.signup.signup_id]


def erase(client, world):
    return client.http.post(f'/my-data/{world.token()}/erase', headers=FORM, body=urlencode({'confirm': 'yes'}))


def confirmations(moto):
    return [m for m in moto.sent_emails() if m['To'] == ZED['email'] and m['Subject'] == 'We erased your data']


def test_after_erasure_and_its_confirmation_no_item_holds_a_trace(client, moto, twilio):
    world = Everything(client, twilio)
    assert len(admin.items_mentioning(traces(world))) > 10      # the check finds what is there
    answer = erase(client, world)
    assert answer.status_code == 200 and 'Your data was erased' in answer.body.decode()
    assert len(confirmations(moto)) == 1        # drained: the confirmation went out, although suppressed
    assert admin.items_mentioning(traces(world)) == []      # its item forgot the address once sent


def test_the_contacts_stay_only_as_hashes_on_the_suppression_list(client, moto, twilio):
    world = Everything(client, twilio)
    erase(client, world)
    assert suppression.suppressed([ZED['email'], ZED['mobile'], 'ann@example.org']) == {ZED['email'], ZED['mobile']}
    from chalicelib.models import Suppression
    entry = Suppression.get(*Suppression.key(suppression.contact_hash(ZED['email'])))
    assert entry.reason == 'erased' and ZED['email'] not in str(entry.attribute_values)


def test_the_local_sms_outbox_forgets_the_number(client, moto, twilio):
    from chalicelib.messaging.local_outbox import outbox_messages
    world = Everything(client, twilio)
    assert any(m['to'] == ZED['mobile'] for m in outbox_messages() if m['channel'] == 'sms')
    erase(client, world)
    assert not [m for m in outbox_messages() if m['channel'] == 'sms' and m['to'] == ZED['mobile']]


def test_the_circle_keeps_an_anonymous_stand_in_and_its_counts(client, moto, twilio):
    world = Everything(client, twilio)
    erase(client, world)
    learners = list(Signup.query(f'CIRCLE#{world.circle.id}', Signup.sk.startswith('SIGNUP#')))
    [stand_in] = [s for s in learners if s.signup_id != world.other.signup_id]
    assert stand_in.signup_id.startswith('erased-') and not stand_in.active
    assert (stand_in.name, stand_in.email, stand_in.mobile, stand_in.goals, stand_in.email_pk) == (None,) * 5
    assert circles.get_circle(world.circle.id).signup_count == 1
    # Past and future tallies forget Zed; Ann's answer stays.
    entries = {e.meeting_id: e for e in MeetingEntry.query(f'CIRCLE#{world.circle.id}',
                                                          MeetingEntry.sk.startswith('ENTRY#'))}
    assert entries[world.past.meeting_id].yes_count == 0
    assert entries[world.future.meeting_id].yes == {world.other.signup_id}
    # The consent records moved to the stand-in, with the erasure itself.
    from chalicelib.models import consent
    from chalicelib.privacy.consent import records_of
    records = records_of(consent.signup_subject(world.circle.id, stand_in.signup_id))
    assert ('signup', 'withdrawn', 'my-data') in {(r.topic, r.given, r.channel) for r in records}
    assert records_of(consent.signup_subject(world.circle.id, world.signup.signup_id)) == []


def test_the_other_learner_keeps_everything(client, moto, twilio):
    world = Everything(client, twilio)
    erase(client, world)
    assert len(admin.items_mentioning([world.other.signup_id])) > 5
    ann = Signup.get(*Signup.key(world.circle.id, world.other.signup_id))
    assert ann.active and ann.email == 'ann@example.org'


def test_erasing_twice_sends_one_confirmation_and_the_link_then_shows_nothing(client, moto, twilio):
    world = Everything(client, twilio)
    token = world.token()
    assert erase(client, world).status_code == 200
    again = client.http.post(f'/my-data/{token}/erase', headers=FORM, body=urlencode({'confirm': 'yes'}))
    assert again.status_code == 200
    assert len(confirmations(moto)) == 1
    page = client.http.get(f'/my-data/{token}').body.decode()
    assert 'Herons and Haiku' not in page and 'You are signed up for no circle now' in page


def test_nothing_is_sent_to_an_erased_learner_afterwards(client, moto, twilio):
    from chalicelib.privacy import my_data
    world = Everything(client, twilio)
    erase(client, world)
    before = len(moto.sent_emails())
    my_data.request_link(ZED['email'], client='192.0.2.11')      # nothing is held any more
    assert len(moto.sent_emails()) == before


def test_erasing_needs_the_box_ticked(client, moto, twilio):
    world = Everything(client, twilio)
    answer = client.http.post(f'/my-data/{world.token()}/erase', headers=FORM, body='')
    assert answer.status_code == 400 and 'aria-invalid="true"' in answer.body.decode()
    assert Signup.get(*Signup.key(world.circle.id, world.signup.signup_id)).active


def test_the_facilitators_page_says_personal_information_removed(client, moto, twilio):
    from tests.facilitators.test_facilitator_pages import Browser, get
    world = Everything(client, twilio)
    erase(client, world)
    page = get(client, f'/facilitate/circles/{world.circle.id}', Browser(world.facilitator)).body.decode()
    assert 'Personal information removed' in page
    for trace in traces(world):
        assert trace not in page


def test_the_local_email_outbox_forgets_every_email_naming_the_learner_but_the_confirmation(client, moto, twilio):
    world = Everything(client, twilio)

    def naming():
        return [m['Subject'] for m in moto.sent_emails()
                if any(trace in m.as_string() for trace in (ZED['email'], ZED['name']))]
    assert len(naming()) >= 2                                   # the welcome, the facilitator's notice...
    erase(client, world)
    assert naming() == ['We erased your data']
