#!/bin/sh
# Builds dnsbridge_VERSION_amd64.deb at the package root from a release build with the Swift
# runtime linked statically. VERSION comes from the VERSION file (the binary embeds the same
# file); runtime Depends come from the binary through dpkg-shlibdeps. Needs dpkg-dev.
# usage: packaging/build-deb.sh [OUTPUT-DIR]
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
out="${1:-$root}"
version="$(tr -d ' \n' < VERSION)"
arch="$(dpkg --print-architecture)"

swift build -c release --static-swift-stdlib --product dnsbridge >/dev/null
binary=.build/release/dnsbridge
built="$("$binary" version | sed -n 's/^dnsbridge //p')"
if [ "$built" != "$version" ]; then
    echo "build-deb: the binary says $built, VERSION says $version" >&2
    exit 1
fi
"$binary" check packaging/dnsbridge.yaml >/dev/null

stage=.build/deb/stage
rm -rf .build/deb
mkdir -p "$stage/DEBIAN"
install -D -m 0755 "$binary" "$stage/usr/sbin/dnsbridge"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$stage/usr/sbin/dnsbridge"
install -D -m 0644 packaging/dnsbridge.yaml "$stage/etc/dnsbridge/dnsbridge.yaml"
install -D -m 0644 packaging/dnsbridge.service "$stage/lib/systemd/system/dnsbridge.service"
install -D -m 0644 packaging/dnsbridge.logrotate "$stage/etc/logrotate.d/dnsbridge"
install -D -m 0644 packaging/dnsbridge.bash-completion "$stage/usr/share/bash-completion/completions/dnsbridge"
install -D -m 0644 packaging/copyright "$stage/usr/share/doc/dnsbridge/copyright"
install -d "$stage/usr/share/man/man8"
gzip -9n < packaging/dnsbridge.8 > "$stage/usr/share/man/man8/dnsbridge.8.gz"
gzip -9n < packaging/changelog > "$stage/usr/share/doc/dnsbridge/changelog.gz"
chmod 0644 "$stage/usr/share/man/man8/dnsbridge.8.gz" "$stage/usr/share/doc/dnsbridge/changelog.gz"
changelog_version="$(sed -n '1s/^dnsbridge (\([^)]*\)).*/\1/p' packaging/changelog)"
if [ "$changelog_version" != "$version" ]; then
    echo "build-deb: packaging/changelog's first entry is $changelog_version, VERSION says $version" >&2
    exit 1
fi

for script in postinst prerm postrm; do
    install -m 0755 "packaging/debian/$script" "$stage/DEBIAN/$script"
done
printf '/etc/dnsbridge/dnsbridge.yaml\n/etc/logrotate.d/dnsbridge\n' > "$stage/DEBIAN/conffiles"

# dpkg-shlibdeps reads debian/control of a source tree; this one exists only for it.
shlib_tree=.build/deb/shlibs
mkdir -p "$shlib_tree/debian"
printf 'Source: dnsbridge\n\nPackage: dnsbridge\nArchitecture: any\n' > "$shlib_tree/debian/control"
depends="$(cd "$shlib_tree" && dpkg-shlibdeps -O "$root/$stage/usr/sbin/dnsbridge" | sed -n 's/^shlibs:Depends=//p')"
[ -n "$depends" ] || { echo "build-deb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

installed_size="$(du -sk --exclude=DEBIAN "$stage" | cut -f1)"
cat > "$stage/DEBIAN/control" <<CONTROL
Package: dnsbridge
Version: $version
Architecture: $arch
Maintainer: dnsbridge maintainers <maintainers@dnsbridge.example>
Installed-Size: $installed_size
Depends: $depends, adduser
Suggests: nftables
Section: net
Priority: optional
Description: hybrid-cloud DNS forwarding gateway
 dnsbridge bridges an on-premises network and a cloud VPC for DNS: inbound and
 outbound endpoint listeners, longest-suffix forwarding rules to
 health-checked pools of upstream servers with retries and failover, an
 answer cache, and nftables isolation of its ports (security groups and
 NACLs programmed through netlink). It is configured in one YAML file,
 checked with "dnsbridge check", and explains its routing with "dnsbridge
 explain".
CONTROL

(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\n' | LC_ALL=C sort | xargs md5sum) \
    > "$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/control" "$stage/DEBIAN/conffiles" "$stage/DEBIAN/md5sums"

mkdir -p "$out"
deb="$out/dnsbridge_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "$deb"
