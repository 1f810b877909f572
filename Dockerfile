# The nightly drift job's image (see dist/<env>/<cluster>/drift-job/). Drift needs Python
# and git only: cdk8s (and so Node) is imported by `meshops synth` alone.
FROM python:3.11-slim

RUN apt-get update \
    && apt-get install -y --no-install-recommends git ca-certificates \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY pyproject.toml README.md ./
COPY charts_py ./charts_py
RUN pip install --no-cache-dir . && rm -rf /src

# Read-only root file system in the CronJob: everything writable lives under /work.
ENV HOME=/work
USER 10001
WORKDIR /work
ENTRYPOINT ["meshops"]
CMD ["--help"]
