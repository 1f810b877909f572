"""What `meshops import` reads from a real API server: Istio's samples applied with the real
kubectl, read back with `sources.from_cluster` (discovery, one LIST per kind), and a real
`kubectl get -o yaml` dump read with `sources.from_dir`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from charts_py import kubeapi
from charts_py.cluster import binaries, controlplane
from charts_py.errors import ClusterUnreachable, ConfigError
from charts_py.importer import manifests, sources
from charts_py.objectref import ObjectRef, group_of
from tests.conftest import REPO
from tests.integration import roundtrip
from tests.integration.roundtrip import Variant

BOOKINFO = REPO / "tests/testdata/istio/samples/bookinfo"
FILES = (
    BOOKINFO / "platform/kube/bookinfo.yaml",
    BOOKINFO / "platform/kube/bookinfo-mysql.yaml",  # holds a Secret
    BOOKINFO / "networking/bookinfo-gateway.yaml",
    BOOKINFO / "networking/destination-rule-all.yaml",
)


@pytest.fixture
def bookinfo(control_plane: controlplane.LocalCluster, namespace: str) -> Iterator[str]:
    """Bookinfo applied as its README does (`kubectl apply -f`), in this test's namespace."""
    tools(control_plane).install(Variant("bookinfo", FILES), namespace, Path())
    yield namespace


def tools(control_plane: controlplane.LocalCluster) -> roundtrip.Tools:
    return roundtrip.tools_for(control_plane.kubeconfig, binaries.locate() / "kubectl")


def keys(found: sources.Sources) -> set[tuple[str, str, str, str]]:
    return {ObjectRef.of(o).key for o in found.objects}


def test_the_cluster_gives_back_what_kubectl_applied(kube: kubeapi.Cluster, bookinfo: str) -> None:
    """Every object of the files but the Secret, plus the Namespace; nothing the server wrote."""
    read = sources.from_cluster(kube, [bookinfo])
    written = sources.from_dir(list(FILES), bookinfo)
    wanted = {k for k in keys(written) if k[1] in {"Deployment", "Service"} or ".istio.io" in k[0]}
    assert keys(read) == wanted | {("", "Namespace", "", bookinfo)}
    for obj in read.objects:
        assert manifests.group_kind(obj) != manifests.SECRET
        assert not {"managedFields", "uid", "resourceVersion"} & obj["metadata"].keys()
        assert "status" not in obj
        annotations = obj["metadata"].get("annotations", {})
        assert "kubectl.kubernetes.io/last-applied-configuration" not in annotations
    by_key = {ObjectRef.of(o).key: o for o in read.objects}
    for obj in written.objects:
        if obj["kind"] == "VirtualService":
            assert by_key[ObjectRef.of(obj).key]["spec"] == obj["spec"]


def test_each_kind_is_read_once_at_its_preferred_version(kube: kubeapi.Cluster) -> None:
    mesh, workloads = sources._served(kube)
    kinds = [(group_of(r.api_version), r.kind) for r in mesh + workloads]
    assert len(kinds) == len(set(kinds))
    assert ("", "Secret") not in kinds
    assert {k for k in kinds if k[0] == "networking.istio.io"} >= {
        ("networking.istio.io", "VirtualService"),
        ("networking.istio.io", "EnvoyFilter"),  # served in v1alpha3 only
    }
    envoy_filter = next(r for r in mesh if r.kind == "EnvoyFilter")
    assert envoy_filter.api_version == "networking.istio.io/v1alpha3"


def test_without_namespaces_every_meshed_one_but_the_control_planes(
    kube: kubeapi.Cluster, bookinfo: str
) -> None:
    """The default: namespaces holding Istio objects; istio-system (the control plane's) is
    left out even when it holds some, and a note says which were read."""
    kube.apply(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "istio-system"}},
        field_manager="meshops-tests",
    )
    mesh_wide = {
        "apiVersion": "security.istio.io/v1",
        "kind": "PeerAuthentication",
        "metadata": {"name": "default", "namespace": "istio-system"},
        "spec": {"mtls": {"mode": "STRICT"}},
    }
    kube.apply(mesh_wide, field_manager="meshops-tests")
    try:
        read = sources.from_cluster(kube, [])
    finally:
        kube.request(
            "DELETE",
            "/apis/security.istio.io/v1/namespaces/istio-system/peerauthentications/default",
        )
    namespaces = {o["metadata"].get("namespace") for o in read.objects}
    assert bookinfo in namespaces and "istio-system" not in namespaces
    assert any(n.startswith("no --namespace: read ") and bookinfo in n for n in read.notes)


def test_an_unknown_namespace_is_bad_input(kube: kubeapi.Cluster) -> None:
    with pytest.raises(ConfigError, match="--namespace: no such namespace: nowhere-at-all"):
        sources.from_cluster(kube, ["nowhere-at-all"])


def test_an_unreachable_cluster_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "kubeconfig"
    config.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:9'}}]\n"
        "contexts: [{name: c, context: {cluster: c, user: u}}]\nusers: [{name: u, user: {}}]\n"
    )
    with pytest.raises(ClusterUnreachable) as raised:
        kubeapi.Cluster.connect(str(config))
    assert "\n" not in str(raised.value)


def test_a_kubectl_dump_reads_like_the_cluster(
    kube: kubeapi.Cluster, control_plane: controlplane.LocalCluster, bookinfo: str, tmp_path: Path
) -> None:
    """`kubectl get -o yaml` of the same kinds, read from a folder: the same objects."""
    kinds = "deployments,services,virtualservices,destinationrules,gateways.networking.istio.io"
    dump = tmp_path / "dump.yaml"
    dump.write_text(tools(control_plane).kubectl("get", "-n", bookinfo, kinds, "-o", "yaml"))
    from_dump = sources.from_dir([dump], bookinfo)
    from_cluster = sources.from_cluster(kube, [bookinfo])
    in_namespace = [o for o in from_cluster.objects if o["kind"] != "Namespace"]
    assert [o for o in from_dump.objects if o["kind"] != "Namespace"] == in_namespace


def test_cluster_scoped_kinds_are_known(kube: kubeapi.Cluster) -> None:
    """Every cluster-scoped built-in kind the server serves is in the table that places a
    folder's objects without a namespace (else one would be given a namespace)."""
    served = {
        (group_of(r.api_version), r.kind)
        for r in kube.preferred()
        if not r.namespaced and ("." not in group_of(r.api_version) or "k8s.io" in r.api_version)
    }
    assert served - manifests.CLUSTER_SCOPED == set()
