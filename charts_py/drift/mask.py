"""Secret values never leave this module: replaced by stable per-value tokens.

Equal values get equal tokens within a run (and across runs when MESHOPS_MASK_KEY is set),
so a report can say *that* a Secret changed without saying *what* it holds. Tokens are
HMACs, not plain hashes, so low-entropy values cannot be looked up in a dictionary.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import os
import secrets
from typing import Any

PREFIX = "<masked:"
_KEY = os.environ.get("MESHOPS_MASK_KEY", "").encode() or secrets.token_bytes(32)
_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def token(value: str) -> str:
    """The mask of one value."""
    digest = hmac.new(_KEY, value.encode("utf-8"), hashlib.sha256).hexdigest()[:16]
    return f"{PREFIX}{digest}>"


def secret(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy of `obj` whose Secret payload is masked (other kinds returned as they are);
    `stringData` is folded into `data` first, as the API server does."""
    if obj.get("kind") != "Secret":
        return obj
    out = copy.deepcopy(obj)
    # The API server stores stringData base64-encoded under data: fold it the same way so
    # equal values get equal tokens on both sides.
    plain = out.pop("stringData", None)
    if isinstance(plain, dict):
        encoded = {k: base64.b64encode(_text(v).encode()).decode() for k, v in plain.items()}
        out["data"] = {**(out.get("data") or {}), **encoded}
    if isinstance(out.get("data"), dict):
        out["data"] = {k: token(_text(v)) for k, v in out["data"].items()}
    annotations = (out.get("metadata") or {}).get("annotations") or {}
    if _LAST_APPLIED in annotations:  # kubectl keeps the whole applied Secret here
        annotations[_LAST_APPLIED] = token(annotations[_LAST_APPLIED])
    return out


def _text(value: object) -> str:
    """A value as the API server stores it: `null` is the empty value (Go's nil []byte), so
    `null` and `""` mask alike (gitops-engine treats them as equal too)."""
    return "" if value is None else str(value)
