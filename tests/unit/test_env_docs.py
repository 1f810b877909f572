"""Generated per-environment docs (dist/<env>/README.md): content, determinism, synth --check."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from charts_py import cli
from charts_py.config import environment
from charts_py.config.environment import Environment
from charts_py.docs import environment as docs
from tests.conftest import SAMPLE_ENVIRONMENTS, sample, write_envs


@pytest.fixture(scope="module")
def envs() -> dict[str, Environment]:
    return environment.load_all(SAMPLE_ENVIRONMENTS)


def page(env: Environment) -> str:
    return docs.render(env, f"environments/{env.name}.yaml").decode()


def section(text: str, heading: str) -> str:
    """The body of one `## heading` section."""
    return text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]


def synth(envs: Path, dist: Path, *args: str) -> int:
    return cli.main(["synth", "--environments", str(envs), "--dist", str(dist), *args])


def test_page_has_a_mermaid_flowchart_with_every_service(envs: dict[str, Environment]) -> None:
    for env in envs.values():
        text = page(env)
        [diagram] = re.findall(r"```mermaid\n(.*?)```", text, flags=re.S)
        assert diagram.startswith("flowchart LR\n")
        for svc in env.spec.services:
            assert f'["{svc.name}"]' in diagram, (env.name, svc.name)
            assert f"| {svc.name} |" in section(text, "Routing and resilience")
            assert f"| {svc.name} |" in section(text, "Scaling")
            assert f"| {svc.name} |" in section(text, "Alerts")


def test_canary_weights_come_from_the_environment(envs: dict[str, Environment]) -> None:
    prod = page(envs["prod"])
    assert 'svc_reviews -->|"90%"| subset_reviews__v1["reviews v1"]' in prod
    assert 'svc_reviews -->|"10%"| subset_reviews__v2["reviews v2"]' in prod
    assert "| reviews | http 8080 | - | v1 90%, v2 10% |" in prod
    assert "v1 50%, v2 50%" in page(envs["staging"])


@pytest.mark.parametrize(
    ("env", "mode"), [("dev", "PERMISSIVE"), ("staging", "STRICT"), ("prod", "STRICT")]
)
def test_mtls_mode_per_profile(envs: dict[str, Environment], env: str, mode: str) -> None:
    assert f"| mTLS (mesh-wide PeerAuthentication) | {mode} |" in page(envs[env])


def test_multi_cluster_note_only_in_prod(envs: dict[str, Environment]) -> None:
    prod = page(envs["prod"])
    assert "**Multi-cluster.**" in prod and "east-west gateway" in prod
    assert 'cluster_prod_east <-->|"east-west gateway :15443"| cluster_prod_west' in prod
    assert "us-east-1 → us-west-2" in prod
    for name in ("dev", "staging"):
        assert "Multi-cluster" not in page(envs[name])
        assert "east-west" not in page(envs[name])


def test_policy_matrix_and_egress(envs: dict[str, Environment]) -> None:
    prod = page(envs["prod"])
    matrix = section(prod, "Security policy").split("### Who may call whom", 1)[1]
    header = next(line for line in matrix.splitlines() if line.startswith("| caller"))
    columns = [c.strip() for c in header.strip("|").split("|")]
    row = next(line for line in matrix.splitlines() if line.startswith("| checkout |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    allowed = {columns[i] for i, c in enumerate(cells) if c == "✓"}
    assert allowed == {"accounts", "cart", "payment", "shipping"}
    assert "| stripe | api.stripe.com:443 | TLS | egress gateway | payment |" in prod
    assert 'svc_payment -.->|"stripe"| egress' in prod
    dev = page(envs["dev"])
    assert "Not enforced" in dev and "egress gateway" not in section(dev, "Topology")


def test_resilience_scaling_and_alerts_use_effective_settings(
    envs: dict[str, Environment],
) -> None:
    prod = page(envs["prod"])
    assert "| catalog | http 8080 | - | v1 100% | 5s | 2 x 1500ms | 5 x 5xx / 10s" in prod
    assert "| frontend | frontend-v1 | 4-20 | CPU 70%, memory 80%, 150 req/s per pod |" in prod
    assert "queue backlog 50 per pod" in prod
    assert "| payment | 1% | 3000 |" in prod
    assert "| namespace shop | 2% | 500 |" in prod
    staging = page(envs["staging"])
    assert "5% abort 503, header `x-meshops-fault: payment`" in staging


def test_page_is_deterministic_and_independent_of_file_order(tmp_path: Path) -> None:
    data = sample("prod")
    data["services"].reverse()
    data["externalServices"].reverse()
    write_envs(tmp_path, prod=data)
    shutil.copytree(SAMPLE_ENVIRONMENTS / "prod", tmp_path / "prod")  # its teams' files
    reordered = environment.load(tmp_path / "prod.yaml")
    original = environment.load(SAMPLE_ENVIRONMENTS / "prod.yaml")
    assert page(reordered) == page(original) == page(original)
    assert not re.search(r"\d{4}-\d\d-\d\dT", page(original))  # no timestamps


def test_synth_writes_the_page_and_check_flags_an_edit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_envs(tmp_path / "envs", dev=sample("dev"))
    dist = tmp_path / "dist"
    assert synth(tmp_path / "envs", dist) == 0
    readme = dist / "dev" / "README.md"
    assert readme.read_text().startswith("<!-- Generated by meshops from envs/dev.yaml.")
    assert synth(tmp_path / "envs", dist, "--check") == 0
    readme.write_text(readme.read_text() + "hand edit\n")
    capsys.readouterr()
    assert synth(tmp_path / "envs", dist, "--check") == 1
    output = capsys.readouterr()
    assert "would be changed: " in output.out and "dev/README.md" in output.out
    assert synth(tmp_path / "envs", dist) == 0
    assert "hand edit" not in readme.read_text()


def test_validate_and_apply_read_only_manifests_beside_the_page(tmp_path: Path) -> None:
    from charts_py import distdir

    write_envs(tmp_path / "envs", dev=sample("dev"))
    dist = tmp_path / "dist"
    assert synth(tmp_path / "envs", dist) == 0
    assert (dist / "dev" / "README.md").is_file()
    args = ["--environments", str(tmp_path / "envs"), "--dist", str(dist)]
    assert cli.main(["validate", *args]) == 0
    assert distdir.cluster_dir(dist, "dev", None) == dist / "dev" / "dev-1"
    assert all(p.file.endswith(".yaml") for p in distdir.read(dist / "dev" / "dev-1"))


def test_experiments_and_load_tests_are_documented(envs: dict[str, Environment]) -> None:
    staging = page(envs["staging"])
    assert "reviews-latency: 100% delay 2s, header `x-meshops-chaos: reviews-latency`" in staging
    assert "fault-injection: 5% abort 503, header `x-meshops-fault: payment`" in staging
    assert "| frontend-baseline | frontend | `/` | 50 | 2m | 8 |" in section(staging, "Load tests")
    prod = page(envs["prod"])
    assert "## Load tests" not in prod and "delay" not in section(prod, "Routing and resilience")
