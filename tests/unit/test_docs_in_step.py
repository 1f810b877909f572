"""The documentation stays true: command synopses match the CLI, referenced files exist.

The rule table of docs/validate.md is checked against the rule catalog in
test_validate_rules.py; this module checks the other tables and references of README.md
and docs/*.md.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from charts_py import cli

REPO = Path(__file__).resolve().parents[2]
PAGES = sorted([REPO / "README.md", *(REPO / "docs").glob("*.md")])
OVERVIEW = REPO / "docs" / "synth.md"
"""The page whose Commands block lists every command."""

_FENCE = re.compile(r"^```[a-z]*\n(.*?)^```$", re.MULTILINE | re.DOTALL)
_SYNOPSIS = re.compile(r"^meshops ([a-z][a-z-]*[a-z])(?![a-z-])(.*)$")
_OPTION = re.compile(r"(--[a-z][a-z-]*)(?:[ =]([A-Za-z][A-Za-z|-]*))?")


def _commands() -> dict[str, argparse.ArgumentParser]:
    """Every subcommand of `meshops` and its parser."""
    for action in cli.parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("meshops has no subcommands")


def _options(command: argparse.ArgumentParser) -> dict[str, set[str] | None]:
    """`--option` -> its choices (None when free-form), without --help."""
    return {
        name: {str(c) for c in action.choices} if action.choices else None
        for action in command._actions
        for name in action.option_strings
        if name.startswith("--") and name != "--help"
    }


def _synopses(page: Path) -> list[tuple[str, str]]:
    """(command, rest of line) for every `meshops COMMAND ...` line in the page's code
    blocks, continuation lines (indented, starting with `[`) joined to their command."""
    out: list[tuple[str, str]] = []
    for block in _FENCE.findall(page.read_text(encoding="utf-8")):
        for line in block.splitlines():
            if out and re.match(r"^\s+\[", line) and out[-1][0] != "$":
                out[-1] = (out[-1][0], out[-1][1] + " " + line.split("#", 1)[0])
                continue
            for part in line.split("#", 1)[0].split(";"):
                match = _SYNOPSIS.match(part.strip())
                out.append((match[1], match[2]) if match else ("$", ""))
    return [s for s in out if s[0] != "$"]


ALL = [(page, command, rest) for page in PAGES for command, rest in _synopses(page)]


def test_docs_show_synopses() -> None:
    assert {command for _, command, _ in ALL} == set(_commands())


@pytest.mark.parametrize(("page", "command", "rest"), ALL, ids=[f"{p.name}:{c}" for p, c, _ in ALL])
def test_each_documented_option_exists_with_its_choices(
    page: Path, command: str, rest: str
) -> None:
    known = _options(_commands()[command])
    for option, value in _OPTION.findall(rest):
        assert option in known, f"{page.name}: meshops {command} has no {option}"
        choices = known[option]
        if choices and "|" in value:
            assert set(value.split("|")) == choices, f"{page.name}: {command} {option}"


@pytest.mark.parametrize("command", sorted(_commands()))
def test_every_option_of_a_command_is_documented(command: str) -> None:
    documented = {o for _, c, rest in ALL if c == command for o, _ in _OPTION.findall(rest)}
    missing = set(_options(_commands()[command])) - documented
    assert not missing, f"meshops {command}: {sorted(missing)} not in any synopsis in docs/"


def test_the_overview_lists_every_command() -> None:
    assert {command for command, _ in _synopses(OVERVIEW)} == set(_commands())


# Repository paths as the pages cite them in backticks or links: `scripts/bench_synth.py`,
# [docs/drift.md](docs/drift.md); placeholders (<env>, *, {...}) and URLs are not paths.
_CITED = re.compile(r"`([^`\s]+)`|\]\(([^)\s#]+)(?:#[^)]*)?\)")
_ROOTS = (".ci/", "charts_py/", "scripts/", "tests/", "docs/", "environments/", "dist/")
_FILE = re.compile(r"\.(py|md|sh|toml|yaml|yml|json|cfg|txt)$|^Dockerfile$|^\.ci/run$")


def _cited_paths(page: Path) -> set[str]:
    found = set()
    text = page.read_text(encoding="utf-8")
    for code, link in _CITED.findall(text):
        token = (code or link).split("#", 1)[0].rstrip(".,:;")
        if "://" in token or any(ch in token for ch in "<>*{}$"):
            continue
        if any(re.fullmatch(r"[A-Z]+", part) for part in token.split("/")):
            continue  # a placeholder such as dist/E or --dist DIR
        if (
            token.startswith(_ROOTS)
            or (_FILE.search(token) and "/" in token)
            or link
            or re.fullmatch(r"[A-Z][A-Za-z]*\.md|Dockerfile|pyproject\.toml", token)
        ):
            found.add(token)
    found |= set(re.findall(r"\b[A-Z][A-Z_]+\.md\b", text))  # DESIGN.md, even unquoted
    return found


def _exists(page: Path, cited: str) -> bool:
    """Relative to the repository, to the page, or to the package (`constructs/x.py`)."""
    bases = (REPO, page.parent, REPO / "charts_py")
    return any((base / cited.removeprefix("./")).exists() for base in bases)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_pages_cite_only_files_in_the_repository(page: Path) -> None:
    missing = sorted(c for c in _cited_paths(page) if not _exists(page, c))
    assert not missing, f"{page.relative_to(REPO)} cites files that do not exist: {missing}"


def test_the_path_check_catches_stale_references(tmp_path: Path) -> None:
    """A page citing a removed script, a missing page or an unquoted DESIGN.md fails."""
    page = tmp_path / "page.md"
    page.write_text(
        "Run `scripts/fetch_crds.py`, not `scripts/gone.py`; see [drift](docs/nope.md),\n"
        "`charts_py/crds/` and DESIGN.md. `dist/<env>/<cluster>` is a placeholder.\n"
    )
    cited = _cited_paths(page)
    assert cited == {
        "scripts/fetch_crds.py",
        "scripts/gone.py",
        "docs/nope.md",
        "charts_py/crds/",
        "DESIGN.md",
    }
    assert sorted(c for c in cited if not _exists(REPO / "README.md", c)) == [
        "DESIGN.md",
        "docs/nope.md",
        "scripts/gone.py",
    ]
