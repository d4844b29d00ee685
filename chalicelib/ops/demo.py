"""Demo data for the local stack: learning circles in four cities, facilitators and a team.

Written through the same domain functions the app uses, so the demo exercises
the real derived fields and indexes. Dates are relative to `now`, each in the
circle's own timezone, so every `make run` shows a mix of upcoming, running and
finished circles. Content is fixed; only ids are random.

The team (Chicago Public Library, `/teams/chicago-public-library`) has the demo organizer, two
facilitators and a week of history in the current week: meetings with RSVPs and feedback (one
reflection shared with the organizers, one kept), a meeting without feedback, a circle that
starts and one that ends, learners who signed up with their goals, and a circle that starts
next week. The Monday digest of that week is the one
`python -m chalicelib.cli run-job send-weekly-digests --now <next Monday>T10:00:00Z` sends.
Feedback and RSVPs are recorded as of the meeting (an RSVP a day before it, feedback an hour
after it ends), also for the meetings of the week still to come when the demo is loaded.
"""
from datetime import time, timedelta
from typing import NamedTuple

from chalicelib.circles import circles
from chalicelib.facilitators import access as facilitation
from chalicelib.core.ids import new_id
from chalicelib.models import Course, EmailClaim, User
from chalicelib.core.clock import zone_info

FACILITATOR = {'role': 'facilitator', 'name': 'Amara Okafor', 'first_name': 'Amara',
               'email': 'facilitator@example.org', 'password': 'demo-facilitator-2024'}
ORGANIZER = {'role': 'organizer', 'name': 'Morgan Lee', 'first_name': 'Morgan',
             'email': 'organizer@example.org', 'password': 'demo-organizer-2024'}
SECOND_FACILITATOR = {'role': 'facilitator', 'name': 'Jordan Rivera', 'first_name': 'Jordan',
                      'email': 'jordan@example.org', 'password': 'demo-facilitator-2025'}
DEMO_LOGINS = [FACILITATOR, ORGANIZER, SECOND_FACILITATOR]
TEAM_NAME = 'Chicago Public Library'
TEAM_SLUG = 'chicago-public-library'
TEAM_INTRODUCTION = ('Free, weekly learning circles in Chicago Public Library branches and online: '
                     'programming, study skills, careers and more. Everyone is welcome.')

PLACES = {
    'Chicago': dict(city='Chicago', region='Illinois', country='United States',
                    timezone_name='America/Chicago'),
    'Nairobi': dict(city='Nairobi', region='Nairobi County', country='Kenya',
                    timezone_name='Africa/Nairobi'),
    'Berlin': dict(city='Berlin', region='Berlin', country='Germany',
                   timezone_name='Europe/Berlin'),
    'Buenos Aires': dict(city='Buenos Aires', region='Ciudad Autónoma de Buenos Aires',
                         country='Argentina', timezone_name='America/Argentina/Buenos_Aires'),
}

# `week` places the first meeting relative to the current week (negative: already
# started); `weekday` is Monday = 0. With `weeks` meetings this gives the status.
CIRCLES = [
    dict(place='Chicago', team=True, name='Python for Everybody at Harold Washington',
         course=('Python for Everybody', 'University of Michigan', 'https://www.py4e.com/',
                 ['programming', 'python']),
         venue_name='Harold Washington Library Center',
         venue_address='400 S State St, Chicago, IL 60605', latitude=41.8763, longitude=-87.6281,
         venue_details='Room 3N-1, third floor. Take the elevators past the circulation desk.',
         venue_website='https://www.chipublib.org/locations/34/',
         week=-2, weekday=1, at='18:00', weeks=8),
    dict(place='Chicago', team=True, name='Learning How to Learn',
         course=('Learning How to Learn', 'Coursera', 'https://www.coursera.org/learn/learning-how-to-learn',
                 ['study skills', 'learning']),
         venue_name='Sulzer Regional Library', venue_address='4455 N Lincoln Ave, Chicago, IL 60625',
         latitude=41.9618, longitude=-87.6843, week=2, weekday=5, at='10:30', weeks=6,
         signup_question='What is something you would like to get better at learning?'),
    dict(place='Chicago', team=True, name='Resume and Cover Letter Workshop',
         course=('Resume Writing', 'GCFGlobal', 'https://edu.gcfglobal.org/en/resumewriting/',
                 ['careers', 'writing']),
         venue_name='Legler Branch Library', venue_address='115 S Pulaski Rd, Chicago, IL 60624',
         latitude=41.8797, longitude=-87.7257, week=-3, weekday=3, at='17:30', weeks=4),
    dict(place='Chicago', team=True, by='second', name='Data Literacy at Sulzer',
         course=('Data Literacy', 'Stifterverband', 'https://www.data-literacy-education.net/',
                 ['data', 'statistics']),
         venue_name='Sulzer Regional Library', venue_address='4455 N Lincoln Ave, Chicago, IL 60625',
         latitude=41.9618, longitude=-87.6843, week=0, weekday=2, at='18:00', weeks=6),
    dict(place='Chicago', team=True, online=True, name='Introduction to Public Speaking (online)',
         course=('Introduction to Public Speaking', 'University of Washington',
                 'https://www.coursera.org/learn/public-speaking', ['communication', 'public speaking']),
         online_link='https://meet.example.org/circles-public-speaking',
         week=1, weekday=2, at='19:00', weeks=6),
    dict(place='Nairobi', name='Introduction to Data Science',
         course=('Data Science Foundations', 'IBM SkillsBuild', 'https://skillsbuild.org/',
                 ['data', 'statistics']),
         venue_name='McMillan Memorial Library', venue_address='Banda Street, Nairobi',
         latitude=-1.2841, longitude=36.8219, week=1, weekday=5, at='10:00', weeks=6),
    dict(place='Nairobi', name='Digital Marketing Fundamentals', capacity=4,
         course=('Fundamentals of Digital Marketing', 'Google Digital Skills for Africa',
                 'https://learndigital.withgoogle.com/digitalskills', ['marketing', 'business']),
         venue_name='Kaloleni Library', venue_address='Kaloleni Estate, off Jogoo Road, Nairobi',
         latitude=-1.2922, longitude=36.8660, week=-1, weekday=2, at='17:00', weeks=6),
    dict(place='Nairobi', name='Starting a Small Business',
         course=('Entrepreneurship', 'GCFGlobal', 'https://edu.gcfglobal.org/en/entrepreneurship/',
                 ['business', 'entrepreneurship']),
         venue_name='Kenya National Library Service, Nairobi Area Library',
         venue_address='Ngong Road, Upper Hill, Nairobi', latitude=-1.2996, longitude=36.8066,
         week=-9, weekday=3, at='16:00', weeks=5),
    dict(place='Berlin', language='de', name='Programmieren lernen mit Python',
         course=('Python für Einsteiger', 'openHPI', 'https://open.hpi.de/', ['programming', 'python']),
         venue_name='Amerika-Gedenkbibliothek', venue_address='Blücherplatz 1, 10961 Berlin',
         latitude=52.4985, longitude=13.3925, week=2, weekday=0, at='18:30', weeks=7,
         venue_website='https://www.zlb.de/'),
    dict(place='Berlin', name='Data Literacy', signup_open=False,
         course=('Data Literacy', 'Stifterverband', 'https://www.data-literacy-education.net/',
                 ['data', 'statistics']),
         venue_name='Bezirkszentralbibliothek Pablo Neruda',
         venue_address='Frankfurter Allee 14a, 10247 Berlin', latitude=52.5156, longitude=13.4550,
         week=-1, weekday=3, at='19:00', weeks=6),
    dict(place='Berlin', language='de', name='Kreatives Schreiben',
         course=('Creative Writing', 'OpenLearn', 'https://www.open.edu/openlearn/', ['writing']),
         venue_name='Mittelpunktbibliothek Schöneberg', venue_address='Hauptstraße 40, 10827 Berlin',
         latitude=52.4853, longitude=13.3534, week=-11, weekday=1, at='18:00', weeks=6),
    dict(place='Berlin', published=False, name='Machine Learning for Everyone (draft)',
         course=('AI For Everyone', 'DeepLearning.AI', 'https://www.coursera.org/learn/ai-for-everyone',
                 ['machine learning']),
         venue_name='Amerika-Gedenkbibliothek', venue_address='Blücherplatz 1, 10961 Berlin',
         latitude=52.4985, longitude=13.3925, week=4, weekday=2, at='18:00', weeks=6),
    dict(place='Buenos Aires', language='es', name='Introducción a la programación',
         course=('Introducción a la programación', 'Argentina Programa',
                 'https://www.argentina.gob.ar/argentinaprograma', ['programming']),
         venue_name='Biblioteca Nacional Mariano Moreno', venue_address='Agüero 2502, C1425 CABA',
         latitude=-34.5843, longitude=-58.3975, week=-3, weekday=1, at='19:00', weeks=8),
    dict(place='Buenos Aires', language='es', name='Finanzas personales',
         course=('Finanzas personales', 'Khan Academy en Español', 'https://es.khanacademy.org/',
                 ['finance']),
         venue_name='Centro Cultural Recoleta', venue_address='Junín 1930, C1113 CABA',
         latitude=-34.5867, longitude=-58.3925, week=3, weekday=3, at='18:30', weeks=5,
         signup_question='¿Qué te gustaría lograr con tus finanzas este año?'),
    dict(place='Buenos Aires', language='es', name='Fotografía con el celular',
         course=('Fotografía básica', 'GCFGlobal', 'https://edu.gcfglobal.org/es/fotografia-basica/',
                 ['photography']),
         venue_name='Biblioteca del Congreso de la Nación', venue_address='Hipólito Yrigoyen 1750, C1089 CABA',
         latitude=-34.6097, longitude=-58.3919, week=-8, weekday=5, at='11:00', weeks=4),
    dict(place='Buenos Aires', language='es', online=True, name='Inglés conversacional (en línea)',
         course=('English Conversation', 'British Council', 'https://learnenglish.britishcouncil.org/',
                 ['languages', 'english']),
         online_link='https://meet.example.org/circles-ingles', week=1, weekday=3, at='20:00', weeks=8),
]

DEMO_LEARNERS = [('Wanjiru Kamau', 'wanjiru@example.org'), ('Otieno Odhiambo', 'otieno@example.org')]
# Learners of the team's circles who signed up this week, with their goals.
TEAM_LEARNERS = {
    'Python for Everybody at Harold Washington': [
        ('Marisol Vega', 'marisol@example.org', 'Automate the spreadsheets I update every week at work.'),
        ('Darnell Brooks', 'darnell@example.org', 'Build a small website for my neighbourhood group.')],
    'Data Literacy at Sulzer': [
        ('Priya Natarajan', 'priya@example.org', 'Read the charts in the news without feeling lost.'),
        ('Tom Kowalski', 'tom@example.org', 'Understand the numbers our block club collects.'),
        ('Aisha Bello', 'aisha@example.org', None)],
}
# (circle, shared with organizers, attendance, rating, reflection): feedback on this week's meeting.
TEAM_FEEDBACK = [
    ('Python for Everybody at Harold Washington', True, 9, 4,
     'We finished the chapter on loops. Two learners paired up to debug each other\'s code, which worked '
     'better than me explaining at the front.\n\nNext week: bring a list of tasks you repeat at work.'),
    ('Data Literacy at Sulzer', False, 5, 3,
     'A quiet first meeting. I talked too much; next time I will start with a chart to discuss.'),
]


def demo_logins():
    """The accounts the demo creates, with their plain passwords (printed by `make run`)."""
    return [dict(login) for login in DEMO_LOGINS]


def _first_meeting_date(today, week, weekday):
    monday = today - timedelta(days=today.weekday())
    return monday + timedelta(weeks=week, days=weekday)


def _create_user(login, now, language=None):
    """A confirmed account, written as `accounts.register` writes one: the user and the
    claim on its email address together, so `accounts.log_in` finds it."""
    from chalicelib.accounts.accounts import hash_password
    from chalicelib.models.transactions import transact_write
    user_id = new_id()
    user = User(*User.key(user_id), user_id=user_id, name=login['name'], first_name=login['first_name'],
                email=login['email'], password_hash=hash_password(login['password']),
                email_confirmed=True, language=language, created_at=now, updated_at=now)
    claim = EmailClaim(*EmailClaim.key(login['email']), user_id=user_id, created_at=now)

    def build(transaction):
        transaction.save(claim, condition=EmailClaim.pk.does_not_exist())
        transaction.save(user, condition=User.pk.does_not_exist())
    transact_write(build)
    return user


def _already_loaded():
    from chalicelib.accounts.accounts import user_for_email
    return user_for_email(FACILITATOR['email']) is not None


def _create_circle(spec, facilitators, team, now, language=None):
    spec = dict(spec)
    facilitator = facilitators[spec.pop('by', 'first')]
    place = dict(PLACES[spec.pop('place')])
    tz_name = place.pop('timezone_name')
    today = now.astimezone(zone_info(tz_name)).date()
    first = _first_meeting_date(today, spec.pop('week'), spec.pop('weekday'))
    meetings = circles.weekly_meetings(first, time.fromisoformat(spec.pop('at')), spec.pop('weeks'), 90, tz_name)
    title, provider, link, topics = spec.pop('course')
    in_team = spec.pop('team', False)
    fields = dict(place, published=True, language='en',
                  description=f'A free, weekly study group working through "{title}" together. '
                              'No teacher and no fees: we watch, read and practise, then help each other.',
                  welcome_message='Bring a laptop if you have one, and a question you want answered.',
                  facilitator_ids=[facilitator.user_id], facilitator_names=[facilitator.first_name],
                  facilitator_emails=[facilitator.email], team_id=team.team_id if in_team else None)
    fields.update(spec)
    if language:
        fields['language'] = language
    course = Course(title=title, provider=provider, link=link, topics=topics)
    circle = circles.new_circle(name=fields.pop('name'), course=course, timezone_name=tz_name,
                                meetings=meetings, **fields)
    circles.create(circle)
    from chalicelib.reminders.sync import sync_reminders
    sync_reminders(circle, existing=[], now=now, entries=[])     # a new circle has no reminders to read
    facilitation.facilitator_link(circle, facilitator, now=now).save()
    return circle


class _DemoSession(NamedTuple):
    """Who records the demo's feedback: the circle's facilitator (a Workspace reads the circle)."""
    user_id: str
    name: str
    organizer_team_ids: tuple = ()


def _from_this_week(circle, now):
    """The circle's meetings from the current week on (of its local dates)."""
    today = now.astimezone(zone_info(circle.timezone)).date()
    monday = (today - timedelta(days=today.weekday())).isoformat()
    return [m for m in circle.meetings if m.local_date >= monday and not m.cancelled]


def _team_history(team_circles, facilitators, now):
    """The team's week: learners sign up (now) with their goals; each answers this week's meeting
    and the next a day before it; feedback on this week's meetings, an hour after each ends."""
    from chalicelib.facilitators import access, feedback
    from chalicelib.learners import rsvp
    from chalicelib.learners.signup import sign_up
    by_name = {circle.name: circle for circle in team_circles}
    for name, learners in TEAM_LEARNERS.items():
        circle = by_name[name]
        coming = _from_this_week(circle, now)[:2]
        for n, (learner, email, goals) in enumerate(learners):
            signup, _, _ = sign_up(circle.id, {'name': learner, 'email': email, 'consent': True,
                                               **({'goals': goals} if goals else {})}, now)
            for meeting in coming:
                answer = 'no' if n == len(learners) - 1 else 'yes'
                asked_at = meeting.starts_at - timedelta(days=1)
                page = rsvp.open_rsvp(rsvp.learner_links(signup, meeting, save_short=False)[answer].rsplit('/', 1)[1],
                                      now=asked_at)
                rsvp.record_answer(page, answer, now=asked_at)
    for name, shared, attendance, rating, reflection in TEAM_FEEDBACK:
        circle = by_name[name]
        meeting = _from_this_week(circle, now)[0]
        author = next(f for f in facilitators.values() if f.user_id == circle.facilitator_ids[0])
        session = _DemoSession(author.user_id, author.first_name)
        form = feedback.validate({'attendance': str(attendance), 'rating': str(rating), 'reflection': reflection,
                                  'share_with_organizers': 'yes' if shared else ''})
        ended = meeting.starts_at + timedelta(minutes=int(meeting.duration_minutes) + 60)
        feedback.record(access.workspace(session, circle.id), session, meeting.meeting_id, form, now=ended)


def _sign_up_learners(circle, now):
    """Two learners on the small circle, so its remaining capacity shows (and the outbox has mail)."""
    from chalicelib.learners.signup import sign_up
    for name, email in DEMO_LEARNERS:
        sign_up(circle.id, {'name': name, 'email': email, 'consent': True,
                            'goals': 'Grow my small business online.'}, now)


def load_demo_data(now=None, language=None):
    """Write the demo world into the table; returns the demo logins.

    `language` puts every circle and account in that one language (tests/i18n crawls the demo
    in each). Running it again on a table that already has the demo accounts writes nothing.
    """
    now = now or circles.utcnow()
    if _already_loaded():
        return demo_logins()
    from chalicelib.teams.teams import create_team, new_membership
    facilitator = _create_user(FACILITATOR, now, language)
    organizer = _create_user(ORGANIZER, now, language)
    second = _create_user(SECOND_FACILITATOR, now, language)
    team = create_team(TEAM_NAME, ORGANIZER['email'], slug=TEAM_SLUG, introduction=TEAM_INTRODUCTION,
                       city='Chicago', country='United States', now=now).team
    new_membership(team.team_id, facilitator, 'facilitator', now).save()
    new_membership(team.team_id, second, 'facilitator', now).save()
    facilitators = {'first': facilitator, 'second': second}
    team_circles = []
    for spec in CIRCLES:
        circle = _create_circle(spec, facilitators, team, now, language)
        if circle.capacity is not None:
            _sign_up_learners(circle, now)
        if circle.team_id:
            team_circles.append(circle)
    _team_history(team_circles, facilitators, now)
    from chalicelib.insights.demo import seed_finished_circle
    seed_finished_circle(now, facilitator, team.team_id, language or 'en')     # a finished circle, its report published
    return demo_logins()
