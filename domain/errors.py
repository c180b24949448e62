"""Domain errors: every outcome a command or query can refuse with.

    ChronicleError
     ├── NotFound                       the aggregate or read-model row does not exist
     ├── InvalidCommand                 the command's arguments break a rule of the domain
     │    ├── IdempotencyKeyReused      the key was used before with another request
     │    ├── TooLarge                  a document or an image is larger than its limit
     │    ├── ChecksumMismatch          an uploaded file is not the one declared (size, SHA-256)
     │    └── UnsupportedImage          the bytes are not a PNG, JPEG, WebP or GIF image
     ├── PreconditionRequired           a save must name the version it was made against
     ├── InsufficientCredits            the balance does not cover a reservation
     ├── QuotaExceeded                  the plan's daily quota of a kind of use is spent
     │    └── RateLimited               too many messages in a room's time window
     ├── Conflict
     │    ├── AlreadyExists             an aggregate with this id was created before
     │    ├── ConcurrentJobLimitReached the plan's concurrent-job limit is reached
     │    ├── RuleSlotLimitReached      the plan's rule-slot limit is reached
     │    ├── ReservationSettled        the reservation was already committed or rolled back
     │    ├── IllegalTransition         a state machine refuses the transition
     │    ├── UploadsMissing            a job's uploads (a session's parts) are not all stored
     │    ├── LeaseNotHeld              a worker reports an item it does not hold the lease of
     │    ├── MeaningSearchUnavailable  no embedding model loads here, or no model is complete
     │    ├── NotAMember                a chat room's change by someone who has not joined it
     │    ├── RoomFull                  a chat room has its most members
     │    └── VersionConflict           a stale expected version, or retries exhausted
     ├── Unauthenticated                no, expired or tampered credentials
     ├── Forbidden                      credentials valid, role not allowed
     └── Unavailable
          ├── ProjectionBehind          a read model did not reach the asked log position in time
          ├── EventStoreUnavailable     the database cannot be reached
          ├── ObjectStoreUnavailable    the object store cannot be reached or refuses access
          └── AssistantUnavailable      the assistant's model API failed (``reason`` says how)
               └── AssistantInterrupted the reply broke off after its first words (``text``)

Each class names its own stable ``code`` (stored with idempotency outcomes and sent to
clients: never rename one); the API maps each class to one HTTP status. ``details`` carries
facts a caller can act on (a conflict's current version), rendered beside the message.
"""


class ChronicleError(Exception):
    """Base of every error Chronicle reports to a caller."""

    code = "error"

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(ChronicleError):
    """The aggregate or row does not exist (or is not the caller's)."""

    code = "not_found"


class InvalidCommand(ChronicleError):
    """The command's arguments break a rule of the domain."""

    code = "invalid_command"


class IdempotencyKeyReused(InvalidCommand):
    """An idempotency key was used before with a different request."""

    code = "idempotency_key_reused"


class TooLarge(InvalidCommand):
    """A document or an image is larger than its limit."""

    code = "payload_too_large"


class ChecksumMismatch(InvalidCommand):
    """An uploaded file's size or SHA-256 is not the one its upload session declared."""

    code = "checksum_mismatch"


class UnsupportedImage(InvalidCommand):
    """The uploaded bytes are not an image of a supported type (checked from the bytes)."""

    code = "unsupported_media_type"


class PreconditionRequired(ChronicleError):
    """A whole-document save needs ``If-Match``: the version it was made against."""

    code = "precondition_required"


class InsufficientCredits(ChronicleError):
    """The available balance does not cover a reservation."""

    code = "insufficient_credits"


class QuotaExceeded(ChronicleError):
    """The plan's daily quota of this kind of use is spent until it resets."""

    code = "quota_exceeded"


class RateLimited(QuotaExceeded):
    """Too many of one kind of request in a time window (a chat room's messages per member)."""

    code = "rate_limited"


class Conflict(ChronicleError):
    """The command conflicts with the aggregate's current state."""

    code = "conflict"


class AlreadyExists(Conflict):
    """An aggregate with this id exists: a creation never overwrites or retries."""

    code = "already_exists"


class ConcurrentJobLimitReached(Conflict):
    """The plan allows no more concurrently active jobs."""

    code = "concurrent_job_limit"


class RuleSlotLimitReached(Conflict):
    """The plan allows no more rules."""

    code = "rule_slot_limit"


class ReservationSettled(Conflict):
    """The reservation was already settled the other way."""

    code = "reservation_settled"


class IllegalTransition(Conflict):
    """A state machine refuses the transition from its current state."""

    code = "illegal_transition"


class UploadsMissing(Conflict):
    """Some of a job's objects (or of an upload session's parts) are not in storage yet."""

    code = "uploads_missing"


class LeaseNotHeld(Conflict):
    """A worker reported an item whose lease it does not hold."""

    code = "lease_not_held"


class MeaningSearchUnavailable(Conflict):
    """Meaning search was asked for where it cannot run: no model installed, or none embedded."""

    code = "meaning_search_unavailable"


class NotAMember(Conflict):
    """A change of a chat room by a user who has not joined it."""

    code = "not_a_member"


class RoomFull(Conflict):
    """A chat room has as many members as it may."""

    code = "room_full"


class VersionConflict(Conflict):
    """The expected version is stale, or concurrent writers exhausted the retries."""

    code = "version_conflict"


class Unauthenticated(ChronicleError):
    """Credentials are missing, expired or tampered with."""

    code = "unauthenticated"


class Forbidden(ChronicleError):
    """Credentials are valid but their role may not do this."""

    code = "forbidden"


class Unavailable(ChronicleError):
    """A dependency could not answer in time."""

    code = "unavailable"


class ProjectionBehind(Unavailable):
    """A read model did not reach the requested log position in time."""

    code = "projection_behind"


class EventStoreUnavailable(Unavailable):
    """The event store cannot be reached."""

    code = "store_unavailable"


class ObjectStoreUnavailable(Unavailable):
    """The object store cannot be reached, or refuses these credentials or this bucket."""

    code = "storage_unavailable"


class AssistantUnavailable(Unavailable):
    """The assistant's model API cannot be reached, timed out, or refused the request.

    ``reason`` (a detail) says how: ``unreachable``, ``timeout``, ``dropped``, ``unauthorized``,
    ``model_not_found``, ``rate_limited`` (with ``retry_after`` seconds when the API said),
    ``server_error``, ``rejected`` or ``bad_response``.
    """

    code = "assistant_unavailable"


class AssistantInterrupted(AssistantUnavailable):
    """The reply stopped after its first words; ``text`` (a detail) is what came before."""

    code = "assistant_interrupted"

    @property
    def text(self) -> str:
        """The reply as far as it came."""
        return str(self.details.get("text", ""))


def all_error_types() -> list[type[ChronicleError]]:
    """Every error class in the tree, the base included."""
    found: list[type[ChronicleError]] = []
    pending: list[type[ChronicleError]] = [ChronicleError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def error_for_code(code: str) -> type[ChronicleError]:
    """The error class whose ``code`` is ``code`` (ChronicleError for an unknown one)."""
    return {cls.code: cls for cls in all_error_types()}.get(code, ChronicleError)
