"""Maintenance commands: create the table, verify the local sender, dump and load data.

The only module allowed to Scan (a dump reads everything on purpose).
"""
import base64
import json
from email.utils import parseaddr

from chalicelib.core.clock import utcnow
from chalicelib.models import TableItem
from chalicelib.core.settings import get_settings


TTL_ATTRIBUTE = 'expires_at'


def create_table(wait=True):
    """Create the table with every index and TTL on `expires_at`, if missing (idempotent).

    The deployed table comes from infra/resources.yaml; a test keeps the two identical.
    """
    if TableItem.exists():
        return
    TableItem.create_table(wait=wait, billing_mode='PAY_PER_REQUEST')
    import boto3
    boto3.client('dynamodb', region_name=get_settings().region).update_time_to_live(
        TableName=TableItem.Meta.table_name,
        TimeToLiveSpecification={'Enabled': True, 'AttributeName': TTL_ATTRIBUTE})


def verify_local_sender():
    """Local SES (moto) refuses mail from unverified identities: verify the sender's domain."""
    import boto3
    domain = parseaddr(get_settings().sender)[1].split('@')[-1]
    boto3.client('sesv2', region_name=get_settings().region).create_email_identity(EmailIdentity=domain)


def is_empty():
    return next(iter(TableItem.scan(limit=1)), None) is None


def items_mentioning(values):
    """Every item (raw DynamoDB JSON) in which any of `values` occurs, case-insensitively, in a key,
    an attribute or nested inside one: a Scan of the whole table, for the erasure tests' proof
    that nothing about a person is left."""
    from pynamodb.connection import Connection
    wanted = [value.lower() for value in values if value]
    connection, found, start = Connection(region=get_settings().region), [], None
    while True:
        page = connection.scan(TableItem.Meta.table_name, **({'exclusive_start_key': start} if start else {}))
        for item in page.get('Items', []):
            text = json.dumps(item, ensure_ascii=False, default=lambda data: data.decode('utf-8', 'replace')).lower()
            if any(value in text for value in wanted):
                found.append(item)
        start = page.get('LastEvaluatedKey')
        if not start:
            return found


def dump(path):
    """Write every item (raw DynamoDB JSON) to `path`; used to keep local data across restarts."""
    from pynamodb.connection import Connection
    connection = Connection(region=get_settings().region)
    items, start = [], None
    while True:
        kwargs = {'exclusive_start_key': start} if start else {}
        page = connection.scan(TableItem.Meta.table_name, **kwargs)
        items.extend(page.get('Items', []))
        start = page.get('LastEvaluatedKey')
        if not start:
            break
    with open(path, 'w') as file:
        json.dump(_binary_as(items, lambda data: base64.b64encode(data).decode()), file)
    return len(items)


def _binary_as(value, convert):
    """`value` (DynamoDB JSON) with every binary value converted (bytes <-> base64 text)."""
    if isinstance(value, list):
        return [_binary_as(element, convert) for element in value]
    if isinstance(value, dict):
        return {key: convert(element) if key == 'B' else _binary_as(element, convert)
                for key, element in value.items()}
    return value


def load(path):
    """Put back the items written by `dump`."""
    import boto3
    with open(path) as file:
        items = _binary_as(json.load(file), base64.b64decode)
    client = boto3.client('dynamodb', region_name=get_settings().region)
    for start in range(0, len(items), 25):
        batch = [{'PutRequest': {'Item': item}} for item in items[start:start + 25]]
        client.batch_write_item(RequestItems={TableItem.Meta.table_name: batch})
    backfill_catalog()
    backfill_team_days()
    backfill_team_registry()
    return len(items)


def backfill_team_registry():
    """Put the teams saved before the `TEAMS` registry existed on it (the digest job lists teams
    there). A Scan, like `backfill_catalog`. Returns how many were saved again."""
    from chalicelib.models import Team
    from chalicelib.models.account import TEAMS_REGISTRY
    count = 0
    for team in Team.scan(Team.due_pk.does_not_exist()):
        team.due_pk = TEAMS_REGISTRY
        team.due_sk = (team.created_at or utcnow()).isoformat()
        team.save()
        count += 1
    return count


def backfill_team_days():
    """Put the team circles saved before `by_team_day` existed on their team's days: their
    meeting entries, and the keys of their feedback and signups (Scans, like `backfill_catalog`).
    Returns how many items were written."""
    from chalicelib.circles import meeting_entries
    from chalicelib.models import Circle, MeetingFeedback, Signup
    from chalicelib.models.meeting_entry import FEEDBACK, SIGNUP, team_day_pk
    teams = {circle.id: circle for circle in Circle.scan(Circle.team_id.exists())}
    count = sum(meeting_entries.sync_entries(circle) for circle in teams.values())
    for item in [*MeetingFeedback.scan(MeetingFeedback.td_pk.does_not_exist()),
                 *Signup.scan(Signup.td_pk.does_not_exist() & Signup.withdrawn_at.does_not_exist())]:
        circle = teams.get(item.circle_id)
        if isinstance(item, MeetingFeedback):
            meeting = circle and next((m for m in circle.meetings if m.meeting_id == item.meeting_id), None)
            day = meeting and f'{FEEDBACK}{meeting.local_date}#{circle.id}#{meeting.meeting_id}'
        else:
            day = circle and item.created_at and f'{SIGNUP}{item.created_at.isoformat()}#{circle.id}#{item.signup_id}'
        if day:
            item.td_pk, item.td_sk = team_day_pk(circle.team_id), day
            item.save()
            count += 1
    return count


def backfill_catalog():
    """Give the published circles saved before the catalog existed their card (a Scan: data
    kept by `make run` from an older version). Returns how many were saved again."""
    from chalicelib.circles import circles
    from chalicelib.models import Circle
    count = 0
    for circle in Circle.scan(Circle.published == True):  # noqa: E712
        if circle.catalog_pk is None:
            circles.refresh_derived(circle)
            circle.save()
            count += 1
    return count
