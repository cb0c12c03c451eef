#!/usr/bin/env bash
# Installs the Debian packages the tests and tools need, only those that are missing
# (scripts/system-requirements.mjs checks the same list before npm test runs system tests).
# Idempotent; needs root (CI and the developer machines run as root).
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v pg_isready >/dev/null 2>&1 || need+=(postgresql-client)
# the load harness (npm run bench:load) puts HAProxy in front of the replicas
command -v haproxy >/dev/null 2>&1 || need+=(haproxy)
# the database-outage, load and site tests start private PostgreSQL servers from these binaries
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
# the web service's TLS test makes a throw-away certificate
command -v openssl >/dev/null 2>&1 || need+=(openssl)
if [ ${#need[@]} -gt 0 ]; then
  echo "system-deps: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
