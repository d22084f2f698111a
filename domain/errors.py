"""Named domain errors: each says what was wrong in words a user can act on."""


class DomainError(Exception):
    """A command was refused; nothing was recorded."""


class ValidationError(DomainError):
    """A value given to a command is missing or malformed."""


class NotFoundError(DomainError):
    """The finding, order, evaluation or department does not exist."""


class AlreadyExistsError(DomainError):
    """Something with the same natural key was recorded before."""


class TransitionError(DomainError):
    """The command does not apply in the finding's current state."""


class SegregationOfDutiesError(DomainError):
    """The actor may not do this because of an earlier role on the same finding."""


class StaleVersionError(DomainError):
    """The caller acted on an older version than the one stored."""


class ConcurrencyError(DomainError):
    """Too many concurrent writers: the command could not be saved after retrying."""


class StoreError(Exception):
    """The event store failed or refused a write for a reason other than a rule or a race.

    Not a DomainError: the user did nothing wrong, and an operator should look (run
    `lastmile verify`).
    """
