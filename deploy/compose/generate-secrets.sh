#!/usr/bin/env sh
# Creates the secrets compose.yaml mounts, once, in deploy/compose/secrets/ (gitignored):
#   master_key   32 random bytes, base64: encrypts face templates and signing keys.
#                Losing it makes every enrolled face unreadable: back it up with the database.
#   db_password  PostgreSQL password for the `faceline` user (read by postgres and by auth).
#   line_dashboard_secret, oidc_clients.yaml
#                Sign in with Faceline: the applications auth lets sign people in (OIDC_CLIENTS_FILE),
#                first the example dashboard (`--profile example`) with its client secret. Add your
#                own applications to oidc_clients.yaml (docs/oidc.md) and restart auth.
# Existing files are kept (replacing the master key would orphan stored templates; the database
# password is fixed when the pgdata volume is first initialised). --force replaces them.
set -eu
dir="$(cd "$(dirname "$0")" && pwd)/secrets"
force=0
[ "${1:-}" = "--force" ] && force=1
mkdir -p "$dir"
chmod 0700 "$dir"

rand() { head -c "$1" /dev/urandom | base64 | tr -d '\n'; }

write() {
  file="$dir/$1"
  if [ -s "$file" ] && [ "$force" = 0 ]; then
    echo "kept      $file"
    return
  fi
  umask 077
  printf '%s' "$2" >"$file"
  # readable inside the containers, whose users (postgres 999, faceline 1000) differ from the
  # host owner; the 0700 folder keeps other host users out
  chmod 0644 "$file"
  echo "generated $file"
}

write master_key "$(rand 32)"
# URL- and shell-safe characters only
write db_password "$(rand 24 | tr '+/' '-_' | tr -d '=')"
write line_dashboard_secret "$(rand 32 | tr '+/' '-_' | tr -d '=')"
dashboard="${FACELINE_DASHBOARD_URL:-http://localhost:8090}"
write oidc_clients.yaml "# Applications that sign people in with Faceline (docs/oidc.md). auth reads this at start.
clients:
  - clientId: line-dashboard
    name: Line dashboard (example)
    clientSecret: \"$(cat "$dir/line_dashboard_secret")\"
    redirectUris: [\"$dashboard/callback\"]
    postLogoutRedirectUris: [\"$dashboard/\"]
    firstParty: true
"
