#!/usr/bin/env bash
# Set up a real, headless OpenXR runtime (Monado, from Debian 13's packages) in a private prefix.
#
#     tools/setup_monado.sh [--prefix DIR] [--print-prefix] [--force]
#
# Debian 12 has the OpenXR loader but no runtime; Debian 13 ("trixie") packages Monado 25, which
# needs glibc 2.38, so it cannot be installed into a Debian 12 system. Instead (../shared/RECIPES.md
# "A real OpenXR runtime, headless: Monado"): apt, with a PRIVATE sources file for trixie, a PRIVATE
# empty dpkg status and private state and cache folders, downloads Monado and everything it needs
# (about 270 packages, 165 MB) and `dpkg-deb -x` unpacks each into the prefix (about 650 MB).
# The system's own apt sources, lists, status and caches are never touched.
#
# The mirror is the one this system's own apt sources use for Debian (the first `.../debian` URI
# in /etc/apt/sources.list{,.d}); $ASTP_DEBIAN_MIRROR overrides it.
#
# Prefix: --prefix, else $ASTP_MONADO_PREFIX, else ${XDG_CACHE_HOME:-~/.cache}/handshake-in-orbit/monado.
# Cached and idempotent: a prefix holding a `.complete` stamp of the same recipe is used as it is
# (a second run takes milliseconds). The prefix is built in DIR.part and renamed into place only
# when complete, so an interrupted run leaves nothing half-made behind at DIR.
# Besides the unpacked packages the prefix gets `openxr_monado.json` (the runtime manifest for
# XR_RUNTIME_JSON) and `libpath` (the library path for the prefix's loader, one line).
# experience/xr/monado.py starts and stops monado-service with the recipe's environment.
#
# Exit codes: 0 ready (the prefix is printed on the last line), 2 not possible here (one line why).
set -euo pipefail
trap 'echo "setup_monado: failed at line $LINENO" >&2; exit 2' ERR

RECIPE_VERSION=1
PACKAGES="monado-service libopenxr1-monado mesa-vulkan-drivers libgl1-mesa-dri libglx-mesa0 libegl-mesa0 libegl1 libgl1 libglx0 libopengl0"
SUITE=trixie

prefix="${ASTP_MONADO_PREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/handshake-in-orbit/monado}"
print_only=0
force=0
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix="$2"; shift 2 ;;
        --prefix=*) prefix="${1#--prefix=}"; shift ;;
        --print-prefix) print_only=1; shift ;;
        --force) force=1; shift ;;
        -h|--help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "setup_monado: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
prefix="$(realpath -m "$prefix")"
stamp="$prefix/.complete"
want="recipe=$RECIPE_VERSION suite=$SUITE packages=$PACKAGES"

if [ "$print_only" = 1 ]; then echo "$prefix"; exit 0; fi
if [ "$force" = 0 ] && [ -f "$stamp" ] && [ "$(head -n1 "$stamp")" = "$want" ]; then
    echo "$prefix"
    exit 0
fi

fail() { echo "setup_monado: $*" >&2; exit 2; }

[ "$(uname -s)" = Linux ] || fail "Monado's Debian packages need Linux; on other systems install an OpenXR runtime (SteamVR, Meta Quest Link, Windows Mixed Reality)"
arch="$(dpkg --print-architecture 2>/dev/null || true)"
[ "$arch" = amd64 ] || fail "this script knows the amd64 packages only (this is ${arch:-not a Debian system}); install Monado from your distribution"
command -v apt-get >/dev/null || fail "apt-get is missing (not a Debian system); install Monado from your distribution"
command -v dpkg-deb >/dev/null || fail "dpkg-deb is missing; apt-get install dpkg"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$keyring" ] || fail "$keyring is missing; apt-get install debian-archive-keyring"

mirror="${ASTP_DEBIAN_MIRROR:-}"
if [ -z "$mirror" ]; then
    mirror="$( (cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null || true) \
        | grep -Eo '(https?|file)://[^ ]*/debian/?( |$)' | grep -v -- '-security' | head -n1 | tr -d ' ' || true)"
fi
[ -n "$mirror" ] || fail "no Debian mirror in this system's apt sources; set ASTP_DEBIAN_MIRROR to one (a URI ending in /debian)"

parent="$(dirname "$prefix")"
mkdir -p "$parent" || fail "cannot create $parent"
work="$prefix.part"
rm -rf "$work"
mkdir -p "$work/.apt/state/lists/partial" "$work/.apt/cache/archives/partial" "$work/.apt/etc/sources.list.d" \
         "$work/.apt/etc/preferences.d"
trap 'rm -rf "$work"' EXIT
: > "$work/.apt/state/status"
cat > "$work/.apt/etc/sources.list.d/trixie.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $SUITE
Components: main
Signed-By: $keyring
EOF
: > "$work/.apt/etc/sources.list"

apt_opts=(
    -o "Dir::Etc::SourceList=$work/.apt/etc/sources.list"
    -o "Dir::Etc::SourceParts=$work/.apt/etc/sources.list.d"
    -o "Dir::Etc::Preferences=$work/.apt/etc/preferences"
    -o "Dir::Etc::PreferencesParts=$work/.apt/etc/preferences.d"
    -o "Dir::State=$work/.apt/state"
    -o "Dir::State::Lists=$work/.apt/state/lists"
    -o "Dir::State::status=$work/.apt/state/status"
    -o "Dir::Cache=$work/.apt/cache"
    -o "Dir::Cache::Archives=$work/.apt/cache/archives"
    -o "Debug::NoLocking=1"
    -o "APT::Architecture=amd64"
    -o "APT::Architectures=amd64"
    -o "APT::Install-Recommends=false"
    -o "APT::Sandbox::User=root"
    -o "Acquire::Languages=none"
)
log="$work/.apt/log"
t0=$(date +%s)
echo "setup_monado: downloading Monado ($SUITE) into $prefix (about 165 MB, once)" >&2
if ! apt-get "${apt_opts[@]}" -q update > "$log" 2>&1; then
    fail "apt-get update of the private $SUITE sources failed: $(grep -E '^(E|W):' "$log" | tail -n1)"
fi
# shellcheck disable=SC2086
if ! DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" -q -y --download-only install $PACKAGES >> "$log" 2>&1; then
    fail "apt-get --download-only failed: $(grep -E '^(E|W):' "$log" | tail -n1)"
fi
n=0
version=""
for deb in "$work"/.apt/cache/archives/*.deb; do
    dpkg-deb -x "$deb" "$work" || fail "dpkg-deb -x $(basename "$deb") failed"
    case "$(basename "$deb")" in monado-service_*) version="$(dpkg-deb -f "$deb" Version)" ;; esac
    n=$((n + 1))
done
[ -f "$work/usr/lib/x86_64-linux-gnu/libopenxr_monado.so" ] || [ -f "$work/usr/lib/x86_64-linux-gnu/libopenxr_monado.so.25" ] \
    || ls "$work"/usr/lib/x86_64-linux-gnu/libopenxr_monado.so* >/dev/null 2>&1 \
    || fail "the packages did not contain libopenxr_monado.so"
[ -x "$work/usr/bin/monado-service" ] || fail "the packages did not contain monado-service"
rm -rf "$work/.apt/cache" "$work/.apt/state/lists"

# The runtime manifest (XR_RUNTIME_JSON) and the loader's library path.
lib="$(ls "$work"/usr/lib/x86_64-linux-gnu/libopenxr_monado.so* | head -n1)"
lib="$prefix/usr/lib/x86_64-linux-gnu/$(basename "$lib")"
cat > "$work/openxr_monado.json" <<EOF
{"file_format_version": "1.0.0", "runtime": {"name": "Monado", "library_path": "$lib"}}
EOF
(cd "$work" && find usr/lib -name '*.so*' -printf '%h\n' | sort -u | sed "s#^#$prefix/#" | paste -sd: -) > "$work/libpath"
{ echo "$want"; echo "monado-service ${version:-unknown}"; echo "packages $n"; echo "mirror $mirror"; } > "$work/.complete.tmp"
mv "$work/.complete.tmp" "$work/.complete"

rm -rf "$prefix"
mv "$work" "$prefix"
trap - EXIT
echo "setup_monado: ready in $(( $(date +%s) - t0 )) s ($n packages)" >&2
echo "$prefix"
