"""Refusals a user can read. Handlers map each kind to one HTTP status in one place
(`chalicelib.handlers.web`): the refusal page, or the public API's JSON error shape.

A refusal's message is read by a person: a message passed in is translated by its caller
(`_('...')`); a subclass's default `message` is marked `N_('...')` and translated here, when
the refusal is made (in the language of the moment)."""
from chalicelib.core.i18n import N_, _


class Refusal(Exception):
    """A request we turn down for a reason the person asking can act on.

    `status` is the HTTP status it answers; `message` is a sentence shown to the person;
    `errors` ({field: [messages]}) names the fields at fault, empty when no field is.
    Subclasses set `status` (and may set a default `message`)."""
    status = 400
    message = N_('We could not do that.')

    def __init__(self, message=None, errors=None):
        message = message or _(self.message)
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class ValidationFailed(Refusal):
    """Input that cannot be accepted; `errors` maps each field to its messages."""
    status = 400

    def __init__(self, errors):
        super().__init__(' '.join(m for messages in errors.values() for m in messages) or None, errors)


class NotFound(Refusal):
    """There is no such thing, or the person may not know whether there is (same answer)."""
    status = 404
    message = N_('We could not find that.')


class SignupRefused(Refusal):
    """The circle does not take this signup (draft, closed, finished, full)."""
    status = 400
