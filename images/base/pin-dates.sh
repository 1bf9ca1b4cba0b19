#!/bin/sh
# An mmdebstrap customize hook of bootstrap.sh (usage: pin-dates.sh ROOT; $PYFAMILY_EPOCH_FILE set): what makes
# two bootstraps of one archive state identical. It writes the archive's Release date (the newest Date of the
# InRelease files apt verified, as seconds) to $PYFAMILY_EPOCH_FILE: the time every file of the image then
# carries (SOURCE_DATE_EPOCH). It sets /etc/shadow's "last changed" days to that date instead of today, and drops
# the host's /etc/hostname and /etc/resolv.conf that mmdebstrap copies in (the engine mounts its own).
set -eu
root=$1
newest=0
for list in "$root"/var/lib/apt/lists/*_InRelease; do
  released=$(sed -n 's/^Date: *//p' "$list" | head -n 1)
  seconds=$(date -u -d "$released" +%s)
  [ "$seconds" -gt "$newest" ] && newest=$seconds
done
[ "$newest" -gt 0 ] || { echo "pin-dates: no InRelease with a Date in $root/var/lib/apt/lists" >&2; exit 1; }
echo "$newest" > "$PYFAMILY_EPOCH_FILE"
sed -i "s/^\([^:]*:[^:]*:\)[0-9][0-9]*:/\1$((newest / 86400)):/" "$root/etc/shadow"
rm -f "$root/etc/hostname" "$root/etc/resolv.conf"
