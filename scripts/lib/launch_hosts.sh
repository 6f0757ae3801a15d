# shellcheck shell=bash
# The launcher's host side (sourced by scripts/launch_cluster.sh, not run on its own): the checks
# on every host before anything starts, one agent per machine, the monitor that reads what the
# agents report, stopping, gathering results and the closing summary.
#
# The launcher owns what it starts: each machine's agent writes DIR/agent.pid and DIR/<uid>.pid
# and stops are sent to exactly those pids, after checking that each one's command line carries
# this run's --run-id. Nothing is found by a name match.

AGENT=$(cat "$ROOT/scripts/lib/host_agent.sh")
LOCAL_NAMES=" 127.0.0.1 localhost ::1 $(hostname 2>/dev/null) $(hostname -f 2>/dev/null) $(hostname -I 2>/dev/null) "

# One argument quoted for a POSIX shell on the other side of ssh: 'it'\''s'.
shq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
is_local() { case "$1" in 127.*) return 0 ;; esac; [[ "$LOCAL_NAMES" == *" $1 "* ]]; }
now() { date +%s; }
# The machine a uid runs on: rank order, and FedAvg's server (uid n) on machine 0.
machine_of() { if [ "$1" = "${SERVER_UID:-}" ]; then echo 0; else echo $(($1 / PPM)); fi; }
# The uids machine $1 runs.
uids_of() {
  local uid
  for ((uid = $1 * PPM; uid < ($1 + 1) * PPM; uid++)); do echo "$uid"; done
  [ "$1" != 0 ] || [ -z "${SERVER_UID:-}" ] || echo "$SERVER_UID"
}

declare -a IS_LOCAL=() DIR_OF=() PEERD_OF=() PEERCTL_OF=() CFG_OF=() GRAPH_OF=() IP_OF=()
REMOTE=""
for i in "${!HOSTS[@]}"; do
  if is_local "${HOSTS[$i]}"; then
    IS_LOCAL[$i]=1 DIR_OF[$i]="$LOGDIR/machine$i" PEERD_OF[$i]=$PEERD PEERCTL_OF[$i]=$PEERCTL
    CFG_OF[$i]=$CONFIG GRAPH_OF[$i]=$GRAPH IP_OF[$i]=$IPFILE
  else
    REMOTE=1
    IS_LOCAL[$i]=0 DIR_OF[$i]="$REMOTE_LOGDIR/machine$i"
    case "$PEERD" in "$ROOT"/*) PEERD_OF[$i]="$REMOTE_ROOT/${PEERD#"$ROOT"/}" ;; *) PEERD_OF[$i]=$PEERD ;; esac
    PEERCTL_OF[$i]="$(dirname "${PEERD_OF[$i]}")/peerctl"
    if [ "$GATHER" = 1 ]; then
      CFG_OF[$i]="$REMOTE_LOGDIR/inputs/$(basename "$CONFIG")"
      GRAPH_OF[$i]="$REMOTE_LOGDIR/inputs/$(basename "$GRAPH")"
      IP_OF[$i]="$REMOTE_LOGDIR/inputs/$(basename "$IPFILE")"
    else
      CFG_OF[$i]=$CONFIG GRAPH_OF[$i]=$GRAPH IP_OF[$i]=$IPFILE
    fi
  fi
done

# Before anything starts: every host reachable, its binaries there, rsync there when gathering,
# and every port its nodes will bind free on its own address. All hosts are asked in parallel.
preflight() {
  local i pids=() first errors=() out rc line
  for i in "${!HOSTS[@]}"; do
    first=$((BASE_PORT + i * PPM))
    # Machine 0 also binds FedAvg's server port, base_port + n, when there is one.
    local sp=""
    [ "$i" != 0 ] || [ -z "${SERVER_UID:-}" ] || sp=$((BASE_PORT + SERVER_UID))
    if [ "${IS_LOCAL[$i]}" = 1 ]; then
      {
        out=$("$PEERCTL" ports --host "${HOSTS[$i]}" --first "$first" --count "$PPM" 2>&1) \
          && { [ -z "$sp" ] || out=$("$PEERCTL" ports --host "${HOSTS[$i]}" --first "$sp" --count 1 2>&1); }
        echo "ports $? $out"
        echo ok
      } >"$CTRL/preflight.$i" 2>&1 &
    else
      local cmd="cd $(shq "$REMOTE_ROOT") 2>/dev/null || { echo \"error: no folder $REMOTE_ROOT on \$(hostname) (--remote-root)\"; exit 0; }
[ -x $(shq "${PEERD_OF[$i]}") ] || { echo \"error: no peerd binary at ${PEERD_OF[$i]} on \$(hostname); build it there with scripts/setup.sh\"; exit 0; }
[ -x $(shq "${PEERCTL_OF[$i]}") ] || { echo \"error: no peerctl binary at ${PEERCTL_OF[$i]} on \$(hostname)\"; exit 0; }
command -v bash >/dev/null || { echo \"error: bash is not installed on \$(hostname)\"; exit 0; }
$([ "$GATHER" = 1 ] && echo "command -v rsync >/dev/null || { echo \"error: rsync is not installed on \$(hostname) (--gather needs it)\"; exit 0; }")
mkdir -p $(shq "${DIR_OF[$i]}") || { echo \"error: cannot create ${DIR_OF[$i]} on \$(hostname)\"; exit 0; }
out=\$($(shq "${PEERCTL_OF[$i]}") ports --host $(shq "${HOSTS[$i]}") --first $first --count $PPM 2>&1)$([ -z "$sp" ] || echo " && out=\$($(shq "${PEERCTL_OF[$i]}") ports --host $(shq "${HOSTS[$i]}") --first $sp --count 1 2>&1)"); echo \"ports \$? \$out\"
echo ok"
      timeout 60 $REMOTE_CMD "${HOSTS[$i]}" "$cmd" </dev/null >"$CTRL/preflight.$i" 2>&1 &
    fi
    pids[$i]=$!
  done
  for i in "${!HOSTS[@]}"; do
    wait "${pids[$i]}"
    rc=$?
    local where="machine $i (${HOSTS[$i]})"
    if ! grep -q '^ok$' "$CTRL/preflight.$i"; then
      line=$(grep -m1 '^error: ' "$CTRL/preflight.$i")
      if [ -n "$line" ]; then errors+=("$where: ${line#error: }")
      else errors+=("cannot reach $where through '$REMOTE_CMD' (status $rc): $(grep -v '^[[:space:]]*$' "$CTRL/preflight.$i" | tail -n 1)")
      fi
      continue
    fi
    line=$(grep -m1 '^ports ' "$CTRL/preflight.$i")
    case "$line" in
      "ports 0 "*) ;;
      "ports 1 "*)
        local port
        port=$(sed -n 's/.*port \([0-9]*\) on .*/\1/p' <<<"$line")
        errors+=("$where: port $port is in use$(sed -n 's/.*is in use\( (.*)\)$/\1/p' <<<"$line"); node $((port - BASE_PORT)) binds it. Stop what holds it (ss -tanp 'sport = :$port') or change base_port in $(basename "$CONFIG")") ;;
      *) errors+=("$where: ${line#ports [0-9]* }") ;;
    esac
  done
  if [ "${#errors[@]}" -gt 0 ]; then
    for line in "${errors[@]}"; do echo "$SELF: $line" >&2; done
    echo "$SELF: nothing was started" >&2
    exit 2
  fi
}

# --gather: each remote host gets its own copy of the config, graph and IP file.
push_inputs() {
  local i f seen=" "
  mkdir -p "$CTRL/inputs"
  for f in "$CONFIG" "$GRAPH" "$IPFILE"; do
    [[ "$seen" != *" $(basename "$f") "* ]] || die "--gather copies the config, graph and IP file into one folder; give them different file names"
    seen+="$(basename "$f") "
    cp "$f" "$CTRL/inputs/"
  done
  for i in "${!HOSTS[@]}"; do
    [ "${IS_LOCAL[$i]}" = 0 ] || continue
    timeout 120 rsync -a -e "$REMOTE_CMD" "$CTRL/inputs/" "${HOSTS[$i]}:$REMOTE_LOGDIR/inputs/" 2>"$CTRL/push.$i" \
      || die "machine $i (${HOSTS[$i]}): could not copy the inputs there with rsync: $(tail -n 1 "$CTRL/push.$i"); nothing was started"
  done
}

declare -a SESSION_PID=() SESSION_DONE=() SESSION_RC=() SFD=() PARTIAL=() AGENT_ERR=()
declare -A N_STATE=() N_RC=() N_PHASE=() N_ERR=() N_ROUND=()
STOPPING="" STOP_DEADLINE=0 FORCED="" SIGNALLED="" SIGNAL_STATUS=0 ABORTED="" WATCH_PID=""

start_agents() {
  local i uid args
  mkfifo "$CTRL/alive"
  exec {ALIVE}<>"$CTRL/alive"
  for i in "${!HOSTS[@]}"; do
    SESSION_DONE[$i]=1
    for uid in $(uids_of "$i"); do N_STATE[$uid]=pending; done
  done
  for i in "${!HOSTS[@]}"; do
    [ -z "$STOPPING" ] || break # a signal arrived while starting: start no more machines
    # A remote machine's agent forwards its nodes' events lines, for peerctl watch here.
    args=("$i" "$PPM" "$M" "$([ "${IS_LOCAL[$i]}" = 1 ] && echo "$ROOT" || echo "$REMOTE_ROOT")" "${PEERD_OF[$i]}"
      "${CFG_OF[$i]}" "${GRAPH_OF[$i]}" "${IP_OF[$i]}" "${DIR_OF[$i]}" "$RUN_ID" "$GRACE"
      "$([ "$i" = 0 ] && [ -n "${SERVER_UID:-}" ] && echo "$SERVER_UID" || echo -)"
      "$([ "${IS_LOCAL[$i]}" = 1 ] && echo 0 || echo 1)" "${EXTRA[@]}")
    : >"$CTRL/machine$i.status"
    [ "${IS_LOCAL[$i]}" = 1 ] || : >"$CTRL/machine$i.events"
    if [ "${IS_LOCAL[$i]}" = 1 ]; then
      mkdir -p "${DIR_OF[$i]}"
      bash -c "$AGENT" peerd-host-agent "${args[@]}" <"$CTRL/alive" >"$CTRL/machine$i.status" 2>"$CTRL/machine$i.stderr" {ALIVE}>&- &
    else
      local cmd="bash -c $(shq "$AGENT") peerd-host-agent" a
      for a in "${args[@]}"; do cmd+=" $(shq "$a")"; done
      $REMOTE_CMD "${HOSTS[$i]}" "$cmd" <"$CTRL/alive" >"$CTRL/machine$i.status" 2>"$CTRL/machine$i.stderr" {ALIVE}>&- &
    fi
    SESSION_PID[$i]=$! SESSION_DONE[$i]=0 PARTIAL[$i]=""
    exec {fd}<"$CTRL/machine$i.status"
    SFD[$i]=$fd
  done
}

# Reads the complete lines an agent has written since the last call.
read_status() { # machine
  local i=$1 line
  while true; do
    line=""
    if IFS= read -r -u "${SFD[$i]}" line; then
      handle "$i" "${PARTIAL[$i]}$line"
      PARTIAL[$i]=""
    else
      PARTIAL[$i]+=$line
      break
    fi
  done
}

handle() { # machine line
  local i=$1 w
  read -r -a w <<<"$2"
  case "${w[0]:-}" in
    started) N_STATE[${w[1]}]=running ;;
    # A node's events line, passed on unread to where peerctl watch looks for this machine's.
    event) printf '%s\n' "${2#event }" >>"$CTRL/machine$i.events" ;;
    exit)
      N_STATE[${w[1]}]=exited N_RC[${w[1]}]=${w[2]} N_PHASE[${w[1]}]=${w[3]} ;;
    err) N_ERR[${w[1]}]=${2#err "${w[1]}" } ;;
    agent-error) AGENT_ERR[$i]=${2#agent-error } ;;
  esac
}

# A node that failed before it finished a round (bad input on that host, a bind failure) or an
# agent that could not start means the run cannot be what was asked: stop it all.
check_start_failures() {
  [ -z "$STOPPING" ] || return 0
  local i uid
  for i in "${!HOSTS[@]}"; do
    if [ -n "${AGENT_ERR[$i]:-}" ]; then ABORTED="machine $i (${HOSTS[$i]}): ${AGENT_ERR[$i]}"; break; fi
  done
  if [ -z "$ABORTED" ]; then
    for uid in "${!N_RC[@]}"; do
      [ "${N_RC[$uid]}" -ne 0 ] || continue
      [ "${N_PHASE[$uid]}" = start ] || [ "${N_RC[$uid]}" -eq 2 ] || continue
      ABORTED="node $uid (machine $(machine_of "$uid"), ${HOSTS[$(machine_of "$uid")]}) exited $(describe_rc "${N_RC[$uid]}") before its first round: ${N_ERR[$uid]:-no message}"
      break
    done
  fi
  if [ -n "$ABORTED" ]; then
    echo "$SELF: $ABORTED; stopping the run" >&2
    stop_all
  fi
}

describe_rc() {
  case "$1" in
    1) echo "1 (runtime fault)" ;;
    2) echo "2 (bad input)" ;;
    3) echo "3 (stopped by a signal)" ;;
    4) echo "4 (trained alone too long)" ;;
    5) echo "5 (gave up the run: what it depends on, FedAvg's server, was gone)" ;;
    *) if [ "$1" -gt 128 ]; then echo "$1 (killed by SIG$(kill -l $(($1 - 128)) 2>/dev/null || echo $(($1 - 128))))"; else echo "$1"; fi ;;
  esac
}

# An agent's session ended: any of its nodes not reported as exited went with the host.
session_ended() { # machine status
  local i=$1 rc=$2 uid why
  SESSION_DONE[$i]=1 SESSION_RC[$i]=$rc
  why="host lost: its session ended with status $rc"
  local last
  last=$(grep -v '^[[:space:]]*$' "$CTRL/machine$i.stderr" 2>/dev/null | tail -n 1)
  [ -z "$last" ] || why+=" ($last)"
  local started=0
  for uid in $(uids_of "$i"); do
    [ "${N_STATE[$uid]}" = pending ] || started=1
    [ "${N_STATE[$uid]}" = exited ] && continue
    N_STATE[$uid]=lost N_ERR[$uid]=$why
  done
  # A host that never started its nodes is a failed start; one lost later is healed around.
  if [ "$started" = 0 ] && [ -z "$STOPPING" ] && [ -z "$ABORTED" ]; then
    ABORTED="machine $i (${HOSTS[$i]}): $why before its nodes started"
    echo "$SELF: $ABORTED; stopping the run" >&2
    stop_all
  fi
}

stop_cmd() { # machine signal
  echo "cd $(shq "${DIR_OF[$1]}") 2>/dev/null || exit 0
for f in agent.pid *.pid; do
  [ -f \"\$f\" ] || continue; p=\$(cat \"\$f\")
  case \"\$p\" in ''|*[!0-9]*) continue ;; esac
  if tr '\\000' ' ' </proc/\$p/cmdline 2>/dev/null | grep -qF -- $(shq "$RUN_ID"); then kill -$2 \"\$p\" 2>/dev/null; fi
done; exit 0"
}

# SIGTERM to every agent (which passes it to its nodes, then SIGKILL after --stop-grace).
stop_all() {
  [ -z "$STOPPING" ] || return 0
  STOPPING=1 STOP_DEADLINE=$(($(now) + GRACE + 15))
  local i
  for i in "${!HOSTS[@]}"; do
    [ "${SESSION_DONE[$i]:-1}" = 0 ] || continue
    if [ "${IS_LOCAL[$i]}" = 1 ]; then kill -TERM "${SESSION_PID[$i]}" 2>/dev/null
    else timeout 20 $REMOTE_CMD "${HOSTS[$i]}" "$(stop_cmd "$i" TERM)" </dev/null >/dev/null 2>&1 {ALIVE}>&- &
    fi
  done
}

# Past the deadline, or on a second signal: SIGKILL to every pid file's process, then drop the
# sessions (a remote agent whose input closes stops too).
force_stop() {
  [ -z "$FORCED" ] || return 0
  FORCED=1
  echo "$SELF: forcing: SIGKILL to every process of $RUN_ID" >&2
  local i
  for i in "${!HOSTS[@]}"; do
    [ "${SESSION_DONE[$i]:-1}" = 0 ] || continue
    if [ "${IS_LOCAL[$i]}" = 1 ]; then sh -c "$(stop_cmd "$i" KILL)"
    else timeout 20 $REMOTE_CMD "${HOSTS[$i]}" "$(stop_cmd "$i" KILL)" </dev/null >/dev/null 2>&1 {ALIVE}>&-
    fi
    kill -TERM "${SESSION_PID[$i]}" 2>/dev/null
  done
}

on_signal() { # name status
  if [ -n "$SIGNALLED" ]; then force_stop; return; fi
  SIGNALLED=$1 SIGNAL_STATUS=$2
  echo >&2
  echo "$SELF: SIG$1: stopping every process of $RUN_ID on every host…" >&2
  stop_all
}

# The progress display: peerctl watch on the run directory (the nodes' events files; a remote
# machine's as its agent forwards them), one line every 2 s while something changes.
start_watch() {
  "$PEERCTL" watch "$LOGDIR" --plain --interval 2 --prefix "$SELF: " {ALIVE}>&- &
  WATCH_PID=$!
}

# It ends by itself, with a last line, at its next look once every node has ended; a node lost
# without an end is not waited for longer than that.
stop_watch() {
  [ -n "$WATCH_PID" ] || return 0
  local i
  for ((i = 0; i < 30; i++)); do kill -0 "$WATCH_PID" 2>/dev/null || break; sleep 0.1; done
  kill "$WATCH_PID" 2>/dev/null
  wait "$WATCH_PID" 2>/dev/null
  WATCH_PID=""
}

# Each node's last round, from its events (a lost machine's from what was forwarded).
read_rounds() {
  local uid r
  while read -r uid r; do N_ROUND[$uid]=$r; done < <("$PEERCTL" watch "$LOGDIR" --print rounds 2>/dev/null)
}

# The mean test curve across nodes (accuracy, or RMSE for MovieLens), when matplotlib is there.
draw_plot() {
  local out
  if out=$("$PEERCTL" plot "$LOGDIR" -o "$LOGDIR/test_curve.png" 2>&1); then
    echo "$SELF: plot of the mean test curve across nodes: $LOGDIR/test_curve.png (its data: $LOGDIR/test_curve.csv)"
  else
    echo "$SELF: no plot drawn: ${out##*peerctl plot: }"
  fi
}

monitor() {
  local i rc busy
  while true; do
    busy=0
    for i in "${!HOSTS[@]}"; do
      [ "${SESSION_DONE[$i]}" = 0 ] || continue
      read_status "$i"
      if kill -0 "${SESSION_PID[$i]}" 2>/dev/null; then busy=1; continue; fi
      wait "${SESSION_PID[$i]}"
      rc=$?
      read_status "$i"
      session_ended "$i" "$rc"
    done
    check_start_failures
    [ "$busy" = 1 ] || break
    if [ -n "$STOPPING" ] && [ "$(now)" -ge "$STOP_DEADLINE" ]; then force_stop; fi
    sleep 0.5
  done
  exec {ALIVE}>&-
}

gather_results() {
  local i n
  for i in "${!HOSTS[@]}"; do
    [ "${IS_LOCAL[$i]}" = 0 ] || continue
    mkdir -p "$LOGDIR/machine$i"
    if timeout 300 rsync -a -e "$REMOTE_CMD" "${HOSTS[$i]}:${DIR_OF[$i]}/" "$LOGDIR/machine$i/" 2>"$CTRL/gather.$i" </dev/null; then
      n=$(find "$LOGDIR/machine$i" -name '*_results.json' | wc -l)
      echo "$SELF: gathered machine $i from ${HOSTS[$i]}:${DIR_OF[$i]} ($n results files)"
    else
      echo "$SELF: could not gather machine $i from ${HOSTS[$i]}: $(grep -v '^[[:space:]]*$' "$CTRL/gather.$i" | head -n 1)" >&2
    fi
  done
}

# Names every node that did not finish, writes nodes.tsv, and returns 1 if any was lost.
summarize() {
  local uid m status line where done_n=0 bad=0 log
  read_rounds
  printf 'uid\tmachine\thost\tstatus\texit\trounds\n' >"$LOGDIR/nodes.tsv"
  for uid in $(seq 0 $((TOTAL - 1))) ${SERVER_UID:-}; do
    m=$(machine_of "$uid") where="node $uid (machine $m, ${HOSTS[$m]})"
    [ "$uid" != "${SERVER_UID:-}" ] || where="the FedAvg server, uid $uid (machine 0, ${HOSTS[0]})"
    log="$LOGDIR/machine$m/$uid"
    local rc=${N_RC[$uid]:-} rounds=${N_ROUND[$uid]:-0}
    if [ "${N_STATE[$uid]}" = pending ] && [ -n "$STOPPING" ]; then status=stopped line=""
    elif [ "${N_STATE[$uid]}" = lost ]; then status=lost line="LOST: $where, last reported round $rounds/$ITERATIONS: ${N_ERR[$uid]}"
    elif [ -z "$rc" ]; then status=lost line="LOST: $where, last reported round $rounds/$ITERATIONS: its agent never reported an exit"
    elif [ "$rc" = 0 ]; then status=finished line=""
    elif [ "$rc" = 4 ]; then status=alone line="ALONE: $where trained alone for more than the configured share of the run (exit 4); see $log.log"
    elif [ "${N_PHASE[$uid]:-}" = start ]; then status=failed-start line="FAILED at start: $where exited $(describe_rc "$rc"): ${N_ERR[$uid]:-no message}; see $log.err"
    elif [ -n "$STOPPING" ] && { [ "$rc" = 3 ] || [ "$rc" = 143 ] || [ "$rc" = 137 ]; }; then status=stopped line=""
    else status=lost line="LOST: $where, last reported round $rounds/$ITERATIONS: exited $(describe_rc "$rc"): ${N_ERR[$uid]:-no message}; see $log.err"
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$uid" "$m" "${HOSTS[$m]}" "$status" "${rc:--}" "$rounds" >>"$LOGDIR/nodes.tsv"
    [ "$status" = finished ] && done_n=$((done_n + 1))
    [ "$status" = finished ] || [ "$status" = stopped ] || bad=1
    [ -z "$line" ] || echo "$SELF: $line" >&2
  done
  if [ -n "${SERVER_UID:-}" ]; then
    echo "$SELF: $done_n of $((TOTAL + 1)) processes ($TOTAL clients and the server) finished the $ITERATIONS rounds (outcomes in $LOGDIR/nodes.tsv)"
  else
    echo "$SELF: $done_n of $TOTAL nodes finished all $ITERATIONS rounds (outcomes in $LOGDIR/nodes.tsv)"
  fi
  return "$bad"
}
