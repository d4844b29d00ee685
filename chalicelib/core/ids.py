"""Identifiers for things that appear in links: short, random, unguessable."""
import secrets

_ALPHABET = '23456789abcdefghjkmnpqrstuvwxyz'


def new_id(length=10):
    """A random id of `length` characters from an unambiguous alphabet (~49 bits for 10)."""
    return ''.join(secrets.choice(_ALPHABET) for _ in range(length))
