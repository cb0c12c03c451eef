#!/bin/sh
# Entrypoint of Faceline's service images. Secrets arrive as files (Docker/Podman secrets,
# Kubernetes secret volumes) rather than environment variables, which leak into `inspect`
# output and crash dumps: for each variable below, VAR_FILE names a file whose content (without
# the trailing newline) becomes VAR for the service. PGPASSWORD is read by the PostgreSQL client
# when DATABASE_URL carries no password. Then the service replaces this shell (it is PID 1 and
# receives SIGTERM itself).
set -eu
for var in FACELINE_MASTER_KEY DATABASE_URL PGPASSWORD; do
  eval "file=\${${var}_FILE:-}"
  [ -n "$file" ] || continue
  eval "current=\${${var}:-}"
  if [ -n "$current" ]; then
    echo "faceline: both $var and ${var}_FILE are set; set only one" >&2
    exit 2
  fi
  if [ ! -r "$file" ]; then
    echo "faceline: ${var}_FILE points to $file, which is missing or not readable" >&2
    exit 2
  fi
  value="$(cat "$file")"
  export "$var=$value"
  unset "${var}_FILE"
done
exec "$@"
