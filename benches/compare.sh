#!/usr/bin/env bash
# Times shadowai against the memory-read floor (dd), nDPI's ndpiReader and tshark's field
# extraction on one input, in one run, on this machine; prints packets/s, MB/s, peak RSS and
# ratios. Input: ../shared/corpus/bench/mixed-realistic-merged.pcap appended N times (default
# 20, about 1.1 M packets) with `mergecap -a`, which writes pcapng (527 MB: the performance
# issue's input); FORMAT=pcap writes the same packets as pcap (508 MB) instead. Needs: mergecap
# + tshark (apt: tshark), ndpiReader (apt: libndpi-bin), GNU time (/usr/bin/time), hyperfine
# (apt: hyperfine) for wall times if present. Missing tools are skipped, loudly. The input is
# read once from disk before timing (see below; CACHE=keep to skip).
set -euo pipefail
cd "$(dirname "$0")/.."
copies=${COPIES:-20}
runs=${RUNS:-3}
format=${FORMAT:-pcapng}
src=../shared/corpus/bench/mixed-realistic-merged.pcap
input=${INPUT:-${TMPDIR:-/tmp}/shadowai-bench-x$copies.$format}
[ -f "$src" ] || { echo "compare.sh: $src not found" >&2; exit 2; }
# Every tool's output goes to /dev/null, and dd's floor is a copy into it. If it has become a
# regular file (a root process renamed a file onto it: shadowai did, with `-o /dev/null`,
# until its reports were written through there), dd measures writing 527 MB to tmpfs
# instead: 0.4 s, not 0.03 s.
[ -c /dev/null ] || { echo "compare.sh: /dev/null is not a character device; as root: rm /dev/null && mknod -m 666 /dev/null c 1 3" >&2; exit 2; }
if [ ! -f "$input" ]; then
  args=(); for _ in $(seq "$copies"); do args+=("$src"); done
  mergecap -a -F "$format" -w "$input" "${args[@]}"
fi
# How the kernel caches the input changes every tool's cost of reading it. A file just written
# in small writes (as mergecap writes) is cached in 4 KiB pages; a file read back from disk is
# cached in large folios, which the kernel copies out at a fraction of the cost (here: `dd` of
# this input 0.078 s against 0.030 s). So a run's figures would depend on whether this script
# had just built the input. Every run starts from the second state, the one of any capture
# the system has read before: written back, dropped from the cache, read once.
# CACHE=keep leaves the cache as it is.
cache=${CACHE:-reread}
if [ "$cache" = reread ]; then
  sync "$input" && dd if="$input" iflag=nocache count=0 status=none && cat "$input" > /dev/null
fi
cargo build --release --quiet
cargo build --release --quiet --example core-latency
bin=target/release/shadowai
# How far apart the cores are (examples/core-latency.rs): on a VM whose vCPUs the hypervisor
# sometimes puts on different dies, a two-thread run costs about twice as much then.
latency() { target/release/examples/core-latency | sed 's/.*: //'; }
latency_before=$(latency)
packets=$(capinfos -c -M "$input" | awk -F: '/Number of packets/ {gsub(/ /,"",$2); print $2}')
bytes=$(stat -c %s "$input")
echo "input: $input ($packets packets, $bytes bytes); machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'); page cache: $cache; timing: $(command -v hyperfine > /dev/null && echo "hyperfine mean of $runs" || echo "best of $runs (GNU time)")"
printf '%-32s %9s %12s %9s %10s  %-13s %s\n' tool "wall s" "packets/s" "MB/s" "peak RSS" "runs s" "cores ns"
declare -A best peak
timing=$(mktemp)
trap 'rm -f "$timing" "$timing.json"' EXIT
# Wall time: hyperfine's mean over $runs runs after one warm-up when it is installed (apt:
# hyperfine), else the best of $runs runs of GNU time. Peak RSS: GNU time, the largest of its runs.
# Beside each tool: its fastest and slowest run, and the cores' round trip just before and
# after its timed runs (a two-thread run in between is slower when they are far apart).
measure() { # name, command...
  local name=$1; shift
  local t="" rss=0 m spread="" cores_before
  cores_before=$(latency)
  if command -v hyperfine > /dev/null; then
    hyperfine -N -w 1 -r "$runs" --export-json "$timing.json" -- "$(printf '%q ' "$@")" > /dev/null 2>&1
    read -r t spread < <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("%.3f %.3f-%.3f" % (r["mean"], min(r["times"]), max(r["times"])))' "$timing.json")
  fi
  local cores_after
  cores_after=$(latency)
  for _ in $(seq "$runs"); do
    /usr/bin/time -o "$timing" -f "%e %M" "$@" > /dev/null 2>&1
    out=$(tail -1 "$timing")
    m=${out#* }
    if ! command -v hyperfine > /dev/null; then
      local e=${out% *}
      if [ -z "$t" ] || awk "BEGIN{exit !($e < $t)}"; then t=$e; fi
    fi
    [ "$m" -gt "$rss" ] && rss=$m
  done
  best[$name]=$t
  peak[$name]=$rss
  awk -v n="$name" -v t="$t" -v p="$packets" -v b="$bytes" -v r="$rss" -v s="${spread:--}" \
    -v c="${cores_before% ns}/${cores_after% ns}" 'BEGIN{
    if (t == 0) t = 0.001;
    printf "%-32s %9.3f %12.0f %9.1f %7.0f MiB  %-13s %s\n", n, t, p/t, b/t/1e6, r/1024, s, c }'
}
cores=$(nproc)
measure "dd (read floor)" dd if="$input" of=/dev/null bs=1M
measure "shadowai audit, $cores threads" "$bin" audit "$input" --format json --threads "$cores"
measure "shadowai audit, 1 thread" "$bin" audit "$input" --format json --threads 1
if command -v ndpiReader > /dev/null; then
  measure "ndpiReader -q" ndpiReader -i "$input" -q
else
  echo "ndpiReader: not installed (apt-get install libndpi-bin); skipped"
fi
if command -v tshark > /dev/null && [ "${SKIP_TSHARK:-0}" != 1 ]; then
  measure "tshark SNI/DNS/Host fields" tshark -n -r "$input" -T fields \
    -e tls.handshake.extensions_server_name -e dns.qry.name -e http.host \
    -Y 'tls.handshake.type==1 || dns || http.request'
else
  echo "tshark: skipped"
fi
# The performance issue's targets, each with the figure of this run.
target() { # label, faster tool, slower tool, comparison (ge|le), bound
  [ -n "${best[$2]:-}" ] && [ -n "${best[$3]:-}" ] || { echo "$1: not measured"; return 0; }
  awk -v a="${best[$2]}" -v b="${best[$3]}" -v l="$1" -v op="$4" -v bound="$5" 'BEGIN{
    if (a == 0) a = 0.001; r = b / a;
    ok = (op == "ge") ? (r >= bound) : (r <= bound);
    printf "%-46s %7.1fx  (target %s %sx) %s\n", l, r, (op == "ge" ? ">=" : "<="), bound, ok ? "met" : "NOT met" }'
}
all="shadowai audit, $cores threads"
one="shadowai audit, 1 thread"
target "speed-up over ndpiReader, $cores threads" "$all" "ndpiReader -q" ge 4
target "speed-up over ndpiReader, 1 thread" "$one" "ndpiReader -q" ge 2
target "speed-up over tshark, $cores threads" "$all" "tshark SNI/DNS/Host fields" ge 200
target "wall time over dd's, $cores threads" "dd (read floor)" "$all" le 4
for name in "$all" "$one"; do
  [ -n "${peak[$name]:-}" ] && awk -v n="$name" -v r="${peak[$name]}" 'BEGIN{
    printf "%-46s %5.0f MiB (target <= 64 MiB) %s\n", "peak RSS, " n, r / 1024, (r <= 65536 ? "met" : "NOT met") }'
done
echo "cache line round trip between the cores: $latency_before before the runs, $(latency) after"
