#!/usr/bin/env bash
# Installs what the real-interface tests (tests/e2e/veth_test.ts, every
# test daemon's own network namespace) and their benchmark
# (bench/veth_vs_ovs_bench.ts) drive: ip (iproute2), unshare and nsenter
# (util-linux), ping (iputils-ping), ethtool, iperf3 and Open vSwitch 3.1 (openvswitch-switch,
# openvswitch-common) as the reference switch, and ovs-testcontroller
# (openvswitch-testcontroller) as a real OpenFlow controller. Idempotent: does nothing
# when every command is already on PATH, and installs only the missing
# packages. Needs apt-get and root (or sudo).
set -euo pipefail

# command:package, one per tool the test runs.
needs="ip:iproute2 unshare:util-linux nsenter:util-linux ping:iputils-ping ethtool:ethtool iperf3:iperf3
ovs-vswitchd:openvswitch-switch ovsdb-server:openvswitch-switch
ovs-vsctl:openvswitch-switch ovs-ofctl:openvswitch-common ovs-appctl:openvswitch-common
ovs-testcontroller:openvswitch-testcontroller"
missing=()
for pair in $needs; do
  cmd=${pair%%:*} pkg=${pair#*:}
  PATH=$PATH:/usr/sbin:/sbin command -v "$cmd" >/dev/null 2>&1 && continue
  case " ${missing[*]-} " in *" $pkg "*) ;; *) missing+=("$pkg") ;; esac
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-deps: apt-get not found; install ${missing[*]} by hand" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "install-test-deps: need root or sudo to install ${missing[*]}" >&2
    exit 1
  fi
  sudo="sudo"
fi
# The openvswitch-switch package would start a system-wide OVS from its
# maintainer script; the tests run private instances, so service starts are
# refused during the install (the policy-rc.d convention), unless the
# machine already has a policy of its own.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e $policy ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee $policy >/dev/null
  $sudo chmod +x $policy
  made_policy=1
fi
trap '[ $made_policy = 1 ] && $sudo rm -f $policy' EXIT
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q >&2
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
for pair in $needs; do
  cmd=${pair%%:*}
  PATH=$PATH:/usr/sbin:/sbin command -v "$cmd" >/dev/null 2>&1 || {
    echo "install-test-deps: installed ${missing[*]} but $cmd is still not on PATH" >&2
    exit 1
  }
done
