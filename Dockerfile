# The code-location image for Dagster+ Hybrid (ECS agent), Dagster OSS on ECS or on Kubernetes
# (deploy/, docs/deploying.md): the same image serves the code location and runs the run workers.
# Built by Dagster+'s CI from dagster_cloud.yaml (build.directory: .), or by hand:
#   docker build -t dw-platform . && docker run --rm dw-platform dg check defs
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /opt/dw_platform

# The full pinned set first (a cached layer; dagster-postgres for OSS instances), then the extras of
# the target at dagster's own version: Dagster+'s client by default; for Kubernetes
#   docker build --build-arg DAGSTER_EXTRAS="dagster-k8s==0.29.27" ...
ARG DAGSTER_EXTRAS="dagster-cloud==1.13.27"
COPY requirements.lock ./
RUN pip install -r requirements.lock ${DAGSTER_EXTRAS}

COPY pyproject.toml README.md ./
COPY dw_platform ./dw_platform
# Editable, so the code location finds pyproject.toml ([tool.dg]) beside the package.
RUN pip install --no-deps -e .

# Deployed code runs against AWS; the rest of the settings come per deployment (dagster_cloud.yaml).
# Run workers store a run's per-partition materializations in batches (DAGSTER_ENV in
# dw_platform/runtime/settings.py).
ENV DW_PROFILE=aws DW_QUERY_ENGINE=athena DAGSTER_EVENT_BATCH_SIZE=1000
