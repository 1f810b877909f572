"""Every claim checked before it is printed: the environment file is loaded and rendered in
memory exactly as `meshops synth` renders it, and each rendered object is compared with its
source under drift's normalisation (drift/normalize.py: empty equals absent, integral floats,
quantities; drift/compare.py: every path that differs, both ways)."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from charts_py.config import environment
from charts_py.config.environment import Environment
from charts_py.drift import compare, normalize
from charts_py.drift.model import Change
from charts_py.importer import manifests
from charts_py.importer.model import Difference, Status, Verdict, Via
from charts_py.importer.placement import Placed
from charts_py.objectref import Key, ObjectRef
from charts_py.render import checks, synth
from charts_py.render.manifest import Manifest
from charts_py.validate import engine

WHY = {
    Change.CHANGED: "the typed field renders another value here",
    Change.ADDED: "the source has it and the rendered object does not: no field says it",
    Change.REMOVED: "meshops renders it and the source does not have it",
}
"""Why a path differs, by what the comparison found there (rendered seen as git's side)."""


@dataclass(frozen=True, kw_only=True)
class Rendered:
    """The loaded environment, every object it renders, by identity (group, kind, ns, name),
    and validate's verdict on them."""

    env: Environment
    manifests: list[Manifest]
    verdict: checks.Verdict
    """Waits for validation: its warnings, or raises ValidationFailed on errors."""

    @functools.cached_property
    def objects(self) -> dict[Key, dict[str, Any]]:
        return {ObjectRef.of(m.obj).key: m.obj for m in self.manifests}


@contextmanager
def render(text: str, name: str, display: str) -> Iterator[Rendered]:
    """Load the file's text as synth would and render every object of the environment, with
    validation beside it as synth runs it (render/checks.py: a worker forked now loads the
    schemas while this process renders, then checks the objects while this one compares
    them); use the result inside the block (the worker stops when it ends)."""
    env = environment.load_text(text, name, display)
    with checks.in_background({env.name: env}, Path("dist")) as validation:  # synth's names
        built = synth.rendered([env], [env], each=validation.add)
        yield Rendered(env=env, manifests=built.manifests, verdict=validation.verdict())


def refusals(rendered: Rendered) -> list[str]:
    """Validate's errors on the rendered objects, each one line: what would stop `meshops
    synth` (a conflict the running mesh already has, say two Gateways on one host:port)."""
    try:
        rendered.verdict()
    except engine.ValidationFailed as failed:
        return [finding.text for finding in failed.report.errors]
    return []


def verdicts(
    placed: Sequence[Placed], sources: Sequence[dict[str, Any]], rendered: Rendered
) -> list[Verdict]:
    """Each placed object's verdict, compared with what `rendered` holds for it."""
    by_ref = {ObjectRef.of(o).key: o for o in sources}
    return [_verdict(p, by_ref[p.ref.key], rendered) for p in placed]


def _verdict(placed: Placed, source: dict[str, Any], rendered: Rendered) -> Verdict:
    """Through a typed field: `exact` when the rendered spec equals the source's, else
    `approximate`. Through an extension or left out of band: `not-expressible` (the typed
    model cannot say it), an extension's differences listed all the same."""
    at = placed.rendered_as
    differences: tuple[Difference, ...] = ()
    if at is not None:
        found = rendered.objects.get(at.key)
        if found is None:  # a placement the file does not render: never a claim of equality
            why = "the environment file renders no such object"
            differences = (Difference(path="/", source="(object)", rendered=None, why=why),)
        else:
            differences = tuple(differences_of(source, found))
    if placed.via is Via.MODEL:
        status = Status.APPROXIMATE if differences else Status.EXACT
    else:
        status = Status.NOT_EXPRESSIBLE
    return Verdict(
        ref=placed.ref,
        status=status,
        rendered_as=at,
        via=placed.via,
        differences=differences,
        reason=placed.reason,
    )


def differences_of(source: dict[str, Any], rendered: dict[str, Any]) -> list[Difference]:
    """Where `rendered` differs from `source`: the spec, both ways, and the labels and
    annotations Istio reads (manifests.istio_metadata); for a Namespace its labels (the
    injection labels an adoption must keep as found)."""
    if source.get("kind") == "Namespace":
        theirs, ours = _labels(source), _labels(rendered)
        ours = {k: v for k, v in ours.items() if k in theirs or not k.startswith(_OURS)}
        found = compare.predicted(ours, theirs)
        prefix = "/metadata/labels"
    else:
        theirs = _compared(source)
        ours = _compared(rendered)
        if ours == theirs:  # the common case, without a diff's walk
            return []
        found = compare.predicted(ours, theirs)
        prefix = ""
    return [
        Difference(
            path=prefix + (d.path if d.path != "/" else ""),
            source=d.live,
            rendered=d.desired,
            why=WHY[d.change],
        )
        for d in found
    ]


def _compared(obj: dict[str, Any]) -> dict[str, Any]:
    """What of an object a claim is about: its spec (canonical), and Istio's own labels and
    annotations when it has any."""
    istio = manifests.istio_metadata(obj)
    metadata = {field: istio.get(field, {}) for field in ("labels", "annotations")}
    return {"spec": normalize.canonical(obj.get("spec") or {}), "metadata": metadata}


_OURS = ("app.kubernetes.io/managed-by", "meshops.dev/")
"""Labels meshops puts on every object it renders (contract.labels): not the namespace's."""


def _labels(obj: dict[str, Any]) -> dict[str, Any]:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return {k: v for k, v in labels.items() if k != "kubernetes.io/metadata.name"}
