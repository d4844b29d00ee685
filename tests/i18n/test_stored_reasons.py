"""Why a message was not sent is stored in English on its outbox item (one value whatever the
reader's language) and shown in the reader's: the `translated` filter of the facilitator's pages."""
from types import SimpleNamespace

from chalicelib.core import i18n
from chalicelib.core.rendering import environment
from chalicelib.messaging import sender


def test_a_stored_reason_reads_in_the_page_language_and_other_text_stays_as_it_is():
    item = SimpleNamespace(signup_id='s1', channel='email', to=None)
    reason = sender.refusal(item, None, SimpleNamespace(ignores_suppression=False, unsubscribable=False))
    assert reason == 'The learner has left the circle.'      # stored in English
    show = environment().from_string('{{ reason | translated }}|{{ provider | translated }}|{{ empty | translated }}')
    with i18n.language('es'):
        page = show.render(reason=reason, provider='Throttling: Maximum sending rate exceeded.', empty='')
    spanish, provider, empty = page.split('|')
    assert spanish == i18n.translations('es').gettext(reason) and spanish != reason
    assert provider == 'Throttling: Maximum sending rate exceeded.'     # a provider's words: as they came
    assert empty == ''                                                  # never the catalog's header
