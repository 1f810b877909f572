"""JSON Pointers (RFC 6901): the one encoder and decoder of the paths meshops reports.

Drift differences, validate findings and ignore rules all name a field by a JSON Pointer;
keys such as `argocd.argoproj.io/sync-wave` contain `/`, so every token is escaped here
(`~` as `~0`, then `/` as `~1`) and nowhere else.
"""

from __future__ import annotations

import re

_BAD_TILDE = re.compile(r"~(?![01])")


def escape(token: object) -> str:
    """One reference token: `~` becomes `~0` and `/` becomes `~1` (in that order)."""
    text = str(token)
    if "~" not in text and "/" not in text:  # nearly every token: synth spells thousands
        return text
    return text.replace("~", "~0").replace("/", "~1")


def unescape(token: str) -> str:
    """The key a reference token names: `~1` becomes `/`, then `~0` becomes `~`.

    The order matters: `~01` is the key `~1`, not `/`.
    """
    return token.replace("~1", "/").replace("~0", "~")


def step(token: object) -> str:
    """`/<escaped token>`: one more level below a pointer."""
    return "/" + escape(token)


def pointer(*tokens: object) -> str:
    """A JSON Pointer from its tokens: pointer("spec", "http", 0) == "/spec/http/0"."""
    return "".join(step(t) for t in tokens)


def tokens(value: str) -> list[str]:
    """The keys of a JSON Pointer ("" is the whole document); raise ValueError if malformed."""
    if not value:
        return []
    if not value.startswith("/"):
        raise ValueError(f"JSON Pointer {value!r} must be empty or start with '/'")
    if _BAD_TILDE.search(value):
        raise ValueError(f"JSON Pointer {value!r}: '~' must be followed by 0 or 1")
    return [unescape(p) for p in value[1:].split("/")]
