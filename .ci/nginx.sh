#!/usr/bin/env bash
# nginx for tests/deploy/test_nginx.py (docs/nginx/pywps.conf in front of gunicorn on a Unix socket).
#   start   install Debian's nginx if missing (the test runs its own nginx process on 127.0.0.1; the
#           system's nginx service is not started or touched)
#   stop    nothing to stop
set -euo pipefail

case "${1:-}" in
    start)
        if [ ! -x /usr/sbin/nginx ]; then
            echo "nginx.sh: installing nginx" >&2
            if [ ! -e /usr/sbin/policy-rc.d ]; then  # keep postinst from starting the system's nginx
                printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
                chmod 755 /usr/sbin/policy-rc.d
            fi
            apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >/dev/null
        fi
        /usr/sbin/nginx -v 2>&1 | sed 's/^/nginx.sh: /' >&2
        ;;
    stop) ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
