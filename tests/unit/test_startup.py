"""render/startup: synth's pure-Python modules import on a thread while node starts."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

from charts_py.render import startup


def test_leaving_waits_for_the_imports_and_the_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "slow_to_import.py").write_text("import time\ntime.sleep(0.3)\ndone = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(startup, "PURE_PYTHON", ("slow_to_import",))
    with startup.overlapped():
        pass
    assert sys.modules["slow_to_import"].done  # imported whole, not still sleeping
    assert not [t for t in threading.enumerate() if t.name == "meshops-import"]
    monkeypatch.delitem(sys.modules, "slow_to_import")


def test_an_import_failing_on_the_thread_fails_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(startup, "PURE_PYTHON", ("charts_py.no_such_module",))
    with pytest.raises(ModuleNotFoundError, match="no_such_module"), startup.overlapped():
        pass
