"""The suppression list holds keyed hashes of contacts, never the contacts."""
from chalicelib.models.privacy import Suppression
from chalicelib.messaging import suppression


def test_a_suppressed_contact_is_found_in_any_case_and_stored_only_as_a_hash():
    suppression.suppress('Grace@Example.org', suppression.EMAIL, 'bounce')
    assert suppression.is_suppressed('grace@example.org')
    assert suppression.suppressed(['grace@example.org', 'ada@example.org', None]) == {'grace@example.org'}
    item = Suppression.get(*Suppression.key(suppression.contact_hash('grace@example.org')))
    assert 'grace' not in item.pk + item.sk and item.reason == 'bounce' and item.channel == 'email'
    assert not suppression.is_suppressed('ada@example.org') and not suppression.is_suppressed('')
