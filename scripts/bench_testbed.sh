#!/usr/bin/env bash
# Benchmark (not in CI): the same D-PSGD run (MNIST logistic regression, 4-regular graph, full
# sharing) on loopback and on the 4-host namespace test bed over ssh, at 16 and 96 peers, then 96
# peers with each host's link shaped like a WAN. Prints one table; docs/performance.md records it.
#
# Every peerd runs under GNU time (peak RSS, CPU seconds, exactly at its exit); round times and
# bytes come from the nodes' own <uid>_results.json.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SELF=bench_testbed.sh
usage() {
  cat <<USAGE
Usage: scripts/bench_testbed.sh [options]      (root: it builds a test bed)

  --rounds N        rounds per run (default 50; rounds are timed without evaluation)
  --wan-rounds N    rounds of the WAN run (default 30)
  --wan SPEC        link emulation per host for the WAN run (default delay=20ms,rate=100mbit;
                    up.sh --netem: tc netem, or tbf + delay.py where the kernel has no netem)
  --only LIST       comma-separated subset of: lo16,tb16,lo96,tb96,wan96 (default: all)
  --out DIR         where runs go (default: /tmp/peerd-bench-testbed)
  -h, --help        this help
USAGE
}
die() { echo "$SELF: $*" >&2; exit 2; }
ROUNDS=50 WAN_ROUNDS=30 WAN="delay=20ms,rate=100mbit" OUT=/tmp/peerd-bench-testbed ONLY="lo16,tb16,lo96,tb96,wan96"
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --rounds | --wan-rounds | --wan | --out | --only) [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value" ;;&
    --rounds) [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "--rounds must be a positive whole number, got '$2'"; ROUNDS=$2; shift 2 ;;
    --wan-rounds) [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "--wan-rounds must be a positive whole number, got '$2'"; WAN_ROUNDS=$2; shift 2 ;;
    --wan) WAN=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
[ "$(id -u)" -eq 0 ] || die "needs root (it builds a network-namespace test bed)"
[ -x /usr/bin/time ] || die "GNU time is missing: apt-get install time"
command -v python3 >/dev/null || die "python3 is needed to summarise the results files"
cd "$ROOT"
swift build -c release --product peerd >/dev/null && swift build -c release --product peerctl >/dev/null \
  || die "release build failed"
"$ROOT/.build/release/peerctl" data --quiet mnist || die "MNIST not found; run scripts/download_datasets.sh"

# Only the runs asked for are redone; others already in --out stay and are summarised too.
mkdir -p "$OUT"
rm -rf "${OUT:?}/bin"
mkdir -p "$OUT/bin"
for label in ${ONLY//,/ }; do rm -rf "${OUT:?}/$label" "$OUT/$label.out"; done
BED=pdbench
cleanup() { "$ROOT/scripts/testbed/down.sh" --name "$BED" >/dev/null 2>&1 || true; }
trap cleanup EXIT

# The config: base port away from other runs; no evaluation, so rounds time communication and
# training only.
sed -e 's/^base_port = .*/base_port = 22000/' -e 's/^test_after = .*/test_after = 0/' \
  -e 's/^train_evaluate_after = .*/train_evaluate_after = 0/' configs/dpsgd_mnist_logreg.ini >"$OUT/bench.ini"

# peerd under GNU time: <log-dir>/<uid>.time gets "maxrss_kib user_s sys_s wall_s".
cat >"$OUT/bin/peerd" <<WRAP
#!/bin/sh
dir=. mid=0 rank=0 ppm=1 prev=""
for a in "\$@"; do
  case "\$prev" in --log-dir) dir=\$a ;; --machine-id) mid=\$a ;; --rank) rank=\$a ;; --procs-per-machine) ppm=\$a ;; esac
  prev=\$a
done
exec /usr/bin/time -f "%M %U %S %e" -o "\$dir/\$((mid * ppm + rank)).time" "$ROOT/.build/release/peerd" "\$@"
WRAP
chmod +x "$OUT/bin/peerd"
ln -s "$ROOT/.build/release/peerctl" "$OUT/bin/peerctl"

IP="" SSHCFG="" WAN_USED=""
bed_up() { # netem spec or ""
  cleanup
  "$ROOT/scripts/testbed/up.sh" 4 --name "$BED" ${1:+--netem "$1"} >"$OUT/up.log" || die "test bed failed: $(tail -n 1 "$OUT/up.log")"
  IP=$(tail -n 1 "$OUT/up.log")
  SSHCFG="$(dirname "$IP")/ssh_config"
}

run() { # label rounds launcher-args…
  local label=$1 rounds=$2
  shift 2
  echo "$SELF: $label …" >&2
  "$ROOT/scripts/launch_cluster.sh" --config "$OUT/bench.ini" --peerd "$OUT/bin/peerd" --iterations "$rounds" \
    --log-dir "$OUT/$label" "$@" >"$OUT/$label.out" 2>&1 || die "run $label failed: see $OUT/$label.out"
}
want() { [[ ",$ONLY," == *",$1,"* ]]; }

want lo16 && run lo16 "$ROUNDS" --nodes 16
want lo96 && run lo96 "$ROUNDS" --nodes 96
if want tb16 || want tb96; then
  bed_up ""
  want tb16 && run tb16 "$ROUNDS" --ip "$IP" --ssh-config "$SSHCFG" --procs-per-machine 4 --nodes 16
  want tb96 && run tb96 "$ROUNDS" --ip "$IP" --ssh-config "$SSHCFG" --procs-per-machine 24 --nodes 96
fi
if want wan96; then
  bed_up "$WAN"
  WAN_USED="$WAN, $(sed -n 's/^up.sh: .*link emulation [^(]*(\(.*\))$/\1/p' "$OUT/up.log")"
  run wan96 "$WAN_ROUNDS" --ip "$IP" --ssh-config "$SSHCFG" --procs-per-machine 24 --nodes 96
  # Packets the shaped links dropped (queue past the qdisc's limit), summed over the hosts.
  drops=0
  for i in 0 1 2 3; do
    d=$(ip netns exec "$BED-h$i" tc -s qdisc show dev eth0 | sed -n 's/.*(dropped \([0-9]*\),.*/\1/p' | head -n 1)
    drops=$((drops + ${d:-0}))
  done
  WAN_USED+="; the links dropped $drops packets in the run"
fi
cleanup

echo "load average before the summary: $(cut -d' ' -f1-3 /proc/loadavg)"
[ -n "$WAN_USED" ] || WAN_USED=$(cat "$OUT/wan-used" 2>/dev/null || true)
echo "$WAN_USED" >"$OUT/wan-used"
python3 - "$OUT" "lo16,tb16,lo96,tb96,wan96" "$WAN_USED" <<'PY'
import glob, json, os, re, statistics, sys
out, only, wan = sys.argv[1], sys.argv[2].split(","), sys.argv[3]
names = {"lo16": "16 on loopback", "tb16": "16 on 4 hosts (ssh)", "lo96": "96 on loopback",
         "tb96": "96 on 4 hosts (ssh)", "wan96": "96 on 4 hosts, WAN"}
print(f"{'run':24} {'round s':>8} {'p90 s':>7} {'wall s':>7} {'RSS max':>8} {'RSS mean':>8} "
      f"{'RSS total':>9} {'KB/round/node':>13} {'CPU cores':>9} {'CPU ms/round/node':>17} {'downs':>5}")
for label in only:
    d = os.path.join(out, label)
    if not os.path.isdir(d):
        continue
    medians, p90s, sent, rounds_seen = [], [], [], 0
    for f in glob.glob(os.path.join(d, "machine*", "*_results.json")):
        r = json.load(open(f))
        times = [v for k, v in sorted(r["round_time"].items(), key=lambda kv: int(kv[0])) if int(k) >= 2]
        medians.append(statistics.median(times))
        p90s.append(sorted(times)[int(0.9 * (len(times) - 1))])
        last = max(r["total_bytes"], key=int)
        rounds_seen = int(last)
        sent.append(r["total_bytes"][last] / int(last))
    rss, cpu = [], 0.0
    for f in glob.glob(os.path.join(d, "machine*", "*.time")):
        fields = open(f).read().split()[-4:]
        rss.append(int(fields[0]) / 1024)
        cpu += float(fields[1]) + float(fields[2])
    wall = float(re.search(r"finished in ([0-9.]+) s", open(d + ".out").read()).group(1))
    downs = sum(open(f).read().count("marked down") for f in glob.glob(os.path.join(d, "machine*", "*.log")))
    n = len(medians)
    print(f"{names[label]:24} {statistics.median(medians):8.4f} {statistics.median(p90s):7.4f} {wall:7.1f} "
          f"{max(rss):7.1f}M {statistics.mean(rss):7.1f}M {sum(rss):8.0f}M {statistics.mean(sent) / 1000:13.1f} "
          f"{cpu / wall:9.2f} {1000 * cpu / (n * rounds_seen):17.2f} {downs:5d}")
    if len(rss) != n:
        print(f"  ({n} results files but {len(rss)} time files)")
print("round s: median over nodes of each node's median round time (rounds 2…N); p90 s: the same for its 90th")
print("percentile. wall s: launch to last exit. RSS: peak resident set per process (GNU time), the total is the")
print("sum of the peaks. KB/round/node: bytes sent per round by a node (data + metadata). CPU cores: all user +")
print("system CPU seconds of the peerd processes ÷ wall time. downs: neighbours marked down (a model not")
print("received within peer_timeout); any run with downs > 0 has a peer_timeout stall in its wall time.")
if wan:
    print(f"WAN link per host (egress): {wan}")
# The per-round split, from the nodes' own timers: the runtime writes train_time,
# communicate_time, average_time and evaluate_time per round into <uid>_results.json.
phases = ["train_time", "communicate_time", "average_time", "evaluate_time"]
rows = []
for label in only:
    files = glob.glob(os.path.join(out, label, "machine*", "*_results.json"))
    if not files:
        continue
    per_phase = {p: [] for p in phases}
    for f in files:
        r = json.load(open(f))
        for p in phases:
            values = [v for k, v in r.get(p, {}).items() if int(k) >= 2]
            if values:
                per_phase[p].append(statistics.median(values))
    if all(per_phase[p] for p in phases):
        rows.append((label, [1000 * statistics.median(per_phase[p]) for p in phases]))
if rows:
    print(f"\nper-round split, ms (median over nodes of each node's median, rounds 2…N)")
    print(f"{'run':24} {'train':>8} {'communicate':>12} {'average':>8} {'evaluate':>9}")
    for label, ms in rows:
        print(f"{names[label]:24} {ms[0]:8.2f} {ms[1]:12.2f} {ms[2]:8.2f} {ms[3]:9.2f}")
else:
    print("per-round split train/communicate/average/evaluate: not recorded by this peerd build "
          "(no train_time … evaluate_time in <uid>_results.json)")
PY
