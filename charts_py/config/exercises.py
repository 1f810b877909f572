"""Chaos experiments and load tests: exercises an environment declares against its services.

One model of a fault: `Experiment`. A service's `fault:` field stays as shorthand for the
common case and is read here as an experiment named `fault-injection` gated by
`<header>: <service name>`, so traffic.py renders faults one way only. Where exercises may
run follows the profile: experiments wherever `faultInjection` is not `forbidden` (never in
prod), behind a header where it is `header-gated`; load tests anywhere but prod, which serves
real users and must not be loaded by a Job that git re-creates. Experiments are declared per
namespace: the platform's `experiments:` on its own services, a namespace block's (a team's)
on that namespace's; load tests target the platform's namespace.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from charts_py.config import source
from charts_py.config.model import EnvironmentFile, Experiment, HeaderMatch, Policy, Service

SHORTHAND = "fault-injection"
"""The experiment (and route) name of a service's `fault:` shorthand."""
RESERVED = frozenset({SHORTHAND, "default"})
"""Route names the VirtualService already uses; an experiment may not take them."""

Problem = tuple[source.FieldPath, str]


def of_service(experiments: Sequence[Experiment], service: Service) -> list[Experiment]:
    """The experiments on `service`: its `fault:` shorthand first, then those of
    `experiments` (its namespace's block's) that name it."""
    out = [e for e in experiments if e.service == service.name]
    if service.fault is None:
        return out
    fault = service.fault
    header = HeaderMatch(name=fault.header, value=service.name) if fault.header else None
    shorthand = Experiment(
        name=SHORTHAND,
        service=service.name,
        percent=fault.percent,
        delay=fault.delay,
        abort=fault.abort,
        header=header,
    )
    return [shorthand, *out]


def experiment_problems(
    experiments: Sequence[Experiment],
    services: Sequence[Service],
    profile: str,
    policy: Policy,
    at: source.FieldPath,
) -> Iterator[Problem]:
    """Of one block's `experiments` (at `at`, naming `services` of its namespace): known
    service, allowed by the profile, gated where required, reachable route."""
    by_name = {s.name: s for s in services}
    mode = "forbidden" if profile == "prod" else policy.fault_injection
    for i, exp in enumerate(experiments):
        where: source.FieldPath = (*at, i)
        if mode == "forbidden":
            yield where, f"fault experiments are forbidden in the {profile} profile"
        elif exp.name in RESERVED:
            yield (*where, "name"), f"{exp.name!r} is a reserved route name"
        elif exp.service not in by_name:
            yield (*where, "service"), f"unknown service {exp.service!r}"
        elif mode == "header-gated" and exp.header is None:
            yield (*where, "header"), f"the {profile} profile requires a header gate"
        else:
            yield from _unreachable(experiments, by_name[exp.service], exp, where)


def _unreachable(
    experiments: Sequence[Experiment], service: Service, exp: Experiment, at: source.FieldPath
) -> Iterator[Problem]:
    """Two experiments with the same gate on one service: Istio takes the first match only."""
    for other in of_service(experiments, service):
        if other is exp or other.name == exp.name:
            return
        if other.header == exp.header:
            gate = f"header {exp.header.name}: {exp.header.value}" if exp.header else "no header"
            reason = f"{other.name!r} already injects faults on {service.name} with {gate}"
            yield (*at, "header"), f"{reason}: this experiment would never match"
            return


def load_test_problems(spec: EnvironmentFile) -> Iterator[Problem]:
    """Not in prod; the target is a known HTTP service (fortio's `load` speaks HTTP)."""
    services = {s.name: s for s in spec.services}
    for i, test in enumerate(spec.load_tests):
        at: source.FieldPath = ("loadTests", i)
        target = services.get(test.target)
        if spec.profile == "prod":
            yield at, "load tests are not run in prod: run them in staging, which mirrors it"
        elif target is None:
            yield (*at, "target"), f"unknown service {test.target!r}"
        elif target.protocol != "http":
            yield (*at, "target"), f"{test.target} speaks {target.protocol}; load tests drive HTTP"
