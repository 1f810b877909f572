"""The small error hierarchy the CLI maps to exit codes and one-line messages."""

from __future__ import annotations


class MeshopsError(Exception):
    """Base of every error meshops reports to a user (exit code 2)."""


class ConfigError(MeshopsError):
    """An environment file is malformed or invalid; names file, field, line and reason."""

    def __init__(self, file: str, field: str, reason: str, line: int | None = None) -> None:
        self.file = file
        self.field = field
        self.reason = reason
        self.line = line
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {field}: {reason}" if field else f"{where}: {reason}")


class RenderError(MeshopsError):
    """The rendered objects cannot be written as the dist contract demands (e.g. collisions)."""


class ClusterError(MeshopsError):
    """The local control plane could not be started, stopped or found."""


class ClusterUnreachable(MeshopsError):
    """The Kubernetes API server did not answer (or refused our credentials)."""


class PermanentApiError(MeshopsError):
    """The API server answered and asking again will not change the answer."""


class Forbidden(PermanentApiError):
    """RBAC denied a request; names the verb and resource."""


class ObjectRejected(PermanentApiError):
    """The API server refused an object; names the object and the server's reason."""


class UnknownKind(PermanentApiError):
    """The cluster does not serve an apiVersion/kind (missing CRD?)."""


class RetryableApiError(MeshopsError):
    """A transient failure (throttled, overloaded, slow, expired LIST continuation):
    `kubeapi` retries it with bounded backoff and raises it only once retries are spent."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Throttled(RetryableApiError):
    """HTTP 429: the server asks us to slow down, often with a Retry-After."""


class ServerUnavailable(RetryableApiError):
    """HTTP 5xx, or the connection dropped mid-answer."""


class ApiTimeout(RetryableApiError):
    """No answer within the request timeout."""


class ContinuationExpired(RetryableApiError):
    """HTTP 410 on a LIST continuation: the snapshot it paged through was compacted; the
    only fix is to restart that LIST from its first page."""


class SnapshotError(MeshopsError):
    """A drift snapshot could not be written, committed or pushed; names the branch and why."""


class BackupNotFound(SnapshotError):
    """No backup matches what restore was asked for (unknown ref, no backup for env/cluster)."""


class CorruptBackup(SnapshotError):
    """A backup folder cannot be read back: manifest or object files missing or malformed."""
