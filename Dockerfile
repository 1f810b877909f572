# The nightly drift job's image (see dist/<env>/<cluster>/drift-job/). Drift needs Python
# and git; Node is there for `drift.propose` (docs/propose.md): an adoption is verified by
# rendering the environment again, and cdk8s runs on jsii, which runs Node. Debian's
# `nodejs` rather than a download: versioned by the distribution, no
# network beyond apt at build time.
FROM python:3.11-slim

RUN apt-get update \
    && apt-get install -y --no-install-recommends git ca-certificates nodejs \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY pyproject.toml README.md ./
COPY charts_py ./charts_py
RUN pip install --no-cache-dir . && rm -rf /src

# Read-only root file system in the CronJob: everything writable lives under /work.
# jsii unpacks its JavaScript into a temporary folder: it must be writable too.
ENV HOME=/work TMPDIR=/work
USER 10001
WORKDIR /work
ENTRYPOINT ["meshops"]
CMD ["--help"]
