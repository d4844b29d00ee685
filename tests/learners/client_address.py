"""Requests from a chosen client address. `chalice.test.Client` sends every request from
127.0.0.1, so tests of the per-client rate limits (and tests that must stay under them while
making many requests) set the address its local gateway puts in `identity.sourceIp`."""
import contextlib


@contextlib.contextmanager
def from_address(client, address):
    converter = client.http._local_gateway.event_converter
    converter.LOCAL_SOURCE_IP = address
    try:
        yield client
    finally:
        del converter.LOCAL_SOURCE_IP
