"""git's manifests as objects: parsed in two processes when there are many.

Parsing YAML is most of a large drift run's own work, and all of it CPU: libyaml parses,
but every node is still built as a Python object. On two cores a worker forked once the
files are read, before any thread exists, parses them while this process reads the cluster
and judges what has arrived; it sends the objects back serialised, a chunk at a time (a
small fraction of what parsing costs). With few files, one core, no fork (Windows) or
MESHOPS_PLAIN=1 (speed/) everything is parsed here. Either way the result is the same, and
a bad file is the first one in path order.
"""

from __future__ import annotations

import contextlib
import marshal
import pickle
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection
from typing import Any

import yaml

from charts_py import yamlio
from charts_py.errors import ConfigError
from charts_py.speed import fork

MIN_FILES = 400
"""Below this, a second process costs more than it saves (measured: the sample estate's
130 files parse in 20 ms)."""
CHUNK = 250
"""Files per message back: small enough that judging starts early, large enough that the
messages cost nothing."""
BATCH = 25
"""Files this process parses at a time between looking for the worker's chunks."""
LOCK_WAIT = 5.0
"""Seconds to wait for the lock on the bounds, held for microseconds at a time."""

Named = Sequence[tuple[str, bytes]]
"""(repository path, content) of each file, in path order."""


def document(name: str, data: bytes) -> dict[str, Any]:
    """One manifest; bad YAML, or not an object, is a ConfigError naming the file."""
    try:
        obj = yamlio.load(data)
    except yaml.YAMLError as exc:
        raise ConfigError(name, "", f"malformed YAML: {exc}") from None
    if not isinstance(obj, dict) or not {"apiVersion", "kind", "metadata"} <= obj.keys():
        raise ConfigError(name, "", "not a Kubernetes object (apiVersion, kind, metadata)")
    return obj


Chunk = tuple[int, list[dict[str, Any]]]
"""(index of the first file, the objects of it and the files after it)."""


class Parser:
    """Parses git's files; with `share`, in two processes when there are many. `stream`
    forks the worker, so call it before starting threads. Use it once, in a `with` block.

    The worker inherits the files (forked, not sent), and the two share them by a pair of
    bounds both move under one lock: the worker takes chunks from the front, this process
    small batches from the back whenever it has nothing else to do, until they meet. Every
    file the worker parses comes before every file parsed here, so the worker's bad file,
    if any, is the first one."""

    def __init__(self, share: bool = True) -> None:
        self._share = share
        self._worker: fork.Worker | None = None
        self._bounds: Any = None  # shared with the worker: [front, back)

    def __enter__(self) -> Parser:
        return self

    def __exit__(self, *_: object) -> None:
        if self._worker is not None:
            self._worker.stop()  # a worker still sending gets a broken pipe and exits

    def objects(self, files: Named) -> list[dict[str, Any]]:
        """Every file's object, in the order given."""
        return in_order(self.stream(files), len(files))

    def stream(self, files: Named) -> Iterator[Chunk]:
        """Every file's object, a chunk at a time as they are parsed (in no fixed order: see
        `in_order`), so the caller works on each chunk while the rest is parsed; between
        chunks, this process parses some itself."""
        if not self._sharing(len(files)):
            return _here(files)
        try:  # the lock is a POSIX semaphore: where /dev/shm is missing, parse here
            self._bounds = fork.shared_ints([0, len(files)])  # files not yet taken
            self._worker = fork.Worker(_serve, self._bounds, files, duplex=False)
        except OSError:
            return _here(files)
        return _Shared(self._worker.conn, self._bounds, files).chunks()

    def _sharing(self, count: int) -> bool:
        return self._share and self._worker is None and count >= MIN_FILES and fork.usable(cores=2)


def in_order(
    chunks: Iterator[Chunk],
    count: int,
    each: Callable[[list[dict[str, Any]]], None] | None = None,
) -> list[dict[str, Any]]:
    """The objects of `stream`'s chunks in file order (`each` sees every chunk as it comes)."""
    out: list[Any] = [None] * count
    for start, objects in chunks:
        out[start : start + len(objects)] = objects
        if each is not None:
            each(objects)
    return out


class _Shared:
    """This process's side of one shared parse."""

    def __init__(self, conn: Connection, bounds: Any, files: Named) -> None:
        self.conn, self.bounds, self.files = conn, bounds, files
        self.parsed = [False] * len(files)
        self.mine_left, self.worker_done = True, False
        self.mine_bad: ConfigError | None = None

    def chunks(self) -> Iterator[Chunk]:
        try:
            yield from self._shared()
        except _Stalled:  # the worker died holding the lock (killed?): the rest is parsed here
            yield from self._missing()

    def _shared(self) -> Iterator[Chunk]:
        while self.mine_left or not self.worker_done:
            # The worker's chunks first (waiting for one only when there is nothing to do).
            while not self.worker_done and (not self.mine_left or self.conn.poll()):
                try:
                    message = _decoded(self.conn.recv_bytes())
                except EOFError:  # the worker died (out of memory?): the rest is parsed here
                    yield from self._missing()
                    return
                if message[0] == "ok":
                    yield self._mark(message[1], message[2])
                elif message[0] == "bad":
                    raise ConfigError(*message[1:])
                else:  # "done": the bounds met
                    self.worker_done = True
            if self.mine_left:
                mine = self._take()
                if mine is not None:
                    yield mine
        if self.mine_bad is not None:
            raise self.mine_bad

    def _take(self) -> Chunk | None:
        """A batch from the back, parsed here; None when the bounds have met (or it was bad:
        the worker's files, all earlier, may hold an earlier bad one)."""
        with _held(self.bounds):
            end = self.bounds[1]
            start = max(end - BATCH, self.bounds[0])
            self.bounds[1] = start
        if start >= end:
            self.mine_left = False
            return None
        try:
            return self._mark(start, _parsed(self.files, start, end))
        except ConfigError as exc:
            self.mine_bad, self.mine_left = exc, False
            return None

    def _mark(self, start: int, objects: list[dict[str, Any]]) -> Chunk:
        self.parsed[start : start + len(objects)] = [True] * len(objects)
        return start, objects

    def _missing(self) -> Iterator[Chunk]:
        """What the worker took and never sent, what nobody took yet, and a batch of ours
        that was bad, parsed here in order: the first bad file among them is the error."""
        with contextlib.suppress(_Stalled), _held(self.bounds):
            self.bounds[1] = self.bounds[0]  # nothing is left to take
        index, count = 0, len(self.files)
        while index < count:
            if self.parsed[index]:
                index += 1
                continue
            end = index
            while end < count and not self.parsed[end]:
                end += 1
            yield self._mark(index, _parsed(self.files, index, end))
            index = end


class _Stalled(Exception):
    """The bounds' lock was not released in time: whoever held it died."""


@contextlib.contextmanager
def _held(bounds: Any) -> Iterator[None]:
    """The bounds' lock, which either side holds for microseconds at a time, or _Stalled
    (a process killed while holding it would otherwise leave the other waiting forever)."""
    lock = bounds.get_lock()
    if not lock.acquire(timeout=LOCK_WAIT):
        raise _Stalled
    try:
        yield
    finally:
        lock.release()


def _here(files: Named) -> Iterator[Chunk]:
    """All of them, parsed in this process: one chunk."""
    return iter([(0, _parsed(files, 0, len(files)))])


def _parsed(files: Named, start: int, end: int) -> list[dict[str, Any]]:
    return [document(name, data) for name, data in files[start:end]]


def _serve(conn: Connection, bounds: Any, files: Named) -> None:
    """The worker: chunks from the front until the bounds meet, their objects out (or the
    first bad file, and nothing after it), then "done"."""
    try:
        while True:
            with _held(bounds):
                start = bounds[0]
                end = min(start + CHUNK, bounds[1])
                bounds[0] = max(end, start)
            if start >= end:
                conn.send_bytes(_encoded(("done",)))
                return
            conn.send_bytes(_encoded(("ok", start, _parsed(files, start, end))))
    except ConfigError as exc:  # sent as its parts: the exception does not pickle whole
        conn.send_bytes(_encoded(("bad", exc.file, exc.field, exc.reason)))
    except (BrokenPipeError, _Stalled):  # the run stopped listening, or died
        pass
    finally:
        conn.close()


def _encoded(message: tuple[Any, ...]) -> bytes:
    """marshal where it can (manifests are plain maps, lists and scalars: three times faster
    than pickle both ways), pickle for the rest (a YAML timestamp is a datetime)."""
    try:
        return b"m" + marshal.dumps(message)
    except ValueError:
        return b"p" + pickle.dumps(message, pickle.HIGHEST_PROTOCOL)


def _decoded(data: bytes) -> tuple[Any, ...]:
    body = memoryview(data)[1:]
    return marshal.loads(body) if data[:1] == b"m" else pickle.loads(body)  # type: ignore[no-any-return]
