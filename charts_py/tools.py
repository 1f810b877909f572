"""The pinned Go-built tools: where each one is, and building it once when it is not there.

Five tools are built from Go modules: the local control plane (kube-apiserver, kubectl, etcd),
istioctl, Argo CD, helm and adapter-check. Their versions are named once, in
scripts/tools.toml; the go.mod/go.sum of each tool's folder in scripts/ lock that version with
its whole dependency graph, and a build stops if a go.mod requires another version.

The product (cluster/binaries.py, validate/istioctl.py), the tests and scripts/tools.py all
ask here, the same way. A tool is, in this order:

1. what its override variable names (one per tool, in TOOLS; the control plane keeps envtest's
   `KUBEBUILDER_ASSETS`, a folder), used as is;
2. its folder in the cache, `$XDG_CACHE_HOME/meshops/<tool>/<versions>/` (`~/.cache` unless
   set), which exists only complete: a build fills a temporary folder beside it and publishes
   it with one rename;
3. built (only by `provide`, never by `path`): under a lock per tool, so a second caller waits
   for the first build instead of starting its own. A build prints its steps, their times and
   a heartbeat every minute on stderr (linking Argo CD takes half an hour on two cores, silently).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from charts_py.errors import MeshopsError

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
PINS = SCRIPTS / "tools.toml"
HEARTBEAT = 60.0
"""Seconds between two "still building" lines."""


class ToolError(MeshopsError):
    """A pinned tool is missing, misnamed by its override variable, or failed to build."""


@dataclass(frozen=True, kw_only=True)
class Build:
    """One build in progress: the folder being filled, and the versions to build."""

    tool: str
    into: Path
    pins: Mapping[str, str]
    prebuilt: Path | None = None
    """An existing main binary to assemble the folder around (Argo CD's override)."""

    def go(self, folder: str | None, *args: str) -> str:
        """`go ARGS` in scripts/FOLDER (None: outside any module), hermetic; its stdout."""
        cwd = SCRIPTS / folder if folder else self.into
        done = subprocess.run(
            [_go(self.tool), *args], cwd=cwd, env=_go_env(cwd), stdout=subprocess.PIPE, text=True
        )
        if done.returncode != 0:
            raise ToolError(f"{self.tool}: `go {' '.join(args[:2])}` failed in {cwd}")
        return done.stdout

    def compile(self, folder: str, package: str, binary: str, ldflags: str = "-s -w") -> None:
        """Compile `package` (locked by scripts/FOLDER/go.mod) into the folder as `binary`."""
        with _step(self.tool, f"building {binary}"):
            output = str(self.into / binary)
            self.go(folder, "build", "-trimpath", "-ldflags", ldflags, "-o", output, package)


@dataclass(frozen=True, kw_only=True)
class Tool:
    """One pinned tool: how to find it, check it, and build it."""

    name: str
    override: str
    """The environment variable naming an existing one instead of the pinned build."""
    required: tuple[str, ...]
    """Executables a usable folder holds; a single-binary tool's path is its first."""
    is_folder: bool
    """The tool's path is its folder (several binaries), not one executable."""
    locks: Mapping[str, str]
    """Pinned module -> its folder in scripts/ (go.mod/go.sum); empty: nothing of ours."""
    recipe: Callable[[Build], None]
    links: tuple[str, ...] = ()
    """Symlinks a usable folder holds as well (Argo CD's component names)."""
    assembles_override: bool = False
    """The override names the main binary, and the folder is assembled around it."""
    key: Callable[[Mapping[str, str]], str] = field(default=lambda pins: "-".join(pins.values()))
    """The cache folder's name, from the versions (names kept from the earlier scripts)."""

    def entry(self, folder: Path) -> Path:
        """The path a caller gets for a tool kept in `folder`."""
        return folder if self.is_folder else folder / self.required[0]

    def complete(self, folder: Path) -> bool:
        """Whether `folder` holds every executable and link."""
        return all(os.access(folder / n, os.X_OK) for n in (*self.required, *self.links))


def path(name: str) -> Path | None:
    """The tool as overridden or already built; None when it would have to be built."""
    tool = TOOLS[name]
    named = _overridden(tool)
    if named is not None and not tool.assembles_override:
        return named
    if not PINS.is_file():  # an installed meshops: nothing is built here
        return None
    folder = _folder(tool, named)
    return tool.entry(folder) if tool.complete(folder) else None


def provide(name: str) -> Path:
    """The tool as overridden or built, building it now if needed (minutes, once)."""
    found = path(name)
    if found is not None:
        return found
    tool = TOOLS[name]
    if not PINS.is_file():
        raise ToolError(f"{name}: no {PINS} (not a meshops checkout): set {tool.override}")
    folder = _folder(tool, _overridden(tool))
    folder.parent.mkdir(parents=True, exist_ok=True)
    with _locked(folder.parent / ".lock", name):
        if not tool.complete(folder):  # the build we waited for may have made it
            _build(tool, folder)
    return tool.entry(folder)


def pins(name: str) -> dict[str, str]:
    """The pinned module versions of one tool, from scripts/tools.toml."""
    with PINS.open("rb") as file:
        table = tomllib.load(file)
    if not isinstance(table.get(name), dict) or not table[name]:
        raise ToolError(f"{PINS}: {name}: no pinned module")
    return {str(module): str(version) for module, version in table[name].items()}


def locked_version(gomod: str, module: str) -> str | None:
    """The version a go.mod requires of `module` (a `require` line or a line in its block)."""
    block = False
    for line in gomod.splitlines():
        words = line.split("//")[0].split()
        if words[:2] == ["require", "("]:
            block = True
        elif block and words == [")"]:
            block = False
        elif words[:2] == ["require", module] and len(words) == 3:
            return words[2]
        elif block and words[:1] == [module] and len(words) == 2:
            return words[1]
    return None


def overridden(name: str) -> Path | None:
    """What the tool's override variable names (checked), or None when it is unset."""
    return _overridden(TOOLS[name])


def cache_root() -> Path:
    """`$XDG_CACHE_HOME/meshops` (`~/.cache/meshops` unless set)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "meshops"


def _overridden(tool: Tool) -> Path | None:
    """What the override variable names, checked; None when it is unset."""
    value = os.environ.get(tool.override)
    if not value:
        return None
    named = Path(value)
    if tool.is_folder and not tool.assembles_override:
        missing = [n for n in tool.required if not os.access(named / n, os.X_OK)]
        if missing:
            raise ToolError(f"{tool.override}={value}: missing {', '.join(missing)}")
    elif not (named.is_file() and os.access(named, os.X_OK)):
        raise ToolError(f"{tool.override}={value}: not an executable file")
    return named


def _folder(tool: Tool, prebuilt: Path | None) -> Path:
    """The tool's cache folder: named by its versions, or by the binary it is assembled around."""
    if prebuilt is not None:
        digest = hashlib.sha256(str(prebuilt.resolve()).encode()).hexdigest()[:12]
        return cache_root() / tool.name / f"external-{digest}"
    return cache_root() / tool.name / tool.key(pins(tool.name))


def _build(tool: Tool, folder: Path) -> None:
    """Build into a temporary folder beside `folder`, then publish it with one rename."""
    pinned = pins(tool.name)
    _check_locks(tool, pinned)
    for leftover in folder.parent.glob(".partial-*"):  # a killed build's (we hold the lock)
        shutil.rmtree(leftover, ignore_errors=True)
    into = Path(tempfile.mkdtemp(prefix=".partial-", dir=folder.parent))
    try:
        into.chmod(0o755)
        prebuilt = _overridden(tool) if tool.assembles_override else None
        started = time.monotonic()
        with _heartbeat(tool.name, started):
            tool.recipe(Build(tool=tool.name, into=into, pins=pinned, prebuilt=prebuilt))
        if not tool.complete(into):
            raise ToolError(f"{tool.name}: the build did not produce all of {tool.required}")
        if folder.exists():  # an incomplete folder left by an older script: set it aside
            shutil.rmtree(folder.rename(folder.parent / f".partial-stale-{os.getpid()}"))
        try:
            into.rename(folder)
        except OSError:  # a builder that takes no lock (an older script) published first
            if not tool.complete(folder):
                raise
    finally:
        shutil.rmtree(into, ignore_errors=True)
    _log(tool.name, f"installed into {folder} ({_minutes(started)})")


def _check_locks(tool: Tool, pinned: Mapping[str, str]) -> None:
    """Every go.mod of the tool requires exactly the version scripts/tools.toml names."""
    for module, folder in tool.locks.items():
        gomod = SCRIPTS / folder / "go.mod"
        locked = locked_version(gomod.read_text(), module)
        if locked != pinned.get(module):
            raise ToolError(
                f"{gomod}: requires {module} {locked}, scripts/tools.toml pins "
                f"{pinned.get(module)}: run `go get {module}@{pinned.get(module)} && go mod "
                f"tidy` in scripts/{folder}"
            )


def _go(tool: str) -> str:
    found = shutil.which("go")
    if found is None:
        override = TOOLS[tool].override if tool in TOOLS else "its override"
        raise ToolError(f"{tool}: go is not on PATH: install Go, or set {override}")
    return found


def _go_env(cwd: Path) -> dict[str, str]:
    """Hermetic Go settings: no go.work, go.mod and go.sum never changed, no cgo, no VCS
    stamping (the folders live in this repository), and exactly the toolchain go.mod names
    (its `toolchain` line; else the installed Go), never whatever newer one a module asks for."""
    gomod = cwd / "go.mod"
    toolchain = "local"
    if gomod.is_file():
        for line in gomod.read_text().splitlines():
            if line.startswith("toolchain "):
                toolchain = line.split()[1]
    flags = "-mod=readonly -buildvcs=false" if gomod.is_file() else "-buildvcs=false"
    return {
        **os.environ,
        "GOWORK": "off",
        "CGO_ENABLED": "0",
        "GOFLAGS": flags,
        "GOTOOLCHAIN": toolchain,
    }


@contextmanager
def _locked(lock: Path, name: str) -> Iterator[None]:
    """Hold the tool's lock file (released by the kernel if the process dies)."""
    with lock.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            _log(name, "another process is building it; waiting for that build")
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


@contextmanager
def _heartbeat(name: str, started: float) -> Iterator[None]:
    """A "still building" line every minute until the block ends: the one heartbeat."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(HEARTBEAT):
            _log(name, f"  still building ({_minutes(started)} so far)")

    beating = threading.Thread(target=beat, daemon=True)
    beating.start()
    try:
        yield
    finally:
        stop.set()
        beating.join()


@contextmanager
def _step(name: str, label: str) -> Iterator[None]:
    started = time.monotonic()
    _log(name, f"{label}...")
    yield
    _log(name, f"  done in {time.monotonic() - started:.0f}s")


def _minutes(started: float) -> str:
    seconds = int(time.monotonic() - started)
    return f"{seconds // 60} min {seconds % 60} s"


def _log(name: str, message: str) -> None:
    print(f"{name}: {message}", file=sys.stderr, flush=True)


# --- The recipes: what each tool is built from ------------------------------------------------


def _controlplane(b: Build) -> None:
    """kube-apiserver and kubectl stamped with their version as Kubernetes' release does, etcd."""
    k8s, etcd = b.pins["k8s.io/kubernetes"], b.pins["go.etcd.io/etcd/server/v3"]
    time_format = '{{if .Time}}{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}{{end}}'
    date = b.go("controlplane", "list", "-m", "-f", time_format, "k8s.io/kubernetes")
    minor = k8s.removeprefix("v1.").split(".")[0]
    stamp = {"gitMajor": "1", "gitMinor": minor, "gitVersion": k8s, "gitTreeState": "archive",
             "gitCommit": "", "buildDate": date.strip() or "1970-01-01T00:00:00Z"}  # fmt: skip
    ldflags = "-s -w" + "".join(
        f" -X {pkg}.{var}={value}"
        for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version")
        for var, value in stamp.items()
    )
    b.compile("controlplane", "k8s.io/kubernetes/cmd/kube-apiserver", "kube-apiserver", ldflags)
    b.compile("controlplane", "k8s.io/kubernetes/cmd/kubectl", "kubectl", ldflags)
    etcd_flags = f"-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA={etcd}"
    b.compile("controlplane/etcd", "go.etcd.io/etcd/server/v3", "etcd", etcd_flags)


def _istioctl(b: Build) -> None:
    """istioctl stamped with the pseudo-version and its commit, then run once."""
    version = b.pins["istio.io/istio"]
    pkg = "istio.io/istio/pkg/version"
    ldflags = (
        f"-s -w -X {pkg}.buildVersion={version} -X {pkg}.buildGitRevision={version.split('-')[-1]}"
        f" -X {pkg}.buildStatus=Clean -X {pkg}.buildTag={version}"
    )
    b.compile("istioctl", "istio.io/istio/istioctl/cmd/istioctl", "istioctl", ldflags)
    ran = subprocess.run([b.into / "istioctl", "version", "--remote=false"], capture_output=True)
    if ran.returncode != 0:
        raise ToolError("istioctl: the built binary does not run")


ARGOCD_COMPONENTS = (
    "argocd-application-controller",
    "argocd-repo-server",
    "argocd-applicationset-controller",
    "argocd-git-ask-pass",
)
"""Names the one `argocd` binary answers to (cmd/main.go switches on its argv[0])."""


def _argocd(b: Build) -> None:
    """One `argocd` binary (or the override's, linked), a link per component, and
    git-verify-wrapper.sh from the module (the repo-server runs it for every generation)."""
    module = "github.com/argoproj/argo-cd/v3"
    version, pkg = b.pins[module], f"{module}/common"
    if b.prebuilt is not None:
        (b.into / "argocd").symlink_to(b.prebuilt.resolve())
    else:
        ldflags = (
            f"-s -w -X {pkg}.version={version.removeprefix('v')} -X {pkg}.gitTag={version}"
            f" -X {pkg}.gitTreeState=clean -X {pkg}.buildDate=1970-01-01T00:00:00Z"
        )
        b.compile("argocd", f"{module}/cmd", "argocd", ldflags)
    source = Path(b.go("argocd", "list", "-m", "-f", "{{.Dir}}", module).strip())
    shutil.copyfile(source / "hack" / "git-verify-wrapper.sh", b.into / "git-verify-wrapper.sh")
    (b.into / "git-verify-wrapper.sh").chmod(0o755)
    for component in ARGOCD_COMPONENTS:
        (b.into / component).symlink_to("argocd")


def _helm(b: Build) -> None:
    """helm as `go install` builds a released version (no lock of ours: the checksum database)."""
    version = b.pins["helm.sh/helm/v3"]
    with _step(b.tool, f"building helm {version}"):
        done = subprocess.run(
            [_go(b.tool), "install", f"helm.sh/helm/v3/cmd/helm@{version}"],
            cwd=b.into,
            env={**_go_env(b.into), "GOBIN": str(b.into), "GOFLAGS": "-mod=mod"},
        )
    if done.returncode != 0:
        raise ToolError(f"helm: `go install helm.sh/helm/v3/cmd/helm@{version}` failed")


def _adapter_check(b: Build) -> None:
    b.compile("adapter_check", ".", "adapter-check")


def _sources(folder: str) -> str:
    """A short hash of our own Go sources in scripts/FOLDER: editing them means a rebuild."""
    digest = hashlib.sha256()
    for source in sorted((SCRIPTS / folder).glob("*.go")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()[:12]


TOOLS: dict[str, Tool] = {
    tool.name: tool
    for tool in (
        Tool(
            name="controlplane",
            override="KUBEBUILDER_ASSETS",
            required=("etcd", "kube-apiserver"),  # and kubectl, for the tests and the demo
            is_folder=True,
            locks={
                "k8s.io/kubernetes": "controlplane",
                "go.etcd.io/etcd/server/v3": "controlplane/etcd",
            },
            recipe=_controlplane,
            key=lambda v: f"k8s-{v['k8s.io/kubernetes']}-etcd-{v['go.etcd.io/etcd/server/v3']}",
        ),
        Tool(
            name="istioctl",
            override="ISTIOCTL",
            required=("istioctl",),
            is_folder=False,
            locks={"istio.io/istio": "istioctl"},
            recipe=_istioctl,
        ),
        Tool(
            name="argocd",
            override="MESHOPS_ARGOCD_BIN",
            required=("argocd", "git-verify-wrapper.sh"),
            is_folder=True,
            locks={"github.com/argoproj/argo-cd/v3": "argocd"},
            recipe=_argocd,
            links=ARGOCD_COMPONENTS,
            assembles_override=True,
        ),
        Tool(
            name="helm",
            override="MESHOPS_HELM",
            required=("helm",),
            is_folder=False,
            locks={},
            recipe=_helm,
        ),
        Tool(
            name="adapter-check",
            override="MESHOPS_ADAPTER_CHECK",
            required=("adapter-check",),
            is_folder=False,
            locks={"sigs.k8s.io/prometheus-adapter": "adapter_check"},
            recipe=_adapter_check,
            key=lambda v: f"{v['sigs.k8s.io/prometheus-adapter']}-{_sources('adapter_check')}",
        ),
    )
}
"""Every pinned tool, by the name scripts/tools.py and the cache use."""
