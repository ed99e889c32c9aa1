# The per-job worker image: one container per job runs `python -m pywps.worker --indir IN --outdir OUT`.
# Built offline by `pywps image build` (pywps/imagebuild.py): the context holds this file as Dockerfile
# and wheels/ (this package + dependencies, made with `pip wheel` on the host); no registry is contacted.
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
 && python3 -c "import pywps.worker" \
 && mkdir -p /pywps/in /pywps/out
# The backend also passes --user, --read-only, --network none etc.; these are the same safe defaults.
USER 65534:65534
WORKDIR /tmp
LABEL org.opencontainers.image.title="pywps-worker" pywps.role="worker"
CMD ["python3", "-m", "pywps.worker", "--indir", "/pywps/in", "--outdir", "/pywps/out"]
