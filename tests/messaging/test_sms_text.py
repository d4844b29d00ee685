"""SMS segment counting: GSM-7 with its extension table, UCS-2 with surrogate pairs, and the
browser's counter (templates/static/sms-counter.js) agreeing with the server on every case."""
import json
import shutil
import subprocess

import pytest

from chalicelib.core.rendering import TEMPLATES_DIR
from chalicelib.messaging.sms_text import normalise, segments

CASES = [
    ('', ('GSM-7', 0, 0)),
    ('See you Tuesday at the library!', ('GSM-7', 31, 1)),
    ('a' * 160, ('GSM-7', 160, 1)),
    ('a' * 161, ('GSM-7', 161, 2)),
    ('a' * 306, ('GSM-7', 306, 2)),
    ('a' * 307, ('GSM-7', 307, 3)),
    # Accented letters of the basic table, newline and @ stay GSM-7 and count once.
    ('Ça va? Müller & Søren @ café\nÑoño ¿qué?', ('GSM-7', 39, 1)),
    ('Ñandú', ('UCS-2', 5, 1)),     # ú is not in the GSM-7 table (ù is)
    # Extension characters are an escape plus a septet: two each.
    ('€', ('GSM-7', 2, 1)),
    ('[x]{y}~|^\\', ('GSM-7', 18, 1)),
    ('a' * 158 + '€', ('GSM-7', 160, 1)),
    ('a' * 159 + '€', ('GSM-7', 161, 2)),
    ('a' * 158 + '[', ('GSM-7', 160, 1)),
    # An escaped pair is never split: 152 + "€" does not fit 153, so it opens segment 2,
    # which then overflows: 3 segments where 306 / 153 would say 2.
    ('a' * 152 + '€' + 'a' * 152, ('GSM-7', 306, 3)),
    # One character outside GSM-7 makes the whole text UCS-2.
    ('ç' + 'a' * 69, ('UCS-2', 70, 1)),
    ('Łódź ' + 'a' * 66, ('UCS-2', 71, 2)),
    ('“quoted”', ('UCS-2', 8, 1)),
    # An emoji is a surrogate pair: two UTF-16 units.
    ('😀', ('UCS-2', 2, 1)),
    ('a' * 68 + '😀', ('UCS-2', 70, 1)),
    ('a' * 69 + '😀', ('UCS-2', 71, 2)),
    ('a' * 134, ('GSM-7', 134, 1)),
    # A surrogate pair is never split across segments: 33 emoji fill 66 of 67 units.
    ('😀' * 67, ('UCS-2', 134, 3)),
    ('a' * 66 + '😀' + 'a' * 66, ('UCS-2', 134, 3)),
    ('a' * 201, ('GSM-7', 201, 2)),
    ('€' * 100, ('GSM-7', 200, 2)),
]


@pytest.mark.parametrize('text, expected', CASES)
def test_segments_are_counted_like_carriers_count_them(text, expected):
    assert segments(text) == expected


def test_windows_line_breaks_count_once():
    assert normalise('Hi\r\nthere\r\n') == 'Hi\nthere'
    assert segments(normalise('a\r\n' * 80)) == ('GSM-7', 159, 1)


@pytest.mark.skipif(shutil.which('node') is None, reason='needs node to run the browser script')
def test_the_browser_counter_agrees_with_the_server_on_every_case():
    script = (TEMPLATES_DIR / 'static' / 'sms-counter.js').read_text(encoding='utf-8')
    texts = [text for text, _ in CASES] + ['a\n' * 90, 'naïve café ☕ ' * 5]
    harness = ('global.window = {}; global.document = {querySelectorAll: () => []};\n' + script +
               '\nconst texts = JSON.parse(require("fs").readFileSync(0, "utf8"));'
               '\nconsole.log(JSON.stringify(texts.map(t => { const r = window.smsSegments(t); '
               'return [r.encoding, r.length, r.segments]; })));')
    result = subprocess.run(['node', '-e', harness], input=json.dumps(texts), capture_output=True,
                            text=True, timeout=30, check=True)
    assert [tuple(r) for r in json.loads(result.stdout)] == [segments(t) for t in texts]
