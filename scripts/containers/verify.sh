#!/usr/bin/env bash
# Builds Faceline's images with Podman, runs compose.yaml and proves that it works:
#   npm run test:containers        (root, needs root privileges: rootful Podman)
#
#  1. Podman, runc, netavark and debootstrap from Debian, and the containers.conf this sandbox
#     needs (podman-setup.sh).
#  2. LOCAL STAND-INS for the public base images (base-images.sh): node:22-bookworm-slim,
#     postgres:17 and caddy:2 are built from Debian packages and Node.js 22 from the npm registry
#     and tagged with those public names, because no registry is reachable here. They are not the
#     official images; standins/*/Containerfile say exactly how they differ. Cached between runs.
#  3. Every service image built from its Dockerfile with `podman build`; the host CA bundle is
#     passed as the `extra_ca` build secret, exactly as a corporate proxy's CA would be, and the
#     images are checked: numeric non-root user, OCI labels, health check, no CA left behind,
#     Node.js 22, node started directly (no entrypoint script).
#  4. compose.yaml started with compose-podman.mjs (a translation of the same file to plain
#     podman commands: Debian's podman-compose 1.0.3 ignores profiles and health conditions),
#     under the project name faceline-verify on free ports, FACELINE_LIVENESS=false: a recorded
#     clip cannot answer the random head-turn challenge; everything else is the production path.
#  5. Through the web container only: health, registration, enrollment, 1:1 and 1:N face login
#     with real webcam frames from ../shared/faces, an impostor refused (e2e.ts); isolation
#     (read-only root, non-root, secrets neither in the container configuration nor in the
#     environment of the running service, web cannot reach PostgreSQL);
#     a crashed vision replica restarted by its restart policy; auth and PostgreSQL restarted and
#     the user logs in again; the `tls` profile's Caddy serving the same login over HTTPS.
#  6. Everything torn down (containers, networks, volumes), also on failure. Images stay cached.
#
# Environment: FACELINE_EXTRA_CA (CA bundle for the builds; default: NODE_EXTRA_CA_CERTS or the
# system bundle), FACELINE_FACES_DIR (face set), FACELINE_KEEP=1 (leave the stack running).
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$(pwd)"
here="$root/scripts/containers"

if [ "$(id -u)" != 0 ]; then
  echo "verify: needs root (rootful Podman)" >&2
  exit 1
fi

# One run at a time on a machine: the project name and image tags are shared.
exec 9>/tmp/faceline-containers.lock
flock 9

project=faceline-verify
export FACELINE_TAG=local FACELINE_REGISTRY=ghcr.io/faceline
compose=(node "$here/compose-podman.mjs" -p "$project")
work="$(mktemp -d /tmp/faceline-verify.XXXXXX)"
t_start=$(date +%s)
t_step=$t_start
summary=()

step() {
  local now; now=$(date +%s)
  [ -n "${current:-}" ] && summary+=("$(printf '%-44s %4d s' "$current" $((now - t_step)))")
  current="$1"
  t_step=$now
  echo
  echo "== $1"
}

teardown() {
  local rc=$?
  if [ "${FACELINE_KEEP:-0}" = 1 ] && [ $rc = 0 ]; then
    echo "verify: FACELINE_KEEP=1, stack left running (node scripts/containers/compose-podman.mjs -p $project down -v)"
  else
    if [ $rc != 0 ]; then
      echo "verify: FAILED (exit $rc); container states and recent logs:" >&2
      podman ps -a --filter "label=com.docker.compose.project=$project" --format '{{.Names}} {{.Status}}' >&2 || true
      for c in $(podman ps -a --filter "label=com.docker.compose.project=$project" --format '{{.Names}}' 2>/dev/null); do
        echo "--- $c" >&2
        podman logs --tail 15 "$c" 2>&1 | cut -c1-400 >&2 || true
      done
    fi
    "${compose[@]}" down -v >/dev/null 2>&1 || true
    podman volume rm -f "$project-solo-data" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
  exit $rc
}
trap teardown EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
check() { echo "  ok: $*"; }
die() { echo "verify: $*" >&2; exit 1; }

# --------------------------------------------------------------------------------------------
step "podman setup"
bash "$here/podman-setup.sh"
faces="${FACELINE_FACES_DIR:-$root/../shared/faces}"
[ -f "$faces/CATALOG.tsv" ] || die "face set not found at $faces (set FACELINE_FACES_DIR): the login check needs real photos"
[ -d node_modules/socket.io-client ] || die "run npm ci first (the check drives Socket.IO from the host)"

step "base image stand-ins"
bash "$here/base-images.sh"

# --------------------------------------------------------------------------------------------
ca="${FACELINE_EXTRA_CA:-${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}}"
secret=()
[ -s "$ca" ] && secret=(--secret "id=extra_ca,src=$ca")
version="$(node -p 'require("./package.json").version')"
revision="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
declare -A built_s
sizes=()
for svc in vision auth web; do
  step "build ghcr.io/faceline/$svc:local"
  b0=$(date +%s)
  if ! podman build --format docker "${secret[@]}" \
      --build-arg "VERSION=$version" --build-arg "REVISION=$revision" \
      -f "services/$svc/Dockerfile" -t "ghcr.io/faceline/$svc:local" . >"$work/build-$svc.log" 2>&1; then
    tail -40 "$work/build-$svc.log" >&2
    die "building $svc failed"
  fi
  built_s[$svc]=$(( $(date +%s) - b0 ))
done

step "image checks"
for svc in vision auth web; do
  img="ghcr.io/faceline/$svc:local"
  user="$(podman image inspect --format '{{.Config.User}}' "$img")"
  [[ "$user" =~ ^[1-9][0-9]*(:[0-9]+)?$ ]] || die "$svc: USER must be a numeric non-root uid, is '$user'"
  [ "$(podman image inspect --format '{{index .Labels "org.opencontainers.image.licenses"}}' "$img")" = Apache-2.0 ] || die "$svc: licence label missing"
  [ -n "$(podman image inspect --format '{{index .Labels "org.opencontainers.image.source"}}' "$img")" ] || die "$svc: source label missing"
  [ "$(podman image inspect --format '{{index .Labels "org.opencontainers.image.version"}}' "$img")" = "$version" ] || die "$svc: version label wrong"
  [ -n "$(podman image inspect --format '{{.Config.Healthcheck}}' "$img" | grep -v '<nil>')" ] || die "$svc: no HEALTHCHECK"
  # the CA bundle was a build secret: neither the file nor a variable pointing at it may remain
  podman run --rm --no-healthcheck --network none --entrypoint sh "$img" -c \
    'test ! -e /run/secrets/extra_ca && ! env | grep -q NODE_EXTRA_CA_CERTS && ! grep -rqs "BEGIN CERTIFICATE" /app/.npmrc /root/.npmrc' \
    || die "$svc: the build CA left traces in the image"
  # node is PID 1 itself: no entrypoint script (which used to copy secrets into the environment)
  [ "$(podman image inspect --format '{{json .Config.Entrypoint}}' "$img")" = null ] || [ "$(podman image inspect --format '{{json .Config.Entrypoint}}' "$img")" = '[]' ] \
    || die "$svc: has an entrypoint: $(podman image inspect --format '{{json .Config.Entrypoint}}' "$img")"
  [ "$(podman image inspect --format '{{index .Config.Cmd 0}}' "$img")" = node ] || die "$svc: CMD does not start node"
  node_in_image="$(podman run --rm --no-healthcheck --network none "$img" node --version)"
  [[ "$node_in_image" == v22.* ]] || die "$svc: Node.js $node_in_image, expected 22 (LTS)"
  size=$(podman image inspect --format '{{.Size}}' "$img")
  sizes+=("$(printf '%-28s %5d MB' "$img" $((size / 1000000)))")
  check "$svc: user $user, labels, health check, no CA, node $node_in_image started directly; $((size / 1000000)) MB, built in ${built_s[$svc]} s"
done
ort="$(podman run --rm --no-healthcheck --network none --entrypoint sh ghcr.io/faceline/vision:local -c \
  'cd node_modules/onnxruntime-node/bin/napi-v6 && find . -mindepth 2 -maxdepth 2 -type d | sort | tr "\n" " "')"
[ "$ort" = "./linux/x64 " ] || [ "$ort" = "./linux/arm64 " ] || die "vision: unexpected ONNX Runtime platforms: $ort"
check "vision keeps only its own ONNX Runtime library ($ort)"

step "auth alone on PGlite (read-only root)"
solo="$project-solo"
solo_port=$(free_port)
podman run -d --name "$solo" --label "com.docker.compose.project=$project" --no-healthcheck --read-only --tmpfs /tmp \
  -v "$solo-data:/var/lib/faceline" -p "127.0.0.1:$solo_port:8081" ghcr.io/faceline/auth:local >/dev/null
for _ in $(seq 1 60); do curl -fsS "http://127.0.0.1:$solo_port/api/v1/info" >"$work/solo.json" 2>/dev/null && break; sleep 1; done
grep -q '"database":"pglite"' "$work/solo.json" || { podman logs --tail 20 "$solo" >&2; die "auth on PGlite did not start"; }
podman exec "$solo" test -s /var/lib/faceline/master.key || die "auth did not keep its generated key in the volume"
podman rm -f -v "$solo" >/dev/null && podman volume rm "$solo-data" >/dev/null
check "auth on PGlite with a read-only root: database and generated key in /var/lib/faceline"

# --------------------------------------------------------------------------------------------
step "compose up (project $project)"
sh deploy/compose/generate-secrets.sh >/dev/null
"${compose[@]}" down -v >/dev/null 2>&1 || true
port=$(free_port)
export FACELINE_PORT=$port FACELINE_LIVENESS=false
"${compose[@]}" up
url="http://127.0.0.1:$port"

step "health through the web container"
curl -fsS "$url/readyz" | grep -q '"status":"ok"' || die "web /readyz"
curl -fsS "$url/api/v1/info" | grep -q '"database":"postgres"' || die "auth does not use PostgreSQL"
curl -fsS -o /dev/null "$url/" || die "web does not serve the app"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/metrics")" = 404 ] || die "web answers /metrics on its published port"
podman exec "$project-web-1" node -e 'fetch("http://127.0.0.1:9464/metrics").then((r) => r.text().then((t) => process.exit(r.ok && t.includes("faceline_web_http_requests_total") ? 0 : 1)), () => process.exit(1))' \
  || die "web does not serve /metrics on its metrics port (METRICS_PORT)"
check "web /readyz ok (auth reachable), auth on PostgreSQL, app served at $url, /metrics only on the unpublished port"

step "isolation"
for svc in web auth vision-1; do
  c="$project-$svc-1"
  [ "$(podman inspect --format '{{.HostConfig.ReadonlyRootfs}}' "$c")" = true ] || die "$svc: root filesystem is writable"
  podman exec "$c" sh -c 'touch /app/probe 2>/dev/null' && die "$svc: could write to /app"
  [ "$(podman exec "$c" id -u)" = 1000 ] || die "$svc: not running as uid 1000"
done
podman inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$project-auth-1" | grep -Eq '^(FACELINE_MASTER_KEY|PGPASSWORD)=' \
  && die "auth: a secret value is visible in the container configuration"
# ...nor in the environment of the running service (PID 1 is node; its config reads the files)
auth_env="$(podman exec "$project-auth-1" node -e 'process.stdout.write(require("fs").readFileSync("/proc/1/environ", "utf8").split("\0").join("\n"))')"
grep -Eq '^(FACELINE_MASTER_KEY|PGPASSWORD)=' <<<"$auth_env" \
  && die "auth: a secret value is in the environment of the running service"
grep -q '^FACELINE_MASTER_KEY_FILE=/run/secrets/master_key$' <<<"$auth_env" || die "auth: FACELINE_MASTER_KEY_FILE missing from its environment"
[ "$(podman exec "$project-auth-1" node -e 'process.stdout.write(require("fs").readFileSync("/proc/1/cmdline", "utf8").split("\0")[0])')" = node ] \
  || die "auth: PID 1 is not node"
probe='require("net").connect(5432,"postgres").on("connect",()=>process.exit(0)).on("error",()=>process.exit(1))'
podman exec "$project-web-1" node -e "$probe" && die "web can reach PostgreSQL (data network must be auth-only)"
podman exec "$project-vision-1-1" node -e "$probe" && die "vision can reach PostgreSQL"
podman exec "$project-auth-1" node -e "$probe" || die "auth cannot reach PostgreSQL"
check "read-only root, uid 1000, secrets only as files (not in the service's environment), only auth reaches PostgreSQL"

step "enrollment and face login (real frames)"
node --conditions=source --import tsx "$here/e2e.ts" enroll --url "$url" --state "$work/user.json"

step "restart policy: vision-1 crashes"
before=$(podman inspect --format '{{.RestartCount}}' "$project-vision-1-1")
# SIGKILL from the host, like the kernel's OOM killer: no chance to shut down cleanly. (`podman
# kill` would count as an operator's stop and, rightly, not be restarted.)
kill -KILL "$(podman inspect --format '{{.State.Pid}}' "$project-vision-1-1")"
for _ in $(seq 1 30); do
  [ "$(podman inspect --format '{{.RestartCount}}' "$project-vision-1-1")" -gt "$before" ] && break
  sleep 1
done
[ "$(podman inspect --format '{{.RestartCount}}' "$project-vision-1-1")" -gt "$before" ] || die "vision-1 was not restarted"
"${compose[@]}" wait vision-1
check "vision-1 restarted by its restart policy and healthy again"

step "restart auth and PostgreSQL, log in again"
"${compose[@]}" restart postgres auth
node --conditions=source --import tsx "$here/e2e.ts" login --url "$url" --state "$work/user.json"

step "tls profile (Caddy, local CA for localhost)"
https_port=$(free_port)
FACELINE_HTTP_PORT=$(free_port) FACELINE_HTTPS_PORT=$https_port FACELINE_DOMAIN=localhost \
  "${compose[@]}" --profile tls up proxy >/dev/null
for _ in $(seq 1 30); do
  podman cp "$project-proxy-1:/data/caddy/pki/authorities/local/root.crt" "$work/caddy-root.crt" 2>/dev/null \
    && curl -fsS --cacert "$work/caddy-root.crt" --resolve "localhost:$https_port:127.0.0.1" \
      "https://localhost:$https_port/readyz" >/dev/null 2>&1 && break
  sleep 1
done
curl -fsS --cacert "$work/caddy-root.crt" --resolve "localhost:$https_port:127.0.0.1" \
  "https://localhost:$https_port/readyz" | grep -q '"status":"ok"' || die "no HTTPS through the proxy"
NODE_EXTRA_CA_CERTS="$work/caddy-root.crt" node --conditions=source --import tsx "$here/e2e.ts" login \
  --url "https://localhost:$https_port" --state "$work/user.json"
check "HTTPS with a verified certificate chain; Socket.IO login through the proxy"

step "teardown"
if [ "${FACELINE_KEEP:-0}" != 1 ]; then
  "${compose[@]}" down -v
  [ -z "$(podman ps -aq --filter "label=com.docker.compose.project=$project")" ] || die "containers left behind"
fi
# Every build whose sources changed leaves its old layers behind as dangling images; keep a day's
# worth (the layer cache of recent builds) and drop the rest so repeated checks do not fill the disk.
podman image prune -f --filter until=24h >/dev/null 2>&1 || true
step "done"

echo
echo "image sizes (uncompressed):"
printf '  %s\n' "${sizes[@]}"
echo "steps:"
printf '  %s\n' "${summary[@]}"
echo "verify: all container checks passed in $(( $(date +%s) - t_start )) s"
