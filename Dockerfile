# The nightly drift job's image (see dist/<env>/<cluster>/drift-job/). Drift needs Python
# and git; Node is there for `drift.propose` (docs/propose.md): an adoption is verified by
# rendering the environment again, and cdk8s runs on jsii, which runs Node. Debian's
# `nodejs` rather than a download: versioned by the distribution, no network beyond apt
# and PyPI at build time.
#
# BASE is the official Python image on the Debian release it names. Where no container
# registry is reachable, scripts/image/build.sh bootstraps the same release from Debian's
# packages (mmdebstrap, `podman import`) and passes it here: the steps below need only
# `python3` with its `venv` module and apt, which both bases have.
ARG BASE=python:3.11-slim-bookworm
FROM ${BASE}

RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        git ca-certificates nodejs \
    && rm -rf /var/lib/apt/lists/*

# A virtual environment: Debian's python3 refuses `pip install` into the system (PEP 668),
# and the official image's does not need it either way. Dependencies first, pinned
# (scripts/image/requirements.txt), in their own layer: a change to meshops alone rebuilds
# only the last layer.
# PIP_CERT: where a TLS-intercepting proxy stands between the build and PyPI, the CA bundle to
# trust, bind-mounted for the build only (scripts/image/build.sh passes the host's when the
# host sets PIP_CERT); nothing of it stays in the image.
ARG PIP_CERT
RUN python3 -m venv /opt/meshops
ENV PATH=/opt/meshops/bin:$PATH
COPY scripts/image/requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir --disable-pip-version-check -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt
COPY pyproject.toml README.md /src/
COPY charts_py /src/charts_py
RUN pip install --no-cache-dir --disable-pip-version-check --no-deps --no-build-isolation /src \
    && rm -rf /src

# Read-only root file system in the CronJob: everything writable lives under /work.
# jsii unpacks its JavaScript into a temporary folder: it must be writable too. Its package
# cache is off: jsii refuses a cache under a folder others may write, and /work is an
# emptyDir, which the kubelet makes mode 0777; a fresh pod every night would never reuse it.
ENV HOME=/work TMPDIR=/work JSII_RUNTIME_PACKAGE_CACHE=disabled
USER 10001
WORKDIR /work
ENTRYPOINT ["meshops"]
CMD ["--help"]
