"""Record the unit tier's drift cases from a real API server into tests/testdata/drift/.

For every case of tests/integration/adoption.py: give its objects their history on a fresh
local control plane (or --kubeconfig), then write `<case>-desired.yaml` (git's objects, the
judged one first), `<case>-live.yaml` (what the server holds, managedFields included) and
`<case>-expected.yaml` (verdict, paths, managers). Re-run after changing a case; `--case`
records only the named ones (the others keep their recorded bytes: uids and times).

    .venv/bin/python scripts/record_drift_cases.py [--kubeconfig F] [--case NAME]...
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from charts_py import kubeapi  # noqa: E402
from charts_py.cluster import binaries, controlplane  # noqa: E402
from charts_py.config import environment  # noqa: E402
from charts_py.render import synth  # noqa: E402
from tests.integration import adoption  # noqa: E402

OUT = ROOT / "tests" / "testdata" / "drift"
NAMESPACE = "drift-cases"


def sample() -> list[dict[str, Any]]:
    envs = environment.load_all(ROOT / "environments")
    staging = envs["staging"]
    return [m.obj for m in synth.manifests([staging], [staging]) if m.path.startswith("staging/")]


def dump(path: Path, docs: list[dict[str, Any]]) -> None:
    path.write_text(yaml.safe_dump_all(docs, sort_keys=True))


def record(kube: kubeapi.Cluster, kubeconfig: str, names: set[str]) -> None:
    objects = sample()
    OUT.mkdir(parents=True, exist_ok=True)
    for i, case in enumerate(adoption.CASES):
        if names and case.name not in names:
            continue
        ns = f"{NAMESPACE}-{i}"
        kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}},
                   field_manager="meshops-tests")  # fmt: skip
        bench = adoption.Bench(kube, kubeconfig, binaries.locate() / "kubectl", ns)
        desired = adoption.desired_of(case, objects, ns)
        live = adoption.play(case, bench, desired)
        dump(OUT / f"{case.name}-desired.yaml", desired)
        dump(OUT / f"{case.name}-live.yaml", live)
        expected = {"status": case.status, "paths": list(case.paths),
                    "managers": list(case.managers)}  # fmt: skip
        dump(OUT / f"{case.name}-expected.yaml", [expected])
        print(f"recorded {case.name}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubeconfig", default=None)
    parser.add_argument("--case", action="append", default=[], help="record only this case")
    args = parser.parse_args()
    unknown = set(args.case) - {case.name for case in adoption.CASES}
    if unknown:
        parser.error(f"--case: no such case: {', '.join(sorted(unknown))}")
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / "control-plane"
        config = args.kubeconfig or controlplane.up(state).kubeconfig
        try:
            record(kubeapi.Cluster.connect(config), config, set(args.case))
        finally:
            if not args.kubeconfig:
                controlplane.down(state)
    return 0


if __name__ == "__main__":
    sys.exit(main())
