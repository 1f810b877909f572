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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from charts_py import retry
from charts_py.errors import (
    ApiTimeout,
    ClusterUnreachable,
    ContinuationExpired,
    Forbidden,
    ObjectRejected,
    RetryableApiError,
    ServerUnavailable,
    Throttled,
    UnknownKind,
)
from charts_py.objectref import ObjectRef, group_of

PAGE_SIZE = 500
AGGREGATED_DISCOVERY = ",".join(
    (
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
        "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList",
        "application/json",  # an older server answers in the old form
    )
)
Objects = list[dict[str, Any]]


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before a request (or a kind's LIST) is given up as transient failure.

    Exponential backoff from `base` doubling up to `cap` seconds; a 429's Retry-After is
    honoured up to `max_retry_after`, so a stalled server costs a bounded time, never a hang.
    """

    attempts: int = 5
    base: float = 0.25
    cap: float = 4.0
    max_retry_after: float = 30.0
    connect_timeout: float = 5.0
    read_timeout: float = 30.0

    def backoff(self) -> retry.Policy:
        """The pauses between a request's attempts (retry.py runs the loop)."""
        pauses = retry.doubling(self.base, self.cap, self.attempts)
        return retry.Policy(attempts=self.attempts, pauses=pauses, max_wait=self.max_retry_after)


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

    def __init__(
        self, api: client.ApiClient, server: str, retry: RetryPolicy | None = None
    ) -> None:
        self._api = api
        self.server = server
        self.retry = retry or RetryPolicy()
        self.page_size = PAGE_SIZE

    @classmethod
    def connect(
        cls,
        kubeconfig: str | None = None,
        context: str | None = None,
        retry: RetryPolicy | None = None,
    ) -> Cluster:
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
        configuration.retries = False  # retried here, by kind of failure, not by urllib3
        cluster = cls(client.ApiClient(configuration), configuration.host, retry)
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
        accept: str = "application/json",
    ) -> Any:
        """One HTTP call; JSON in, JSON out; errors translated; transient failures retried
        with bounded backoff, then raised as the RetryableApiError of the last attempt."""
        try:
            return retry.call(
                lambda: self._once(method, path, query or [], body, content_type, accept),
                self.retry.backoff(),
                again=_transient,
                asked=lambda exc: exc.retry_after if isinstance(exc, RetryableApiError) else None,
            )
        except ContinuationExpired:
            raise  # asking again with the same token cannot help: the caller restarts
        except RetryableApiError as exc:
            attempts = max(self.retry.attempts, 1)
            raise type(exc)(f"{exc} (gave up after {attempts} attempts)") from None

    def _once(
        self,
        method: str,
        path: str,
        query: list[tuple[str, Any]],
        body: Any,
        content_type: str,
        accept: str,
    ) -> Any:
        timeout = (self.retry.connect_timeout, self.retry.read_timeout)
        try:
            response = self._api.call_api(
                path,
                method,
                query_params=query,
                body=body,
                header_params={"Accept": accept, "Content-Type": content_type},
                auth_settings=["BearerToken"],
                _preload_content=False,
                _request_timeout=timeout,
            )
            data = response[0].data
        except ApiException as exc:
            raise _translate(exc, method, path, query) from None
        except urllib3.exceptions.HTTPError as exc:
            raise _transport(exc, self.server, method, path) from None
        except OSError as exc:
            raise ClusterUnreachable(f"{self.server}: {type(exc).__name__}: {exc}") from None
        try:
            return json.loads(data or b"null")
        except ValueError:
            raise ServerUnavailable(f"{method} {path}: the answer is not JSON") from None

    @functools.cached_property
    def _discovery(self) -> dict[tuple[str, str], Resource]:
        """Every served (apiVersion, kind); also (group, kind) at the group's preferred
        version, keyed with the group in place of the apiVersion."""
        found: dict[tuple[str, str], Resource] = {}
        for resource in self._aggregated_discovery() or self._legacy_discovery():
            found.setdefault((resource.api_version, resource.kind), resource)
            found.setdefault((group_of(resource.api_version) + "/*", resource.kind), resource)
        return found

    def _aggregated_discovery(self) -> list[Resource] | None:
        """Listable resources, preferred versions first, in two requests (`/api`, `/apis`):
        aggregated discovery (GA in Kubernetes 1.30, beta since 1.26). None from a server
        that answers in the old form, which takes a request per group version."""
        out = []
        for path in ("/api", "/apis"):
            body = self.request("GET", path, accept=AGGREGATED_DISCOVERY)
            if not isinstance(body, dict) or body.get("kind") != "APIGroupDiscoveryList":
                return None
            for group in body.get("items") or []:
                name = (group.get("metadata") or {}).get("name") or ""
                for version in group.get("versions") or []:  # the preferred one first
                    api_version = f"{name}/{version['version']}" if name else version["version"]
                    out += [
                        Resource(api_version, r["responseKind"]["kind"], r["resource"], namespaced)
                        for r in version.get("resources") or []
                        if "list" in r.get("verbs", []) and r.get("responseKind")
                        for namespaced in [r.get("scope") == "Namespaced"]
                    ]
        return out

    def _legacy_discovery(self) -> list[Resource]:
        groups = [("v1", "/api/v1")]
        for group in self.request("GET", "/apis")["groups"]:
            preferred = group.get("preferredVersion", {}).get("groupVersion")
            versions = sorted(group["versions"], key=lambda v: v["groupVersion"] != preferred)
            for version in versions:
                groups.append((version["groupVersion"], f"/apis/{version['groupVersion']}"))
        out = []
        for api_version, path in groups:
            for res in self.request("GET", path)["resources"]:
                if "/" in res["name"] or "list" not in res.get("verbs", []):
                    continue  # subresources, and kinds that cannot be listed
                out.append(Resource(api_version, res["kind"], res["name"], res["namespaced"]))
        return out

    def preferred(self) -> list[Resource]:
        """Every kind the server can LIST, once each, at the preferred version of its group
        that serves it (a kind only in `v1alpha3` where the group prefers `v1`: `v1alpha3`)."""
        return [res for (where, _), res in self._discovery.items() if where.endswith("/*")]

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

    def list(
        self,
        resource: Resource,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        keep: Callable[[dict[str, Any]], dict[str, Any] | None] | None = None,
    ) -> Objects:
        """All objects of a kind (in `namespace`, else across namespaces), page by page.

        Each item passes through `keep` as its page arrives (None drops it), so a caller that
        needs a few objects of a busy kind never holds the rest. A 410 on a continuation means
        the paged snapshot was compacted away: the LIST restarts from its first page, up to
        the policy's attempts.
        """
        attempts = max(self.retry.attempts, 1)
        try:
            return retry.call(
                lambda: self._list_once(resource, namespace, label_selector, field_selector, keep),
                retry.Policy(attempts=attempts),
                again=lambda exc: isinstance(exc, ContinuationExpired),
            )
        except ContinuationExpired:
            where = resource.path(namespace)
            raise ContinuationExpired(
                f"LIST {where}: continuation expired on each of {attempts} attempts"
            ) from None

    def _list_once(
        self,
        resource: Resource,
        namespace: str | None,
        label_selector: str | None,
        field_selector: str | None,
        keep: Callable[[dict[str, Any]], dict[str, Any] | None] | None,
    ) -> Objects:
        query: list[tuple[str, Any]] = [("limit", self.page_size)]
        if label_selector:
            query.append(("labelSelector", label_selector))
        if field_selector:
            query.append(("fieldSelector", field_selector))
        out: Objects = []
        token = None
        while True:
            page = self.request(
                "GET",
                resource.path(namespace),
                query=query + ([("continue", token)] if token else []),
            )
            for item in page.get("items") or []:
                item.setdefault("apiVersion", resource.api_version)
                item.setdefault("kind", resource.kind)
                kept = keep(item) if keep else item
                if kept is not None:
                    out.append(kept)
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return out

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

    def create_dry_run(self, obj: dict[str, Any]) -> dict[str, Any]:
        """A server-side dry-run create: `obj` as the server would store it, defaults and
        all, with nothing persisted (needs the `create` verb)."""
        res = self.served(obj["apiVersion"], obj["kind"])
        path = res.path(obj["metadata"].get("namespace"))
        try:
            result: dict[str, Any] = self.request("POST", path, query=[("dryRun", "All")], body=obj)
        except ObjectRejected as exc:
            raise ObjectRejected(f"{ObjectRef.of(obj)}: {exc}") from None
        return result


def _in_cluster() -> bool:
    return "KUBERNETES_SERVICE_HOST" in os.environ


def _translate(
    exc: ApiException, method: str, path: str, query: list[tuple[str, Any]]
) -> Exception:
    """An HTTP error answer as a permanent or retryable error of ours."""
    reason = exc.reason
    with contextlib.suppress(ValueError, AttributeError):
        reason = json.loads(exc.body or "{}").get("message", reason)
    status = exc.status or 0
    if status == 401:
        return ClusterUnreachable(f"unauthorized: {reason}")
    if status == 403:
        return Forbidden(f"{method} {path}: {reason}")
    if status == 404 and method == "GET":
        return UnknownKind(f"{path}: not found")
    if status == 410 and any(k == "continue" for k, _ in query):
        return ContinuationExpired(f"{method} {path}: {reason} (HTTP 410)")
    if status == 429:
        return Throttled(f"{method} {path}: throttled (HTTP 429)", _retry_after(exc))
    if status >= 500:
        return ServerUnavailable(f"{method} {path}: {reason} (HTTP {status})", _retry_after(exc))
    return ObjectRejected(f"{reason} (HTTP {status})")


def _transient(exc: Exception) -> bool:
    """Worth asking again: throttled, unavailable, timed out; not an expired continuation
    (the same token cannot help: the LIST restarts from its first page instead)."""
    return isinstance(exc, RetryableApiError) and not isinstance(exc, ContinuationExpired)


def _retry_after(exc: ApiException) -> float | None:
    """Retry-After in seconds (the API server sends seconds, never an HTTP date)."""
    value = (exc.headers or {}).get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _transport(exc: urllib3.exceptions.HTTPError, server: str, method: str, path: str) -> Exception:
    """No HTTP answer: slow is transient, a dropped connection too; refused is not."""
    if isinstance(exc, urllib3.exceptions.NewConnectionError):  # before TimeoutError: a subclass
        return ClusterUnreachable(f"{server}: {exc}")
    if isinstance(exc, urllib3.exceptions.TimeoutError):
        return ApiTimeout(f"{method} {path}: no answer in time ({type(exc).__name__})")
    if isinstance(exc, urllib3.exceptions.ProtocolError):
        return ServerUnavailable(f"{method} {path}: connection dropped ({exc})")
    return ClusterUnreachable(f"{server}: {type(exc).__name__}: {exc}")
