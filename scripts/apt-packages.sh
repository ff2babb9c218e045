#!/usr/bin/env bash
# Installs the Debian packages the tests, benchmarks and `make serve` use, only where missing:
# espeak-ng and sox (speech timing), wrk (load test), nginx (the web service's front: it reads
# requests in full before the app sees them, see webservice/server.py).
set -euo pipefail
need=()
command -v espeak-ng >/dev/null || need+=(espeak-ng)
command -v sox >/dev/null || need+=(sox)
command -v soxi >/dev/null || need+=(sox)
command -v wrk >/dev/null || need+=(wrk)
PATH="$PATH:/usr/sbin" command -v nginx >/dev/null || need+=(nginx)
[ ${#need[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# Debian's nginx package starts a default site on port 80 when installed. We only want the
# program (webservice.server runs its own instance), so service starts are declined during the
# install with the standard policy-rc.d hook, and only if no such policy exists already.
policy=/usr/sbin/policy-rc.d
made_policy=""
if [[ " ${need[*]} " == *" nginx "* && ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 755 "$policy"
    made_policy=1
fi
trap '[ -z "$made_policy" ] || $SUDO rm -f "$policy"' EXIT
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
