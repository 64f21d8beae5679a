"""Errors whose message is meant for the member who caused them."""


class UserError(Exception):
    """Raised by domain code with a message the member should read (sent ephemerally)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(UserError):
    """An essay, section or other named thing that does not exist (with suggestions)."""


class EssayFormatError(UserError):
    """An essay file that cannot be served as it is."""
