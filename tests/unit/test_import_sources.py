"""What `meshops import --from-dir` reads, on real files: Istio's samples, microservices-demo,
the output of the pinned `helm template`, a Helm chart's own folder, objects recorded from a
real API server (tests/testdata/drift), and the bad input a user may point it at."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from charts_py.errors import ConfigError
from charts_py.importer import sources
from charts_py.objectref import ObjectRef
from tests import tools
from tests.conftest import REPO

SAMPLES = REPO / "tests/testdata/istio/samples"
BOOKINFO = SAMPLES / "bookinfo"
DEMO = REPO / "tests/testdata/microservices-demo"
TAG_CHART = SAMPLES / "ambient-argo/tag-chart"
RECORDED = REPO / "tests/testdata/drift/adopted-kubectl-apply-service-live.yaml"


def refs(found: sources.Sources) -> list[str]:
    return [str(ObjectRef.of(o)) for o in found.objects]


def documents(*files: Path) -> list[dict[str, Any]]:
    """Every non-empty document of the files, read by PyYAML directly."""
    return [d for f in files for d in yaml.safe_load_all(f.read_text()) if d]


def test_bookinfo_every_document_is_an_object_in_the_given_namespace() -> None:
    files = [
        BOOKINFO / "platform/kube/bookinfo.yaml",
        BOOKINFO / "networking/bookinfo-gateway.yaml",
    ]
    found = sources.from_dir(files, "bookinfo")
    assert len(found.objects) == len(documents(*files)) == 16
    assert {o["metadata"]["namespace"] for o in found.objects} == {"bookinfo"}
    assert "Deployment bookinfo/reviews-v3" in refs(found)
    assert "VirtualService bookinfo/bookinfo" in refs(found)
    assert found.notes == []


def test_without_namespace_objects_land_where_kubectl_would() -> None:
    found = sources.from_dir([BOOKINFO / "networking/destination-rule-all.yaml"], None)
    assert {o["metadata"]["namespace"] for o in found.objects} == {"default"}


def test_a_namespace_written_in_the_file_is_kept() -> None:
    found = sources.from_dir([DEMO / "istio-manifests"], "elsewhere")
    gateway = next(o for o in found.objects if o["kind"] == "Gateway")
    written = documents(DEMO / "istio-manifests/frontend-gateway.yaml")[0]
    assert gateway["metadata"].get("namespace") == written["metadata"].get("namespace", "elsewhere")


def test_order_is_by_identity_whatever_the_order_of_the_paths() -> None:
    parts = [DEMO / "istio-manifests", DEMO / "kubernetes-manifests"]
    forward = sources.from_dir(parts, "shop")
    backward = sources.from_dir(parts[::-1], "shop")
    assert forward.objects == backward.objects
    keys = [ObjectRef.of(o).key for o in forward.objects]
    assert keys == sorted(keys)


def test_microservices_demo_kustomization_is_skipped_with_one_note() -> None:
    found = sources.from_dir([DEMO / "kubernetes-manifests"], "shop")
    [note] = [n for n in found.notes if "kustomization.yaml" in n]
    assert "kustomize" in note and "skipped" in note
    assert not any(o["kind"] == "Kustomization" for o in found.objects)
    assert "Deployment shop/frontend" in refs(found)


def test_a_kustomize_patch_is_not_read_as_the_object_it_patches(tmp_path: Path) -> None:
    """A kustomize overlay's patch looks like an object but holds only what it changes:
    read as one, it replaced the whole VirtualService (the later copy wins). Every file a
    kustomization lists as a patch is skipped with a note instead."""
    (tmp_path / "base").mkdir()
    (tmp_path / "overlay").mkdir()
    whole = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": {"name": "reviews"},
        "spec": {"hosts": ["reviews"], "http": [{"route": [{"destination": {"host": "reviews"}}]}]},
    }
    patch = {**whole, "spec": {"http": [{"timeout": "3s"}]}}
    (tmp_path / "base/vs.yaml").write_text(yaml.safe_dump(whole))
    (tmp_path / "overlay/timeout.yaml").write_text(yaml.safe_dump(patch))
    (tmp_path / "overlay/kustomization.yaml").write_text(
        "resources: [../base]\npatches:\n- path: timeout.yaml\n"
    )
    found = sources.from_dir([tmp_path], "shop")
    [vs] = found.objects
    assert vs["spec"] == whole["spec"]
    assert any(n.startswith(f"{tmp_path / 'overlay/timeout.yaml'}: skipped") for n in found.notes)


def test_a_later_copy_of_an_object_replaces_the_earlier_with_a_note(tmp_path: Path) -> None:
    first = BOOKINFO / "networking/virtual-service-all-v1.yaml"
    second = BOOKINFO / "networking/virtual-service-reviews-v3.yaml"
    found = sources.from_dir([first, second], "bookinfo")
    [reviews] = [o for o in found.objects if o["metadata"]["name"] == "reviews"]
    assert reviews["spec"] == documents(second)[0]["spec"]
    assert any("VirtualService bookinfo/reviews is also in" in n for n in found.notes)


def test_yaml_keys_become_strings_as_kubectl_sends_them(tmp_path: Path) -> None:
    """istio.io's mutual TLS task writes `portLevelMtls: {80: ...}`: an integer key in YAML,
    "80" in the JSON kubectl sends and the server keeps. Read as an integer, the typed field
    refused it and the object went to `extensions:`."""
    file = tmp_path / "peer.yaml"
    file.write_text(
        "apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\n"
        "metadata: {name: httpbin, namespace: bar}\n"
        "spec:\n  mtls: {mode: STRICT}\n  portLevelMtls:\n    80:\n      mode: DISABLE\n"
        "  selector: {matchLabels: {true: yes}}\n"
    )
    [peer] = sources.from_dir([file], "bar").objects
    assert peer["spec"]["portLevelMtls"] == {"80": {"mode": "DISABLE"}}
    assert peer["spec"]["selector"] == {"matchLabels": {"true": True}}


def test_helm_template_output(tmp_path: Path) -> None:
    """The pinned helm renders Istio's tag chart: `---`-separated documents with `# Source:`
    comments, namespaced ones written with a namespace, cluster-scoped webhooks without."""
    rendered = tmp_path / "rendered.yaml"
    command = [str(tools.pinned("helm")), "template", "tags", str(TAG_CHART)]
    command += ["--set", "base.tags.default.revision=stable", "--namespace", "istio-system"]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=60)
    assert "# Source: " in done.stdout
    rendered.write_text(done.stdout)
    found = sources.from_dir([rendered], "ignored")
    assert len(found.objects) == len(documents(rendered)) > 1
    for obj in found.objects:
        scoped = obj["kind"].endswith("WebhookConfiguration")
        assert ("namespace" in obj["metadata"]) != scoped, obj["kind"]


def test_a_chart_folder_yields_notes_not_errors() -> None:
    """Chart.yaml and values.yaml are YAML but no objects; templates are Go templates."""
    found = sources.from_dir([TAG_CHART], "istio-system")
    assert found.objects == []
    assert len(found.notes) == 3
    assert any(n.startswith(f"{TAG_CHART / 'Chart.yaml'}: skipped") for n in found.notes)
    assert any(n.startswith(f"{TAG_CHART / 'values.yaml'}: skipped") for n in found.notes)
    assert any("helm template" in n for n in found.notes)


def test_every_istio_sample_is_read_without_error() -> None:
    """All of samples/ (168 files, a chart among them) in one call: nothing is not YAML."""
    found = sources.from_dir([SAMPLES], "samples")
    assert len(found.objects) > 150
    assert not any(o["kind"] == "Secret" for o in found.objects)


def test_secrets_are_skipped_and_their_data_never_returned() -> None:
    mysql = BOOKINFO / "platform/kube/bookinfo-mysql.yaml"
    found = sources.from_dir([mysql], "bookinfo")
    assert [o["kind"] for o in found.objects] == ["Service", "Deployment"]
    [note] = found.notes
    assert "Secret bookinfo/mysql-credentials" in note and "never reads Secrets" in note
    everything = json.dumps([found.objects, found.notes])
    assert "cGFzc3dvcmQ=" not in everything  # the value; its key is named by the Deployment


def test_recorded_live_object_loses_what_the_server_wrote(tmp_path: Path) -> None:
    """An object as a real API server returned it (recorded by the drift tests): managedFields,
    resourceVersion, uid, creationTimestamp, status and kubectl's last-applied annotation go,
    the rest stays as it was."""
    live = yaml.safe_load(RECORDED.read_text())
    written_by_server = {"managedFields", "resourceVersion", "uid", "creationTimestamp"}
    assert written_by_server <= live["metadata"].keys()
    [obj] = sources.from_dir([RECORDED], None).objects
    meta = obj["metadata"]
    assert not written_by_server & meta.keys()
    assert "kubectl.kubernetes.io/last-applied-configuration" not in meta.get("annotations", {})
    assert "status" not in obj
    assert obj["spec"] == live["spec"]
    assert meta["labels"] == live["metadata"]["labels"]


def test_a_kubectl_list_dump_in_yaml_and_json(tmp_path: Path) -> None:
    """`kubectl get -o yaml` wraps objects in a List; `-o json` is the same in JSON."""
    live = yaml.safe_load(RECORDED.read_text())
    dump = {"apiVersion": "v1", "kind": "List", "items": [live], "metadata": {}}
    (tmp_path / "get.yaml").write_text(yaml.safe_dump(dump))
    (tmp_path / "get.json").write_text(json.dumps({**dump, "items": [{**live, "kind": "Service"}]}))
    found = sources.from_dir([tmp_path], None)
    assert refs(found) == [str(ObjectRef.of(live))]
    assert len(found.notes) == 1  # the same object in both files


def test_yaml_that_is_not_a_manifest_is_skipped_with_one_note_per_file(tmp_path: Path) -> None:
    (tmp_path / "skaffold.yaml").write_text(
        "apiVersion: skaffold/v4beta6\nkind: Config\nmetadata: {name: app}\n"
    )
    (tmp_path / "values.yaml").write_text("replicas: 3\n---\nimage: x\n")
    (tmp_path / "README.md").write_text("# not read: not a YAML file name\n: : :\n")
    (tmp_path / "svc.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata: {name: a}\n")
    found = sources.from_dir([tmp_path], "ns")
    assert refs(found) == ["Service ns/a"]
    assert sorted(n.split(":")[0] for n in found.notes) == [
        str(tmp_path / "skaffold.yaml"),
        str(tmp_path / "values.yaml"),
    ]


def test_a_file_that_is_not_yaml_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n\tspec: {}\n")
    with pytest.raises(ConfigError) as raised:
        sources.from_dir([tmp_path], "ns")
    message = str(raised.value)
    assert message.startswith(f"{bad}:5: not YAML: ")
    assert "\n" not in message


def test_a_go_template_in_a_folder_is_skipped_but_given_by_name_is_bad_input(
    tmp_path: Path,
) -> None:
    """A repository holds Go templates outside a chart's `templates/` too (a chart's
    helpers, a helmfile's values): one failed the whole folder (exit 2). In a folder it is
    skipped with a note; named on its own, it is still a file that is not YAML."""
    shutil.copy(BOOKINFO / "networking/virtual-service-all-v1.yaml", tmp_path)
    template = tmp_path / "configmap.yaml"
    template.write_text("{{- if .Values.enabled }}\napiVersion: v1\nkind: ConfigMap\n{{- end }}\n")
    found = sources.from_dir([tmp_path], "shop")
    assert {o["kind"] for o in found.objects} == {"VirtualService"}
    assert any(n.startswith(f"{template}: skipped: a Go template") for n in found.notes)
    with pytest.raises(ConfigError, match="not YAML"):
        sources.from_dir([template], "shop")


def test_a_binary_file_is_not_yaml(tmp_path: Path) -> None:
    (tmp_path / "blob.yaml").write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(ConfigError, match=r"blob\.yaml: not YAML: not UTF-8"):
        sources.from_dir([tmp_path], "ns")


def test_a_missing_folder_and_an_empty_one_are_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file or folder"):
        sources.from_dir([tmp_path / "nowhere"], None)
    with pytest.raises(ConfigError, match="no YAML or JSON files"):
        sources.from_dir([tmp_path], None)


def test_hidden_folders_are_not_read(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config.yaml").write_text("[core]\n\tbare = false\n")
    (tmp_path / "svc.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata: {name: a}\n")
    assert refs(sources.from_dir([tmp_path], "ns")) == ["Service ns/a"]


def test_inputs_are_read_the_same_twice() -> None:
    first = sources.from_dir([BOOKINFO], "bookinfo")
    second = sources.from_dir([BOOKINFO], "bookinfo")
    assert json.dumps(first.objects) == json.dumps(second.objects)
    assert first.notes == second.notes
