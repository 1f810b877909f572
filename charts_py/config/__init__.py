"""Environment files -> typed, validated model (pydantic, extra=forbid)."""
