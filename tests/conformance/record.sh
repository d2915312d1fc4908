#!/usr/bin/env bash
# record.sh [--check] [--jobs N] [CASE...]
#
# Re-records tests/conformance/cases/*/expected.txt (normalized) and raw.txt
# from the real Open vSwitch 3.1 (Debian's openvswitch-switch), the same way
# the oracle's record-cases.sh does: each case folder holds flows.txt,
# packets.txt and optionally `args` (extra ovs-oracle.sh options,
# shell-quoted, `#` comment lines allowed).
#
#   --check    replay each case on OVS and diff against expected.txt
#              (determinism check); nothing is written.
#   --jobs N   run N cases at once (default 1). Timing-sensitive cases
#              (paced packets, real-time expiry) are meant to be recorded
#              with --jobs 1.
#
# OVS is installed with apt when ovs-vswitchd is missing. The oracle script
# is ../shared/oracle/ovs-oracle.sh when that checkout is present (or
# $ORACLE_DIR), else the copy in tests/conformance/oracle/. CI never runs
# this: it only replays the recorded cases through udpif.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

check=0; jobs=1
while [ $# -gt 0 ]; do
    case "$1" in
        --check) check=1; shift ;;
        --jobs) [ $# -ge 2 ] || { echo "record.sh: --jobs needs a number" >&2; exit 2; }
                jobs=$2; shift 2 ;;
        -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "record.sh: unknown option $1" >&2; exit 2 ;;
        *) break ;;
    esac
done
case "$jobs" in ''|*[!0-9]*|0) echo "record.sh: --jobs needs a positive number" >&2; exit 2 ;; esac

if ! command -v ovs-vswitchd >/dev/null 2>&1 && [ ! -x /usr/sbin/ovs-vswitchd ]; then
    echo "record.sh: installing Open vSwitch with apt" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2 &&
        apt-get install -y -q --no-install-recommends openvswitch-switch openvswitch-common >&2 ||
        { echo "record.sh: could not install openvswitch-switch" >&2; exit 1; }
fi
export PATH=$PATH:/usr/sbin:/sbin

if [ -n "${ORACLE_DIR:-}" ]; then
    oracle=$ORACLE_DIR/ovs-oracle.sh
elif [ -x "$ROOT/../shared/oracle/ovs-oracle.sh" ]; then
    oracle=$ROOT/../shared/oracle/ovs-oracle.sh
else
    oracle=$HERE/oracle/ovs-oracle.sh
fi
[ -x "$oracle" ] || { echo "record.sh: no oracle script at $oracle" >&2; exit 1; }

cd "$HERE/cases" || exit 2
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(*/)

# run_case NAME: record or check one case; prints one status line.
run_case() {
    local c=${1%/} extra=() pk=() out rc
    [ -f "$c/flows.txt" ] || { echo "skip     $c (no flows.txt)"; return 0; }
    if [ -f "$c/args" ]; then
        eval "extra=($(grep -v '^[[:space:]]*#' "$c/args"))" ||
            { echo "FAILED   $c (bad args file)"; return 1; }
    fi
    [ -f "$c/packets.txt" ] && pk=(packets.txt)
    if [ $check = 1 ]; then
        out=$(mktemp /tmp/conformance-check.XXXXXX)
        (cd "$c" && "$oracle" "${extra[@]+"${extra[@]}"}" flows.txt "${pk[@]+"${pk[@]}"}") > "$out" 2>&1
        if diff -u "$c/expected.txt" "$out" > "$out.diff"; then
            echo "SAME     $c"; rc=0
        else
            echo "DIFFERS  $c"; cat "$out.diff"; rc=1
        fi
        rm -f "$out" "$out.diff"
        return $rc
    fi
    (cd "$c" && "$oracle" --raw-out raw.txt "${extra[@]+"${extra[@]}"}" flows.txt \
        "${pk[@]+"${pk[@]}"}" > expected.txt 2> stderr.txt)
    rc=$?
    [ -s "$c/stderr.txt" ] || rm -f "$c/stderr.txt"
    echo "recorded $c (rc=$rc)"
    return $rc
}

status=0
if [ "$jobs" = 1 ]; then
    for c in "${cases[@]}"; do run_case "$c" || status=1; done
else
    export -f run_case
    export check oracle
    printf '%s\n' "${cases[@]}" |
        xargs -P "$jobs" -I{} bash -c 'run_case "$1"' _ {} || status=1
fi
exit $status
