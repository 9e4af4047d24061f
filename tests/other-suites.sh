#!/usr/bin/env bash
# Checks shadowai on public test captures that its own tests do not use: the test suites of
# tcpdump 4.99.3 (667 captures), Wireshark 4.0.17 (119) and nDPI 4.2 (257; ../shared/corpus
# holds 38 captures of a later nDPI), from Debian 12's source tarballs, downloaded into
# $OTHER_SUITES_DIR (default /tmp/shadowai-other-suites; never into the repository) and checked
# against their SHA-256.
#
#   1. Every capture through `audit` (JSON, and CSV on one thread), `inspect` and `devices`, with
#      a debug build (integer overflow panics there): no panic, no crash, no exit code >= 100.
#   2. Name conformance against tshark, as tests/conformance.rs does for ../shared/corpus:
#      ground truth made by ../shared/corpus/make_truth.sh, every difference listed with its
#      reason in tests/conformance/other-suites.tsv.
#   3. No AI finding on any of them (tests/conformance.rs, against the empty list
#      tests/conformance/other-suites-ai-findings.tsv): none of them holds AI traffic.
#   4. The report byte for byte the same in every thread mode (tests/threads.rs), also with a
#      damaged copy after every packet.
#
# Needs: curl, tshark (apt: tshark), and ../shared/corpus/make_truth.sh. Takes about 8 minutes
# on 2 cores (2 once the truth is made). Not part of .ci/run: it downloads 175 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
work=${OTHER_SUITES_DIR:-${TMPDIR:-/tmp}/shadowai-other-suites}
pool=http://deb.debian.org/debian/pool/main
mkdir -p "$work/corpus/tcpdump" "$work/corpus/wireshark" "$work/corpus/ndpi"
fetch() { # url sha256
  local file
  file="$work/$(basename "$1")"
  [ -f "$file" ] || curl -fsS -o "$file" "$1"
  echo "$2  $file" | sha256sum -c --quiet
}
fetch "$pool/t/tcpdump/tcpdump_4.99.3.orig.tar.gz" \
  ad75a6ed3dc0d9732945b2e5483cb41dc8b4b528a169315e499c6861952e73b3
fetch "$pool/w/wireshark/wireshark_4.0.17.orig.tar.bz2" \
  62fd1491b6211d1651a16a45ead15808970b3a6a9ebde2537f96722af47aaaa5
fetch "$pool/n/ndpi/ndpi_4.2.orig.tar.gz" \
  e54ce8fe13adc5d747be7553513657fae78f796e0bd459e122c280cc06ce4daf
tar -xzf "$work/tcpdump_4.99.3.orig.tar.gz" -C "$work/corpus/tcpdump" --strip-components=2 \
  --wildcards 'tcpdump-4.99.3/tests/*.pcap' 'tcpdump-4.99.3/tests/*.pcapng'
tar -xjf "$work/wireshark_4.0.17.orig.tar.bz2" -C "$work/corpus/wireshark" --strip-components=3 \
  wireshark-v4.0.17/test/captures
tar -xzf "$work/ndpi_4.2.orig.tar.gz" -C "$work/corpus/ndpi" --strip-components=3 \
  --wildcards 'nDPI-4.2/tests/pcap/*.pcap' 'nDPI-4.2/tests/pcap/*.pcapng' 'nDPI-4.2/tests/pcap/*.cap'
# Ground truth is kept by capture name: three Wireshark captures and two of nDPI's share a name
# with tcpdump's.
for name in empty.pcap ntp.pcap tftp.pcap; do
  mv "$work/corpus/wireshark/$name" "$work/corpus/wireshark/ws-$name"
done
for name in ssh.pcap tftp.pcap; do
  mv "$work/corpus/ndpi/$name" "$work/corpus/ndpi/ndpi-$name"
done
# Made once for these suites; a run cut short leaves no stamp, and the truth is made again.
suites="tcpdump-4.99.3 wireshark-4.0.17 ndpi-4.2"
if [ "$(cat "$work/truth.done" 2> /dev/null)" != "$suites" ]; then
  rm -rf "$work/corpus/truth"
  ../shared/corpus/make_truth.sh "$work/corpus" > "$work/truth.log"
  echo "$suites" > "$work/truth.done"
fi

cargo build --quiet --bin shadowai
bin=$repo/target/debug/shadowai
failures=0
count=0
while IFS= read -r -d '' capture; do
  count=$((count + 1))
  for args in "audit --format json" "audit --format csv --threads 1" "inspect" "devices --format json"; do
    # shellcheck disable=SC2086 # the arguments are words
    if timeout 300 "$bin" $args "$capture" > /dev/null 2> "$work/stderr"; then rc=0; else rc=$?; fi
    if [ "$rc" -ge 100 ] || grep -q panicked "$work/stderr"; then
      echo "FAILED ($rc): shadowai $args $capture: $(head -c 400 "$work/stderr")"
      failures=$((failures + 1))
    fi
  done
done < <(find "$work/corpus" -path "$work/corpus/truth" -prune -o -type f \
  \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' -o -name '*.pcap.gz' -o -name '*.pcapng.gz' \) \
  -print0)
echo "$count captures through four commands (debug build): $failures failure(s)"

export SHADOWAI_CORPUS=$work/corpus
export SHADOWAI_EXCEPTIONS=$repo/tests/conformance/other-suites.tsv
# Every difference is listed; the misses that are not tshark's own errors are 4.8% of this
# truth: DNS on ports other than 53 (nDPI's DNSCrypt and Avast captures on UDP 443 alone are
# 4.0%), ARP and NetBIOS on links we do not read. Recall 0.952 on 2026-12-06 (0.946 before
# nDPI's captures joined).
export SHADOWAI_MIN_RECALL=0.95
export SHADOWAI_AI_FINDINGS=$repo/tests/conformance/other-suites-ai-findings.tsv
cargo test --release --quiet --test conformance -- --nocapture
cargo test --release --quiet --test threads -- every_corpus_capture_reports_the_same_in_every_mode \
  damaged_corpus_captures_report_the_same_in_every_mode
[ "$failures" -eq 0 ]
