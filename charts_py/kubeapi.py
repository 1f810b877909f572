"""The one adapter to the Kubernetes API: connect, discover, LIST per kind, server-side apply.

Everything else in meshops speaks plain dicts and the error classes of `charts_py.errors`;
only this module imports the `kubernetes` client, and it translates its exceptions at the
boundary so that callers never see an urllib3 or ApiException.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from charts_py.errors import ClusterUnreachable, Forbidden, ObjectRejected, UnknownKind
from charts_py.objectref import ObjectRef, group_of

PAGE_SIZE = 500
TIMEOUT = (5, 60)  # seconds: connect, read


@dataclass(frozen=True)
class Resource:
    """A served kind: where to find it in the API."""

    api_version: str
    kind: str
    plural: str
    namespaced: bool

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        base = "/api/v1" if self.api_version == "v1" else f"/apis/{self.api_version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        return f"{base}/{name}" if name else base


class Cluster:
    """A connection to one API server (one kubeconfig context)."""

    def __init__(self, api: client.ApiClient, server: str) -> None:
        self._api = api
        self.server = server

    @classmethod
    def connect(cls, kubeconfig: str | None = None, context: str | None = None) -> Cluster:
        """Load credentials (kubeconfig, else in-cluster) and check the server answers."""
        configuration = client.Configuration()
        try:
            if kubeconfig or not _in_cluster():
                config.load_kube_config(kubeconfig, context, client_configuration=configuration)
            else:
                config.load_incluster_config(client_configuration=configuration)
        except (ConfigException, OSError, TypeError) as exc:
            where = kubeconfig or "the default kubeconfig"
            raise ClusterUnreachable(f"{where}: cannot load credentials: {exc}") from None
        configuration.retries = 1
        cluster = cls(client.ApiClient(configuration), configuration.host)
        cluster.request("GET", "/version")
        return cluster

    def request(
        self,
        method: str,
        path: str,
        *,
        query: list[tuple[str, Any]] | None = None,
        body: Any = None,
        content_type: str = "application/json",
    ) -> Any:
        """One HTTP call; JSON in, JSON out; errors translated."""
        try:
            response = self._api.call_api(
                path,
                method,
                query_params=query or [],
                body=body,
                header_params={"Accept": "application/json", "Content-Type": content_type},
                auth_settings=["BearerToken"],
                _preload_content=False,
                _request_timeout=TIMEOUT,
            )
        except ApiException as exc:
            raise _translate(exc, method, path) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise ClusterUnreachable(f"{self.server}: {type(exc).__name__}: {exc}") from None
        return json.loads(response[0].data or b"null")

    @functools.cached_property
    def _discovery(self) -> dict[tuple[str, str], Resource]:
        """Every served (apiVersion, kind); also (group, kind) at the group's preferred
        version, keyed with the group in place of the apiVersion."""
        found: dict[tuple[str, str], Resource] = {}
        groups = [("v1", "/api/v1")]
        for group in self.request("GET", "/apis")["groups"]:
            preferred = group.get("preferredVersion", {}).get("groupVersion")
            versions = sorted(group["versions"], key=lambda v: v["groupVersion"] != preferred)
            for version in versions:
                groups.append((version["groupVersion"], f"/apis/{version['groupVersion']}"))
        for api_version, path in groups:
            for res in self.request("GET", path)["resources"]:
                if "/" in res["name"] or "list" not in res.get("verbs", []):
                    continue  # subresources, and kinds that cannot be listed
                resource = Resource(api_version, res["kind"], res["name"], res["namespaced"])
                found.setdefault((api_version, res["kind"]), resource)
                found.setdefault((group_of(api_version) + "/*", res["kind"]), resource)
        return found

    def resource(self, api_version: str, kind: str) -> Resource:
        """Where `kind` at `api_version` is served, or UnknownKind."""
        try:
            return self._discovery[(api_version, kind)]
        except KeyError:
            raise UnknownKind(f"the cluster does not serve {api_version} {kind}") from None

    def served(self, api_version: str, kind: str) -> Resource:
        """`kind` at `api_version` if served, else at its group's preferred version: git may
        say `v1beta1` where the cluster now serves `v1` (the same objects)."""
        found = self._discovery.get((api_version, kind)) or self._discovery.get(
            (group_of(api_version) + "/*", kind)
        )
        if found is None:
            raise UnknownKind(f"the cluster does not serve {api_version} {kind}")
        return found

    def forget_discovery(self) -> None:
        """Re-read discovery next time (after installing CRDs)."""
        self.__dict__.pop("_discovery", None)

    def list(
        self, resource: Resource, *, label_selector: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """All objects of a kind across namespaces, page by page (one LIST, paginated)."""
        query: list[tuple[str, Any]] = [("limit", PAGE_SIZE)]
        if label_selector:
            query.append(("labelSelector", label_selector))
        token = None
        while True:
            page = self.request(
                "GET", resource.path(), query=query + ([("continue", token)] if token else [])
            )
            for item in page.get("items", []):
                item.setdefault("apiVersion", resource.api_version)
                item.setdefault("kind", resource.kind)
                yield item
            token = page.get("metadata", {}).get("continue")
            if not token:
                return

    def apply(
        self,
        obj: dict[str, Any],
        *,
        field_manager: str,
        dry_run: bool = False,
        force: bool = True,
    ) -> dict[str, Any]:
        """Server-side apply of one object; returns the object as the server would store it."""
        res = self.resource(obj["apiVersion"], obj["kind"])
        meta = obj["metadata"]
        query: list[tuple[str, Any]] = [("fieldManager", field_manager), ("force", force)]
        if dry_run:
            query.append(("dryRun", "All"))
        path = res.path(meta.get("namespace"), meta["name"])
        try:
            result: dict[str, Any] = self.request(
                "PATCH", path, query=query, body=obj, content_type="application/apply-patch+yaml"
            )
        except ObjectRejected as exc:
            raise ObjectRejected(f"{ObjectRef.of(obj)}: {exc}") from None
        return result


def _in_cluster() -> bool:
    return "KUBERNETES_SERVICE_HOST" in os.environ


def _translate(exc: ApiException, method: str, path: str) -> Exception:
    reason = exc.reason
    with contextlib.suppress(ValueError, AttributeError):
        reason = json.loads(exc.body or "{}").get("message", reason)
    if exc.status == 401:
        return ClusterUnreachable(f"unauthorized: {reason}")
    if exc.status == 403:
        return Forbidden(f"{method} {path}: {reason}")
    if exc.status == 404 and method == "GET":
        return UnknownKind(f"{path}: not found")
    return ObjectRejected(f"{reason} (HTTP {exc.status})")
