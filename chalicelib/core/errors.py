"""Refusals a user can read. Handlers map each kind to one HTTP status in one place."""


class ValidationFailed(Exception):
    """Input that cannot be accepted; `errors` maps each field to its messages."""
    status_code = 400

    def __init__(self, errors):
        super().__init__('; '.join(f'{k}: {" ".join(v)}' for k, v in errors.items()))
        self.errors = errors


class NotFound(Exception):
    status_code = 404


class SignupRefused(Exception):
    """The circle does not take this signup (draft, closed, finished, full)."""
    status_code = 400

    def __init__(self, message):
        super().__init__(message)
        self.message = message
