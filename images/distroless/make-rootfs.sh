#!/bin/sh
# make-rootfs.sh ROOT PKG... < packages.txt: the shell-less tree in ROOT, which already holds the CPython tree.
# unpack-debs unpacks base-files first (the merged-/usr symlinks), the packages named here, then those listed on
# standard input (what CPython's extension modules load), recording each in ROOT/var/lib/dpkg/status.d/. No
# maintainer script runs, so this makes what theirs and Debian's installer would: the CA bundle, the users, the
# time zone, /tmp.
set -eu
root=$1
shift

unpack-debs "$root" "$@" -

# Debian's bundle (ca-certificates' postinst, by default every certificate it ships), at the path OpenSSL's default
# store points to (/usr/lib/ssl/cert.pem and certs/, links the openssl package would add).
mkdir -p "$root/etc/ssl/certs" "$root/usr/lib/ssl"
find "$root/usr/share/ca-certificates" -type f -name '*.crt' | sort | while IFS= read -r crt; do
    cat "$crt"
    [ -z "$(tail -c 1 "$crt")" ] || echo # a last line without its line break gets one, as update-ca-certificates does
done >"$root/etc/ssl/certs/ca-certificates.crt"
test -s "$root/etc/ssl/certs/ca-certificates.crt"
ln -sfn /etc/ssl/certs/ca-certificates.crt "$root/usr/lib/ssl/cert.pem"
ln -sfn /etc/ssl/certs "$root/usr/lib/ssl/certs"

# root, nonroot (65532, the default user, as in distroless) and nobody; no password anywhere, no login shell.
cat >"$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/usr/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
PASSWD
cat >"$root/etc/group" <<'GROUP'
root:x:0:
nonroot:x:65532:
nobody:x:65534:
GROUP
cat >"$root/etc/nsswitch.conf" <<'NSSWITCH'
passwd:    files
group:     files
shadow:    files
hosts:     files dns
networks:  files
protocols: files
services:  files
ethers:    files
rpc:       files
NSSWITCH
chmod 0644 "$root/etc/passwd" "$root/etc/group" "$root/etc/nsswitch.conf"
install -d -m 0700 -o 65532 -g 65532 "$root/home/nonroot"
# The one folder anyone may write to is /tmp (a tmpfs in a read-only container): base-files' /var/tmp and /var/lock
# are left to root.
install -d -m 1777 "$root/tmp"
for folder in "$root/var/tmp" "$root/var/lock"; do
    if [ -d "$folder" ]; then chmod 0755 "$folder"; fi
done
ln -sfn /usr/share/zoneinfo/Etc/UTC "$root/etc/localtime"
