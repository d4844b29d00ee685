"""A learner's own data, without an account: `/my-data` asks for an email address or a mobile
number and sends a signed link, valid 24 hours, to that address or number only.

    request_link('Alice@Example.org', client='203.0.113.9')   # same answer whether or not we know it
    contact_of_token(token)                                    # Contact('email', 'alice@example.org')
    circles_of(contact)                                        # MyData: their signups and circles

The request is answered the same way whether or not we hold anything for the contact, and
spends the same rate limits (per address and per client: RateLimited, 429, nothing sent). When
signups exist, one outbox item (`my_data_link`, or `my_data_link_sms` for a number) goes to the
contact in the partition `MYDATA#<keyed hash>`, which erasure deletes; the link itself is signed
when the message is rendered, so no stored item holds a working token.

Costs: two rate-limit updates, one Query of `by_email` or `by_phone` for the current signups and
one for the withdrawn ones (`learners.signup.left_key`), one PutItem when something is held. The
page: the same two Queries and one BatchGetItem of the circles.
"""
from dataclasses import dataclass, field
from datetime import timedelta

from email_validator import EmailNotValidError

from chalicelib.circles import circles as circle_rules
from chalicelib.core import links
from chalicelib.core.errors import ValidationFailed
from chalicelib.core.i18n import _, ngettext
from chalicelib.core.rendering import render
from chalicelib.learners.signup import left_key, normalise_email, normalise_mobile
from chalicelib.messaging import email, outbox
from chalicelib.messaging.sender import Template
from chalicelib.models import Circle, Signup
from chalicelib.models.rate_limits import Limit, spend

EMAIL, SMS = outbox.EMAIL, outbox.SMS
PER_ADDRESS = Limit('my-data-address', 3, timedelta(hours=1))
PER_CLIENT = Limit('my-data-client', 10, timedelta(hours=1))
LINK_HOURS = links.MAX_AGE_SECONDS[links.MY_DATA] // 3600


@dataclass(frozen=True)
class Contact:
    channel: str        # email or sms
    value: str          # a normalised address, or an E.164 number

    @property
    def index(self):
        return Signup.by_email if self.channel == EMAIL else Signup.by_phone

    @property
    def current_key(self):
        return f'EMAIL#{self.value}' if self.channel == EMAIL else f'PHONE#{self.value}'

    @property
    def partition(self):
        """Where the link requests' outbox items live: keyed by a hash, not the contact."""
        return f'MYDATA#{left_key(self.value).removeprefix("LEFT#")}'


@dataclass
class Held:
    signup: Signup
    circle: Circle | None

    @property
    def active(self):
        return self.signup.active


@dataclass
class MyData:
    contact: Contact
    held: list = field(default_factory=list)

    @property
    def current(self):
        return [h for h in self.held if h.active]

    @property
    def past(self):
        return [h for h in self.held if not h.active]


def parse_contact(text, region=None):
    """The Contact a person typed (an address when it has an @), or ValidationFailed."""
    text = (text or '').strip()
    if not text:
        raise ValidationFailed({'contact': [_('Please give the email address or mobile number you signed up with.')]})
    if '@' in text:
        try:
            return Contact(EMAIL, normalise_email(text))
        except EmailNotValidError as error:
            raise ValidationFailed({'contact': [_('This email address is not valid: %(reason)s') % {'reason': error}]}) from None
    try:
        return Contact(SMS, normalise_mobile(text, region))
    except ValueError:
        raise ValidationFailed({'contact': [_('This is neither an email address nor a mobile number we can read. '
                                              'Start a mobile number with + and the country code.')]}) from None


def signups_of(contact):
    """Every signup of the contact, current (on `EMAIL#`/`PHONE#`) and withdrawn (`LEFT#`): two Queries."""
    found = list(contact.index.query(contact.current_key))
    found += contact.index.query(left_key(contact.value))
    return found


def request_link(text, client=None, now=None):
    """Send the contact a link to their data when we hold any. Returns the Contact; raises
    ValidationFailed (nothing spent) or RateLimited (nothing sent). The answer to the person
    must not depend on whether anything was sent."""
    contact = parse_contact(text)
    now = now or circle_rules.utcnow()
    spend(now, (PER_CLIENT, client or 'unknown'), (PER_ADDRESS, contact.value))
    if signups_of(contact):
        outbox.write([link_item(contact, now)])
    return contact


def link_item(contact, now):
    template = 'my_data_link' if contact.channel == EMAIL else 'my_data_link_sms'
    return outbox.message(contact.partition, f'link#{now:%Y%m%dT%H%M%S%f}', 'learner', contact.channel, template,
                          now, to=contact.value)


def link(contact):
    return links.url('/my-data', links.MY_DATA, {'t': contact.channel, 'v': contact.value})


def contact_of_token(token):
    """The Contact a `/my-data/<token>` link was sent to; links.BadLink when tampered, foreign or older than 24 h."""
    payload = links.unsign(links.MY_DATA, token)
    if not isinstance(payload, dict) or payload.get('t') not in (EMAIL, SMS) or not isinstance(payload.get('v'), str):
        raise links.BadLink('not a my-data token')
    return Contact(payload['t'], payload['v'])


def circles_of(contact):
    """What the page lists: every signup of the contact with its circle (None when gone)."""
    signups = signups_of(contact)
    keys = sorted({Circle.key(s.circle_id) for s in signups})
    found = {c.id: c for c in Circle.batch_get(keys)} if keys else {}
    held = [Held(s, found.get(s.circle_id)) for s in signups]
    held.sort(key=lambda h: (not h.active, (h.circle.name if h.circle else '').lower()))
    return MyData(contact, held)


def held_signup(contact, circle_id):
    """The contact's current signup for one circle, or None."""
    return next((h.signup for h in circles_of(contact).current if h.signup.circle_id == circle_id), None)


# --- the link's message ------------------------------------------------------------------------

def _render_link_email(item, reads, to, now):
    context = {'url': link(Contact(EMAIL, to)), 'hours': LINK_HOURS}
    return email.build_message(to=to, subject=_('Your data at Learning Circles'),
                               text=render('email/my_data_link.txt', **context),
                               html=render('email/my_data_link.html', **context))


def _render_link_sms(item, reads, to, now):
    from chalicelib.messaging.sms_text import fold_to_gsm7
    return fold_to_gsm7(ngettext('Learning circles: your data, for %(num)d hour: %(url)s',
                    'Learning circles: your data, for %(num)d hours: %(url)s',
                    LINK_HOURS) % {'num': LINK_HOURS, 'url': link(Contact(SMS, to))})    # GSM-7: two segments


MY_DATA_LINK = Template(keys=lambda item: [], render=_render_link_email)
MY_DATA_LINK_SMS = Template(keys=lambda item: [], render=_render_link_sms)
