#!/usr/bin/env bash
# Checks shadowai on the traffic of real TLS and QUIC stacks, not our own packet writer: curl,
# OpenAI's and Anthropic's Python SDKs, Node's fetch, Chromium (a ClientHello with a
# post-quantum key share over two TCP segments; chaos-protected QUIC Initials over two
# datagrams; Encrypted Client Hello over TLS and QUIC) and Firefox (NSS, and neqo for HTTP/3),
# each resolving its AI service's name by DNS (one over IPv6), and curl and Chromium through an
# HTTP proxy (tinyproxy) and a SOCKS5 one (microsocks); the client names itself by DHCP
# (isc-dhcp-client, to dnsmasq). The services are stand-ins on a second network namespace,
# each at an address of its own: a DNS server that answers their names (and, for two, an HTTPS
# record offering ECH), an HTTPS server with a certificate for them (from a CA made here), and
# a UDP sink on port 443 (the QUIC handshakes never complete: the browsers repeat their
# Initials).
#
#   1. `shadowai scan` captures the client's veth live, ended by SIGINT; tcpdump writes the
#      same traffic to a file, which `shadowai audit` reads. Twice: as a mirror port sees the
#      wire (no segmentation offloads: packets of at most 1500 bytes), and as a capture on the
#      sender sees it (the veth's default offloads: TCP segments and Firefox's UDP datagrams
#      handed over several at a time, as one).
#   2. Both reports must name every service the clients used, under the client's MAC and DHCP
#      name, with the evidence expected (the TLS or QUIC name; the DNS answer where ECH hid
#      it), and give tshark's (an independent implementation's) count of the flows the client
#      opened, of the bytes each way and of DNS messages; at least each upload's size must be
#      counted as sent; the live and the file report must hold the same findings.
#   3. tshark must read every hostname from the capture (by DNS, SNI or CONNECT).
#
# Needs root, iproute2, ethtool, openssl, curl, tcpdump, tshark, tinyproxy, microsocks,
# isc-dhcp-client, dnsmasq, python3 (with venv), Node.js 18 or later, and Debian's chromium
# and firefox-esr; missing Debian packages are installed (apt-get), the Python SDKs into a
# virtual environment under $REAL_CLIENTS_DIR (default /tmp/shadowai-real-clients). Not part
# of .ci/run: it downloads the browsers and the SDKs. Two to four minutes.
# REAL_CLIENTS_FIXTURE=DIR also copies each capture and its truth there (real-clients-wire.pcap,
# -sender.pcap and their .tsv: how tests/fixtures/ got them; tests/real_clients.rs checks the
# audit against them).
set -Eeuo pipefail
# Whatever fails says so (the line; in a function, also the lines it was called from).
trap 'echo "real-clients: failed at line $LINENO (${BASH_LINENO[*]}): $BASH_COMMAND" >&2' ERR
cd "$(dirname "$0")/.."
repo=$PWD
base=${REAL_CLIENTS_DIR:-${TMPDIR:-/tmp}/shadowai-real-clients}
[ "$(id -u)" -eq 0 ] || { echo "real-clients: needs root (network namespaces)" >&2; exit 1; }
view=${REAL_CLIENTS_VIEW:-}
if [ -z "$view" ]; then
  for view in wire sender; do
    echo "== real-clients, the $view's view"
    REAL_CLIENTS_VIEW=$view bash "$0"
  done
  exit 0
fi
work=$base/$view

missing=""
for tool in ip:iproute2 ethtool:ethtool openssl:openssl curl:curl tcpdump:tcpdump \
  tshark:tshark chromium:chromium firefox-esr:firefox-esr node:nodejs tinyproxy:tinyproxy \
  microsocks:microsocks dhclient:isc-dhcp-client dnsmasq:dnsmasq-base; do
  command -v "${tool%%:*}" > /dev/null || missing="$missing ${tool#*:}"
done
if [ -n "$missing" ]; then
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing > /dev/null
fi
mkdir -p "$work"
venv=$base/venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c "import openai, anthropic" 2> /dev/null ||
  "$venv/bin/pip" install -q openai anthropic
cargo build --release --quiet --bin shadowai
bin=$repo/target/release/shadowai

# The stand-ins' names (the service each must be reported as is in the check at the end), each
# at its own address, as the real ones are; the DNS server on another.
names="api.openai.com api.anthropic.com api.deepseek.com claude.ai gemini.google.com chatgpt.com
  copilot.microsoft.com api.mistral.ai www.perplexity.ai chat.deepseek.com"
addresses="10.77.0.11 10.77.0.12 10.77.0.13 10.77.0.14 10.77.0.15 10.77.0.16 10.77.0.17 fd77::21
  10.77.0.19 10.77.0.20"
# Served with an HTTPS record that offers Encrypted Client Hello under Cloudflare's cover name,
# and the protocols it lists (ALPN).
ech_names="www.perplexity.ai=h2 chat.deepseek.com=h3,h2"
# Reached only through an HTTP proxy (tinyproxy, at 10.77.0.8:8888) or a SOCKS5 one (microsocks,
# at 10.77.0.9:1080), which resolve them themselves.
proxied="api.groq.com www.cursor.com api.together.xyz www.poe.com"
proxied_addresses="10.77.0.31 10.77.0.32 10.77.0.33 10.77.0.34"
# The name the client gives itself in DHCP (isc-dhcp-client; dnsmasq serves it).
hostname=front-desk-pc
cli=sa-real-cli
srv=sa-real-srv
cleanup() {
  ip netns pids "$srv" 2> /dev/null | xargs -r kill 2> /dev/null || true
  ip netns pids "$cli" 2> /dev/null | xargs -r kill 2> /dev/null || true
  ip netns del "$cli" 2> /dev/null || true
  ip netns del "$srv" 2> /dev/null || true
  rm -rf "/etc/netns/$cli" "/etc/netns/$srv"
}
trap cleanup EXIT
cleanup

# The client and the services, one veth apart, as on an office LAN (MTU 1500).
ip netns add "$cli"
ip netns add "$srv"
ip link add veth-cli netns "$cli" address 02:5a:00:00:00:02 type veth \
  peer name veth-srv netns "$srv" address 02:5a:00:00:00:01
ip -n "$cli" addr add 10.77.0.2/24 dev veth-cli
ip -n "$cli" addr add fd77::2/64 dev veth-cli nodad
for address in 10.77.0.1 10.77.0.8 10.77.0.9 10.77.0.53 $addresses $proxied_addresses; do
  case $address in
    *:*) ip -n "$srv" addr add "$address/64" dev veth-srv nodad ;;
    *) ip -n "$srv" addr add "$address/24" dev veth-srv ;;
  esac
done
for ns in "$cli" "$srv"; do
  ip -n "$ns" link set lo up
done
ip -n "$cli" link set veth-cli up
ip -n "$srv" link set veth-srv up
if [ "$view" = wire ]; then
  ip netns exec "$cli" ethtool -K veth-cli tso off gso off gro off tx-udp-segmentation off
  ip netns exec "$srv" ethtool -K veth-srv tso off gso off gro off tx-udp-segmentation off
fi
for ns in "$cli" "$srv"; do
  mkdir -p "/etc/netns/$ns"
  echo "nameserver 10.77.0.53" > "/etc/netns/$ns/resolv.conf"
  printf '127.0.0.1 localhost\n::1 localhost\n' > "/etc/netns/$ns/hosts"
done

# A CA and a certificate for every name.
pki=$work/pki
mkdir -p "$pki"
san=$(for n in $names $proxied cloudflare-ech.com; do printf 'DNS:%s,' "$n"; done)
printf '[req]\ndistinguished_name=dn\n[dn]\n[ext]\nsubjectAltName=%s\nbasicConstraints=CA:FALSE\n' \
  "${san%,}" > "$pki/san.cnf"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$pki/ca.key" -out "$pki/ca.pem" -days 2 \
  -subj "/CN=shadowai real-clients CA" -addext basicConstraints=critical,CA:TRUE 2> /dev/null
openssl req -newkey rsa:2048 -nodes -keyout "$pki/srv.key" -out "$pki/srv.csr" \
  -subj "/CN=api.openai.com" -config "$pki/san.cnf" 2> /dev/null
openssl x509 -req -in "$pki/srv.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -CAcreateserial \
  -out "$pki/srv.pem" -days 2 -extfile "$pki/san.cnf" -extensions ext 2> /dev/null
cat "$pki/srv.pem" "$pki/ca.pem" > "$pki/chain.pem"

# The stand-ins: DNS (A records for the names, an empty answer otherwise), HTTPS (any POST
# answered as the SDK it came from expects), and a UDP sink on 443.
cat > "$work/services.py" << 'EOF'
import http.server, json, socket, socketserver, ssl, struct, sys, threading
names = dict(zip(sys.argv[1].split(), sys.argv[2].split()))
pki = sys.argv[3]
ech_names = dict(pair.split("=") for pair in sys.argv[4].split())

def ech_config_list(public_name):
    """An ECHConfigList (draft-ietf-tls-esni-18) as Cloudflare publishes one: X25519 (any 32
    bytes are a public key), HKDF-SHA256 with AES-128-GCM, the provider's cover name."""
    key = bytes(range(1, 33))
    contents = (b"\x01" + struct.pack("!HH", 0x0020, len(key)) + key
                + struct.pack("!HHH", 4, 0x0001, 0x0001) + b"\x00"
                + bytes([len(public_name)]) + public_name.encode() + b"\x00\x00")
    config = struct.pack("!HH", 0xFE0D, len(contents)) + contents
    return struct.pack("!H", len(config)) + config

def https_record(protocols):
    """An HTTPS record's data (RFC 9460): priority 1, the owner as target, ALPN and ECH."""
    alpn = b"".join(bytes([len(p)]) + p.encode() for p in protocols.split(","))
    ech = ech_config_list("cloudflare-ech.com")
    return (struct.pack("!H", 1) + b"\x00" + struct.pack("!HH", 1, len(alpn)) + alpn
            + struct.pack("!HH", 5, len(ech)) + ech)

def dns():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("10.77.0.53", 53))
    while True:
        q, peer = s.recvfrom(512)
        if len(q) < 12:
            continue
        labels, at = [], 12
        while at < len(q) and q[at]:
            labels.append(q[at + 1:at + 1 + q[at]].decode("ascii", "replace"))
            at += 1 + q[at]
        end = at + 5
        qtype = struct.unpack("!H", q[at + 1:at + 3])[0] if end <= len(q) else 0
        name = ".".join(labels).lower()
        family = socket.AF_INET6 if ":" in names.get(name, "") else socket.AF_INET
        answer = name in names and qtype == (28 if family == socket.AF_INET6 else 1)
        if answer:
            data = socket.inet_pton(family, names[name])
        elif name in ech_names and qtype == 65:
            answer, data = True, https_record(ech_names[name])
        head = q[:2] + struct.pack("!HHHHH", 0x8180 if name in names else 0x8183, 1,
                                   1 if answer else 0, 0, 0)
        rr = b"\xc0\x0c" + struct.pack("!HHIH", qtype, 1, 60, len(data)) + data \
            if answer else b""
        s.sendto(head + q[12:end] + rr, peer)

def sink():
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", 443))
    while True:
        s.recvfrom(65535)

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def reply(self, body, kind):
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if "anthropic" in self.headers.get("Host", ""):
            out = {"id": "msg_1", "type": "message", "role": "assistant", "model": "m",
                   "content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn",
                   "stop_sequence": None, "usage": {"input_tokens": 1, "output_tokens": 1}}
        else:
            out = {"id": "c1", "object": "chat.completion", "created": 1, "model": "m",
                   "choices": [{"index": 0, "finish_reason": "stop",
                                "message": {"role": "assistant", "content": "ok"}}],
                   "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
        self.reply(json.dumps(out).encode(), "application/json")
    def do_GET(self):
        self.reply(b"<html><body>ok</body></html>", "text/html")
    def log_message(self, *args):
        pass

class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    address_family = socket.AF_INET6  # and IPv4, as mapped addresses
    daemon_threads = True

threading.Thread(target=dns, daemon=True).start()
threading.Thread(target=sink, daemon=True).start()
server = Server(("::", 443), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(pki + "/chain.pem", pki + "/srv.key")
server.socket = context.wrap_socket(server.socket, server_side=True)
print("ready", flush=True)
server.serve_forever()
EOF
ip netns exec "$srv" python3 "$work/services.py" "$names $proxied" "$addresses $proxied_addresses" \
  "$pki" "$ech_names" > "$work/services.log" 2>&1 &
for _ in $(seq 50); do grep -q ready "$work/services.log" 2> /dev/null && break; sleep 0.1; done
grep -q ready "$work/services.log" || { cat "$work/services.log"; exit 1; }
printf '%s\n' "Port 8888" "Listen 10.77.0.8" "Timeout 30" "Allow 10.77.0.0/24" "ConnectPort 443" \
  "User nobody" "Group nogroup" > "$work/tinyproxy.conf"
ip netns exec "$srv" tinyproxy -d -c "$work/tinyproxy.conf" > "$work/tinyproxy.log" 2>&1 &
ip netns exec "$srv" microsocks -i 10.77.0.9 -p 1080 > "$work/microsocks.log" 2>&1 &
ip netns exec "$srv" dnsmasq --no-daemon --port=0 --interface=veth-srv --bind-interfaces \
  --dhcp-range=10.77.0.100,10.77.0.150,255.255.255.0,1h --dhcp-leasefile="$work/dnsmasq.leases" \
  > "$work/dnsmasq.log" 2>&1 &

# The capture: shadowai live, and tcpdump for the file audit and tshark.
rm -f "$work/live.json" "$work/clients.pcap"
ip netns exec "$srv" "$bin" scan -i veth-srv --user root --format json -o "$work/live.json" \
  > "$work/scan.log" 2>&1 &
scan=$!
ip netns exec "$srv" tcpdump -i veth-srv -s 0 -B 65536 -Z root --immediate-mode -w "$work/clients.pcap" \
  --time-stamp-precision=micro > "$work/tcpdump.log" 2>&1 &
tcpdump=$!
for _ in $(seq 100); do
  grep -q "listening" "$work/tcpdump.log" 2> /dev/null &&
    grep -q "shadowai: capturing" "$work/scan.log" 2> /dev/null && break
  sleep 0.1
done

# The uploads: what each client sends, in bytes of request body.
up_curl=40000 up_openai=60000 up_anthropic=30000 up_node=20000 up_mistral=10000
in_cli() { ip netns exec "$cli" "$@"; }
head -c $((up_curl * 3 / 4)) /dev/urandom | base64 -w0 > "$work/curl-body.txt"
in_cli curl -sS --cacert "$pki/ca.pem" -X POST -H "Content-Type: application/json" \
  --data-binary @"$work/curl-body.txt" -o /dev/null https://api.openai.com/v1/chat/completions
# The client asks for an address by DHCP, giving its name (the reply is not applied).
echo "send host-name \"$hostname\";" > "$work/dhclient.conf"
in_cli dhclient -4 -1 -sf /bin/true -cf "$work/dhclient.conf" -pf "$work/dhclient.pid" \
  -lf "$work/dhclient.leases" veth-cli 2> "$work/dhclient.log" ||
  { cat "$work/dhclient.log"; exit 1; }
# Through the HTTP proxy: curl, and Chromium below.
head -c 15000 /dev/urandom | base64 -w0 | in_cli curl -sS --cacert "$pki/ca.pem" \
  -x http://10.77.0.8:8888 -X POST -H "Content-Type: application/json" --data-binary @- \
  -o /dev/null https://api.groq.com/openai/v1/chat/completions
# Through the SOCKS5 proxy (the proxy resolves the name): curl, and Chromium below.
head -c 12000 /dev/urandom | base64 -w0 | in_cli curl -sS --cacert "$pki/ca.pem" \
  --socks5-hostname 10.77.0.9:1080 -X POST -H "Content-Type: application/json" \
  --data-binary @- -o /dev/null https://api.together.xyz/v1/chat/completions
# Over IPv6: the name has an AAAA record only.
head -c "$up_mistral" /dev/zero | tr '\0' m | in_cli curl -sS --cacert "$pki/ca.pem" -X POST \
  -H "Content-Type: application/json" --data-binary @- -o /dev/null \
  https://api.mistral.ai/v1/chat/completions
SSL_CERT_FILE=$pki/ca.pem in_cli "$venv/bin/python" - "$up_openai" "$up_anthropic" << 'EOF'
import sys, openai, anthropic
openai.OpenAI(api_key="sk-test", max_retries=0).chat.completions.create(
    model="m", messages=[{"role": "user", "content": "x" * int(sys.argv[1])}])
anthropic.Anthropic(api_key="sk-ant-test", max_retries=0).messages.create(
    model="m", max_tokens=8, messages=[{"role": "user", "content": "y" * int(sys.argv[2])}])
EOF
NODE_EXTRA_CA_CERTS=$pki/ca.pem in_cli node -e '
fetch("https://api.deepseek.com/chat/completions", {method: "POST",
  headers: {"content-type": "application/json"}, body: "z".repeat(Number(process.argv[1]))})
  .then((r) => r.text()).catch((e) => { console.error(e); process.exit(1); });' "$up_node"
chrome=(chromium --headless=new --no-sandbox --disable-gpu --no-first-run --ignore-certificate-errors
  --user-data-dir="$work/chromium-profile")
in_cli timeout 20 "${chrome[@]}" --dump-dom https://claude.ai/ > /dev/null 2>&1 || true
in_cli timeout 20 "${chrome[@]}" --dump-dom https://www.perplexity.ai/ > /dev/null 2>&1 || true
in_cli timeout 20 "${chrome[@]}" --proxy-server=http://10.77.0.8:8888 --dump-dom \
  https://www.cursor.com/ > /dev/null 2>&1 || true
in_cli timeout 20 "${chrome[@]}" --proxy-server=socks5://10.77.0.9:1080 --dump-dom \
  https://www.poe.com/ > /dev/null 2>&1 || true
in_cli timeout 8 "${chrome[@]}" --enable-quic --origin-to-force-quic-on=chat.deepseek.com:443 \
  --dump-dom https://chat.deepseek.com/ > /dev/null 2>&1 || true
in_cli timeout 8 "${chrome[@]}" --enable-quic --origin-to-force-quic-on=gemini.google.com:443 \
  --dump-dom https://gemini.google.com/ > /dev/null 2>&1 || true
# Firefox (NSS for TLS, neqo for QUIC): chatgpt.com over TCP, copilot.microsoft.com over HTTP/3.
profile=$work/firefox-profile
rm -rf "$profile" && mkdir -p "$profile"
printf 'user_pref("%s", %s);\n' network.trr.mode 5 network.http.http3.enable true \
  network.http.http3.alt-svc-mapping-for-testing '"copilot.microsoft.com;h3=:443"' \
  > "$profile/user.js"
for url in https://chatgpt.com/ https://copilot.microsoft.com/; do
  in_cli timeout 15 firefox-esr --headless --no-remote --profile "$profile" \
    --screenshot "$work/firefox.png" "$url" > /dev/null 2>&1 || true
done
sleep 1
kill -INT "$scan" "$tcpdump"
wait "$scan" "$tcpdump" || true
[ -s "$work/live.json" ] || { cat "$work/scan.log"; exit 1; }
# A packet tcpdump lost would make the file differ from the live report for no fault of ours.
grep -q "^0 packets dropped by kernel" "$work/tcpdump.log" || { cat "$work/tcpdump.log"; exit 1; }

"$bin" audit "$work/clients.pcap" --format json -o "$work/file.json"
tshark -r "$work/clients.pcap" -T fields -e ip.src -e ip.dst -e ip.len -e ipv6.src -e ipv6.dst \
  -e ipv6.plen -e tcp.flags.syn \
  -e tcp.flags.ack -e udp.srcport -e tls.handshake.extensions_server_name -e dns.qry.name \
  -e dns.flags.response -e tcp.stream -e http.request.method -e http.request.uri \
  -e socks.remote_name -e dhcp.option.hostname \
  -Y "(tcp or udp) and not icmp and not icmpv6" > "$work/tshark.tsv" 2> /dev/null
"$venv/bin/python" - "$work" "$names" "$addresses" "api.openai.com=$((up_curl + up_openai))
  api.anthropic.com=$up_anthropic api.deepseek.com=$up_node api.mistral.ai=$up_mistral" "$view" \
  "$proxied" "$hostname" << 'EOF'
import json, sys
work, names, addresses, view = sys.argv[1], sys.argv[2].split(), sys.argv[3].split(), sys.argv[5]
proxied, hostname = sys.argv[6].split(), sys.argv[7]
# The request bodies the SDKs and curl sent.
uploads = {host: int(size) for host, size in (pair.split("=") for pair in sys.argv[4].split())}
clients, client_mac = ("10.77.0.2", "fd77::2"), "02:5a:00:00:00:02"
service = {"api.openai.com": ("openai-api", "tls_sni"),
           "api.anthropic.com": ("anthropic-api", "tls_sni"),
           "api.deepseek.com": ("deepseek-api", "tls_sni"),
           "claude.ai": ("anthropic-claude", "tls_sni"),
           "gemini.google.com": ("google-gemini", "quic_sni"),
           "chatgpt.com": ("openai-chatgpt", "tls_sni"),
           "copilot.microsoft.com": ("microsoft-copilot", "quic_sni"),
           "api.mistral.ai": ("mistral-api", "tls_sni"),
           # Its ECH connections named by DNS, the retries without ECH by their SNI.
           "www.perplexity.ai": ("perplexity", "tls_sni,dns_answer"),
           # QUIC with ECH: its one connection named by DNS.
           "chat.deepseek.com": ("deepseek-chat", "dns_answer"),
           # Through the proxy: named by the tunnelled ClientHello's SNI.
           "api.groq.com": ("groq", "tls_sni"),
           "www.cursor.com": ("cursor", "tls_sni"),
           "api.together.xyz": ("together-ai", "tls_sni"),
           "www.poe.com": ("poe", "tls_sni")}
# The truth, from tshark: bytes of TCP and UDP (IP lengths; IPv6's payload length and its
# 40-byte header) each way and flows (TCP connections opened, a SYN without ACK; UDP source
# ports) per service address, DNS messages, every name it read. Left out: neighbour discovery
# between the client and a service's address (only this test puts them on one link), and ICMP
# errors quoting a datagram (tshark reads a DNS message inside; it was never delivered).
# A connection to a proxy counts for the host its CONNECT (HTTP or SOCKS) request names.
rows = [(line.rstrip("\n").split("\t") + [""] * 17)[:17] for line in open(f"{work}/tshark.tsv")]
tunnels = {row[12]: row[14].rsplit(":", 1)[0] for row in rows if row[13] == "CONNECT"}
tunnels.update((row[12], row[15]) for row in rows if row[15])
dhcp_names = {row[16] for row in rows if row[16]}
if dhcp_names != {hostname}:
    sys.exit(f"tshark read DHCP names {dhcp_names}, not {hostname}")
targets = dict(zip(addresses, names))
up, down, flows, seen, dns, udp = {}, {}, {}, set(), 0, set()
for fields in rows:
    src, dst, length, src6, dst6, plen6, syn, ack, sport, sni, query, response = fields[:12]
    stream, method, uri = fields[12:15]
    if src6:
        src, dst, length = src6, dst6, int(plen6) + 40
    seen.update(n for n in (sni + "," + query).split(",") if n)
    seen.add(uri.rsplit(":", 1)[0] if method == "CONNECT" else "")
    seen.add(fields[15])
    dns += response != ""
    if src in clients:
        host = tunnels.get(stream) or targets.get(dst)
        if host:
            up[host] = up.get(host, 0) + int(length)
            if syn in ("1", "True") and ack in ("0", "False") or sport and (dst, sport) not in udp:
                flows[host] = flows.get(host, 0) + 1
                udp.add((dst, sport))
    elif dst in clients:
        host = tunnels.get(stream) or targets.get(src)
        if host:
            down[host] = down.get(host, 0) + int(length)
failures = [f"tshark did not see {host}: the capture lacks it" for host in names + proxied
            if host not in seen]
truth = {host: {"service_id": service[host][0], "device_mac": client_mac,
                "device_hostname": hostname,
                "flows": flows.get(host, 0), "bytes_up": up.get(host, 0),
                "bytes_down": down.get(host, 0), "evidence": service[host][1]}
         for host in names + proxied}
with open(f"{work}/truth.tsv", "w") as out:
    out.write(f"# made by tests/real-clients.sh from tshark's reading of its capture, {view}\n")
    out.write(f"# dns_messages\t{dns}\n")
    columns = list(truth[names[0]])
    out.write("\t".join(["host"] + columns) + "\n")
    for host, row in truth.items():
        out.write("\t".join([host] + [str(row[c]) for c in columns]) + "\n")
def check(label, report):
    findings = {h: f for f in report["findings"] for h in f["hosts"]}
    for host, row in truth.items():
        f = findings.get(host)
        if f is None:
            failures.append(f"{label}: no finding for {host}")
            continue
        for key, value in row.items():
            got = ",".join(f[key]) if key == "evidence" else f[key]
            if got != value:
                failures.append(f"{label}: {host}: {key} {got}, tshark {value}")
        if f["bytes_up"] < uploads.get(host, 0):
            failures.append(f"{label}: {host}: {f['bytes_up']} bytes up, less than uploaded")
    if report["stats"]["dns_messages"] != dns:
        failures.append(f"{label}: {report['stats']['dns_messages']} DNS messages, tshark {dns}")
    others = set(findings) - set(names + proxied)
    if others:
        failures.append(f"{label}: findings for hosts no client used: {sorted(others)}")
    print(label, {h: (f["service_id"], f["flows"], f["bytes_up"], f["bytes_down"],
                      f["evidence"]) for h, f in findings.items()})
    return sorted(json.dumps(f, sort_keys=True) for f in report["findings"])
live = check("live", json.load(open(f"{work}/live.json")))
file = check("file", json.load(open(f"{work}/file.json")))
if live != file:
    failures.append("the live and the file report hold different findings")
if failures:
    print("\n".join(failures))
    sys.exit(1)
print("real-clients: every service found, with tshark's flows and bytes, live and from the file")
EOF
if [ -n "${REAL_CLIENTS_FIXTURE:-}" ]; then
  cp "$work/clients.pcap" "$REAL_CLIENTS_FIXTURE/real-clients-$view.pcap"
  cp "$work/truth.tsv" "$REAL_CLIENTS_FIXTURE/real-clients-$view.tsv"
fi
