"""No personal data in any log line of a whole test run (issue 15).

Every test process adds one file handler, at DEBUG, to the app's loggers (`chalicelib`, and
`circles`: Chalice's app log), writing under test-output/logs/. When the whole run ends, the
process that started it (the xdist controller, or the only process) reads every file and fails
the run if a line names an email address or a phone number: all test data uses such addresses
(`@example.org`, `+1312555...`), so a hit is a log call that leaked a learner's contact.
"""
import logging
import os
import re
import shutil
from pathlib import Path

LOGS = Path(__file__).resolve().parents[2] / 'test-output' / 'logs'
PERSONAL = re.compile(r'[\w.+-]+@[\w-]+\.(?:org|com|net)\b|\+\d{10,14}\b')
LOGGERS = ('chalicelib', 'circles')


def start_run():
    """The run's first process: an empty folder for this run's logs."""
    shutil.rmtree(LOGS, ignore_errors=True)
    LOGS.mkdir(parents=True, exist_ok=True)


def capture(worker):
    """This process's app log lines go (also) to test-output/logs/<worker>.log."""
    LOGS.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(LOGS / f'{worker}.log', encoding='utf-8')
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter('%(name)s %(levelname)s %(message)s'))
    # What the JSON handler writes in Lambda: an exception as its type and frames, never its text.
    from chalicelib.core.observability import without_exception_text
    handler.addFilter(without_exception_text)
    for name in LOGGERS:
        logging.getLogger(name).addHandler(handler)
    return handler


def leaks():
    """(file, line) of every logged line that names an email address or a phone number."""
    found = []
    for path in sorted(LOGS.glob('*.log')):
        for line in path.read_text(encoding='utf-8', errors='replace').splitlines():
            if PERSONAL.search(line):
                found.append((path.name, line[:300]))
    return found


def worker_name():
    return os.environ.get('PYTEST_XDIST_WORKER', 'main')
