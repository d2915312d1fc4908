#!/usr/bin/env bash
# udpif-ovs-shim.sh -- answers the udpif commands that the conformance
# replay issues (start --detach, appctl, ofctl, set-config, set-port) with
# the real Open vSwitch, so that the replay itself can be checked: replaying
# a case through this shim must print what ovs-oracle.sh recorded.
#
#   CONFORMANCE_UDPIF=$PWD/tests/conformance/oracle/udpif-ovs-shim.sh CONFORMANCE_SETTLE=1.1 \
#       CONFORMANCE_ALL=1 deno test -A tests/conformance/conformance_test.ts
#
# OVS runs in $UDPIF_RUNDIR/ovs (the replay's private directory); the
# control socket the replay asks for is a symlink to ovs-vswitchd's. The
# replay stops ovs-vswitchd with `exit` and every other process it started
# by the UDPIF_RUNDIR marker in their environment, ovsdb-server included.
set -u
die() { echo "udpif-ovs-shim: $*" >&2; exit 2; }
[ -n "${UDPIF_RUNDIR:-}" ] || die "UDPIF_RUNDIR is not set"
D=$UDPIF_RUNDIR/ovs
export OVS_RUNDIR=$D OVS_LOGDIR=$D OVS_DBDIR=$D OVS_SYSCONFDIR=$D
# The replay puts its ovs-* wrappers (which call udpif, i.e. this shim)
# first in PATH: call the real tools by their full paths.
VSCTL=/usr/bin/ovs-vsctl APPCTL=/usr/bin/ovs-appctl OFCTL=/usr/bin/ovs-ofctl
export PATH=/usr/sbin:/usr/bin:/sbin:/bin

# Drops the client options the replay passes (-t SOCKET).
strip_target() {
    args=()
    while [ $# -gt 0 ]; do
        case "$1" in
            -t|--target) shift 2 ;;
            *) args+=("$1"); shift ;;
        esac
    done
}

start() {
    local sock="" pidfile="" ports=() cfg=()
    while [ $# -gt 0 ]; do
        case "$1" in
            --detach) shift ;;
            --unixctl) sock=$2; shift 2 ;;
            --pidfile) pidfile=$2; shift 2 ;;
            --log-file|--bridge|--flows) shift 2 ;;
            --datapath-type) [ "$2" = dummy ] || die "only --datapath-type dummy"; shift 2 ;;
            --port) ports+=("$2"); shift 2 ;;
            --other-config) cfg+=(-- set Open_vSwitch . "other_config:$2"); shift 2 ;;
            *) die "start: unknown option $1" ;;
        esac
    done
    mkdir -p "$D" && cd "$D" || die "cannot create $D"
    touch .conf.db.~lock~
    ovsdb-tool create conf.db /usr/share/openvswitch/vswitch.ovsschema || die "ovsdb-tool failed"
    ovsdb-server --detach --no-chdir --pidfile --log-file -vconsole:off \
        --remote=punix:"$D"/db.sock || die "ovsdb-server failed"
    $VSCTL --timeout=60 --no-wait init "${cfg[@]+"${cfg[@]}"}" || die "ovs-vsctl init failed"
    ovs-vswitchd --enable-dummy --disable-system --disable-system-route \
        --detach --no-chdir --pidfile --log-file -vconsole:off || die "ovs-vswitchd failed"
    local br=(-- add-br br0 -- set bridge br0 datapath-type=dummy fail-mode=secure
        other-config:datapath-id=fedcba9876543210 other-config:hwaddr=aa:55:aa:55:00:00
        'protocols=[OpenFlow10,OpenFlow11,OpenFlow12,OpenFlow13,OpenFlow14,OpenFlow15]')
    local p name num
    for p in "${ports[@]+"${ports[@]}"}"; do
        name=${p%%:*}; num=${p#*:}
        br+=(-- add-port br0 "$name" -- set Interface "$name" type=dummy "ofport_request=$num")
    done
    $VSCTL --timeout=60 "${br[@]}" || die "bridge setup failed"
    local pid
    pid=$(cat "$D/ovs-vswitchd.pid")
    ln -sf "$D/ovs-vswitchd.$pid.ctl" "$sock"
    [ -z "$pidfile" ] || echo "$pid" > "$pidfile"
}

cmd=${1:-}; [ $# -gt 0 ] && shift
case "$cmd" in
    start) start "$@" ;;
    appctl) strip_target "$@"; exec $APPCTL --timeout=60 "${args[@]}" ;;
    ofctl)
        strip_target "$@"
        exec $OFCTL --timeout=60 "${args[@]}" ;;
    set-config)
        strip_target "$@"
        kv=()
        for a in "${args[@]}"; do kv+=("other_config:$a"); done
        exec $VSCTL --timeout=60 set Open_vSwitch . "${kv[@]}" ;;
    set-port)
        strip_target "$@"
        exec $VSCTL --timeout=60 set port "${args[@]}" ;;
    *) die "unknown command '$cmd'" ;;
esac
