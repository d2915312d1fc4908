#!/usr/bin/env bash
# capture-openflow.sh -- records what Debian's ovs-ofctl sends and what the
# real ovs-vswitchd answers, for fixtures/openflow/: for each step, the
# conversation (NAME.txt, from scripts/record-openflow.ts relaying to the
# oracle's br0.mgmt) and ovs-ofctl's output (NAME.out, durations
# normalised to duration=Xs).
#
# Usage: capture-openflow.sh RECORDER_SOCKET RECORDER_OUT_DIR FIXTURE_DIR
# The oracle (ovs-vswitchd --enable-dummy, br0 with p1..p3 as
# /work/shared/oracle/README.md brings it up) and the recorder must run.
set -euo pipefail
sock=$1 rec=$2 out=$3
mkdir -p "$out"
flows=$(mktemp)
cat >"$flows" <<'FLOWS'
table=0,priority=50,in_port=3,actions=drop
priority=60,udp,tp_src=53,actions=controller
table=3,cookie=0x77,priority=8,arp,actions=normal
FLOWS

step() {
    local name=$1; shift
    local before; before=$(ls "$rec" 2>/dev/null | wc -l)
    set +e
    ovs-ofctl "$@" 2>&1 | sed -E 's/duration=[0-9.]+s/duration=Xs/g; s/ xid=0x[0-9a-f]+//' >"$out/$name.out"
    set -e
    for _ in $(seq 100); do
        [ "$(ls "$rec" | wc -l)" -gt "$before" ] && break
        sleep 0.05
    done
    local last; last=$(ls "$rec" | sort | tail -1)
    mv "$rec/$last" "$out/$name.txt"
}

step show show "unix:$sock"
step show13 -O OpenFlow13 show "unix:$sock"
step add_of10 add-flow "unix:$sock" "priority=100,ip,nw_dst=10.0.0.1,actions=output:2"
step add_nxm add-flow "unix:$sock" "table=1,priority=5,reg0=0x5,tcp_flags=+syn,actions=resubmit(,2),load:0x3->NXM_NX_REG1[0..7]"
step add_of13 -O OpenFlow13 add-flow "unix:$sock" "table=2,priority=7,tcp,tp_dst=80,actions=set_field:10.0.0.9->ip_dst,output:3"
step add_flows add-flows "unix:$sock" "$flows"
step mod_flows mod-flows "unix:$sock" "ip,nw_dst=10.0.0.1,actions=output:3,mod_vlan_vid:7"
step dump_flows dump-flows "unix:$sock"
step dump_flows13 -O OpenFlow13 dump-flows "unix:$sock"
step dump_flows_table dump-flows "unix:$sock" "table=1"
step dump_aggregate dump-aggregate "unix:$sock"
step dump_aggregate13 -O OpenFlow13 dump-aggregate "unix:$sock"
step dump_tables dump-tables "unix:$sock"
step dump_tables13 -O OpenFlow13 dump-tables "unix:$sock"
step dump_ports_desc dump-ports-desc "unix:$sock"
step dump_ports_desc13 -O OpenFlow13 dump-ports-desc "unix:$sock"
step del_strict del-flows --strict "unix:$sock" "priority=100,ip,nw_dst=10.0.0.1"
step del_of13 -O OpenFlow13 del-flows "unix:$sock" "table=2"
step dump_after_del dump-flows "unix:$sock"
step del_all del-flows "unix:$sock"
step dump_empty dump-flows "unix:$sock"
rm -f "$flows"
