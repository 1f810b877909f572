#!/usr/bin/env python3
"""Fetch pinned upstream CRDs and filter them into charts_py/crds/ (every served version).

Why this script exists:

* meshops emits Istio, prometheus-operator and Argo CD custom resources as plain dicts; the
  packaged CRD schemas are what checks them (``meshops validate``, ``meshops synth`` and the
  local control plane, which installs them).
* The CRDs come from the upstream *Go modules* (via ``go mod download``) rather than from
  GitHub release assets or raw URLs: the Go module proxy serves immutable, checksum-database
  verified zips, and we additionally pin the ``h1:`` hash of each module below, so a given
  pin always yields the same bytes.
* Upstream CRDs carry every served API version (Istio ships v1alpha3/v1beta1/v1 side by side,
  one schema each). We keep every served version, as the API server serves them: `meshops
  validate` checks manifests we did not write, at whatever version they were written.
* Gateway API ships two channels of the same CRDs: standard and experimental (a superset,
  with more fields and the alpha versions). Both are kept, in their own folders, for
  validation only: the local control plane installs the top-level files.
* Output must be byte-identical on every run so that ``--check`` (run in CI) can prove the
  committed files match the pins.

Output (the directory is owned by this script; files not produced by it are deleted):
``charts_py/crds/<plural>.<group>.yaml``, one filtered CRD per file, and
``charts_py/crds/gateway-api/<channel>/<plural>.<group>.yaml``.

Usage::

    python scripts/fetch_crds.py           # regenerate in place
    python scripts/fetch_crds.py --check   # regenerate into a temp dir, exit 1 on any drift
"""

from __future__ import annotations

import argparse
import copy
import filecmp
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class GoModule:
    """A pinned Go module and the CRD files to read from it.

    ``h1`` is the module hash from sum.golang.org. ``go mod download`` already verifies it
    against the checksum database; pinning it here also catches a changed GOSUMDB/GONOSUMDB
    setting or a mirror serving different content for the same version.
    """

    path: str
    version: str
    h1: str
    globs: tuple[str, ...]

    @property
    def ref(self) -> str:
        """``path@version`` as accepted by ``go mod download``."""
        return f"{self.path}@{self.version}"


# --- Pins ---------------------------------------------------------------------------------
# Bump a version, run the script, review the CRD diff, commit. Get the new h1 with
# `go mod download -json <module>@<version>` (field "Sum").
ISTIO_API = GoModule(
    path="istio.io/api",
    version="v1.31.4",
    h1="h1:AcnncYrlDj1PJkym7h88Gggkef4MAra8QpGaXRMsr+E=",
    globs=("kubernetes/customresourcedefinitions.gen.yaml",),
)
PROMETHEUS_OPERATOR = GoModule(
    path="github.com/prometheus-operator/prometheus-operator",
    version="v0.85.0",
    h1="h1:M5xLCLEoaW2IJfnuCwFzzpL+jSVQu3KGT84Pye+fW8s=",
    globs=("example/prometheus-operator-crd/monitoring.coreos.com_*.yaml",),
)
# The version the e2e tier runs (scripts/argocd/go.mod): Argo CD's CRDs must match the
# controllers. v3.6 declares `go 1.27`, so `go` runs as the toolchain pinned there.
ARGO_CD = GoModule(
    path="github.com/argoproj/argo-cd/v3",
    version="v3.6.1",
    h1="h1:OmhqeKiR3C//awbFrhQqFdtRI+Qiv17j8vqm3UkMj/g=",
    globs=("manifests/crds/*-crd.yaml",),
)
# The version the pinned istioctl builds against (istio.io/istio's go.mod, scripts/istioctl).
GATEWAY_API = GoModule(
    path="sigs.k8s.io/gateway-api",
    version="v1.6.0",
    h1="h1:735YBRj5NXFrOGX0GoSjwzUIzbz8kiEOfADsqHFmHgE=",
    globs=("config/crd/standard/*.yaml", "config/crd/experimental/*.yaml"),
)
PINNED_MODULES: tuple[GoModule, ...] = (ISTIO_API, PROMETHEUS_OPERATOR, ARGO_CD, GATEWAY_API)


@dataclass(frozen=True)
class Selection:
    """CRD kinds of one group to keep from one module (every served version of each), the
    upstream files they may come from, and the folder under charts_py/crds/ they go to."""

    module: GoModule
    group: str
    kinds: tuple[str, ...]
    source: str = "*"
    """fnmatch pattern of the upstream path (a Gateway API channel's folder)."""
    folder: str = ""


_GATEWAY_API_KINDS = ("Gateway", "HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute", "ReferenceGrant")
SELECTIONS: tuple[Selection, ...] = (
    Selection(
        ISTIO_API,
        "networking.istio.io",
        (
            "VirtualService",
            "DestinationRule",
            "Gateway",
            "ServiceEntry",
            "Sidecar",
            "WorkloadEntry",
            "WorkloadGroup",
            "EnvoyFilter",
            "ProxyConfig",
        ),
    ),
    Selection(
        ISTIO_API,
        "security.istio.io",
        ("PeerAuthentication", "AuthorizationPolicy", "RequestAuthentication"),
    ),
    Selection(ISTIO_API, "telemetry.istio.io", ("Telemetry",)),
    Selection(ISTIO_API, "extensions.istio.io", ("WasmPlugin",)),
    Selection(
        PROMETHEUS_OPERATOR,
        "monitoring.coreos.com",
        ("ServiceMonitor", "PodMonitor", "PrometheusRule"),
    ),
    Selection(ARGO_CD, "argoproj.io", ("Application", "ApplicationSet", "AppProject")),
    *(
        Selection(
            GATEWAY_API,
            "gateway.networking.k8s.io",
            _GATEWAY_API_KINDS,
            source=f"config/crd/{channel}/*",
            folder=f"gateway-api/{channel}",
        )
        for channel in ("standard", "experimental")
    ),
)

REPO_ROOT = Path(__file__).resolve().parent.parent
CRDS_REL = Path("charts_py") / "crds"
GENERATED_ROOTS: tuple[Path, ...] = (CRDS_REL,)


class FetchError(RuntimeError):
    """A pin, an upstream file or a tool did not behave as this script expects."""


# --- YAML ---------------------------------------------------------------------------------
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _CrdLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    """Safe loader that reads a bare ``=`` as a string.

    PyYAML implements the YAML 1.1 ``!!value`` type for a plain ``=`` but has no constructor
    for it, so prometheus-operator CRDs (which list ``=`` as a matcher enum value) fail to load.
    The libyaml-backed loader is used when available only for speed; resolution is the same.
    """


_CrdLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:value"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def dump_yaml(doc: Mapping[str, Any]) -> str:
    """Serialise deterministically.

    Always the pure-Python ``SafeDumper`` (never libyaml's), so output does not depend on
    whether PyYAML was built with libyaml; sorted keys and a wide line limit keep diffs small.
    """
    return yaml.dump(
        doc,
        Dumper=yaml.SafeDumper,
        sort_keys=True,
        default_flow_style=False,
        width=1000,
        allow_unicode=True,
        explicit_start=False,
    )


# --- Subprocess helpers -------------------------------------------------------------------
ARGOCD_GO_MOD = Path(__file__).resolve().parent / "argocd" / "go.mod"


def pinned_toolchain() -> str:
    """The Go toolchain pinned by scripts/argocd/go.mod (`toolchain goX.Y.Z`): one pin for the
    Argo CD build and for reading its module here."""
    for line in ARGOCD_GO_MOD.read_text().splitlines():
        if line.startswith("toolchain "):
            return line.split()[1]
    raise FetchError(f"{ARGOCD_GO_MOD}: no `toolchain` line")


def go_env() -> dict[str, str]:
    """Environment for ``go``: module mode, and exactly the pinned toolchain (fetched once
    from the module proxy), never whatever newer one a module asks for."""
    env = dict(os.environ)
    env["GOFLAGS"] = "-mod=mod"
    env["GO111MODULE"] = "on"
    env["GOTOOLCHAIN"] = pinned_toolchain()
    return env


# --- Steps --------------------------------------------------------------------------------
def go_mod_download(ref: str, workdir: Path, env: Mapping[str, str]) -> dict[str, Any]:
    """`go mod download -json ref` in `workdir`: the module's info (`Dir`, `Sum`, ...).

    Run it in an empty temp dir, so no surrounding ``go.mod`` can influence resolution.
    """
    proc = subprocess.run(
        ["go", "mod", "download", "-json", ref],
        cwd=workdir,
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        info: dict[str, Any] = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise FetchError(f"go mod download {ref} failed:\n{proc.stderr}") from exc
    if proc.returncode != 0 or "Error" in info:
        raise FetchError(f"go mod download {ref}: {info.get('Error', proc.stderr)}")
    return info


def download_module(module: GoModule, workdir: Path) -> Path:
    """Download ``module`` (hash-checked against its pin) and return its read-only source dir."""
    info = go_mod_download(module.ref, workdir, go_env())
    if info.get("Sum") != module.h1:
        raise FetchError(f"{module.ref}: module hash {info.get('Sum')} != pinned {module.h1}")
    return Path(info["Dir"])


def load_crds(module: GoModule, module_dir: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield ``(relative path, CRD object)`` for every CRD document in the module's globs."""
    for pattern in module.globs:
        paths = sorted(module_dir.glob(pattern))
        if not paths:
            raise FetchError(f"{module.ref}: no files match {pattern}")
        for path in paths:
            with path.open(encoding="utf-8") as fh:
                for doc in yaml.load_all(fh, Loader=_CrdLoader):
                    if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
                        yield path.relative_to(module_dir).as_posix(), doc


def _strip_templated(mapping: dict[str, Any]) -> dict[str, Any]:
    """Drop entries that still contain Helm template syntax; they are not valid label values."""
    return {k: v for k, v in mapping.items() if "{{" not in str(k) and "{{" not in str(v)}


@dataclass(frozen=True)
class FilteredCrd:
    """One filtered CRD ready to write, with its provenance for the header comment."""

    name: str
    group: str
    kind: str
    versions: tuple[str, ...]
    module: GoModule
    source_path: str
    folder: str
    body: dict[str, Any]

    @property
    def path(self) -> Path:
        """Where it goes under charts_py/crds/."""
        return Path(self.folder) / f"{self.name}.yaml"

    def render(self) -> str:
        """File text: provenance header, then the CRD."""
        lines = [
            f"# Source: {self.module.ref} {self.source_path}",
            f"# Generated by scripts/fetch_crds.py: served versions {', '.join(self.versions)} "
            "kept; do not edit.",
        ]
        return "\n".join(lines) + "\n" + dump_yaml(self.body)


def filter_crd(doc: Mapping[str, Any], selection: Selection, source_path: str) -> FilteredCrd:
    """Reduce an upstream CRD to its served versions, installable on its own."""
    crd = copy.deepcopy(dict(doc))
    crd.pop("status", None)
    meta = crd.get("metadata") or {}
    # Keep only what a CRD author sets; drop server-populated fields like creationTimestamp.
    clean_meta: dict[str, Any] = {"name": meta["name"]}
    for key in ("labels", "annotations"):
        kept = _strip_templated(meta.get(key) or {})
        if kept:
            clean_meta[key] = kept
    crd["metadata"] = clean_meta

    spec = crd["spec"]
    kind = spec["names"]["kind"]
    served = [v for v in spec["versions"] if v.get("served", False)]
    storage = [v["name"] for v in spec["versions"] if v.get("storage")]
    if len(storage) != 1:
        raise FetchError(f"{kind}: expected one storage version upstream, got {storage}")
    if storage[0] not in {v["name"] for v in served}:
        raise FetchError(f"{kind}: storage version {storage[0]} is not served upstream")
    # A version no API server serves checks nothing a user can write.
    spec["versions"] = served
    if (spec.get("conversion") or {}).get("strategy", "None") != "None":
        raise FetchError(f"{kind}: a conversion webhook is not installable from a file")

    expected_name = f"{spec['names']['plural']}.{spec['group']}"
    if clean_meta["name"] != expected_name:
        raise FetchError(f"CRD name {clean_meta['name']} != {expected_name}")
    return FilteredCrd(
        name=expected_name,
        group=spec["group"],
        kind=kind,
        versions=tuple(v["name"] for v in served),
        module=selection.module,
        source_path=source_path,
        folder=selection.folder,
        body=crd,
    )


def select_crds(module_dirs: Mapping[GoModule, Path]) -> list[FilteredCrd]:
    """Pick exactly the kinds in SELECTIONS; fail loudly if any is missing or ambiguous."""
    result: list[FilteredCrd] = []
    for module, module_dir in module_dirs.items():
        selections = [sel for sel in SELECTIONS if sel.module == module]
        wanted = {(sel.folder, sel.group, kind) for sel in selections for kind in sel.kinds}
        found: dict[tuple[str, str, str], FilteredCrd] = {}
        for source_path, doc in load_crds(module, module_dir):
            group, kind = doc["spec"]["group"], doc["spec"]["names"]["kind"]
            for sel in selections:
                key = (sel.folder, group, kind)
                if (sel.group, kind) != (group, kind) or kind not in sel.kinds:
                    continue
                if not fnmatch.fnmatch(source_path, sel.source):
                    continue
                if key in found:
                    raise FetchError(f"{module.ref}: {key} defined twice")
                found[key] = filter_crd(doc, sel, source_path)
        missing = sorted(wanted - set(found))
        if missing:
            raise FetchError(f"{module.ref}: CRDs not found: {missing}")
        result.extend(found.values())
    return sorted(result, key=lambda c: c.path)


def generate(out_root: Path, workdir: Path) -> list[FilteredCrd]:
    """Write the filtered CRDs under ``out_root`` (an empty staging tree)."""
    go_dir = workdir / "go"
    go_dir.mkdir()
    module_dirs = {m: download_module(m, go_dir) for m in PINNED_MODULES}
    crds = select_crds(module_dirs)

    crds_dir = out_root / CRDS_REL
    for crd in crds:
        target = crds_dir / crd.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(crd.render(), encoding="utf-8")
    return crds


def tree_files(root: Path) -> dict[str, Path]:
    """Relative POSIX path -> file."""
    if not root.exists():
        return {}
    return {p.relative_to(root).as_posix(): p for p in root.rglob("*") if p.is_file()}


def diff_trees(new: Path, old: Path) -> tuple[list[str], list[str], list[str]]:
    """Return (added, removed, changed) relative paths between two generated trees."""
    new_files, old_files = tree_files(new), tree_files(old)
    added = sorted(set(new_files) - set(old_files))
    removed = sorted(set(old_files) - set(new_files))
    changed = sorted(
        rel
        for rel in set(new_files) & set(old_files)
        if not filecmp.cmp(new_files[rel], old_files[rel], shallow=False)
    )
    return added, removed, changed


def sync(staging: Path, repo: Path) -> None:
    """Make the repo's generated dirs equal to staging, touching only files that differ."""
    for rel in GENERATED_ROOTS:
        added, removed, changed = diff_trees(staging / rel, repo / rel)
        for name in removed:
            (repo / rel / name).unlink()
        for name in added + changed:
            target = repo / rel / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(staging / rel / name, target)
        for label, names in (("added", added), ("removed", removed), ("updated", changed)):
            if names:
                print(f"{rel}: {label} {len(names)} file(s)")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--check",
        action="store_true",
        help="regenerate into a temp dir and exit 1 if it differs from the committed files",
    )
    args = parser.parse_args(argv)
    started = time.monotonic()

    with tempfile.TemporaryDirectory(prefix="fetch-crds-") as tmp:
        tmp_path = Path(tmp)
        staging = tmp_path / "staging"
        work = tmp_path / "work"
        work.mkdir()
        crds = generate(staging, work)

        for crd in crds:
            print(f"{crd.path}: {crd.kind} {', '.join(crd.versions)}")

        if args.check:
            drift = False
            for rel in GENERATED_ROOTS:
                added, removed, changed = diff_trees(staging / rel, REPO_ROOT / rel)
                for label, names in (("missing", added), ("stale", removed), ("differs", changed)):
                    for name in names:
                        drift = True
                        print(f"{label}: {rel / name}", file=sys.stderr)
            elapsed = time.monotonic() - started
            if drift:
                print(
                    f"generated files are out of date ({elapsed:.1f}s); run scripts/fetch_crds.py",
                    file=sys.stderr,
                )
                return 1
            print(f"generated files are up to date ({elapsed:.1f}s)")
            return 0

        sync(staging, REPO_ROOT)
    print(f"done in {time.monotonic() - started:.1f}s")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except FetchError as err:
        print(f"fetch_crds: {err}", file=sys.stderr)
        sys.exit(2)
