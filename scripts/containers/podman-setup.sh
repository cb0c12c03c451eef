#!/usr/bin/env bash
# Prepares this machine to build and run Faceline's images with Podman (as root).
#
# Installs Debian's podman, runc, netavark/aardvark-dns (container DNS, so services find each
# other by name) and debootstrap when missing, and writes the containers.conf these machines
# need: the default runtime crun fails in this sandbox, there is no systemd to manage cgroups,
# and raising the default ulimits is refused. Idempotent; safe to run before every check.
set -euo pipefail

if [ "$(id -u)" != 0 ]; then
  echo "podman-setup: needs root (Podman runs rootful here)" >&2
  exit 1
fi

need=()
command -v podman >/dev/null 2>&1 || need+=(podman)
command -v runc >/dev/null 2>&1 || need+=(runc)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
[ -x /usr/lib/podman/netavark ] || need+=(netavark)
[ -x /usr/lib/podman/aardvark-dns ] || need+=(aardvark-dns)
command -v iptables >/dev/null 2>&1 || need+=(iptables)
if [ ${#need[@]} -gt 0 ]; then
  echo "podman-setup: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

conf=/etc/containers/containers.conf
marker="# Managed by Faceline scripts/containers/podman-setup.sh"
desired="$marker
[containers]
# The sandbox refuses the rlimits Podman would otherwise set on every container.
default_ulimits = []

[engine]
# No systemd here: cgroups are managed directly; crun fails in this sandbox, runc works.
cgroup_manager = \"cgroupfs\"
runtime = \"runc\"
events_logger = \"file\"

[network]
network_backend = \"netavark\"
"
mkdir -p /etc/containers
if [ ! -e "$conf" ] || head -1 "$conf" | grep -qF "$marker"; then
  if [ ! -e "$conf" ] || [ "$(cat "$conf")" != "$(printf '%s' "$desired")" ]; then
    printf '%s' "$desired" >"$conf"
    echo "podman-setup: wrote $conf"
  fi
else
  # Someone else owns the machine-wide file: leave it alone and point Podman at ours.
  alt=/etc/containers/faceline-containers.conf
  printf '%s' "$desired" >"$alt"
  echo "podman-setup: $conf is not ours; export CONTAINERS_CONF=$alt to use Faceline's settings" >&2
fi

podman --version
