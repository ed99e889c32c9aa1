# The WPS server with the example processes, built offline (no registry): `pywps image build --server`
# (pywps/imagebuild.py) puts this file and wheels/ (this package, its dependencies and gunicorn, made with
# `pip wheel` on the host; add `-r docker` for mode docker, `-r yourpackage` for your processes) into the
# build context and runs `docker build --network none`. The base image pywps-base:bookworm is Debian from
# debootstrap, imported with `docker import`. Running it: docs/deploy.md, "The server image".
#
#   docker run -d --init -p 127.0.0.1:5000:5000 pywps:latest
#   curl 'http://127.0.0.1:5000/wps?service=WPS&request=GetCapabilities'
#
# Configuration: /etc/pywps/pywps.cfg (the image's default, below); mount yours over it, and a volume on
# /var/lib/pywps (job store, job directories, outputs). gunicorn listens on 0.0.0.0:5000 and on the Unix
# socket /run/pywps/gunicorn.sock: mount a host directory on /run/pywps to put a web server on the host in
# front of a container that has no network at all (--network none). Jobs run in mode multiprocessing
# inside this container; for mode docker see docs/deploy.md.
ARG BASE=pywps-base:bookworm

FROM ${BASE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INDEX=1 PIP_NO_CACHE_DIR=1
COPY wheels /wheels
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-index --find-links /wheels /wheels/*.whl

FROM ${BASE}
COPY --from=build /opt/venv /opt/venv
# settings go in the file, not in PYWPS_* variables: those would override a mounted configuration
ENV PATH=/opt/venv/bin:$PATH LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HOME=/var/lib/pywps \
    PYWPS_CFG=/etc/pywps/pywps.cfg
RUN python3 -m pip check \
 && python3 -c "import pywps.service, pywps.cli, gunicorn" \
 && mkdir -p /etc/pywps /var/lib/pywps/work /var/lib/pywps/outputs /run/pywps \
 && printf '%s\n' \
    '# The server image default; mount your own pywps.cfg here (docs/deploy.md, "The server image").' \
    '[server]' \
    'url = http://localhost:5000/wps' \
    'outputurl = http://localhost:5000/outputs/' \
    'workdir = /var/lib/pywps/work' \
    'outputpath = /var/lib/pywps/outputs' \
    '' \
    '[logging]' \
    'database = sqlite:////var/lib/pywps/jobs.sqlite' \
    > /etc/pywps/pywps.cfg \
 && chown -R 65534:65534 /var/lib/pywps /run/pywps
USER 65534:65534
WORKDIR /var/lib/pywps
VOLUME /var/lib/pywps
EXPOSE 5000
LABEL org.opencontainers.image.title="pywps" pywps.role="server"
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5000/health', timeout=4)"]
CMD ["gunicorn", "--workers", "2", "--bind", "0.0.0.0:5000", "--bind", "unix:/run/pywps/gunicorn.sock", \
     "--timeout", "120", "pywps.wsgi:application"]
