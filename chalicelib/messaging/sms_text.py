"""How many SMS segments a text costs, counted the way carriers and Twilio count them.

A text that uses only the GSM-7 alphabet travels in 7-bit septets: 160 fit in one
message, 153 per segment once it is split (the rest carries the concatenation header).
Characters of the GSM-7 extension table (€ [ ] { } \\ ^ ~ | and form feed) are sent as an
escape plus a septet, so they count twice. One character outside both tables switches
the whole text to UCS-2: 70 UTF-16 code units in one message, 67 per segment, and an
emoji (outside the Basic Multilingual Plane) takes two units. Neither an escaped pair
nor a surrogate pair is split across segments, so a segment may hold one unit less.

`templates/static/sms-counter.js` counts the same way in the browser; this module is
what the server trusts.
"""

GSM7_BASIC = set(
    '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?'
    '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà'
)
GSM7_EXTENSION = set('\f^{}\\[~]|€')

SINGLE = {'GSM-7': 160, 'UCS-2': 70}
CONCATENATED = {'GSM-7': 153, 'UCS-2': 67}
MAX_SEGMENTS = 3


def encoding_of(text):
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text):
        return 'GSM-7'
    return 'UCS-2'


def _units(ch, encoding):
    """Septets (GSM-7) or UTF-16 code units (UCS-2) one character takes."""
    if encoding == 'GSM-7':
        return 2 if ch in GSM7_EXTENSION else 1
    return 2 if ord(ch) > 0xFFFF else 1


def segments(text):
    """(encoding, length in septets or code units, number of segments) for an SMS body.

    The empty text costs 0 segments.
    """
    encoding = encoding_of(text)
    units = [_units(ch, encoding) for ch in text]
    length = sum(units)
    if length == 0:
        return encoding, 0, 0
    if length <= SINGLE[encoding]:
        return encoding, length, 1
    capacity, count, used = CONCATENATED[encoding], 1, 0
    for size in units:
        if used + size > capacity:
            count, used = count + 1, 0
        used += size
    return encoding, length, count


def normalise(text):
    """Browsers send a textarea's line breaks as CRLF; the counter (and the phone) see one LF."""
    return (text or '').replace('\r\n', '\n').strip()


def fold_to_gsm7(text):
    """`text` with each character GSM-7 lacks folded to its unaccented letter ('sáb' -> 'sab',
    'août' -> 'aout'), so one accent of a month or weekday name does not make a text UCS-2 (70
    characters a segment instead of 160). Characters with no such letter stay as they are."""
    import unicodedata
    out = []
    for ch in text:
        if ch in GSM7_BASIC or ch in GSM7_EXTENSION:
            out.append(ch)
            continue
        base = ''.join(c for c in unicodedata.normalize('NFKD', ch) if not unicodedata.combining(c))
        out.append(base if base and all(c in GSM7_BASIC for c in base) else ch)
    return ''.join(out)


SHORT_NAME_LENGTH = 24      # a text message starts with the circle's name, cut to this first


def short_name(name, length=SHORT_NAME_LENGTH):
    """A circle's name as a text message starts with it: whole when it is short, else cut at a
    word to `length` characters ('A very long learning...').

    Our own texts (reminders, surveys, answers) fold it to GSM-7 ('Introducción' ->
    'Introduccion'): one accent GSM-7 lacks would make the whole text UCS-2, 70 characters a
    segment instead of 160. A facilitator's text keeps the accents when they cost nothing
    (facilitators.messages)."""
    name = ' '.join((name or '').split())
    if len(name) <= length:
        return name
    cut = name[:length - 3]
    if ' ' in cut and not name[length - 3].isspace():
        cut = cut.rsplit(' ', 1)[0]
    return cut.rstrip(' ,.;:-') + '...'
