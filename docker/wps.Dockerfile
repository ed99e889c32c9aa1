# An image of a third-party WPS server for docker_transport = wps (docs/docker.md): a venv of the -r
# requirements only (e.g. pywps==4.8.1, gunicorn and your processes package), not this project. Built
# offline by `pywps image build --wps -r ...` (pywps/imagebuild.py): the context holds this file as
# Dockerfile and wheels/ (made with `pip wheel` on the host); no registry is contacted. The container runs
# [processing] docker_wps_command, e.g. `gunicorn --bind unix:{socket} yourpackage.app:application`.
ARG BASE=pywps-base:bookworm

FROM ${BASE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INDEX=1 PIP_NO_CACHE_DIR=1
COPY wheels /wheels
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-index --find-links /wheels /wheels/*.whl

FROM ${BASE}
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    HOME=/tmp TMPDIR=/tmp
RUN python3 -m pip check \
 && mkdir -p /pywps/in /pywps/out
USER 65534:65534
WORKDIR /tmp
LABEL org.opencontainers.image.title="pywps-wps" pywps.role="wps"
