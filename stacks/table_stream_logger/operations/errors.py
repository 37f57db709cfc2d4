"""The command's errors: each an expected problem, told in one line (``error: ...``, exit status 2)."""


class RedriveError(Exception):
    """An expected problem, told in one line: bad input, a missing resource, access denied."""


class Expired(RedriveError):
    """The records of a metadata-only batch are no longer in the stream."""


class Missing(RedriveError):
    """A package the command needs is not installed."""
