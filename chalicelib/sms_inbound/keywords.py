"""What a learner's text means: a keyword Twilio acts on, a yes or no, or words for a person.

Twilio blocks our texts to a number after one of its opt-out words and unblocks them after an
opt-in word, and forwards the message to our webhook anyway: we mirror its state. Its words count
only alone (any case, with spaces and punctuation around: "Stop.", " stop "). YES is one of
Twilio's opt-in words too: it answers the RSVP and opts the number back in.

Yes and no are read in English and in the circle's language ("Sí", "si", "ja", "nein", "não"),
with accents optional: phones often drop them.
"""
import unicodedata

STOP, START, HELP, YES, NO = 'stop', 'start', 'help', 'yes', 'no'
OPT_OUT_WORDS = {'stop', 'stopall', 'unsubscribe', 'cancel', 'end', 'quit', 'revoke', 'optout'}
OPT_IN_WORDS = {'start', 'unstop', 'yes'}        # Twilio's; YES is also an answer
HELP_WORDS = {'help', 'info'}

# Per circle language (chalicelib.core.fields.LANGUAGES), without accents; English always counts.
ANSWER_WORDS = {
    'en': ({'y', 'yes'}, {'n', 'no'}),
    'es': ({'si'}, {'no'}),
    'pt': ({'sim'}, {'nao'}),
    'fr': ({'oui'}, {'non'}),
    'de': ({'ja'}, {'nein'}),
    'sw': ({'ndiyo', 'ndio'}, {'hapana'}),
}


def normalised(text):
    """The text as one lowercase word: accents, punctuation, symbols and spaces at either end
    dropped ("  Sí! " -> "si"); inner spaces kept ("see you" stays two words)."""
    decomposed = unicodedata.normalize('NFKD', text or '')
    plain = ''.join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return plain.strip(''.join(ch for ch in set(plain) if not ch.isalnum())).strip()


def keyword(text):
    """STOP, START or HELP for Twilio's keywords (YES counts as START here too: see `answer`)."""
    word = normalised(text)
    if word in OPT_OUT_WORDS:
        return STOP
    if word in HELP_WORDS:
        return HELP
    if word in OPT_IN_WORDS:
        return START
    return None


def answer(text, languages=()):
    """YES or NO when the text is one of the answer words of English or of `languages`."""
    word = normalised(text)
    for language in ('en', *languages):
        yes_words, no_words = ANSWER_WORDS.get(language, ((), ()))
        if word in yes_words:
            return YES
        if word in no_words:
            return NO
    return None


def opts_in(text):
    """Whether Twilio unblocks the number for this text (START, UNSTOP, YES)."""
    return normalised(text) in OPT_IN_WORDS
