"""The end-of-circle tests' shared fixture: the sender knows this package's outbox templates.

`chalicelib/ops/outbox_templates.py` (the sender's table of templates) is wired by the lead;
until it names them, this fixture adds the same four entries to the table the stream poller
uses, so these tests deliver what the jobs write. Once wired it changes nothing.
"""
import pytest

ENDING_TEMPLATES = {
    'wrapup': ('chalicelib.ending.wrapups', 'WRAPUP'),
    'survey_fan_out': ('chalicelib.ending.survey_job', 'SURVEY_FAN_OUT'),
    'survey': ('chalicelib.ending.survey_job', 'SURVEY'),
    'survey_sms': ('chalicelib.ending.survey_job', 'SURVEY_SMS'),
    'facilitator_survey': ('chalicelib.ending.survey_job', 'FACILITATOR_SURVEY'),
}


def ensure_templates():
    import importlib

    from chalicelib.ops.outbox_templates import templates
    table = templates()
    for name, (module, attribute) in ENDING_TEMPLATES.items():
        table.setdefault(name, getattr(importlib.import_module(module), attribute))


@pytest.fixture(autouse=True)
def ending_templates():
    ensure_templates()
