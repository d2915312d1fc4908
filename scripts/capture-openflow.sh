#!/usr/bin/env bash
# capture-openflow.sh -- records what Debian's ovs-ofctl sends and what the
# real ovs-vswitchd answers, for fixtures/openflow/: for each step, the
# conversation (NAME.txt, from scripts/record-openflow.ts relaying to the
# oracle's br0.mgmt; ovs-ofctl may open several connections for one
# command, each recorded after a `# connection` line) and ovs-ofctl's
# output (NAME.out: stdout, then stderr after a `## stderr` line, and the
# exit status; durations normalised to duration=Xs).
#
# Usage: capture-openflow.sh RECORDER_SOCKET RECORDER_OUT_DIR FIXTURE_DIR
# The steps are fixtures/openflow/steps.txt (the interop test plays the same).
# A freshly started oracle (ovs-vswitchd --enable-dummy, br0 with p1..p3 as
# /work/shared/oracle/README.md brings it up) and the recorder must run.
set -euo pipefail
sock=$1 rec=$2 out=$3
mkdir -p "$out"
here=$(cd "$(dirname "$0")/.." && pwd)
steps=$here/fixtures/openflow/steps.txt
flows=$here/fixtures/openflow/add_flows.flows

step() {
    local name=$1; shift
    local before; before=$(ls "$rec" | wc -l)
    local out_file="$out/$name.out" err_file; err_file=$(mktemp)
    set +e
    ovs-ofctl "$@" >"$out_file" 2>"$err_file"
    local rc=$?
    set -e
    # The recorder writes a connection's file when it closes.
    sleep 0.3
    if [ -s "$err_file" ]; then { echo "## stderr"; cat "$err_file"; } >>"$out_file"; fi
    echo "## exit $rc" >>"$out_file"
    sed -i -E 's/duration=[0-9.]+s/duration=Xs/g' "$out_file"
    rm -f "$err_file"
    : >"$out/$name.txt"
    for f in $(ls "$rec" | sort | tail -n +$((before + 1))); do
        { echo "# connection"; cat "$rec/$f"; } >>"$out/$name.txt"
        rm "$rec/$f"
    done
}

while read -r name args; do
    case $name in ''|'#'*) continue ;; esac
    # shellcheck disable=SC2086
    set -- $args
    argv=()
    for a in "$@"; do
        case $a in
            BRIDGE) argv+=("unix:$sock") ;;
            FLOWS) argv+=("$flows") ;;
            *) argv+=("$a") ;;
        esac
    done
    step "$name" "${argv[@]}"
done <"$steps"
