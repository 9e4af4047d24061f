#!/usr/bin/env bash
# Cross-builds shadowai for a 64-bit Raspberry Pi (Raspberry Pi OS and Debian 12 "bookworm",
# arm64) on a Debian 12 amd64 PC: minutes instead of the Pi's own long build. Installs what it
# lacks (as root or through sudo): the arm64 cross compiler, libpcap-dev for arm64 (Debian's
# multiarch) and Rust's aarch64 target. Prints the binary's path; copy it to the Pi's
# /usr/local/bin. The Pi needs libpcap0.8 (`apt-get install libpcap0.8`).
#
# The pcap crate's build script reads the libpcap version from the library it links, which it
# cannot load when the library is built for another CPU: LIBPCAP_VER gives it instead.
set -euo pipefail
cd "$(dirname "$0")/../.."
sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
if ! dpkg -s gcc-aarch64-linux-gnu libpcap-dev:arm64 > /dev/null 2>&1; then
  $sudo dpkg --add-architecture arm64
  $sudo apt-get update
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y gcc-aarch64-linux-gnu libpcap-dev:arm64
fi
rustup target list --installed | grep -qx aarch64-unknown-linux-gnu \
  || rustup target add aarch64-unknown-linux-gnu
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
export LIBPCAP_LIBDIR=/usr/lib/aarch64-linux-gnu
LIBPCAP_VER=$(dpkg-query -W -f '${Version}' libpcap-dev:arm64 | sed 's/^[0-9]*://; s/-.*//')
export LIBPCAP_VER
cargo build --release --target aarch64-unknown-linux-gnu
echo "target/aarch64-unknown-linux-gnu/release/shadowai"
