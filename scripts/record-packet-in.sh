#!/usr/bin/env bash
# Records the packet-ins Open vSwitch 3.1 sends, in each version and
# packet-in format, for one rule set and one packet: a private OVS with
# the dummy datapath (as /work/shared/oracle does), `ovs-ofctl monitor`
# relayed through scripts/record-openflow.ts so that every message of the
# connection is written down, then one packet injected on p1. Writes
# fixtures/openflow/packet_in_NAME.txt (the recorded-conversation format
# of tests/support/openflow/recorded.ts) for
# src/daemon/packet_in_wire_test.ts.
#
# Usage: scripts/record-packet-in.sh   (needs openvswitch-switch; not for CI)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=$here/fixtures/openflow
deno=${DENO:-deno}
D=$(mktemp -d /tmp/ovs-packet-in.XXXXXX)
export OVS_RUNDIR=$D OVS_LOGDIR=$D OVS_DBDIR=$D OVS_SYSCONFDIR=$D
cleanup() {
    ovs-appctl -t ovs-vswitchd exit --cleanup 2>/dev/null || true
    ovs-appctl -t ovsdb-server exit 2>/dev/null || true
    [ -n "${rec_pid-}" ] && kill "$rec_pid" 2>/dev/null || true
    rm -rf "$D"
}
trap cleanup EXIT
cd "$D"
touch .conf.db.~lock~
ovsdb-tool create conf.db /usr/share/openvswitch/vswitch.ovsschema
ovsdb-server --detach --no-chdir --pidfile --log-file -vconsole:off --remote=punix:$D/db.sock
ovs-vsctl --no-wait init
ovs-vswitchd --enable-dummy --disable-system --disable-system-route \
    --detach --no-chdir --pidfile --log-file -vconsole:off
ovs-vsctl -- add-br br0 \
    -- set bridge br0 datapath-type=dummy fail-mode=secure \
       other-config:hwaddr=aa:55:aa:55:00:00 \
       'protocols=[OpenFlow10,OpenFlow13]' \
    -- add-port br0 p1 -- set Interface p1 type=dummy ofport_request=1 \
    -- add-port br0 p2 -- set Interface p2 type=dummy ofport_request=2
# The rules of the test: registers and metadata set before the controller action.
ovs-ofctl -O OpenFlow13 add-flow br0 \
    'table=0,in_port=1,actions=load:0x2a->NXM_NX_REG3[],write_metadata:0x1234,goto_table:3'
ovs-ofctl -O OpenFlow13 add-flow br0 'table=3,cookie=0x77,actions=controller'
packet='in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07),eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=6,tos=0,ttl=64,frag=no),tcp(src=1000,dst=80)'

"$deno" run -A "$here/scripts/record-openflow.ts" "$D/rec.sock" "$D/br0.mgmt" "$D/rec" &
rec_pid=$!
while [ ! -S "$D/rec.sock" ]; do sleep 0.1; done

# NAME VERSION FORMAT
while read -r name version format; do
    before=$(ls "$D/rec" 2>/dev/null | wc -l)
    ovs-ofctl -O "$version" monitor "unix:$D/rec.sock" 65534 -P "$format" >/dev/null 2>&1 &
    mon=$!
    sleep 1
    ovs-appctl netdev-dummy/receive p1 "$packet"
    sleep 1
    kill "$mon"
    wait "$mon" 2>/dev/null || true
    while [ "$(ls "$D/rec" 2>/dev/null | wc -l)" -le "$before" ]; do sleep 0.1; done
    f=$(ls "$D/rec" | sort | tail -n 1)
    { echo "# packet $packet"; echo "# connection"; cat "$D/rec/$f"; } >"$out/packet_in_$name.txt"
    echo "recorded packet_in_$name.txt"
done <<'CASES'
of10_standard OpenFlow10 standard
of10_nxt_packet_in OpenFlow10 nxt_packet_in
of13_standard OpenFlow13 standard
of13_nxt_packet_in2 OpenFlow13 nxt_packet_in2
CASES
