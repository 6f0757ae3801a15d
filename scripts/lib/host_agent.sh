# shellcheck shell=bash
# peerd host agent: starts one machine's peerd processes and reports on them, one line per event,
# on standard output. scripts/launch_cluster.sh sends this text to every host (through ssh, srun,
# or bash for a local host) as `bash -c "$(cat host_agent.sh)" peerd-host-agent ARGS…`, so a host
# needs the peerd binary but not this script.
#
# Arguments: MACHINE PROCS MACHINES ROOT PEERD CONFIG GRAPH IP DIR RUN_ID GRACE SERVER FORWARD [peerd flags…]
# SERVER is the uid of a FedAvg server to start on this machine besides its ranks, or "-".
#
# Lines it prints (the launcher reads them):
#   agent HOSTNAME PID          it is running (its pid is also in DIR/agent.pid)
#   started UID PID             a node started (its pid is also in DIR/UID.pid)
#   event {…}                   with FORWARD=1: a node's newest line of DIR/UID_events.jsonl, when
#                               it changed, passed on unread (the launcher keeps them for
#                               peerctl watch, which cannot read a remote host's files)
#   exit UID CODE start|run     a node exited; "start" when it never finished a round (the last
#                               round its events show, from peerctl watch --print rounds)
#   err UID TEXT                the last line of a failed node's UID.err
#   agent-error TEXT            it could not start the nodes at all
#   stopping REASON             it is stopping its nodes (SIGTERM, then SIGKILL after GRACE s)
#   done                        every node has exited
#
# It stops its nodes on SIGTERM, SIGINT or SIGHUP, and when its standard input reaches end of
# file: the launcher holds that input open for as long as it lives, so a launcher killed with
# SIGKILL, or an ssh connection that dropped, still stops this host's processes. Nodes get
# SIGTERM, never SIGINT alone: a background job of a non-interactive shell ignores SIGINT.
set -u
mid=$1 ppm=$2 machines=$3 root=$4 peerd=$5 cfg=$6 graph=$7 ip=$8 dir=$9 run=${10} grace=${11} server=${12} forward=${13}
shift 13
peerctl="$(dirname "$peerd")/peerctl"
host=$(hostname 2>/dev/null || echo "?")
cd "$root" 2>/dev/null || { echo "agent-error no folder $root on $host (--remote-root)"; exit 1; }
[ -x "$peerd" ] || { echo "agent-error no peerd binary at $peerd on $host; build it there with scripts/setup.sh"; exit 1; }
mkdir -p "$dir" 2>/dev/null || { echo "agent-error cannot create $dir on $host"; exit 1; }
export OPENBLAS_NUM_THREADS=1

stopping="" stop_deadline=0 killed=""
trap 'stopping=${stopping:-SIGTERM}' TERM
trap 'stopping=${stopping:-SIGINT}' INT
trap 'stopping=${stopping:-SIGHUP}' HUP

# The dead-man switch: a reader of the launcher's end of standard input that signals us on EOF.
exec 3<&0 </dev/null
(
  trap - TERM INT HUP
  while IFS= read -r -u 3 _; do :; done
  kill -TERM $$ 2>/dev/null
) &
watcher=$!
exec 3<&-

echo $$ >"$dir/agent.pid"
echo "agent $host $$"
declare -A pids=() last=() rcs=()
for ((r = 0; r < ppm; r++)); do
  uid=$((mid * ppm + r))
  "$peerd" --machine-id "$mid" --rank "$r" --procs-per-machine "$ppm" --machines "$machines" \
    --config "$cfg" --graph "$graph" --ip "$ip" --log-dir "$dir" --run-id "$run" "$@" \
    >"$dir/$uid.out" 2>"$dir/$uid.err" </dev/null &
  pids[$uid]=$!
  echo "${pids[$uid]}" >"$dir/$uid.pid"
  echo "started $uid ${pids[$uid]}"
done
if [ "$server" != - ]; then
  "$peerd" --uid "$server" --procs-per-machine "$ppm" --machines "$machines" \
    --config "$cfg" --graph "$graph" --ip "$ip" --log-dir "$dir" --run-id "$run" "$@" \
    >"$dir/$server.out" 2>"$dir/$server.err" </dev/null &
  pids[$server]=$!
  echo "${pids[$server]}" >"$dir/$server.pid"
  echo "started $server ${pids[$server]}"
fi

# Forwards each node's newest events line when it changed: one tail for all the files. The
# lines are records (NodeEvent, one JSON object each); nothing here reads what they say.
forward_events() {
  [ "$forward" = 1 ] || return 0
  local files=() uid line current=""
  for uid in "$@"; do [ -f "$dir/${uid}_events.jsonl" ] && files+=("$dir/${uid}_events.jsonl"); done
  [ "${#files[@]}" -gt 0 ] || return 0
  while IFS= read -r line; do
    case "$line" in
      "==> "*" <==") current=${line#==> } ;;
      "{"*)
        if [ -n "$current" ] && [ "${last[$current]:-}" != "$line" ]; then
          last[$current]=$line
          echo "event $line"
        fi ;;
    esac
  done < <(tail -v -n 1 "${files[@]}" 2>/dev/null)
}

# The last round each of the given nodes finished, from their events files, into `rounds`: one
# peerctl for all of them (96 nodes ending together cost 96 × 0.3 s, one at a time).
declare -A rounds=()
read_rounds() { # uid…
  rounds=()
  [ -x "$peerctl" ] || return 0
  local args=() u r
  for u in "$@"; do args+=(--uid "$u"); done
  while read -r u r; do rounds[$u]=$r; done < <("$peerctl" watch "$dir" --print rounds "${args[@]}" 2>/dev/null)
}

tick=0
while [ "${#pids[@]}" -gt 0 ]; do
  if [ -n "$stopping" ] && [ "$stop_deadline" -eq 0 ]; then
    echo "stopping $stopping"
    for uid in "${!pids[@]}"; do kill -TERM "${pids[$uid]}" 2>/dev/null; done
    stop_deadline=$((SECONDS + grace))
  fi
  if [ "$stop_deadline" -gt 0 ] && [ -z "$killed" ] && [ "$SECONDS" -ge "$stop_deadline" ]; then
    echo "stopping SIGKILL after ${grace}s"
    for uid in "${!pids[@]}"; do kill -KILL "${pids[$uid]}" 2>/dev/null; done
    killed=1
  fi
  exited=()
  for uid in "${!pids[@]}"; do
    kill -0 "${pids[$uid]}" 2>/dev/null && continue
    wait "${pids[$uid]}"
    rcs[$uid]=$?
    exited+=("$uid")
    unset "pids[$uid]"
  done
  if [ "${#exited[@]}" -gt 0 ]; then
    forward_events "${exited[@]}"
    read_rounds "${exited[@]}"
    for uid in "${exited[@]}"; do
      # Without peerctl a failure counts as during the run, never as a start failure.
      phase=run
      [ ! -x "$peerctl" ] || [ "${rounds[$uid]:-0}" -gt 0 ] 2>/dev/null || phase=start
      echo "exit $uid ${rcs[$uid]} $phase"
      if [ "${rcs[$uid]}" -ne 0 ]; then
        echo "err $uid $(grep -v '^[[:space:]]*$' "$dir/$uid.err" 2>/dev/null | tail -n 1 | cut -c1-300)"
      fi
    done
  fi
  [ "${#pids[@]}" -gt 0 ] || break
  tick=$((tick + 1))
  [ $((tick % 2)) -ne 0 ] || forward_events "${!pids[@]}"
  sleep 0.5
done
kill "$watcher" 2>/dev/null
echo "done"
