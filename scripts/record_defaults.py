"""Record the API server's defaults for every kind meshops emits into
charts_py/drift/server_defaults.json (see charts_py/drift/defaults.py for why and how).

Inputs: every object under dist/ and every `tests/testdata/drift/*-desired.yaml`, each
dry-run-created on a real API server (a fresh local control plane unless --kubeconfig).
Run it again when the Kubernetes version pin changes; the integration tier fails until then.

    .venv/bin/python scripts/record_defaults.py [--kubeconfig F] [--check]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from charts_py import kubeapi, yamlio
from charts_py.cluster import controlplane
from charts_py.drift import defaults

ROOT = Path(__file__).resolve().parents[1]
NAMESPACE = "meshops-defaults"
OUTPUT = ROOT / "charts_py" / "drift" / defaults.TABLE_FILE


def inputs(root: Path = ROOT) -> list[dict[str, Any]]:
    """The objects whose defaults drift must know: dist/ and the recorded test cases."""
    files = sorted((root / "dist").rglob("*.yaml"))
    files += sorted((root / "tests" / "testdata" / "drift").glob("*-desired.yaml"))
    out = []
    for file in files:
        out += [d for d in yamlio.load_all(file.read_text()) if isinstance(d, dict) and d]
    return out


def recorded(cluster: kubeapi.Cluster) -> str:
    """The table file's text, recorded on `cluster` now."""
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}
    cluster.apply(ns, field_manager="meshops-defaults")
    found = defaults.record(inputs(), defaults.server_predict(cluster, NAMESPACE))
    version = cluster.request("GET", "/version")["gitVersion"]
    return defaults.to_json(version, found)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubeconfig", default=None)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / "control-plane"
        config = args.kubeconfig or controlplane.up(state).kubeconfig
        try:
            text = recorded(kubeapi.Cluster.connect(config))
        finally:
            if not args.kubeconfig:
                controlplane.down(state)
    if args.check:
        stale = not OUTPUT.exists() or OUTPUT.read_text() != text
        print(f"{OUTPUT.relative_to(ROOT)}: {'stale' if stale else 'current'}")
        return 1 if stale else 0
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
