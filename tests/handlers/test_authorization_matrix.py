"""Who may use which route: a matrix over EVERY route of the app (every method of every entry in
`app.routes`) × nine roles. The cases come from the route table, not from `ROUTES` below, so a
route added later without an entry here fails, naming itself.

`ROUTES` gives each (path pattern, method) its audience, read from its handler:

- public: anyone gets the same answer (2xx/3xx, or 400 for this file's invalid sample body);
- public form: anyone, but a POST must carry the token bound to the pre-session cookie
  (`auth.anonymous_form`): every role here sends a valid one, `test_posts_without_*` none;
- signed in: any account; no session (anonymous, and learners, who have no account) gets 303
  to `/login?next=<path>`; a POST needs the session's CSRF token;
- circle managers: the circle's facilitator, co-facilitator and an organizer of its team; any
  other account gets 404 and learns nothing (not the circle's name, not a learner's);
- learner link: a signed link in the path is the credential. The learner's own link works;
  another learner's own link works for *their* data only (the first learner's items stay as they
  were and nothing of theirs is shown); anyone else can only present an altered copy: 400 (the
  calendar feed: 404), nothing changes, nothing is learned;
- account link: the same for the links an account's own emails carry (confirm, reset, undo), held
  by the facilitator;
- invitation: the co-facilitator invitation link shows its page (circle, address) to whoever holds
  it; accepting needs a session of the invited address (the facilitator of another circle here):
  any other account gets 403 and nothing changes;
- circle facilitators: the circle's facilitator and co-facilitator only (the end-of-circle
  survey is theirs, not the organizers'); any other account gets 404;
- team members: current members of the team (here only its organizer, its last one: leaving
  is refused with 400); any other account gets 404;
- site administrators: addresses listed in CIRCLES_SITE_ADMINS, none of the roles here, so
  everyone gets 404 (tests/teams/test_team_membership_pages.py covers the administrators);
- local only: the developer's outbox, registered on the local stage only;
- catch-all: `{proxy+}`: 404 for every method and everyone.

A refused request (303 to login, 403, 404, a bad link) must change nothing: the circle's
partition (one Query of `CIRCLE#<id>`) is the same before and after, and no outbox item was
written (the `OUTBOX` queue of `by_due` has no new key). Rate-limit counters and login throttles
live in other partitions and are not compared.

Speed: the world is built once per module and dumped; this module's `aws` fixture (overriding
conftest's per-test reset) puts the dump back only after a test that wrote something.
"""
import email
import email.policy
import json
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import quote, urlencode

import pytest

from chalicelib.accounts import accounts, sessions
from chalicelib.circles import circles
from chalicelib.core.settings import get_settings
from chalicelib.facilitators import circle_admin
from chalicelib.learners import rsvp
from chalicelib.learners.details import details_link
from chalicelib.learners.signup import withdraw_link
from chalicelib.learners.texts import texts_link
from chalicelib.models import CircleMessage, Delivery, TableItem, TeamMember, User
from chalicelib.ops import admin
from tests.facilitators.test_facilitator_pages import Browser, account, learner, organizer_of, run_by
from tests.support import aws_calls
from tests.support.factories import local_today

TEAM, OTHER_TEAM = 't-matrix', 't-elsewhere'
CIRCLE_NAME = 'The Quillmoor circle'
CIRCLE_SECRET = 'Quillmoor'             # in the circle's name: shown only where the circle may be seen
LEARNER_SECRETS = ('Zorabel', 'zorabel@example.org', '5550101', '555-0101')     # the first learner's data
LINK_INVALID = 'This link does not work'

ROLES = ['anonymous', 'learner', 'another learner', 'facilitator of another circle', 'facilitator',
         'co-facilitator', 'organizer of another team', 'organizer', 'revoked organizer']
NO_SESSION = {'anonymous', 'learner', 'another learner'}
MANAGERS = {'facilitator', 'co-facilitator', 'organizer'}

# --- audiences and outcomes ------------------------------------------------------------

PUBLIC, PUBLIC_FORM, SIGNED_IN, CIRCLE_MANAGERS = 'public', 'public form', 'signed in', 'circle managers'
LEARNER_LINK, ACCOUNT_LINK, INVITATION = 'learner link', 'account link', 'invitation'
LOCAL_ONLY, CATCH_ALL = 'local only', 'catch-all'
TWILIO = 'signed by Twilio'     # X-Twilio-Signature for the public URL: no role here can make one
TEAM_ORGANIZERS, LINK_HOLDERS = 'team organizers', 'link holders'
TEAM_MEMBERS, SITE_ADMINS = 'team members', 'site administrators'
CIRCLE_FACILITATORS = 'circle facilitators'
FACILITATORS = {'facilitator', 'co-facilitator'}
TEAM_SLUG = 'matrix-team'
HOLDER = {LEARNER_LINK: 'learner', ACCOUNT_LINK: 'facilitator', INVITATION: 'facilitator of another circle',
          LINK_HOLDERS: 'facilitator of another circle'}

ALLOWED, OWN_DATA, LOGIN, NOT_FOUND, FORBIDDEN, INVALID_LINK = (
    'allowed', 'allowed, own data only', 'redirected to login', 'not found', 'forbidden', 'invalid link')
REFUSED = {LOGIN, NOT_FOUND, FORBIDDEN, INVALID_LINK}


@dataclass(frozen=True)
class Entry:
    audience: str
    why: str = ''           # one line, where the audience alone does not say it
    csrf: str = None        # a POST's token: 'session' (auth.signed_in) or 'form' (auth.anonymous_form)
    link: str = None        # the kind of link in the path (a key of World.links)
    also: tuple = ()        # statuses the route legitimately answers an allowed role
    invalid: int = 400      # what an altered link gets
    json: bool = False      # the body is JSON, not a form


def expected(entry, role, method):
    audience = entry.audience
    if audience in (PUBLIC, PUBLIC_FORM, LOCAL_ONLY):
        return ALLOWED
    if audience == CATCH_ALL:
        return NOT_FOUND
    if audience == SIGNED_IN:
        return LOGIN if role in NO_SESSION else ALLOWED
    if audience == CIRCLE_MANAGERS:
        return LOGIN if role in NO_SESSION else ALLOWED if role in MANAGERS else NOT_FOUND
    if audience == LEARNER_LINK:
        return ALLOWED if role == 'learner' else OWN_DATA if role == 'another learner' else INVALID_LINK
    if audience == ACCOUNT_LINK:
        return ALLOWED if role == HOLDER[ACCOUNT_LINK] else INVALID_LINK
    if audience == INVITATION:
        if method == 'GET':
            return ALLOWED
        return LOGIN if role in NO_SESSION else ALLOWED if role == HOLDER[INVITATION] else FORBIDDEN
    if audience == CIRCLE_FACILITATORS:
        return LOGIN if role in NO_SESSION else ALLOWED if role in FACILITATORS else NOT_FOUND
    if audience == TEAM_ORGANIZERS:
        return LOGIN if role in NO_SESSION else ALLOWED if role == 'organizer' else NOT_FOUND
    if audience == TEAM_MEMBERS:        # the organizer is the team's only current member
        return LOGIN if role in NO_SESSION else ALLOWED if role == 'organizer' else NOT_FOUND
    if audience == SITE_ADMINS:
        return NOT_FOUND
    if audience == TWILIO:
        return FORBIDDEN
    if audience == LINK_HOLDERS:
        if method == 'POST' and entry.csrf == 'session':
            return LOGIN if role in NO_SESSION else ALLOWED
        return ALLOWED
    raise AssertionError(f'unknown audience {audience!r}')


# --- the table: every route of the app -------------------------------------------------

MANAGE = Entry(CIRCLE_MANAGERS, csrf='session')
SESSION = Entry(SIGNED_IN, csrf='session')
FORM_PAGE = Entry(PUBLIC_FORM, csrf='form')
CATCH = Entry(CATCH_ALL, 'Chalice matches {proxy+} after every specific route: the not-found page or JSON')
ANY_METHOD = ('GET', 'POST', 'PUT', 'PATCH', 'DELETE')

ROUTES = {
    ('/', 'GET'): Entry(PUBLIC, 'the listing of published circles'),
    ('/about', 'GET'): Entry(PUBLIC, 'site page; the nav shows whoever is signed in'),
    ('/privacy', 'GET'): Entry(PUBLIC, 'site page'),
    ('/run-a-circle', 'GET'): Entry(PUBLIC, 'site page'),
    ('/language/{code}', 'GET'): Entry(PUBLIC, "the switcher: a preference cookie, back to the page"),
    ('/static/{name}', 'GET'): Entry(PUBLIC, 'a fixed list of files'),
    ('/api/learningcircles', 'GET'): Entry(PUBLIC, 'partner API: published circles only'),
    ('/api/learningcircles/{circle_id}', 'GET'): Entry(PUBLIC, 'partner API: a published circle'),
    ('/api/openapi.json', 'GET'): Entry(PUBLIC),
    ('/api/signup', 'POST'): Entry(PUBLIC, 'partner API signup; the sample body has no name: 400', json=True),
    ('/circles/{circle_id}', 'GET'): Entry(PUBLIC, "a published circle's page"),
    ('/circles/{circle_id}/calendar.ics', 'GET'): Entry(PUBLIC, "a published circle's feed"),
    ('/circles/{circle_id}/thanks', 'GET'): Entry(PUBLIC, 'the same page for every visitor'),
    ('/circles/{circle_id}/signup', 'POST'): Entry(PUBLIC, 'anyone may sign up; the sample body lacks consent: 400'),
    ('/circles/{circle_id}/insights', 'GET'): Entry(PUBLIC, "a circle's published report; this running circle has "
                                                           'none yet: the same 404 for everyone', also=(404,)),
    ('/insights/report.css', 'GET'): Entry(PUBLIC, "the report's stylesheet"),
    ('/login', 'GET'): FORM_PAGE,
    ('/login', 'POST'): Entry(PUBLIC_FORM, 'wrong password in the sample: 400', csrf='form'),
    ('/register', 'GET'): FORM_PAGE,
    ('/register', 'POST'): FORM_PAGE,
    ('/register/resend', 'GET'): FORM_PAGE,
    ('/register/resend', 'POST'): FORM_PAGE,
    ('/password/forgot', 'GET'): FORM_PAGE,
    ('/password/forgot', 'POST'): FORM_PAGE,
    ('/confirm/{token}', 'GET'): Entry(ACCOUNT_LINK, link='confirm'),
    ('/password/reset/{token}', 'GET'): Entry(ACCOUNT_LINK, csrf='form', link='reset'),
    ('/password/reset/{token}', 'POST'): Entry(ACCOUNT_LINK, 'the sample password is too short: 400',
                                               csrf='form', link='reset'),
    ('/account/email/undo/{token}', 'GET'): Entry(ACCOUNT_LINK, csrf='form', link='undo'),
    ('/account/email/undo/{token}', 'POST'): Entry(ACCOUNT_LINK, csrf='form', link='undo'),
    ('/account', 'GET'): SESSION,
    ('/account/email', 'POST'): SESSION,
    ('/account/password', 'POST'): SESSION,
    ('/account/data', 'GET'): Entry(SIGNED_IN, "the signed-in person's own data only", csrf='session'),
    ('/account/delete', 'GET'): SESSION,
    ('/account/delete', 'POST'): Entry(SIGNED_IN, 'the sample body has no password: 400, nothing deleted',
                                       csrf='session'),
    ('/logout', 'POST'): SESSION,
    ('/dashboard', 'GET'): Entry(SIGNED_IN, 'lists only the circles the account may manage', csrf='session'),
    ('/facilitate/circles/new', 'GET'): Entry(SIGNED_IN, 'any account may start a circle', csrf='session'),
    ('/facilitate/circles/new', 'POST'): SESSION,
    ('/invitations/{token}', 'GET'): Entry(INVITATION, 'shows circle and address to whoever holds the link',
                                           link='invitation'),
    ('/invitations/{token}', 'POST'): Entry(INVITATION, csrf='session', link='invitation'),
    **{(path, method): MANAGE for path, method in [
        ('/facilitate/circles/{circle_id}', 'GET'),
        ('/facilitate/circles/{circle_id}/confirmation', 'POST'),
        ('/facilitate/circles/{circle_id}/edit', 'GET'),
        ('/facilitate/circles/{circle_id}/edit', 'POST'),
        ('/facilitate/circles/{circle_id}/insights', 'POST'),    # publish the report now (400: not ended yet)
        ('/facilitate/circles/{circle_id}/facilitators', 'POST'),
        ('/facilitate/circles/{circle_id}/facilitators/{user_id}/remove', 'GET'),
        ('/facilitate/circles/{circle_id}/facilitators/{user_id}/remove', 'POST'),
        ('/facilitate/circles/{circle_id}/meetings', 'GET'),
        ('/facilitate/circles/{circle_id}/meetings', 'POST'),
        ('/facilitate/circles/{circle_id}/meetings/{meeting_id}/cancel', 'GET'),
        ('/facilitate/circles/{circle_id}/meetings/{meeting_id}/cancel', 'POST'),
        ('/facilitate/circles/{circle_id}/meetings/{meeting_id}/feedback', 'GET'),
        ('/facilitate/circles/{circle_id}/meetings/{meeting_id}/feedback', 'POST'),
        ('/facilitate/circles/{circle_id}/meetings/{meeting_id}/move', 'POST'),
        ('/facilitate/circles/{circle_id}/meetings/{meeting_id}/reminder', 'GET'),
        ('/facilitate/circles/{circle_id}/meetings/{meeting_id}/reminder', 'POST'),
        ('/facilitate/circles/{circle_id}/messages/new', 'GET'),
        ('/facilitate/circles/{circle_id}/messages/new', 'POST'),
        ('/facilitate/circles/{circle_id}/messages/{message_key}', 'GET'),
        ('/facilitate/circles/{circle_id}/publish', 'POST'),
        ('/facilitate/circles/{circle_id}/signup', 'POST'),
        ('/facilitate/circles/{circle_id}/signups.csv', 'GET'),
        ('/facilitate/circles/{circle_id}/step/{step}', 'GET'),
        ('/facilitate/circles/{circle_id}/step/{step}', 'POST'),
        ('/facilitate/circles/{circle_id}/unpublish', 'GET'),
        ('/facilitate/circles/{circle_id}/unpublish', 'POST'),
    ]},
    ('/withdraw/{token}', 'GET'): Entry(LEARNER_LINK, 'only asks', link='withdraw'),
    ('/withdraw/{token}', 'POST'): Entry(LEARNER_LINK, link='withdraw'),
    ('/my-details/{token}', 'GET'): Entry(LEARNER_LINK, link='details'),
    ('/my-details/{token}', 'POST'): Entry(LEARNER_LINK, link='details'),
    ('/texts/{token}', 'GET'): Entry(LEARNER_LINK, link='texts'),
    ('/texts/{token}', 'POST'): Entry(LEARNER_LINK, link='texts'),
    ('/rsvp/{token}', 'GET'): Entry(LEARNER_LINK, 'the yes link of the next meeting', link='rsvp'),
    ('/rsvp/{token}', 'POST'): Entry(LEARNER_LINK, link='rsvp'),
    ('/r/{code}', 'GET'): Entry(LEARNER_LINK, 'an unsigned 60-bit code looked up in the table', link='short'),
    ('/unsubscribe/{token}', 'GET'): Entry(LEARNER_LINK, 'only asks', link='unsubscribe'),
    ('/unsubscribe/{token}', 'POST'): Entry(LEARNER_LINK, 'RFC 8058 one-click', link='unsubscribe'),
    ('/survey/{token}', 'GET'): Entry(LEARNER_LINK, "the end-of-circle survey (open in this world's circle)",
                                      csrf='form', link='survey'),
    ('/survey/{token}', 'POST'): Entry(LEARNER_LINK, 'the anonymous-form token as well as the link', csrf='form',
                                       link='survey'),
    ('/survey/{token}/thanks', 'GET'): Entry(LEARNER_LINK, link='survey-thanks'),
    **{(path, method): Entry(CIRCLE_FACILITATORS, "the facilitators' end-of-circle survey: not the organizers'",
                             csrf='session') for path, method in [
        ('/facilitate/circles/{circle_id}/survey', 'GET'), ('/facilitate/circles/{circle_id}/survey', 'POST'),
        ('/facilitate/circles/{circle_id}/survey/thanks', 'GET')]},
    ('/my-data', 'GET'): FORM_PAGE,
    ('/my-data', 'POST'): Entry(PUBLIC_FORM, 'the same answer for every contact; the sample body has none: 400',
                                csrf='form'),
    ('/my-data/{token}', 'GET'): Entry(LEARNER_LINK, "the link sent to the learner's own address (24 hours)",
                                       link='my-data'),
    ('/my-data/{token}/export.json', 'GET'): Entry(LEARNER_LINK, 'everything held about the link\'s contact only',
                                                   link='my-data-export'),
    ('/my-data/{token}/withdraw', 'POST'): Entry(LEARNER_LINK, 'the sample body names no circle: 400',
                                                 link='my-data-withdraw'),
    ('/my-data/{token}/erase', 'POST'): Entry(LEARNER_LINK, 'the sample body does not confirm: 400',
                                              link='my-data-erase'),
    ('/calendar/{token}/circles.ics', 'GET'): Entry(LEARNER_LINK, 'a bad feed token is "No such calendar" (404)',
                                                    link='feed', invalid=404),
    ('/teams/invitations/{token}', 'GET'): Entry(INVITATION, 'a team invitation: shows team and address to whoever '
                                                             'holds the link', csrf='form', link='team-invitation'),
    ('/teams/invitations/{token}', 'POST'): Entry(INVITATION, 'accepting needs the invited address',
                                                  csrf='session', link='team-invitation'),
    ('/teams/invitations/{token}/decline', 'POST'): Entry(LINK_HOLDERS, 'whoever holds the link may decline',
                                                          csrf='form', link='team-decline'),
    ('/teams/join/{token}', 'GET'): Entry(LINK_HOLDERS, "shows the team's name", link='join'),
    ('/teams/join/{token}', 'POST'): Entry(LINK_HOLDERS, 'any account joins as facilitator (a member stays as is)',
                                           csrf='session', link='join'),
    **{(path, 'POST'): Entry(TEAM_ORGANIZERS, 'the sample body is empty: 400', csrf='session') for path in [
        '/organize/{team_id}/invitations', '/organize/{team_id}/invitations/revoke',
        '/organize/{team_id}/invitations/resend', '/organize/{team_id}/members/role',
        '/organize/{team_id}/members/remove', '/organize/{team_id}/join-link']},
    ('/organize/{team_id}/members', 'GET'): Entry(TEAM_ORGANIZERS, 'current organizers of the team only',
                                                  csrf='session'),
    ('/organize/{team_id}/digest/{week}', 'GET'): Entry(TEAM_ORGANIZERS, 'current members of the team (this '
                                                        "world's only members are its organizers)"),
    ('/digest/unsubscribe/{token}', 'GET'): Entry(LINK_HOLDERS, 'only asks', link='digest-unsubscribe'),
    ('/digest/unsubscribe/{token}', 'POST'): Entry(LINK_HOLDERS, 'RFC 8058 one-click: the signed token is the '
                                                                 'credential', link='digest-unsubscribe'),
    **{(path, 'GET'): Entry(TEAM_ORGANIZERS, "the organizer's pages: current organizers of the team only")
       for path in ['/organize/{team_id}', '/organize/{team_id}/feedback', '/organize/{team_id}/circles']},
    ('/teams/{slug}', 'GET'): Entry(PUBLIC, "a team's page: its published, unfinished circles"),
    ('/teams/{slug}/embed', 'GET'): Entry(PUBLIC, 'the widget: the same circles, framable by any site'),
    ('/teams/{slug}/embed/{circle_id}', 'GET'): Entry(PUBLIC, "the widget's signup form for a circle of the team"),
    ('/teams/{slug}/embed/{circle_id}', 'POST'): Entry(PUBLIC, 'anyone may sign up; the sample body has no '
                                                               "widget token: 400"),
    ('/teams/{slug}/embed/{circle_id}/thanks', 'GET'): Entry(PUBLIC, 'the same page for every visitor'),
    ('/teams/{slug}/leave', 'GET'): Entry(TEAM_MEMBERS, 'only asks', csrf='session'),
    ('/teams/{slug}/leave', 'POST'): Entry(TEAM_MEMBERS, 'the last organizer may not leave: 400', csrf='session'),
    ('/admin/teams/new', 'GET'): Entry(SITE_ADMINS, '404 unless a site administrator, anonymous visitors too'),
    ('/admin/teams/new', 'POST'): Entry(SITE_ADMINS, '404 unless a site administrator (then the session CSRF)'),
    ('/local/outbox', 'GET'): Entry(LOCAL_ONLY, 'registered on the local stage only (app.py); shows every '
                                                'message sent on this machine to anyone there'),
    ('/local/outbox/reply', 'POST'): Entry(LOCAL_ONLY, 'a signed inbound text as a learner; the sample body is '
                                                       'empty: 400', csrf='form'),
    ('/sms/inbound', 'POST'): Entry(TWILIO, "Twilio's messaging webhook: 403 without Twilio's signature"),
    ('/sms/status', 'POST'): Entry(TWILIO, "Twilio's status callback: 403 without Twilio's signature"),
    ('/facilitate/circles/{circle_id}/texts/{signup_id}', 'GET'): MANAGE,
    ('/facilitate/circles/{circle_id}/texts/{signup_id}', 'POST'): Entry(CIRCLE_MANAGERS, 'the sample body is '
                                                                         'empty: 400', csrf='session'),
    **{('/{proxy+}', method): CATCH for method in ANY_METHOD},
    **{('/api/{proxy+}', method): CATCH for method in ANY_METHOD},
}


def app_routes():
    """(path, method, view name) of every route the app declares."""
    from app import app
    return sorted((path, method, entry.view_name) for path, methods in app.routes.items()
                  for method, entry in methods.items())


APP_ROUTES = app_routes()


# --- the world -------------------------------------------------------------------------

def _pattern(path):
    """A regex for a route pattern, its placeholders as named groups."""
    parts = re.split(r'{(\w+)\+?}', path)
    return re.compile(''.join(re.escape(p) if i % 2 == 0 else f'(?P<{p}>[^/]+)' for i, p in enumerate(parts)) + '$')


def _altered(token):
    """The token with one character changed, well inside its signature or MAC (the last
    base64 character of a signature may differ only in unused bits)."""
    i = len(token) - 5
    return token[:i] + ('x' if token[i] != 'x' else 'y') + token[i + 1:]


def _path(url):
    return url.removeprefix(get_settings().public_base_url)


class World:
    """A running circle of a team: its facilitator, a co-facilitator, two learners with mobiles;
    a facilitator of another circle (invited to co-facilitate this one), an organizer of this team
    and one of another team, an organizer whose membership was removed after signing in."""

    def __init__(self):
        today = local_today('America/Chicago')
        self.facilitator = account('Fay Facilitator')
        self.co_facilitator = account('Cody Cofacilitator')
        self.stranger = account('Sam Stranger')
        self.organizer = organizer_of(TEAM)
        self.revoked = organizer_of(TEAM, name='Rae Revoked')
        self.other_organizer = organizer_of(OTHER_TEAM, name='Oz Otherteam')
        self.newcomer = account('Nia Newcomer')
        self.circle = run_by(self.facilitator, self.co_facilitator, name=CIRCLE_NAME, team_id=TEAM,
                             first_date=today - timedelta(days=7), weeks=4)
        run_by(self.stranger, name="The stranger's own circle")
        run_by(account('Tam Teamfacilitator'), name="Another team's circle", team_id=OTHER_TEAM)
        self.lea = learner(self.circle, 'Zorabel Quistwick', 'zorabel@example.org', mobile='+1 312 555 0101')
        self.ben = learner(self.circle, 'Ben Otherlearner', 'ben@example.org', mobile='+1 312 555 0102')
        # Meeting 0 is a week ago (feedback, reminder), 1 today (it may have started), 2 next week.
        self.past, self.upcoming = self.circle.meetings[0], self.circle.meetings[2]
        self.message_key = 'matrix-message'
        CircleMessage(*CircleMessage.key(self.circle.id, self.message_key), circle_id=self.circle.id,
                      message_key=self.message_key, subject='Hello', body='See you soon',
                      author_id=self.facilitator.user_id, author_name=self.facilitator.name,
                      created_at=circles.utcnow()).save()
        users = {'facilitator of another circle': self.stranger, 'facilitator': self.facilitator,
                 'co-facilitator': self.co_facilitator, 'organizer of another team': self.other_organizer,
                 'organizer': self.organizer, 'revoked organizer': self.revoked}
        self.browsers = {role: Browser(user) for role, user in users.items()}
        # The team's page is at /teams/matrix-team.
        from chalicelib.models import Team
        from chalicelib.models.team import TeamSlugClaim
        Team.get(*Team.key(TEAM)).update(actions=[Team.slug.set(TEAM_SLUG)])
        TeamSlugClaim(*TeamSlugClaim.key(TEAM_SLUG), team_id=TEAM).save()
        # The circle's end-of-circle surveys are open (as the survey job leaves them, closing in a week).
        from chalicelib.models import CircleEnding
        now = circles.utcnow()
        CircleEnding(*CircleEnding.key(self.circle.id), circle_id=self.circle.id, stage='SURVEY_REMINDER',
                     last_meeting_ends_at=now, surveys_sent_at=now, surveys_close_at=now + timedelta(days=7),
                     created_at=now, updated_at=now).save()
        # Revoked after signing in, as tests/facilitators/test_roles.py does it.
        TeamMember.get(f'TEAM#{TEAM}', f'MEMBER#{self.revoked.user_id}').delete()
        self.form_cookies = {}
        for role in ROLES:
            value, set_cookie = sessions.new_form_cookie()
            self.form_cookies[role] = (set_cookie.split(';')[0], sessions.form_token(value))
        self.links = {'learner': self._learner_links(self.lea), 'another learner': self._learner_links(self.ben),
                      'facilitator': self._account_links(self.facilitator),
                      'facilitator of another circle': {'invitation': _path(circle_admin.invitation_link(
                          self.circle.id, self.stranger.email, self.facilitator.user_id)),
                          **self._team_links()}}

    def _team_links(self):
        """The stranger's invitation to this team, and the team's join link."""
        from chalicelib.teams import invitations
        invitation = invitations.invite(TEAM, self.stranger.email, self.organizer.user_id)
        team = invitations.set_join_link(TEAM, self.organizer.user_id, on=True)
        path = invitations.invitation_path(invitation)
        from chalicelib.teams import digest_job
        return {'team-invitation': path, 'team-decline': f'{path}/decline', 'join': invitations.join_path(team),
                'digest-unsubscribe': digest_job.unsubscribe_path(TEAM, self.stranger.user_id)}

    def _learner_links(self, signup):
        sent = rsvp.learner_links(signup, self.upcoming)      # saves the short link's item
        from chalicelib.ending.surveys import survey_link
        survey = _path(survey_link(signup))
        from chalicelib.privacy.my_data import Contact, link as my_data_link
        my_data = _path(my_data_link(Contact('email', signup.email)))
        return {'my-data': my_data, 'my-data-export': f'{my_data}/export.json',
                'my-data-withdraw': f'{my_data}/withdraw', 'my-data-erase': f'{my_data}/erase',
                'withdraw': _path(withdraw_link(signup)), 'details': _path(details_link(signup)),
                'survey': survey, 'survey-thanks': f'{survey}/thanks',
                'texts': _path(texts_link(signup)), 'rsvp': _path(sent['yes']), 'short': _path(sent['short']),
                'unsubscribe': _path(sent['unsubscribe']), 'feed': _path(rsvp.learner_feed_url(signup))}

    @staticmethod
    def _account_links(user):
        """The links the account's own emails carry, rendered by the app's account email template."""
        now = circles.utcnow()
        items = {'confirm': accounts.account_email(user.user_id, accounts.CONFIRM_EMAIL, user.email, now),
                 'reset': accounts.account_email(user.user_id, accounts.RESET_PASSWORD, user.email, now),
                 'undo': accounts.account_email(user.user_id, accounts.EMAIL_CHANGED, user.email, now,
                                                old=user.email, new='fay.new@example.org', at=now.isoformat())}
        prefixes = {'confirm': '/confirm/', 'reset': '/password/reset/', 'undo': '/account/email/undo/'}
        links_ = {}
        for kind, item in items.items():
            message = accounts._render_account_email(item, {User.key(user.user_id): user}, user.email, now)
            parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
            text = parsed.get_body(preferencelist=('plain',)).get_content()
            links_[kind] = _path(re.search(rf'(http://\S+{re.escape(prefixes[kind])}\S+)', text).group(1))
        return links_

    # --- requests ------------------------------------------------------------------------

    def link_path(self, path, entry, role):
        """The link `role` presents: its own (holder, or another learner), else an altered copy."""
        holder = HOLDER[entry.audience]
        if entry.audience in (INVITATION, LINK_HOLDERS) or role == holder:
            own = self.links[holder][entry.link]
        elif entry.audience == LEARNER_LINK and role == 'another learner':
            own = self.links['another learner'][entry.link]
        else:
            own = self.links[holder][entry.link]
            match = _pattern(path).match(own)
            name = next(iter(match.groupdict()))
            start, end = match.span(name)
            return own[:start] + _altered(match.group(name)) + own[end:]
        assert _pattern(path).match(own), f'{own} is no link for {path}'
        return own

    def url(self, path, entry, role):
        if entry.link:
            return self.link_path(path, entry, role)
        values = {
            'circle_id': self.circle.id,
            'meeting_id': self.upcoming.meeting_id if path.endswith(('/move', '/cancel')) else self.past.meeting_id,
            'user_id': self.co_facilitator.user_id, 'step': '1', 'message_key': self.message_key,
            'name': 'style.css', 'proxy': 'nope', 'team_id': TEAM, 'signup_id': self.lea.signup_id, 'slug': TEAM_SLUG,
            'code': 'es',
            'week': (date.today() - timedelta(days=date.today().weekday() + 7)).isoformat(),
        }

        def value(match):
            if match.group(1) not in values:
                pytest.fail(f'{path} has a placeholder {{{match.group(1)}}} that {__name__} does not know: '
                            f'add a sample value for it in World.url')
            return quote(values[match.group(1)])
        return re.sub(r'{(\w+)\+?}', value, path)

    def body(self, view_name):
        """A sample body: valid where this file knows the form, else a few fields (often a 400)."""
        if view_name == 'facilitator_edit':
            current = circles.get_circle(self.circle.id)
            return {**circle_admin.detail_values(current), 'name': CIRCLE_NAME + ' renamed',
                    'version': circle_admin.version_of(current)}
        if view_name in ('facilitator_add_meeting', 'facilitator_move_meeting'):
            current = circles.get_circle(self.circle.id)
            day = (date.fromisoformat(current.meetings[-1].local_date) + timedelta(days=7)
                   if view_name == 'facilitator_add_meeting'
                   else date.fromisoformat(self.upcoming.local_date) + timedelta(days=1))
            return {'date': day.isoformat(), 'time': '18:00'}
        return {
            'facilitator_set_signup_open': {'open': 'no'},
            'facilitator_add_cofacilitator': {'email': self.newcomer.email},
            'signup': {'learning_circle': self.circle.id},
            'circle_signup': {'name': 'Nosy Parker', 'email': 'nosy@example.org'},
            'login': {'email': 'nobody@example.org', 'password': 'not the password at all'},
            'reset': {'password': 'short'},
            'details_change': {'name': 'A New Name'},
            'texts_change': {'texts': 'off'},
            'rsvp_answer': {'answer': 'yes', 'sequence': '0'},
            'answer_learner_survey': {'goal_reached': '4', 'recommend': '8'},
            'unsubscribe': {'List-Unsubscribe': 'One-Click'},
            'digest_unsubscribe': {'List-Unsubscribe': 'One-Click'},
        }.get(view_name, {})

    def request(self, client, path, method, view_name, entry, role, csrf=True):
        url = self.url(path, entry, role)
        browser = self.browsers.get(role)
        form_cookie, form_token = self.form_cookies[role]
        cookies = [form_cookie] + ([browser.cookie] if browser else [])
        headers = {'Cookie': '; '.join(cookies)}
        if method == 'GET':
            return url, client.http.get(url, headers=headers)
        body = self.body(view_name)
        if csrf and entry.csrf == 'session' and browser:
            body['csrf_token'] = browser.csrf
        elif csrf and entry.csrf == 'form':
            body['csrf_token'] = form_token
        if entry.json:
            headers['Content-Type'] = 'application/json'
            data = json.dumps(body)
        else:
            headers['Content-Type'] = 'application/x-www-form-urlencoded'
            data = urlencode(body)
        return url, getattr(client.http, method.lower())(url, headers=headers, body=data)

    # --- what a refused request must leave as it was --------------------------------------

    def partition(self):
        """The circle's partition as stored: one Query."""
        return {(item.pk, item.sk): item.serialize() for item in TableItem.query(f'CIRCLE#{self.circle.id}')}

    @staticmethod
    def outbox_keys():
        return {(item.pk, item.sk) for item in Delivery.by_due.query('OUTBOX')}

    def learners_items(self, partition):
        """The first learner's own items: the signup, their answers, their messages."""
        return {key: value for key, value in partition.items() if self.lea.signup_id in key[1]}


# --- fixtures: one world per module, put back only after a test that wrote ------------------

WRITES = ('PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems')


def _fresh_table(moto):
    from chalicelib.circles import catalog
    moto.reset()
    catalog.forget()        # a new table: so is the container's catalog (the team pages read it)
    admin.create_table()
    admin.verify_local_sender()


@pytest.fixture(scope='module')
def world(moto):
    _fresh_table(moto)
    built = World()
    handle, built.dump = tempfile.mkstemp(prefix='circles-matrix-', suffix='.json')
    os.close(handle)
    admin.dump(built.dump)
    built.dirty = False
    yield built
    os.remove(built.dump)


@pytest.fixture(autouse=True)
def aws(moto, world):
    """Overrides conftest's `aws` (a fresh table per test) for this module: the world's dump is
    put back into a fresh table only when the previous test wrote anything."""
    if world.dirty:
        _fresh_table(moto)
        admin.load(world.dump)
    aws_calls.reset()
    yield moto
    calls = aws_calls.dynamodb_calls()
    world.dirty = any(calls.get(name) for name in WRITES)


@pytest.fixture(scope='module')
def http():
    from chalice.test import Client

    from app import app
    with Client(app) as test_client:
        yield test_client


# --- the matrix --------------------------------------------------------------------------

def _entry(path, method):
    entry = ROUTES.get((path, method))
    if entry is None:
        pytest.fail(f'{method} {path} has no entry in ROUTES of {__name__}: read its handler and give it '
                    f'an audience (with a one-line reason if it needs one)')
    return entry


def _allowed_statuses(entry, method):
    return {*range(200, 400), *((400,) if method != 'GET' else ()), *entry.also}


def _assert_learns_nothing(body, role, entry, outcome):
    if entry.audience == LOCAL_ONLY:
        return
    if role not in MANAGERS and not (role == 'learner' and entry.audience == LEARNER_LINK):
        leaked = [secret for secret in LEARNER_SECRETS if secret in body]
        assert not leaked, f'{role} was shown the first learner\'s {leaked}'
    if outcome in (LOGIN, NOT_FOUND, INVALID_LINK) or (entry.audience == SIGNED_IN and role not in MANAGERS):
        assert CIRCLE_SECRET not in body, f'{role} was shown the circle'


@pytest.mark.parametrize('role', ROLES)
@pytest.mark.parametrize('path, method, view_name', APP_ROUTES, ids=[f'{m} {p}' for p, m, _ in APP_ROUTES])
def test_authorization_matrix(http, world, path, method, view_name, role):
    entry = _entry(path, method)
    outcome = expected(entry, role, method)
    watch = outcome in REFUSED or outcome == OWN_DATA
    if watch:
        before, outbox_before = world.partition(), world.outbox_keys()
    url, response = world.request(http, path, method, view_name, entry, role)
    status, location = response.status_code, response.headers.get('Location', '')
    body = response.body.decode('utf-8', errors='replace') if isinstance(response.body, bytes) else response.body
    summary = (status, location, body[:300])
    if outcome in (ALLOWED, OWN_DATA):
        assert status in _allowed_statuses(entry, method), summary
        assert not location.startswith('/login?next='), summary
        assert status != 400 or LINK_INVALID not in body, summary
    elif outcome == LOGIN:
        assert status == 303 and location == f'/login?next={quote(url)}', summary
    elif outcome == NOT_FOUND:
        assert status == 404, summary
    elif outcome == FORBIDDEN:
        assert status == 403, summary
    elif outcome == INVALID_LINK:
        assert status == entry.invalid, summary
        assert entry.invalid != 400 or LINK_INVALID in body, summary
    _assert_learns_nothing(body, role, entry, outcome)
    if outcome in REFUSED:
        assert world.partition() == before, f'a refused request ({outcome}) changed the circle'
        assert world.outbox_keys() == outbox_before, f'a refused request ({outcome}) wrote to the outbox'
    elif outcome == OWN_DATA:
        assert world.learners_items(world.partition()) == world.learners_items(before), \
            "another learner's link changed the first learner's items"


# --- CSRF and links made for something else ---------------------------------------------------

CSRF_POSTS = [(p, m, v) for p, m, v in APP_ROUTES if m == 'POST' and ROUTES.get((p, m)) and ROUTES[(p, m)].csrf]


@pytest.mark.parametrize('path, method, view_name', CSRF_POSTS, ids=[f'{m} {p}' for p, m, _ in CSRF_POSTS])
def test_posts_without_the_csrf_token_are_refused(http, world, path, method, view_name):
    """Someone the route allows, whose browser was made to post without the form's token."""
    entry = ROUTES[(path, method)]
    # A form token is every visitor's (learners' too); a session token needs an account.
    role = next(r for r in ROLES if (r not in NO_SESSION or entry.csrf == 'form') and expected(entry, r, method) == ALLOWED)
    before, outbox_before = world.partition(), world.outbox_keys()
    _, response = world.request(http, path, method, view_name, entry, role, csrf=False)
    assert response.status_code == 403, (role, response.status_code)
    assert world.partition() == before and world.outbox_keys() == outbox_before


OTHER_PURPOSE = {'withdraw': 'details', 'details': 'withdraw', 'texts': 'unsubscribe', 'rsvp': 'withdraw',
                 'unsubscribe': 'texts', 'short': 'rsvp', 'feed': 'withdraw', 'confirm': 'reset',
                 'reset': 'confirm', 'undo': 'reset', 'invitation': 'details', 'team-invitation': 'details',
                 'team-decline': 'details', 'join': 'details', 'digest-unsubscribe': 'details',
                 'survey': 'withdraw', 'survey-thanks': 'withdraw', 'my-data': 'details', 'my-data-export': 'details',
                 'my-data-withdraw': 'withdraw', 'my-data-erase': 'withdraw'}
LINK_ROUTES = [(p, m, v) for p, m, v in APP_ROUTES if ROUTES.get((p, m)) and ROUTES[(p, m)].link]


@pytest.mark.parametrize('path, method, view_name', LINK_ROUTES, ids=[f'{m} {p}' for p, m, _ in LINK_ROUTES])
def test_a_link_made_for_another_purpose_is_refused(http, world, path, method, view_name):
    """The holder's own link of another purpose, put where this route's token goes."""
    entry = ROUTES[(path, method)]
    role = HOLDER[entry.audience]
    holders = {**world.links['learner'], **world.links['facilitator']}
    other = holders[OTHER_PURPOSE[entry.link]].rstrip('/').split('/')
    other_token = other[-2] if other[-1] == 'circles.ics' else other[-1]
    own = world.link_path(path, entry, role)
    match = _pattern(path).match(own)
    name = next(iter(match.groupdict()))
    url = own[:match.start(name)] + other_token + own[match.end(name):]
    before, outbox_before = world.partition(), world.outbox_keys()
    browser = world.browsers.get(role)
    form_cookie, form_token = world.form_cookies[role]
    headers = {'Cookie': '; '.join([form_cookie] + ([browser.cookie] if browser else []))}
    if method == 'GET':
        response = http.http.get(url, headers=headers)
    else:
        body = {**world.body(view_name),
                'csrf_token': browser.csrf if entry.csrf == 'session' else form_token}
        response = http.http.post(url, headers={**headers, 'Content-Type': 'application/x-www-form-urlencoded'},
                                  body=urlencode(body))
    assert response.status_code == entry.invalid, (response.status_code, response.body[:300])
    assert world.partition() == before and world.outbox_keys() == outbox_before


# --- the table itself -------------------------------------------------------------------------

def test_every_route_of_the_app_has_an_entry_and_no_entry_is_stale():
    declared = {(path, method) for path, method, _ in APP_ROUTES}
    missing = sorted(declared - ROUTES.keys())
    stale = sorted(ROUTES.keys() - declared)
    assert not missing, 'routes without an entry in ROUTES: ' + ', '.join(f'{m} {p}' for p, m in missing)
    assert not stale, 'entries for routes the app no longer has: ' + ', '.join(f'{m} {p}' for p, m in stale)


def test_every_audience_is_exercised():
    """Guard against the route discovery silently finding little."""
    assert {entry.audience for entry in ROUTES.values()} == {
        PUBLIC, PUBLIC_FORM, SIGNED_IN, CIRCLE_MANAGERS, LEARNER_LINK, ACCOUNT_LINK, INVITATION, LOCAL_ONLY, CATCH_ALL,
        TEAM_ORGANIZERS, LINK_HOLDERS, TEAM_MEMBERS, SITE_ADMINS, TWILIO, CIRCLE_FACILITATORS}
    assert len(APP_ROUTES) >= 80
