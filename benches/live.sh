#!/usr/bin/env bash
# Does `shadowai scan` keep up with a link? Replays a capture with tcpreplay into one end of a
# veth pair in a network namespace while `shadowai scan` captures (libpcap) on the other end,
# at a gigabit per second and then as fast as tcpreplay can send, and prints what the kernel
# delivered, what libpcap dropped, and the CPU time the scan took per packet. tcpdump, writing
# nothing, is timed the same way as the floor of a libpcap reader.
#
# Input: ../shared/corpus/bench/mixed-realistic-merged.pcap (55,640 packets, 440 bytes on
# average) sent LOOPS times (default 20: the 1.1 M packets of compare.sh). Needs root, `ip`
# (iproute2), tcpreplay and tcpdump (apt: tcpreplay tcpdump), GNU time (/usr/bin/time).
#
# The frames never leave the namespace: its links have no address and no route, so the kernel
# there only hands them to the capture and drops them. Both ends of the veth live on this
# machine: tcpreplay and the kernel's delivery of each frame run on one core, the scan on the
# other. The kernel's own backlog (net.core.netdev_max_backlog) is raised for the run and put
# back after it, so frames are lost only where a slow reader loses them (libpcap's ring), and
# counted there. A reader that loses frames never reaches its packet count: it is stopped after
# LOOPS + 30 seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
loops=${LOOPS:-20}
src=${SRC:-../shared/corpus/bench/mixed-realistic-merged.pcap}
[ -f "$src" ] || { echo "live.sh: $src not found" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "live.sh: needs root (network namespace, raw capture)" >&2; exit 2; }
for tool in ip tcpreplay tcpdump capinfos /usr/bin/time; do
  command -v "$tool" > /dev/null || { echo "live.sh: $tool not found (apt-get install iproute2 tcpreplay tcpdump tshark time)" >&2; exit 2; }
done
cargo build --release --quiet
bin=$PWD/target/release/shadowai

ns=shadowai-live-bench-$$
work=$(mktemp -d)
backlog=$(sysctl -n net.core.netdev_max_backlog)
cleanup() {
  ip netns delete "$ns" 2> /dev/null || true
  sysctl -q -w net.core.netdev_max_backlog="$backlog"
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$ns"
for key in all default; do ip netns exec "$ns" sysctl -q -w "net.ipv6.conf.$key.disable_ipv6=1"; done
ip -n "$ns" link add sa0 type veth peer name sa1
# The largest frames of the input are over 9,000 bytes (offloaded segments).
for link in sa0 sa1; do ip -n "$ns" link set "$link" mtu 65535 up; done
sysctl -q -w net.core.netdev_max_backlog=300000

per_loop=$(capinfos -c -M "$src" | awk -F: '/Number of packets/ {gsub(/ /,"",$2); print $2}')
packets=$((per_loop * loops))
echo "input: $src x $loops ($packets packets); machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p')"
printf '%-28s %-10s %11s %9s %10s %10s %10s %9s %9s %9s\n' reader rate "sent pps" "Mbit/s" received "pcap drop" "lost" "CPU s" "ns/pkt" "peak RSS"

# The kernel's drops before any reader sees a frame (backlog full), summed over the CPUs.
softnet_drops() {
  local s=0 _processed dropped _rest
  while read -r _processed dropped _rest; do s=$((s + 16#$dropped)); done < /proc/net/softnet_stat
  echo "$s"
}

# Waits for a line starting with $2 in file $1 (a reader's banner), at most 10 s.
wait_for() {
  for _ in $(seq 100); do grep -q "$2" "$1" 2> /dev/null && return 0; sleep 0.1; done
  echo "live.sh: no '$2' in $1:" >&2; cat "$1" >&2; return 1
}

# reader name, tcpreplay rate option, then the reader's command (run inside the namespace
# under GNU time; it must stop by itself once it has $packets packets or after its duration).
run() {
  local name=$1 rate=$2; shift 2
  local log=$work/reader.log times=$work/time
  : > "$log"
  rm -f "$work/report.json"
  local drops_before
  drops_before=$(softnet_drops)
  ip netns exec "$ns" /usr/bin/time -o "$times" -f '%U %S %M' "$@" > "$work/out" 2> "$log" &
  local reader=$!
  case $name in
    shadowai*) wait_for "$log" "capturing on" ;;
    tcpdump*) wait_for "$log" "listening on" ;;
  esac
  local replay
  # shellcheck disable=SC2086
  replay=$(ip netns exec "$ns" tcpreplay -i sa1 $rate --loop="$loops" -q "$src" 2>&1)
  wait "$reader" || true
  local sent_pps mbps
  sent_pps=$(sed -n 's/.*Mbps, \([0-9.]*\) pps.*/\1/p' <<< "$replay")
  mbps=$(sed -n 's/.*Bps, \([0-9.]*\) Mbps.*/\1/p' <<< "$replay")
  local received dropped
  case $name in
    shadowai*)
      read -r received dropped < <(python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))["capture"]
print(c["packets_received"], c["packets_dropped_by_kernel"] + c["packets_dropped_by_interface"])' "$work/report.json")
      ;;
    tcpdump*)
      received=$(sed -n 's/^\([0-9]*\) packets received by filter.*/\1/p' "$log")
      dropped=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$log")
      ;;
  esac
  local lost=$(( $(softnet_drops) - drops_before ))
  local user sys rss
  read -r user sys rss < "$times"
  awk -v n="$name" -v r="${rate:---topspeed}" -v p="$sent_pps" -v m="$mbps" -v rc="$received" \
    -v d="$dropped" -v l="$lost" -v u="$user" -v s="$sys" -v k="$packets" -v m2="$rss" 'BEGIN{
    printf "%-28s %-10s %11.0f %9.0f %10d %10d %10d %9.2f %9.0f %5.0f MiB\n", n, r, p, m, rc, d, l, u + s, (u + s) * 1e9 / k, m2 / 1024 }'
}

cap=$((loops + 30))s
for rate in "--mbps=1000" "--topspeed"; do
  run "shadowai scan" "$rate" "$bin" scan -i sa0 --user root --packets "$packets" --duration "$cap" \
    --format json -o "$work/report.json"
  # -Z root: tcpdump run as root otherwise becomes the user `tcpdump` and hands the file it
  # writes to that user, /dev/null included.
  run "tcpdump -w /dev/null" "$rate" timeout -s INT "$cap" \
    tcpdump -i sa0 -n -Z root -B 32768 -c "$packets" -w /dev/null
done
echo "received: frames the reader got; pcap drop: frames libpcap's ring had no room for;"
echo "lost: frames the kernel dropped before any reader (backlog); CPU s: the reader's user + system time."
