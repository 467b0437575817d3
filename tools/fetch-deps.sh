#!/bin/sh
# Fetch lwIP and wolfSSL as source from Debian's source packages into build/deps/.
#
# Debian ships both as source packages; we take whatever Debian revision is
# current (so its security patches come along), check the upstream tarball
# against the SHA-256 pinned in tools/deps.sha256, and unpack with
# dpkg-source so Debian's patches are applied.  deb-src entries are usually
# not configured, so a private source list is derived from the machine's own
# Debian "deb" entries and handed to apt through -o options: the system's apt
# configuration is never touched.
#
# Usage: tools/fetch-deps.sh OUTDIR      (OUTDIR is normally build/deps)
set -eu

out=${1:?usage: fetch-deps.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
pins="$here/deps.sha256"
mkdir -p "$out"
out=$(cd "$out" && pwd)

# name of the source package, upstream tarball, directory it unpacks to
deps="lwip:lwip_2.1.3+dfsg1.orig.tar.xz:lwip
wolfssl:wolfssl_5.5.4.orig.tar.gz:wolfssl"

need=0
for d in $deps; do
    dir=${d##*:}
    [ -f "$out/$dir/.pillarbox-ok" ] || need=1
done
[ $need -eq 1 ] || exit 0

apt_dir="$out/apt"
mkdir -p "$apt_dir/sources.list.d" "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
: > "$apt_dir/sources.list"

# deb822 stanzas: keep those of type deb that point at Debian, turn them into deb-src.
for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk 'BEGIN { RS=""; ORS="\n\n" }
         /(^|\n)Types:[^\n]*deb([ \n]|$)/ && /debian/ {
             gsub(/Types:[^\n]*/, "Types: deb-src"); print }' "$f" \
        > "$apt_dir/sources.list.d/$(basename "$f")"
done
# one-line format
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    sed -n 's/^[[:space:]]*deb[[:space:]]\(.*debian.*\)$/deb-src \1/p' "$f" >> "$apt_dir/sources.list"
done

aptopts="-o Dir::Etc::SourceList=$apt_dir/sources.list
 -o Dir::Etc::SourceParts=$apt_dir/sources.list.d
 -o Dir::State::Lists=$apt_dir/lists
 -o Dir::Cache=$apt_dir/cache
 -o APT::Sandbox::User=root"

echo "fetch-deps: updating the private deb-src index"
# shellcheck disable=SC2086
apt-get -qq $aptopts update

for d in $deps; do
    pkg=${d%%:*}; rest=${d#*:}; tarball=${rest%%:*}; dir=${rest#*:}
    [ -f "$out/$dir/.pillarbox-ok" ] && continue
    work="$out/src-$pkg"
    rm -rf "$work" "$out/$dir"
    mkdir -p "$work"
    echo "fetch-deps: apt-get source $pkg"
    # shellcheck disable=SC2086
    (cd "$work" && apt-get -qq $aptopts source --download-only "$pkg")
    want=$(awk -v t="$tarball" '$2 == t { print $1 }' "$pins")
    have=$(sha256sum "$work/$tarball" | awk '{ print $1 }')
    if [ -z "$want" ] || [ "$want" != "$have" ]; then
        echo "fetch-deps: ERROR: $tarball has SHA-256 $have," >&2
        echo "fetch-deps:        tools/deps.sha256 pins '${want:-nothing}'. Refusing to build with it." >&2
        exit 1
    fi
    dsc=$(ls "$work"/*.dsc)
    echo "fetch-deps: $tarball verified; unpacking $(basename "$dsc") with Debian's patches"
    dpkg-source --no-check -x "$dsc" "$out/$dir" > /dev/null
    touch "$out/$dir/.pillarbox-ok"
done
