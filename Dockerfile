# The WPS server with the example processes, built offline (no registry): `pywps image build --server`
# (pywps/imagebuild.py) puts this file and wheels/ (this package, its dependencies and gunicorn, made with
# `pip wheel` on the host) into the build context and runs `docker build --network none`.
# The base image pywps-base:bookworm is Debian from debootstrap, imported with `docker import`.
#
#   docker run -d -p 127.0.0.1:5000:5000 pywps:latest
#   curl 'http://127.0.0.1:5000/wps?service=WPS&request=GetCapabilities'
#
# Configuration: mount a pywps.cfg and set PYWPS_CFG, or override single keys with PYWPS_<SECTION>_<KEY>.
# Jobs run in mode multiprocessing inside this container; for mode docker see docs/docker.md.
ARG BASE=pywps-base:bookworm

FROM ${BASE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INDEX=1 PIP_NO_CACHE_DIR=1
COPY wheels /wheels
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-index --find-links /wheels /wheels/*.whl

FROM ${BASE}
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HOME=/var/lib/pywps \
    PYWPS_SERVER_URL=http://localhost:5000/wps \
    PYWPS_SERVER_OUTPUTURL=http://localhost:5000/outputs/ \
    PYWPS_SERVER_WORKDIR=/var/lib/pywps/work \
    PYWPS_SERVER_OUTPUTPATH=/var/lib/pywps/outputs \
    PYWPS_LOGGING_DATABASE=sqlite:////var/lib/pywps/jobs.sqlite
RUN python3 -m pip check \
 && python3 -c "import pywps.service, pywps.cli, gunicorn" \
 && mkdir -p /var/lib/pywps/work /var/lib/pywps/outputs \
 && chown -R 65534:65534 /var/lib/pywps
USER 65534:65534
WORKDIR /var/lib/pywps
VOLUME /var/lib/pywps
EXPOSE 5000
LABEL org.opencontainers.image.title="pywps" pywps.role="server"
CMD ["gunicorn", "--workers", "2", "--bind", "0.0.0.0:5000", "--timeout", "120", "pywps.wsgi:application"]
