"""Sending the Monday digest: the `send-weekly-digests` job, its outbox items, the email, the
one-click unsubscribe and the web version.

    send_weekly_digests(now=None, deadline=None) -> summary      # the EventBridge cron, the CLI
    queue_team_digest(team_id, week, now) -> int                  # one team: items written now

- The job visits every team on the `TEAMS` registry of `by_due` (chalicelib.models.account), one
  Query per page of teams; per team it reads its week (chalicelib.teams.digest: 4 Queries, at
  most one BatchGetItem of circles), then, if the team had any activity, one BatchGetItem of the
  recipients' accounts and one TransactWriteItems: the digest (`TeamDigest`) and one outbox item
  per recipient. So 500 teams cost 500 times one team, whatever their sizes in circles.
- Recipients: the team's organizers and facilitators, except those who unsubscribed. Organizers
  may unsubscribe too: every digest carries a one-click unsubscribe link (RFC 8058), and a link
  that did nothing for some readers would be a false promise; they still have the web version
  and their pages.
- Exactly once per (team, week, recipient): the items' keys name the three, and every write is
  conditional on the item not existing. A second run, a retry or a concurrent run finds its
  transaction cancelled and writes, one conditional put each, only what is still missing (a team
  of more than 99 recipients takes several transactions; a crash between them leaves the rest
  to the next run). The digest stored first is the one every item renders, whichever run wrote it.
- The sender checks at send time that the recipient is still a member and has not unsubscribed,
  and renders what their role lets them read (`digest.view_for`).
"""
import functools
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from itsdangerous import BadSignature, URLSafeTimedSerializer
from pynamodb.exceptions import PutError, TransactWriteError

from chalicelib.core import i18n, observability
from chalicelib.core.i18n import N_, _
from chalicelib.core.clock import utcnow
from chalicelib.core.errors import NotFound
from chalicelib.core.links import BadLink
from chalicelib.core.settings import get_settings
from chalicelib.messaging import outbox
from chalicelib.messaging.sender import Skip, Template
from chalicelib.models import Team, TeamMember, User
from chalicelib.models.account import TEAMS_REGISTRY
from chalicelib.models.digest import TeamDigest
from chalicelib.models.transactions import condition_failed, transact_write
from chalicelib.teams import digest
from chalicelib.teams.teams import ROLES, membership

log = logging.getLogger(__name__)

TEMPLATE = 'digest'
TEAMS_AT_ONCE = 8                   # teams read and written at once
TEAMS_PAGE = 100
MAX_RUN_SECONDS = 14 * 60           # even without a deadline (the CLI)
STOP_MARGIN_SECONDS = 20
TRANSACTION_ITEMS = 100             # DynamoDB's limit per TransactWriteItems
# Its own purpose (salt): no other signed link of the app unsubscribes anyone from a digest.
UNSUBSCRIBE_PURPOSE, UNSUBSCRIBE_MAX_AGE = 'digest-unsubscribe', 400 * 24 * 3600
# RFC 8058: mail providers POST `List-Unsubscribe=One-Click` as either of these.
ONE_CLICK = ('application/x-www-form-urlencoded', 'multipart/form-data')


# --- which teams, which week ----------------------------------------------------------------

def registered_teams(now):
    """Ids of every team registered before `now`: one Query of `by_due` per page of 100."""
    query = Team.by_due.query(TEAMS_REGISTRY, Team.due_sk <= f'{now.isoformat()}~', limit=None,
                              page_size=TEAMS_PAGE, attributes_to_get=['pk', 'sk', 'kind', 'team_id'])
    for team in query:
        yield team.team_id


def purpose(week):
    return f'digest#{week.isoformat()}'


def recipient_id(user_id):
    return f'user-{user_id}'


def recipients(members):
    """Members who get the digest: organizers and facilitators who have not unsubscribed."""
    return [m for m in members if m.role in ROLES and m.digest_opted_out_at is None]


def digest_items(team_id, week, people, users, now):
    """One outbox item per recipient with an address, in the digest's partition, written in the
    recipient's language (`User.language`, the one they last used; English when none): a job
    has no visitor, and the digest is about no one circle, so the sender renders it in that."""
    items = []
    for member in people:
        user = users.get(member.user_id)
        if user is None or not user.email:
            continue
        items.append(outbox.message(TeamDigest.partition(team_id), purpose(week), recipient_id(member.user_id),
                                    outbox.EMAIL, TEMPLATE, now, to=user.email,
                                    language=user.language or i18n.SOURCE,
                                    params={'team': team_id, 'week': week.isoformat(), 'user': member.user_id}))
    return items


# --- one team -------------------------------------------------------------------------------

def queue_team_digest(team_id, week, now):
    """Write the team's digest of `week` and its outbox items if the team had any activity;
    returns how many items this call wrote (0 for a quiet team, or when they were written before)."""
    team_week = digest.read_team_week(team_id, week)
    if team_week is None:
        return 0
    people = recipients(team_week.partition.members)
    start, end = digest.week_bounds(week)
    joined = [m for m in team_week.partition.members if m.created_at and start <= m.created_at < end]
    if not (digest.took_place(team_week, week) or team_week.signups or joined):
        return 0
    team_week = digest.with_circles(team_week, week)
    wanted = {m.user_id for m in people} | {m.user_id for m in joined}
    users = {u.user_id: u for u in User.batch_get([User.key(user_id) for user_id in sorted(wanted)])} if wanted else {}
    data = digest.compose(team_week, users, week)
    if data is None:
        return 0
    snapshot = TeamDigest.of(team_id, week.isoformat(), data, now)
    items = digest_items(team_id, week, people, users, now)
    snapshot.recipients = len(items)
    return _write(snapshot, items)


def _write(snapshot, items):
    """The digest and its items, each only if missing (the module docstring); returns how many
    items were written."""
    written = 0
    chunks = [items[:TRANSACTION_ITEMS - 1]] + [items[i:i + TRANSACTION_ITEMS]
                                                for i in range(TRANSACTION_ITEMS - 1, len(items), TRANSACTION_ITEMS)]
    for n, chunk in enumerate(chunks):
        with_snapshot = n == 0

        def write(transaction, chunk=chunk, with_snapshot=with_snapshot):
            if with_snapshot:
                transaction.save(snapshot, condition=TeamDigest.pk.does_not_exist())
            for item in chunk:
                transaction.save(*outbox.put(item))
        if not chunk and not with_snapshot:
            continue
        try:
            transact_write(write)
            written += len(chunk)
            continue
        except TransactWriteError as error:
            if not condition_failed(error):
                raise
        if with_snapshot:
            _save_if_missing(snapshot)
        written += len(outbox.write(chunk))
    return written


def _save_if_missing(snapshot):
    try:
        snapshot.save(condition=TeamDigest.pk.does_not_exist())
    except PutError as error:
        if error.cause_response_code != 'ConditionalCheckFailedException':
            raise


# --- the job --------------------------------------------------------------------------------

def send_weekly_digests(now=None, deadline=None):
    """Queue last week's digest of every team (the module docstring); returns a summary dict.
    `deadline` is the `time.monotonic()` instant to be done by (the Lambda's timeout): no team
    is started after STOP_MARGIN_SECONDS before it, and the next run does the rest."""
    now = now or utcnow()
    week = digest.week_of(now)
    started = time.monotonic()
    deadline = deadline or started + MAX_RUN_SECONDS
    stop_at = deadline - min(STOP_MARGIN_SECONDS, max(deadline - started, 0) / 4)
    summary = {'week': week.isoformat(), 'teams': 0, 'digests': 0, 'messages_queued': 0, 'teams_failed': 0}
    tasks = []
    with ThreadPoolExecutor(max_workers=TEAMS_AT_ONCE, thread_name_prefix='digest') as pool:
        for team_id in registered_teams(now):
            if time.monotonic() >= stop_at:
                summary['stopped_early'] = True
                break
            summary['teams'] += 1
            tasks.append((team_id, pool.submit(queue_team_digest, team_id, week, now)))
        for team_id, task in tasks:
            try:
                queued = task.result()
            except Exception:  # noqa: BLE001 - a DynamoDB error for one team: the next run retries it
                log.exception('digest of team %s: failed', team_id)
                summary['teams_failed'] += 1
                continue
            summary['digests'] += bool(queued)
            summary['messages_queued'] += queued
    summary['seconds'] = round(time.monotonic() - started, 2)
    log.info('send_weekly_digests: %s', summary)
    observability.count('DigestsSent', summary['digests'])              # metrics, zeros included
    observability.count('DigestTeamsFailed', summary['teams_failed'])
    return summary


# --- one-click unsubscribe ------------------------------------------------------------------

@functools.cache
def _serializer():
    return URLSafeTimedSerializer(get_settings().secret_key, salt=f'circles.{UNSUBSCRIBE_PURPOSE}')


def unsubscribe_path(team_id, user_id):
    return f'/digest/unsubscribe/{_serializer().dumps({"t": team_id, "u": user_id})}'


def unsubscribe_url(team_id, user_id):
    return f'{get_settings().public_base_url}{unsubscribe_path(team_id, user_id)}'


def _unsubscribe_key(token):
    try:
        payload = _serializer().loads(token, max_age=UNSUBSCRIBE_MAX_AGE)
    except BadSignature as error:
        raise BadLink(str(error)) from error
    if not isinstance(payload, dict) or not all(isinstance(payload.get(k), str) for k in 'tu'):
        raise BadLink('not a digest unsubscribe token')
    return payload['t'], payload['u']


def set_digest(token, wanted, now=None):
    """Stop (or, `wanted`, restart) the token's member's digest of the token's team: one
    conditional update with its consent record (one transaction), before anything is read.
    Someone no longer in the team gets no digest anyway: not an error (the one-click POST must
    answer 200). Returns the team id; BadLink."""
    from chalicelib.models import consent
    team_id, user_id = _unsubscribe_key(token)
    now = now or utcnow()
    member = TeamMember(f'TEAM#{team_id}', f'MEMBER#{user_id}')
    action = TeamMember.digest_opted_out_at.remove() if wanted else TeamMember.digest_opted_out_at.set(now)
    record = consent.record(consent.user_subject(user_id), consent.DIGEST,
                            consent.GIVEN if wanted else consent.WITHDRAWN, consent.DIGEST_ONE_CLICK, now,
                            scope=f'TEAM#{team_id}')

    def write(transaction):
        transaction.update(member, actions=[action], condition=TeamMember.pk.exists())
        consent.save_in(transaction, [record])
    try:
        transact_write(write)
    except TransactWriteError as error:
        if not condition_failed(error):
            raise
    return team_id


def unsubscribe_status(token):
    """(team or None, membership or None) for the confirmation page: one BatchGetItem. BadLink."""
    from chalicelib.models import TableItem
    team_id, user_id = _unsubscribe_key(token)
    keys = [Team.key(team_id), (f'TEAM#{team_id}', f'MEMBER#{user_id}')]
    found = {(item.pk, item.sk): item for item in TableItem.batch_get(keys)}
    return found.get(keys[0]), found.get(keys[1])


# --- the web version ------------------------------------------------------------------------

def web_digest(team_id, week, user_id):
    """(view, sent) of the team's digest of `week` for a current member of the team: the one sent
    (one GetItem of the membership, one of the digest) or, when none was sent for that week,
    what it holds now (`sent` False; the reads of one team's digest). NotFound for anyone not in
    the team now, as for a team that does not exist."""
    member = membership(team_id, user_id) if user_id else None
    if member is None or member.role not in ROLES:
        raise NotFound(_('We could not find that team.'))
    try:
        data, sent = TeamDigest.get(*TeamDigest.key(team_id, week.isoformat())).data, True
    except TeamDigest.DoesNotExist:
        data, sent = _composed_now(team_id, week), False
    return digest.view_for(data, member.role, user_id), sent


def _composed_now(team_id, week):
    team_week = digest.read_team_week(team_id, week)
    if team_week is None:
        raise NotFound(_('We could not find that team.'))
    team_week = digest.with_circles(team_week, week)
    users = {u.user_id: u for u in User.batch_get([User.key(m.user_id) for m in team_week.partition.members])} \
        if team_week.partition.members else {}
    return digest.compose(team_week, users, week, always=True)


# --- the email (the sender's template) ------------------------------------------------------

def web_url(team_id, week):
    return f'{get_settings().public_base_url}/organize/{team_id}/digest/{week}'


def _keys(item):
    params = item.params
    return [TeamDigest.key(params['team'], params['week']), (f'TEAM#{params["team"]}', f'MEMBER#{params["user"]}')]


def _render(item, reads, to, now):
    params = item.params
    snapshot = reads.get(TeamDigest.key(params['team'], params['week']))
    member = reads.get((f'TEAM#{params["team"]}', f'MEMBER#{params["user"]}'))
    if member is None or member.role not in ROLES:
        raise Skip(N_('They are no longer a member of the team.'))
    if member.digest_opted_out_at is not None:
        raise Skip(N_('They unsubscribed from the team\'s digest.'))
    if snapshot is None:
        raise Skip(N_('The digest is not stored.'))
    return digest_email(digest.view_for(snapshot.data, member.role, member.user_id), to, member.user_id)


def digest_email(view, to, user_id):
    from chalicelib.core.rendering import render
    from chalicelib.messaging.email import build_message
    unsubscribe = unsubscribe_url(view['team_id'], user_id)
    context = {'digest': view, 'web_url': web_url(view['team_id'], view['week']), 'unsubscribe_url': unsubscribe,
               'base_url': get_settings().public_base_url}
    return build_message(to=to, subject=digest.subject(view), text=render('email/digest.txt', **context),
                         html=render('email/digest.html', **context),
                         headers={'List-Unsubscribe': f'<{unsubscribe}>',
                                  'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click'})


DIGEST = Template(keys=_keys, render=_render)
