"""Publishing the insights report: the hourly `publish-insights` job and "generate it now".

    publish_due_insights(now)               # the job: closings due on the INSIGHTS queue
    generate_now(session, circle_id, now)   # a facilitator (or the team's organizer), early

Each publication is ONE Query of the circle's partition (`report.read_partition`) and ONE
transaction that writes, together or not at all:

- the `InsightsReport` (the snapshot), on the condition that it is still as it was read (absent,
  or generated at the same instant);
- the first time, the circle's `report_published_at` and its catalog card, which then carries
  the `report_url` (every container's catalog has it within its refresh interval); conditional on
  the circle's `updated_at` as read, and setting it, so an edit form read before does not write
  the circle back without it;
- for the job, the closing (`ENDING`) off the queue (stage `done`, no due keys), on the condition
  that it is still on the INSIGHTS queue at the `due_sk` read;
- the first time, the emails: one outbox fan-out item (`DELIVERY#insights#all#fan-out`, written
  only if it does not exist), which the sender expands into one item per person and channel,
  keyed `DELIVERY#insights#<recipient>#<channel>`, each a conditional put: exactly once per
  (circle, person, kind), whoever runs it and however often.

A lost race (a condition failed: another run, the facilitator, an edit) reads again and decides
again, up to ATTEMPTS times, so two concurrent runs publish and send once.

What is decided here:
- The report is generated the first time it is asked for (the facilitator early, once the last
  meeting has ended, or the job when the surveys close); the emails go out then, once.
- Generated early, it is generated once more when the surveys close (by the job: the answers
  given since are counted), without any email; after that it stays as it is. A facilitator asking
  again for a report that exists changes nothing.
- The job publishes nothing for a circle that is no longer published or that did not happen (its
  facilitators said so in their survey): its closing just leaves the queue.
- Recipients: the circle's facilitators, its team's current organizers (once each: an organizer
  who facilitates gets the facilitator's email) and every learner still signed up, by email, or
  by SMS with the link when they gave only a mobile number.
"""
import logging
from datetime import timedelta

from pynamodb.exceptions import TransactWriteError

from chalicelib.circles import circles
from chalicelib.core.clock import utcnow
from chalicelib.core.errors import NotFound, Refusal
from chalicelib.core.i18n import N_, _
from chalicelib.insights import report as figures_of
from chalicelib.insights.report import FAN_OUT_PURPOSE
from chalicelib.messaging import outbox
from chalicelib.messaging.sender import Skip, Template
from chalicelib.models import Circle, CircleEnding, InsightsReport, Signup
from chalicelib.models.ending import INSIGHTS_QUEUE
from chalicelib.models.transactions import condition_failed, transact_write

log = logging.getLogger(__name__)

ATTEMPTS = 3
DONE = 'done'
PUBLISHED, UPDATED, UNCHANGED, SKIPPED = 'published', 'updated', 'unchanged', 'skipped'


class TooEarly(Refusal):
    """The report asked for before the circle's last meeting has ended."""
    status = 400
    message = N_('The report can be generated once the last meeting of the circle has ended.')

    def __init__(self, message=None, errors=None):
        super().__init__(message or _(self.message), errors)      # translated when raised


def insights_path(circle_id):
    return f'/circles/{circle_id}/insights'


def insights_url(circle_id):
    return f'{circles.circle_url(circle_id)}/insights'


def last_meeting_end(circle):
    meetings = figures_of.schedule(circle)
    if not meetings:
        return None
    last = meetings[-1]
    return last.starts_at + timedelta(minutes=int(last.duration_minutes or 0))


# --- the job -------------------------------------------------------------------------------

def publish_due_insights(now=None):
    """Publish the report of every circle whose surveys have closed: the closings due on the
    INSIGHTS queue of `by_due` (one Query; nothing due: that is the whole run). Returns
    {outcome: count}."""
    now = now or utcnow()
    outcomes = {}
    for ending in CircleEnding.by_due.query(INSIGHTS_QUEUE, CircleEnding.due_sk <= f'{now.isoformat()}#~'):
        outcome = publish_at_close(ending.circle_id, now)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    if outcomes:
        log.info('publish-insights: %s', outcomes)
    return outcomes


def _due(ending, now):
    return (ending is not None and ending.stage == INSIGHTS_QUEUE and ending.due_pk == INSIGHTS_QUEUE
            and (ending.due_sk or '~') <= f'{now.isoformat()}#~')


def publish_at_close(circle_id, now):
    """The job's step for one circle (read consistently: the index may be behind)."""
    for _attempt in range(ATTEMPTS):
        part = figures_of.read_partition(circle_id)
        if part is None or not _due(part.ending, now):
            return UNCHANGED
        publish = part.circle.published and not figures_of.did_not_happen(part)
        try:
            _write(part, now, by=None, report=publish, close=True)
        except _LostRace:
            continue
        return (UPDATED if part.report else PUBLISHED) if publish else SKIPPED
    log.warning('publish-insights: circle %s kept changing; it stays due for the next run', circle_id)
    return UNCHANGED


# --- the facilitator's "generate it now" -------------------------------------------------------

def generate_now(session, circle_id, now=None):
    """Publish the report now, for a facilitator of the circle or an organizer of its team (anyone
    else: NotFound, as for a circle that does not exist). TooEarly before the last meeting has
    ended. True when it was published now, False when it existed already (nothing changes)."""
    from chalicelib.facilitators.access import can_manage
    now = now or utcnow()
    for _attempt in range(ATTEMPTS):
        part = figures_of.read_partition(circle_id)
        if part is None or not can_manage(session, part.circle):
            raise NotFound(_('No such learning circle.'))
        if part.report is not None:
            return False
        if not part.circle.published:
            raise NotFound(_('No such learning circle.'))
        ends = last_meeting_end(part.circle)
        if ends is None or ends > now:
            raise TooEarly()
        try:
            _write(part, now, by=session.user_id, report=True, close=False)
        except _LostRace:
            continue
        return True
    from chalicelib.models.transactions import TransactionBusy
    raise TransactionBusy()


# --- the one transaction ---------------------------------------------------------------------

class _LostRace(Exception):
    """A condition of the transaction failed: something changed since the partition was read."""


def _write(part, now, *, by, report, close):
    circle = part.circle
    items = []
    if report:
        items.append(_report_item(part, now, by))
        if circle.report_published_at is None:
            items.append(_circle_update(circle, now))
        if not part.emails_queued:
            items.append(('save', outbox.put(outbox.fan_out(
                outbox.circle_partition(circle.id), FAN_OUT_PURPOSE, 'insights_fan_out', now, circle_id=circle.id))))
    if close:
        items.append(_ending_off_queue(part.ending, now))

    def build(transaction):
        for kind, arguments in items:
            if kind == 'save':
                transaction.save(*arguments)
            else:
                model, actions, condition = arguments
                transaction.update(model, actions=actions, condition=condition)
    try:
        transact_write(build)
    except TransactWriteError as error:
        if condition_failed(error):
            raise _LostRace() from None
        raise


def _report_item(part, now, by):
    circle_id = part.circle.id
    item = InsightsReport(*InsightsReport.key(circle_id), circle_id=circle_id, generated_at=now,
                          generated_by=by if part.report is None else part.report.generated_by,
                          figures=figures_of.snapshot(part, now),
                          created_at=part.report.created_at if part.report else now, updated_at=now)
    if part.report is None:
        condition = InsightsReport.pk.does_not_exist()
    else:
        condition = InsightsReport.generated_at == part.report.generated_at
    return 'save', (item, condition)


def _circle_update(circle, now):
    """The circle's first report: its flag and its card (rebuilt from the circle as read)."""
    read_at = circle.updated_at
    circle.report_published_at = now
    circles.refresh_derived(circle)
    actions = [Circle.report_published_at.set(now), Circle.updated_at.set(utcnow())]
    if circle.catalog_pk:
        actions += [Circle.catalog_pk.set(circle.catalog_pk), Circle.changed_millis.set(circle.changed_millis),
                    Circle.card.set(circle.card)]
    condition = Circle.updated_at == read_at if read_at else Circle.updated_at.does_not_exist()
    return 'update', (circle, actions, condition & Circle.report_published_at.does_not_exist())


def _ending_off_queue(ending, now):
    actions = [CircleEnding.stage.set(DONE), CircleEnding.due_pk.remove(), CircleEnding.due_sk.remove(),
               CircleEnding.updated_at.set(now)]
    condition = (CircleEnding.stage == INSIGHTS_QUEUE) & (CircleEnding.due_sk == ending.due_sk)
    return 'update', (ending, actions, condition)


# --- the messages: expanded and rendered by the sender ----------------------------------------

FACILITATOR, ORGANIZER, LEARNER = 'facilitator', 'organizer', 'learner'


def recipients(circle, signups, organizers, now=None):
    """The report's outbox items, one per person and channel: the facilitators, the organizers
    (rows of `teams.member_rows`) who do not facilitate it, the learners still signed up."""
    now = now or utcnow()
    items, addresses = [], set()
    for recipient, address in circles.facilitator_recipients(circle):
        if address and address.lower() not in addresses:
            addresses.add(address.lower())
            items.append(outbox.for_address(circle.id, FAN_OUT_PURPOSE, recipient, address, 'insights', now,
                                            params={'audience': FACILITATOR}))
    for row in organizers:
        address = row.get('email') or ''
        if address and address.lower() not in addresses and row['user_id'] not in (circle.facilitator_ids or []):
            addresses.add(address.lower())
            items.append(outbox.for_address(circle.id, FAN_OUT_PURPOSE, f"organizer-{row['user_id']}", address,
                                            'insights', now, params={'audience': ORGANIZER}))
    for signup in signups:
        if not signup.active:
            continue
        if signup.email:
            items.append(outbox.for_signup(signup, FAN_OUT_PURPOSE, outbox.EMAIL, 'insights', now,
                                           params={'audience': LEARNER}))
        elif signup.mobile:
            items.append(outbox.for_signup(signup, FAN_OUT_PURPOSE, outbox.SMS, 'insights_sms', now))
    return items


def _expand(item, reads, now):
    circle = reads.get(Circle.key(item.circle_id))
    if circle is None or not circle.published:
        return []
    signups = Signup.query(outbox.circle_partition(circle.id), Signup.sk.startswith('SIGNUP#'), consistent_read=True)
    return recipients(circle, list(signups), _organizers(circle), now)


def _organizers(circle):
    if not circle.team_id:
        return []
    from chalicelib.teams import teams
    found = teams.team_partition(circle.team_id)
    if found is None:
        return []
    return teams.member_rows([m for m in found.members if m.role == teams.ORGANIZER])


def _keys(item):
    return [Circle.key(item.circle_id), InsightsReport.key(item.circle_id)]


def _published(item, reads):
    circle, found = reads.get(Circle.key(item.circle_id)), reads.get(InsightsReport.key(item.circle_id))
    if circle is None or found is None or not circle.published:
        raise Skip(N_('The report is no longer published.'))
    return circle, found


def _render_email(item, reads, to, now):
    circle, found = _published(item, reads)
    signup = reads.get(Signup.key(item.circle_id, item.signup_id)) if item.signup_id else None
    return report_email(circle, found.figures, (item.params or {}).get('audience', LEARNER), to, signup)


def _render_sms(item, reads, to, now):
    circle, _report = _published(item, reads)
    return report_sms(circle)


INSIGHTS_FAN_OUT = Template(keys=lambda item: [Circle.key(item.circle_id)], expand=_expand)
INSIGHTS_EMAIL = Template(keys=_keys, render=_render_email)
INSIGHTS_SMS = Template(keys=_keys, render=_render_sms)


def report_email(circle, figures, audience, to, signup=None):
    """The email: the headline figures in words (no chart: mail programs drop inline SVG) and the
    link to the page. The same figures for everyone (what is suppressed is suppressed for all);
    a learner's email carries their withdraw and texts links, and no name at all."""
    from chalicelib.core.rendering import render
    from chalicelib.insights.page import summary
    from chalicelib.messaging import email
    context = {'circle': circle, 'figures': figures, 'summary': summary(figures), 'audience': audience,
               'report_url': insights_url(circle.id), 'circle_url': circles.circle_url(circle.id),
               'withdraw_url': None, 'texts_url': None}
    if signup is not None:
        from chalicelib.learners.signup import withdraw_link
        from chalicelib.learners.texts import texts_link
        context.update(withdraw_url=withdraw_link(signup), texts_url=texts_link(signup))
    return email.build_message(to=to, subject=_('The insights report of %(name)s') % {'name': circle.name},
                               text=render('email/insights.txt', **context),
                               html=render('email/insights.html', **context),
                               reply_to=list(circle.facilitator_emails) if audience == LEARNER else ())


def report_sms(circle):
    """One text: the circle's short name, the link, and the opt-out words every text ends with
    (in the language of the moment: the sender's, the circle's)."""
    from chalicelib.messaging.sms_text import fold_to_gsm7
    from chalicelib.reminders.render import short_name
    # Translators: an SMS. Keep STOP in capitals, untranslated: the network acts on the English word.
    return fold_to_gsm7(_('%(name)s: the report of your learning circle is ready: %(link)s Reply STOP to stop texts') % {
        'name': short_name(circle), 'link': insights_url(circle.id)})
