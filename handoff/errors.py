"""What the handoff services raise; the routes turn them into 404 / 401 / 409."""


class NotFound(LookupError):
    pass


class Unauthorized(PermissionError):
    pass


class Conflict(Exception):
    """The conversation is not in a state that allows this (e.g. claimed by someone else)."""
