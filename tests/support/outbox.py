"""The test session's stream poller: the same sender the stream Lambda runs, fed from moto's
stream (scripts/stream_poller.py). Reading what was sent (moto's SES record, the Twilio
fake) drains it first, so a test sees every message its actions caused, deterministically."""
_poller = None


def poller():
    global _poller
    if _poller is None:
        from chalicelib.handlers.sender import send_outbox
        from scripts.stream_poller import StreamPoller
        _poller = StreamPoller(send_outbox)
    return _poller


def drain():
    """Deliver every outbox item written so far; returns how many stream inserts were handled."""
    return poller().drain()


def start_background():
    """Keep delivering while a browser test waits (the live server); idempotent."""
    if poller().thread is None:
        poller().start()


def stop_background():
    """Stop the background delivery (the live server is gone): later tests of this process count
    their own AWS calls, and a poller left running would add its DescribeTable and stream reads."""
    if _poller is not None and _poller.thread is not None:
        _poller.stop()
        _poller.thread = None
        _poller.stopping.clear()      # drain() and a later start_background() work as before
