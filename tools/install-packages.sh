#!/bin/sh
# Install the Debian packages Pillarbox builds and tests with, if missing.
# Runs "apt-get update" once, only when something has to be installed.
set -eu

pkgs="gcc make pkg-config dpkg-dev xz-utils ca-certificates
gcc-arm-none-eabi libnewlib-arm-none-eabi binutils-arm-none-eabi
qemu-system-arm libslirp-dev libglib2.0-dev
clang libclang-rt-14-dev llvm
libcmocka-dev python3 openssl
postfix swaks libnet-ssleay-perl
isync fetchmail curl dovecot-imapd
chromium chromium-driver python3-selenium strace"

missing=""
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done
[ -n "$missing" ] || exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "install-packages: missing:$missing" >&2
    echo "install-packages: run make as root, or install them with apt-get." >&2
    exit 1
fi
echo "install-packages: installing$missing"
# isync, fetchmail and curl are test clients; Dovecot (dovecot-imapd) is the
# IMAP benchmark's reference, run privately by the bench, never as a service.
# chromium, its driver and python3-selenium drive the web page in a headless
# browser test (python3-selenium installs for /usr/bin/python3). strace
# counts the flash writes of a clean run for the outbound power-cut test.
# Postfix is a test peer and a benchmark reference only: the tests run private
# instances with their own configuration. Tell its installer not to set up or
# start a system MTA.
if command -v debconf-set-selections >/dev/null 2>&1; then
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
