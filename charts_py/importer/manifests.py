"""What import takes from a document: is it a Kubernetes object, where does it live, and
which of its fields the user wrote (the rest the API server or a tool added).

Import reads what people keep beside their manifests too (Chart.yaml, values.yaml,
kustomization.yaml, skaffold.yaml): those are YAML, but not objects any API server serves,
and are skipped with the reason.
"""

from __future__ import annotations

from typing import Any

from charts_py.drift import normalize
from charts_py.objectref import group_of

DOTLESS_GROUPS = frozenset({"", "apps", "batch", "policy", "autoscaling", "extensions"})
"""Kubernetes' built-in groups without a dot; every other served group has one (a CRD's
group must contain a dot), so `skaffold/v4beta6` is a tool's file, not an API object."""

TOOL_GROUPS = {
    "kustomize.config.k8s.io": "a kustomize file: run `kubectl kustomize` and import its output",
}
"""Dotted groups of tools' own files, which no API server serves."""

CLUSTER_SCOPED = frozenset(
    {
        ("", "Namespace"),
        ("", "Node"),
        ("", "PersistentVolume"),
        ("", "ComponentStatus"),
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
        ("admissionregistration.k8s.io", "MutatingAdmissionPolicy"),
        ("admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding"),
        ("apiextensions.k8s.io", "CustomResourceDefinition"),
        ("apiregistration.k8s.io", "APIService"),
        ("certificates.k8s.io", "CertificateSigningRequest"),
        ("certificates.k8s.io", "ClusterTrustBundle"),
        ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
        ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
        ("networking.k8s.io", "IngressClass"),
        ("networking.k8s.io", "IPAddress"),
        ("networking.k8s.io", "ServiceCIDR"),
        ("node.k8s.io", "RuntimeClass"),
        ("rbac.authorization.k8s.io", "ClusterRole"),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
        ("resource.k8s.io", "DeviceClass"),
        ("resource.k8s.io", "ResourceSlice"),
        ("scheduling.k8s.io", "PriorityClass"),
        ("storage.k8s.io", "CSIDriver"),
        ("storage.k8s.io", "CSINode"),
        ("storage.k8s.io", "StorageClass"),
        ("storage.k8s.io", "VolumeAttachment"),
        ("storage.k8s.io", "VolumeAttributesClass"),
        ("gateway.networking.k8s.io", "GatewayClass"),
        ("cert-manager.io", "ClusterIssuer"),
    }
)
"""Kinds without a namespace (`kubectl api-resources --namespaced=false` on Kubernetes 1.33,
plus Gateway API's and cert-manager's): a file's object of any other kind is namespaced, and
one written without a namespace lands in the one kubectl would apply it to."""

SECRET = ("", "Secret")


def group_kind(obj: dict[str, Any]) -> tuple[str, str]:
    """(group, kind) of an object, any version."""
    return group_of(str(obj["apiVersion"])), str(obj["kind"])


def not_an_object(doc: Any) -> str | None:
    """Why a parsed YAML document is not a Kubernetes object, or None when it is one."""
    if not isinstance(doc, dict):
        return "not a Kubernetes manifest (not a mapping)"
    api_version, kind = doc.get("apiVersion"), doc.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return "not a Kubernetes manifest (no apiVersion and kind)"
    group = group_of(api_version)
    if group in TOOL_GROUPS:
        return TOOL_GROUPS[group]
    if "." not in group and group not in DOTLESS_GROUPS:
        return f"not a Kubernetes manifest (apiVersion {api_version} is no API group)"
    meta = doc.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    if not isinstance(name, str) or not name:
        return f"{kind} without metadata.name (not an object to import)"
    return None


def is_list(doc: Any) -> bool:
    """A `kubectl get -o yaml` dump (`kind: List`, or the API's `<Kind>List`) with items."""
    return (
        isinstance(doc, dict)
        and str(doc.get("kind", "")).endswith("List")
        and isinstance(doc.get("items"), list)
    )


def namespaced(obj: dict[str, Any]) -> bool:
    """Whether the object's kind lives in a namespace (see CLUSTER_SCOPED)."""
    return group_kind(obj) not in CLUSTER_SCOPED


def as_written(obj: dict[str, Any]) -> dict[str, Any]:
    """The object without what the API server or a tool wrote into it: status, bookkeeping
    metadata (managedFields, resourceVersion, uid, generation, creationTimestamp, ...) and
    tools' tracking annotations (kubectl's last-applied-configuration, ...), the lists drift
    drops too (drift/normalize.py). A new object; `obj` is not changed."""
    out = {k: v for k, v in obj.items() if k != "status"}
    meta = {
        k: v
        for k, v in (obj.get("metadata") or {}).items()
        if k not in normalize.BOOKKEEPING_METADATA
    }
    annotations = {
        k: v
        for k, v in (meta.get("annotations") or {}).items()
        if k not in normalize.BOOKKEEPING_ANNOTATIONS
    }
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    out["metadata"] = meta
    return out


def as_sent(value: Any) -> Any:
    """`value` as kubectl sends a YAML file to the API server: JSON, whose object keys are
    strings. YAML's are not always: PeerAuthentication's `portLevelMtls: {80: ...}` has the
    integer key 80, which kubectl (sigs.k8s.io/yaml) sends, and the server keeps, as "80"."""
    if isinstance(value, dict):
        return {_json_key(k): as_sent(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_sent(v) for v in value]
    return value


def _json_key(key: Any) -> str:
    """A YAML key as sigs.k8s.io/yaml writes it in JSON (`true`, `80`, `null`)."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    return str(key)


WRITTEN_BY_ISTIO = frozenset({"gateway.istio.io/controller-version"})
"""Istio's keys its controllers write themselves (the gateway deployment controller's
version stamp on a Gateway): bookkeeping, never the object's to say."""


def istio_metadata(obj: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The object's labels and annotations in Istio's own domain (`istio.io/dry-run`,
    `networking.istio.io/service-type`, `istio.io/rev`): Istio reads them, so they are part
    of what the object does (a dry-run policy that enforces, a Gateway's Service made a
    LoadBalancer, another revision's config, without them). Only those present."""
    meta = obj.get("metadata") or {}
    out = {}
    for field in ("labels", "annotations"):
        found = {
            str(k): str(v)
            for k, v in (meta.get(field) or {}).items()
            if _istio_domain(str(k)) and k not in WRITTEN_BY_ISTIO
        }
        if found:
            out[field] = found
    return out


def _istio_domain(key: str) -> bool:
    domain = key.partition("/")[0] if "/" in key else ""
    return domain == "istio.io" or domain.endswith(".istio.io")
