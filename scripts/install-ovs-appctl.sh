#!/usr/bin/env bash
# Installs Debian's openvswitch-common (which ships ovs-appctl) so the
# interop tests can drive udpif with the real OVS client. Does nothing
# when ovs-appctl is already on PATH. Needs apt-get and root (or sudo).
set -euo pipefail

if command -v ovs-appctl >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-ovs-appctl: apt-get not found; install openvswitch-common (ovs-appctl) by hand" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "install-ovs-appctl: need root or sudo to install openvswitch-common" >&2
    exit 1
  fi
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q >&2
$sudo apt-get install -y -q --no-install-recommends openvswitch-common >&2
command -v ovs-appctl >/dev/null 2>&1 || {
  echo "install-ovs-appctl: openvswitch-common installed but ovs-appctl is not on PATH" >&2
  exit 1
}
