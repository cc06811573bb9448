#!/usr/bin/env bash
# .ci/cares_trixie.sh PREFIX [--force]
#
# Make c-ares 1.34.x as shipped by Debian 13 (trixie) available under PREFIX on a
# Debian 12 (bookworm) machine, WITHOUT touching the system c-ares (bookworm's
# libc-ares-dev 1.18.1 stays the system one). CI uses this to build and test
# pycares_ng against both ends of its supported c-ares range (1.18 .. 1.34).
#
# How:
#   1. A private apt setup (own sources.list, lists, cache and status under a temp
#      dir, passed via APT_CONFIG) that points at trixie on the same mirror host the
#      system already uses. The system's apt state is neither read nor written.
#   2. Binary route: `apt-get download` trixie's libc-ares-dev + its runtime
#      package, `dpkg-deb -x` them, rewrite libcares.pc. Used only if the shared
#      library's glibc symbol versions are satisfied by this system's glibc.
#      (On bookworm they are not: trixie's libcares.so.2 needs GLIBC_2.38 for
#      __isoc23_strtol/__isoc23_strtoul, bookworm has glibc 2.36.)
#   3. Source route (fallback): fetch a c-ares 1.34 source (orig tarball + Debian
#      patches), apply the Debian patch series, build with cmake into PREFIX (lib/,
#      no multiarch dir). Candidates, in order, until one can be fetched:
#        a. every $SERIES.x version the signed Sources index lists, newest first
#           (files checked against the index's SHA256);
#        b. the pinned list below (files checked against the SHA256 kept here),
#           looked up in the mirror's and the security mirror's pool.
#      Mirrors drop superseded sources while the index moves on (trixie once listed
#      only 1.34.9-1~deb13u1, whose files 404), so the run never depends on what an
#      index lists today. It fails, naming every candidate and why, only when none
#      can be fetched.
#   4. Verify: header ARES_VERSION_STR, pkg-config --modversion, and a tiny C
#      program linked with rpath that must load PREFIX's library at run time.
#
# Result layout:  PREFIX/include/ares*.h   PREFIX/lib/libcares.so*
#                 PREFIX/lib/pkgconfig/libcares.pc   PREFIX/share/cares_trixie/BUILD-INFO
# Use it with:    PKG_CONFIG_PATH=PREFIX/lib/pkgconfig  and link with -Wl,-rpath,PREFIX/lib
#                 (or LD_LIBRARY_PATH=PREFIX/lib at run time). The SONAME is libcares.so.2,
#                 the same as the system 1.18.1 library, so without rpath/LD_LIBRARY_PATH
#                 a binary built against PREFIX silently runs on the system 1.18.1 at run time.
#
# Idempotent: if PREFIX already holds a working 1.34.x, it only re-verifies (use
# --force to rebuild). Needs root only to apt-get install missing build tools.
#
# Environment overrides (defaults in brackets):
#   CARES_SUITE [trixie]   CARES_SERIES [1.34]
#   CARES_MIRROR [the system's Debian mirror, from /etc/apt]   CARES_SECURITY_MIRROR [likewise]
#   CARES_ROUTE [auto]: auto | binary | source   (binary/source force one route, no fallback)
#   CARES_KEYRING [/usr/share/keyrings/debian-archive-keyring.gpg]
#   CARES_PINNED_FILE: lines "VERSION ORIG SHA256 DEBIAN_TAR|- SHA256|-" replacing the pinned list
#   CARES_FETCH_ONLY=1: stop after choosing and fetching a source; print "chosen: ..." (tests)
#   CARES_APT_TRUSTED=1: accept an unsigned index (only for the script's offline tests)

set -Eeuo pipefail

SUITE=${CARES_SUITE:-trixie}
SERIES=${CARES_SERIES:-1.34}
ROUTE=${CARES_ROUTE:-auto}
KEYRING=${CARES_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}

# Known-good Debian sources of $SERIES, tried after the index's own versions: version,
# orig tarball and its sha256, Debian tarball and its sha256 ("-" for none: upstream as is).
PINNED_DEFAULT="
1.34.5-1+deb13u1 c-ares_1.34.5.orig.tar.gz 7d935790e9af081c25c495fd13c2cfcda4792983418e96358ef6e7320ee06346 c-ares_1.34.5-1+deb13u1.debian.tar.xz f815c2a7bf9dade9e98ac06ecf19de05678d3bd8507e6c0e60e4187320b30be5
1.34.5 c-ares_1.34.5.orig.tar.gz 7d935790e9af081c25c495fd13c2cfcda4792983418e96358ef6e7320ee06346 - -
"

log()  { printf '[cares_trixie] %s\n' "$*"; }
warn() { printf '[cares_trixie] WARNING: %s\n' "$*" >&2; }
die()  { printf '[cares_trixie] ERROR: %s\n' "$*" >&2; exit 1; }
# Any unexpected failure under `set -e` still says where it happened.
trap 'rc=$?; printf "[cares_trixie] ERROR: command failed (exit %s) at line %s: %s\n" "$rc" "$LINENO" "$BASH_COMMAND" >&2' ERR

usage() { echo "usage: $0 PREFIX [--force]" >&2; exit 2; }

# ---------------------------------------------------------------- arguments
PREFIX="" FORCE=0
for a in "$@"; do
    case "$a" in
        --force) FORCE=1 ;;
        -h|--help) usage ;;
        -*) usage ;;
        *) [ -z "$PREFIX" ] || usage; PREFIX=$a ;;
    esac
done
[ -n "$PREFIX" ] || usage
PREFIX=$(realpath -m -- "$PREFIX")
# These are on the default linker/loader paths: installing there WOULD replace the
# system c-ares for everything, which is exactly what this script must not do.
case "$PREFIX" in
    /|/usr|/usr/local|/usr/lib*|/lib*) die "refusing PREFIX=$PREFIX: it would shadow the system c-ares; use a private dir such as /opt/cares-$SERIES" ;;
esac
case "$ROUTE" in auto|binary|source) ;; *) die "CARES_ROUTE must be auto, binary or source (got '$ROUTE')" ;; esac

START=$SECONDS
WORK=$(mktemp -d /tmp/cares_trixie.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# ---------------------------------------------------------------- tools
# Install missing build tools from the *system* (bookworm) repositories.
# Argument pairs: command package.
SYSTEM_APT_UPDATED=0
need_tools() {
    local missing=()
    while [ $# -ge 2 ]; do
        command -v "$1" >/dev/null 2>&1 || missing+=("$2")
        shift 2
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" -eq 0 ] || die "missing tools (packages: ${missing[*]}) and not root to install them"
    log "installing missing build tools from the system repositories: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if [ "$SYSTEM_APT_UPDATED" -eq 0 ]; then
        apt-get -q -o DPkg::Lock::Timeout=300 update >"$WORK/system-apt.log" 2>&1 \
            || { tail -20 "$WORK/system-apt.log" >&2; die "system apt-get update failed"; }
        SYSTEM_APT_UPDATED=1
    fi
    apt-get -q -y -o DPkg::Lock::Timeout=300 install --no-install-recommends "${missing[@]}" \
        >>"$WORK/system-apt.log" 2>&1 \
        || { tail -20 "$WORK/system-apt.log" >&2; die "could not install: ${missing[*]}"; }
}

# ---------------------------------------------------------------- verification
# The tiny C program: compile-time header version, run-time library version, and a
# real channel init/destroy. Deprecation warnings (ares_init) are irrelevant here.
write_check_program() {
    cat >"$1" <<'EOF'
#include <stdio.h>
#include <string.h>
#include <ares.h>
int main(void) {
    int num = 0;
    const char *rt = ares_version(&num);
    printf("header ARES_VERSION_STR: %s\n", ARES_VERSION_STR);
    printf("ares_version(NULL):      %s\n", ares_version(NULL));
    printf("ares_version(&num):      %s (0x%06x)\n", rt, num);
    if (strcmp(rt, ARES_VERSION_STR) != 0) {
        printf("MISMATCH: header %s but run-time library %s\n", ARES_VERSION_STR, rt);
        return 4;
    }
    int r = ares_library_init(ARES_LIB_INIT_ALL);
    printf("ares_library_init:       %s\n", ares_strerror(r));
    if (r != ARES_SUCCESS) return 2;
    ares_channel ch;
    r = ares_init(&ch);
    printf("ares_init:               %s\n", ares_strerror(r));
    if (r != ARES_SUCCESS) return 3;
    ares_destroy(ch);
    printf("ares_destroy:            ok\n");
    ares_library_cleanup();
    return 0;
}
EOF
}

# verify_prefix [quiet]: 0 if PREFIX holds a working $SERIES.x c-ares.
# Prints the reason for a failure (to stderr unless quiet).
VERIFY_OUTPUT=""
verify_prefix() {
    local quiet=${1:-} say=warn hdr pcdir ver pclib dir
    [ "$quiet" = quiet ] && say=:
    hdr=$PREFIX/include/ares_version.h
    pcdir=$PREFIX/lib/pkgconfig
    [ -f "$hdr" ] || { $say "no $hdr"; return 1; }
    ver=$(sed -n 's/^#define ARES_VERSION_STR "\(.*\)"/\1/p' "$hdr")
    [[ "$ver" == "$SERIES".* ]] || { $say "header says ARES_VERSION_STR=\"$ver\", want $SERIES.x"; return 1; }
    [ -e "$PREFIX/lib/libcares.so" ] || { $say "no $PREFIX/lib/libcares.so (dev symlink)"; return 1; }
    [ -f "$pcdir/libcares.pc" ] || { $say "no $pcdir/libcares.pc"; return 1; }
    ver=$(PKG_CONFIG_PATH=$pcdir pkg-config --modversion libcares 2>/dev/null || true)
    [[ "$ver" == "$SERIES".* ]] || { $say "pkg-config --modversion libcares = '$ver', want $SERIES.x"; return 1; }
    pclib=$(PKG_CONFIG_PATH=$pcdir pkg-config --variable=libdir libcares)
    [ "$pclib" = "$PREFIX/lib" ] || { $say "libcares.pc libdir=$pclib, want $PREFIX/lib"; return 1; }

    dir=$(mktemp -d "$WORK/check.XXXX")
    write_check_program "$dir/check.c"
    # shellcheck disable=SC2046  # word splitting of pkg-config output is intended
    if ! cc -Wall -Wno-deprecated-declarations -o "$dir/check" "$dir/check.c" \
            $(PKG_CONFIG_PATH=$pcdir pkg-config --cflags --libs libcares) \
            -Wl,-rpath,"$PREFIX/lib" >"$dir/cc.log" 2>&1; then
        $say "test program does not compile/link against $PREFIX:"; [ "$quiet" = quiet ] || cat "$dir/cc.log" >&2
        return 1
    fi
    if ! VERIFY_OUTPUT=$("$dir/check" 2>&1); then
        $say "test program failed:"; [ "$quiet" = quiet ] || printf '%s\n' "$VERIFY_OUTPUT" >&2
        return 1
    fi
    # Belt and braces: the loader must pick PREFIX's libcares.so.2, not the system one.
    # (ldd's output is taken whole first: `ldd | grep -q` under pipefail fails at random when grep
    # exits before ldd has written everything and ldd dies of SIGPIPE.)
    local libs
    libs=$(ldd "$dir/check")
    if ! grep -q "libcares.so.2 => $PREFIX/lib/" <<<"$libs"; then
        $say "test program does not load libcares.so.2 from $PREFIX/lib:"; ldd "$dir/check" >&2
        return 1
    fi
    VERIFY_OUTPUT="$VERIFY_OUTPUT
ldd: $(ldd "$dir/check" | grep libcares.so.2 | sed 's/^[[:space:]]*//')"
    return 0
}

report_and_exit() {
    local how=$1
    log "----------------------------------------------------------------"
    log "$how"
    log "c-ares version : $(PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig pkg-config --modversion libcares)"
    [ -f "$PREFIX/share/cares_trixie/BUILD-INFO" ] && sed 's/^/[cares_trixie]   /' "$PREFIX/share/cares_trixie/BUILD-INFO"
    log "include dir    : $PREFIX/include"
    log "lib dir        : $PREFIX/lib"
    log "pkg-config file: $PREFIX/lib/pkgconfig/libcares.pc"
    log "test program output:"
    printf '%s\n' "$VERIFY_OUTPUT" | sed 's/^/    /'
    log "use: PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig, link with -Wl,-rpath,$PREFIX/lib (or run with LD_LIBRARY_PATH=$PREFIX/lib)"
    log "took $((SECONDS - START))s"
    exit 0
}

need_tools cc build-essential pkg-config pkg-config
if [ "$FORCE" -eq 0 ] && verify_prefix quiet; then
    report_and_exit "$PREFIX already has a working c-ares $SERIES.x; nothing to do (use --force to rebuild)"
fi
[ "$FORCE" -eq 1 ] && log "--force: rebuilding $PREFIX"

need_tools apt-get apt dpkg-deb dpkg objdump binutils xz xz-utils

# ---------------------------------------------------------------- private apt
# Reuse the host of the system's Debian mirror (CI may only reach that one).
# Prints the first URI serving suite $1 from one-line (.list) or deb822 (.sources) files.
system_uri_for_suite() {
    local suite=$1 f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        # deb [opts] URI SUITE COMPONENTS...
        sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" | awk -v s="$suite" '$1=="deb" && $3==s {print $2; exit}'
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk -v s="$suite" '
            function flush() { if (uris != "" && enabled && (" " suites " ") ~ (" " s " ") && (" " types " ") ~ / deb /) { split(uris, u, " "); print u[1]; found=1 } uris=suites=types=""; enabled=1 }
            BEGIN { enabled=1 }
            /^[[:space:]]*#/ { next }
            /^[[:space:]]*$/ { flush(); if (found) exit; next }
            tolower($1)=="uris:"    { $1=""; uris=$0 }
            tolower($1)=="suites:"  { $1=""; suites=$0 }
            tolower($1)=="types:"   { $1=""; types=$0 }
            tolower($1)=="enabled:" { enabled = (tolower($2) != "no") }
            END { if (!found) flush() }' "$f"
    done
}
CODENAME=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
MIRROR=${CARES_MIRROR:-$(system_uri_for_suite "$CODENAME" | head -1)}
SECURITY_MIRROR=${CARES_SECURITY_MIRROR:-$(system_uri_for_suite "$CODENAME-security" | head -1)}
if [ -z "$MIRROR" ]; then
    MIRROR=http://deb.debian.org/debian
    warn "no '$CODENAME' entry found in /etc/apt sources; using $MIRROR"
fi
MIRROR=${MIRROR%/}; SECURITY_MIRROR=${SECURITY_MIRROR%/}
[ -n "$SECURITY_MIRROR" ] || SECURITY_MIRROR=$MIRROR-security
[ -r "$KEYRING" ] || [ "${CARES_APT_TRUSTED:-0}" = 1 ] || die "$KEYRING missing (package debian-archive-keyring)"

APT_OPTS="signed-by=$KEYRING"
[ "${CARES_APT_TRUSTED:-0}" = 1 ] && APT_OPTS="trusted=yes"
A=$WORK/apt
mkdir -p "$A/sources.list.d" "$A/preferences.d" "$A/state/lists/partial" "$A/cache/archives/partial"
: >"$A/state/status"
{
    echo "deb     [$APT_OPTS] $MIRROR $SUITE main"
    echo "deb-src [$APT_OPTS] $MIRROR $SUITE main"
    # c-ares security fixes land here first (e.g. 1.34.5-1+deb13u1, CVE-2025-62408).
    echo "deb     [$APT_OPTS] $SECURITY_MIRROR $SUITE-security main"
    echo "deb-src [$APT_OPTS] $SECURITY_MIRROR $SUITE-security main"
} >"$A/sources.list"
# APT_CONFIG replaces only /etc/apt/apt.conf; /etc/apt/apt.conf.d (e.g. proxies) still applies.
# Every state/cache/source path is private, so the system's apt lists, cache, pins
# and dpkg status are untouched and no system apt lock is taken.
cat >"$A/apt.conf" <<EOF
Dir::Etc::SourceList "$A/sources.list";
Dir::Etc::SourceParts "$A/sources.list.d";
Dir::Etc::Preferences "$A/preferences";
Dir::Etc::PreferencesParts "$A/preferences.d";
Dir::State "$A/state";
Dir::State::status "$A/state/status";
Dir::Cache "$A/cache";
APT::Architectures { "$(dpkg --print-architecture)"; };
Acquire::Languages "none";
APT::Sandbox::User "root";
EOF
papt() { APT_CONFIG=$A/apt.conf "$@"; }

log "private apt: $SUITE (+$SUITE-security) from $MIRROR and $SECURITY_MIRROR"
# A failed or partial index update is not fatal: the pinned sources below do not need it.
INDEX_OK=1
if ! papt apt-get -q update >"$WORK/apt-update.log" 2>&1 \
        || grep -qE '^(W|E): .*(NO_PUBKEY|not signed|Failed to fetch|does not have a Release file)' "$WORK/apt-update.log"; then
    grep -E '^(W|E):' "$WORK/apt-update.log" | head -5 >&2 || true
    warn "apt-get update for $SUITE failed or was incomplete; its index is not used (pinned sources still are)"
    INDEX_OK=0
fi

write_build_info() {
    mkdir -p "$PREFIX/share/cares_trixie"
    {
        echo "route: $1"
        echo "debian package version: $2"
        echo "why: $3"
        echo "from: $MIRROR $SUITE (+$SUITE-security)"
        echo "built on: $(. /etc/os-release && echo "$PRETTY_NAME"), glibc $(getconf GNU_LIBC_VERSION | awk '{print $2}'), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    } >"$PREFIX/share/cares_trixie/BUILD-INFO"
}

# Point libcares.pc at PREFIX (Debian's says /usr, and its exec_prefix=${prefix}/bin is bogus).
fix_pc() {
    local pc=$1 libdir=$2
    sed -i \
        -e "s|^prefix=.*|prefix=$PREFIX|" \
        -e 's|^exec_prefix=.*|exec_prefix=${prefix}|' \
        -e "s|^libdir=.*|libdir=$libdir|" \
        -e 's|^includedir=.*|includedir=${prefix}/include|' \
        "$pc"
}

# ---------------------------------------------------------------- binary route
GLIBC_HAVE=$(getconf GNU_LIBC_VERSION | awk '{print $2}')
BINARY_WHY=""
try_binary() {
    local d=$WORK/deb dev libpkg ver so need too_new st multi
    mkdir -p "$d"
    log "binary route: apt-get download libc-ares-dev (+ its runtime package) from $SUITE"
    # In trixie the library lives in libcares2; libc-ares2 is only a transitional
    # package, so take whatever libc-ares-dev actually depends on.
    [ "$INDEX_OK" = 1 ] || { BINARY_WHY="no usable $SUITE index"; log "  binary route NOT usable: $BINARY_WHY"; return 1; }
    if ! (cd "$d" && papt apt-get -q download libc-ares-dev) >"$WORK/download.log" 2>&1; then
        BINARY_WHY="apt-get download libc-ares-dev failed: $(grep -E '^E:' "$WORK/download.log" | head -1)"
        log "  binary route NOT usable: $BINARY_WHY"; return 1
    fi
    dev=$(ls "$d"/libc-ares-dev_*.deb)
    ver=$(dpkg-deb -f "$dev" Version)
    libpkg=$(dpkg-deb -f "$dev" Depends | sed 's/[ (,|].*//')
    if [[ "$ver" != "$SERIES".* ]]; then
        BINARY_WHY="$SUITE has libc-ares-dev $ver, not $SERIES.x"; log "  binary route NOT usable: $BINARY_WHY"; return 1
    fi
    if ! (cd "$d" && papt apt-get -q download "$libpkg=$ver") >>"$WORK/download.log" 2>&1; then
        BINARY_WHY="apt-get download $libpkg=$ver failed"; log "  binary route NOT usable: $BINARY_WHY"; return 1
    fi
    log "  got libc-ares-dev $ver and $libpkg $ver"

    st=$WORK/bin-stage
    for deb in "$d"/*.deb; do dpkg-deb -x "$deb" "$st"; done
    so=$(ls "$st"/usr/lib/*/libcares.so.2.* | head -1)
    [ -f "$so" ] || { BINARY_WHY="no libcares.so.2.* in $libpkg"; return 1; }

    # Newest glibc symbol version the library needs vs the one we have.
    need=$(objdump -T "$so" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)
    if [ "$(printf '%s\n%s\n' "$need" "$GLIBC_HAVE" | sort -V | tail -1)" != "$GLIBC_HAVE" ]; then
        too_new=$(objdump -T "$so" | awk -v h="$GLIBC_HAVE" '
            match($0, /GLIBC_[0-9.]+/) { v=substr($0, RSTART+6, RLENGTH-6); n=split(v, a, "."); split(h, b, ".");
              if (a[1]+0 > b[1]+0 || (a[1]+0 == b[1]+0 && a[2]+0 > b[2]+0)) print $NF "@GLIBC_" v }' | sort -u | tr '\n' ' ')
        BINARY_WHY="$SUITE's libcares.so.2 ($ver) needs glibc $need (${too_new% }) but this system has glibc $GLIBC_HAVE"
        log "  binary route NOT usable: $BINARY_WHY"
        return 1
    fi
    log "  glibc check ok (needs $need, have $GLIBC_HAVE); installing into $PREFIX"

    # Keep Debian's multiarch layout (its cmake config files refer to it) and make
    # PREFIX/lib the one place consumers look: symlinks to the libraries + the .pc file.
    multi=$(basename "$(dirname "$so")")
    mkdir -p "$PREFIX/lib/pkgconfig"
    cp -a "$st/usr/." "$PREFIX/"
    for f in "$PREFIX/lib/$multi"/libcares.so*; do
        ln -sfn "$multi/$(basename "$f")" "$PREFIX/lib/$(basename "$f")"
    done
    fix_pc "$PREFIX/lib/$multi/pkgconfig/libcares.pc" '${prefix}/lib'
    cp "$PREFIX/lib/$multi/pkgconfig/libcares.pc" "$PREFIX/lib/pkgconfig/libcares.pc"
    write_build_info binary "$ver" "prebuilt $SUITE packages run on this glibc ($GLIBC_HAVE >= $need); multiarch dir lib/$multi, symlinked into lib/"
    if verify_prefix; then return 0; fi
    BINARY_WHY="prebuilt $SUITE library installed but failed verification"
    return 1
}

# ---------------------------------------------------------------- source route
# Each candidate that cannot be fetched adds "what: why" here, for the one failure message.
TRIED=()
FETCH_WHY=""
SRC_ORIG="" SRC_DEBTAR="" SRC_VERSION="" SRC_FROM=""

# fetch_indexed VERSION DIR: download that c-ares source version's orig + debian
# tarballs into DIR. Returns 1 (reason in FETCH_WHY) if the mirror does not serve them.
# --print-uris lists every file with its SHA256 from the signed Sources index; we
# download just the two tarballs with apt's own HTTP client (apt-helper verifies
# the hash) and unpack them ourselves. So no .dsc is needed, which some
# mirrors/proxies do not serve.
fetch_indexed() {
    local ver=$1 d=$2 uri name hash
    SRC_ORIG="" SRC_DEBTAR=""
    rm -rf "$d"; mkdir -p "$d"
    if ! (cd "$d" && papt apt-get -q source --print-uris "c-ares=$ver") >"$WORK/source-uris.log" 2>&1; then
        FETCH_WHY="apt-get source --print-uris failed: $(grep -E '^E:' "$WORK/source-uris.log" | head -1)"
        return 1
    fi
    while read -r uri name _ hash; do
        uri=${uri//\'/}
        case "$name" in
            *.asc|*.dsc)    continue ;;   # not needed: apt checked the index signature
            *.orig.tar.*)   SRC_ORIG=$name ;;
            *.debian.tar.*) SRC_DEBTAR=$name ;;
            *)              continue ;;
        esac
        if ! papt /usr/lib/apt/apt-helper download-file "$uri" "$d/$name" "$hash" >"$WORK/source-dl.log" 2>&1; then
            FETCH_WHY="$(sed -n 's/^E: //p' "$WORK/source-dl.log" | head -1)"
            return 1
        fi
    done < <(grep "^'" "$WORK/source-uris.log")
    if [ -z "$SRC_ORIG" ] || [ -z "$SRC_DEBTAR" ]; then
        FETCH_WHY="no orig/debian tarball pair listed (not a 3.0 (quilt) source?)"
        return 1
    fi
}

# fetch_pinned_file NAME SHA256 DIR: NAME from the mirror's pool, else the security
# mirror's; apt-helper refuses a file whose SHA256 differs from the pinned one.
fetch_pinned_file() {
    local name=$1 sha=$2 d=$3 url why=""
    for url in "$MIRROR/pool/main/c/c-ares/$name" "$SECURITY_MIRROR/pool/updates/main/c/c-ares/$name"; do
        if papt /usr/lib/apt/apt-helper download-file "$url" "$d/$name" "SHA256:$sha" >"$WORK/pin-dl.log" 2>&1; then
            return 0
        fi
        why="$why; $(sed -n 's/^E: //p' "$WORK/pin-dl.log" | head -1)"
        rm -f "$d/$name"
    done
    FETCH_WHY=${why#; }
    return 1
}

upstream_of() { local u=${1%%-*}; echo "${u#*:}"; }

# choose_source DIR: the first candidate that can be fetched into DIR (index versions
# newest first, then the pinned list). Sets SRC_*; returns 1 with TRIED filled if none.
choose_source() {
    local d=$1 v orig osha deb dsha versions="" pinned=$PINNED_DEFAULT
    if [ "$INDEX_OK" = 1 ]; then
        versions=$(papt apt-cache madison c-ares | awk -F'|' '$3 ~ /Sources/ { gsub(/ /, "", $2); print $2 }' | sort_debian_versions_desc)
    fi
    log "  source versions in the $SUITE index: $(echo ${versions:-none})"
    for v in $versions; do
        if [[ "$(upstream_of "$v")" != "$SERIES".* ]]; then TRIED+=("index $v: not $SERIES.x"); continue; fi
        if fetch_indexed "$v" "$d"; then SRC_VERSION=$v SRC_FROM="$SUITE index"; return 0; fi
        warn "c-ares $v (index): $FETCH_WHY"
        TRIED+=("index $v: $FETCH_WHY")
    done
    [ -n "${CARES_PINNED_FILE:-}" ] && pinned=$(cat "$CARES_PINNED_FILE")
    while read -r v orig osha deb dsha; do
        case "$v" in ''|'#'*) continue ;; esac
        if [[ "$(upstream_of "$v")" != "$SERIES".* ]]; then TRIED+=("pinned $v: not $SERIES.x"); continue; fi
        rm -rf "$d"; mkdir -p "$d"
        if fetch_pinned_file "$orig" "$osha" "$d" && { [ "$deb" = - ] || fetch_pinned_file "$deb" "$dsha" "$d"; }; then
            SRC_VERSION=$v SRC_FROM="pinned" SRC_ORIG=$orig SRC_DEBTAR=""
            [ "$deb" = - ] || SRC_DEBTAR=$deb
            return 0
        fi
        warn "c-ares $v (pinned): $FETCH_WHY"
        TRIED+=("pinned $v: $FETCH_WHY")
    done <<<"$pinned"
    return 1
}

sort_debian_versions_desc() {
    local v out=() i j
    while read -r v; do
        [ -n "$v" ] || continue
        for j in "${out[@]}"; do [ "$j" = "$v" ] && continue 2; done
        # insertion sort with dpkg's own comparison (sort -V gets ~ and epochs wrong)
        for ((i = ${#out[@]}; i > 0; i--)); do
            dpkg --compare-versions "${out[i-1]}" ge "$v" && break
            out[i]=${out[i-1]}
        done
        out[i]=$v
    done
    [ ${#out[@]} -eq 0 ] || printf '%s\n' "${out[@]}"
}

build_source() {
    local d=$WORK/src upstream src build p opt
    log "source route: fetching a c-ares $SERIES.x source"
    if ! choose_source "$d"; then
        die "no c-ares $SERIES.x source could be fetched. Tried: $(printf '%s | ' "${TRIED[@]}" | sed 's/ | $//')"
    fi
    log "  chose c-ares $SRC_VERSION ($SRC_FROM): $SRC_ORIG ${SRC_DEBTAR:-(no Debian patches)} (sha256 checked)"
    if [ "${CARES_FETCH_ONLY:-0}" = 1 ]; then
        echo "chosen: $SRC_VERSION ($SRC_FROM) $SRC_ORIG ${SRC_DEBTAR:--}"
        exit 0
    fi
    need_tools cmake cmake make build-essential patch patch
    upstream=$(upstream_of "$SRC_VERSION")

    src=$d/c-ares-$upstream
    mkdir -p "$src"
    tar -xf "$d/$SRC_ORIG" -C "$src" --strip-components=1
    [ -z "$SRC_DEBTAR" ] || tar -xf "$d/$SRC_DEBTAR" -C "$src"
    # Apply Debian's quilt series (includes security fixes such as CVE-2025-62408).
    if [ -f "$src/debian/patches/series" ]; then
        while read -r p opt; do
            case "$p" in ''|'#'*) continue ;; esac
            (cd "$src" && patch --batch --forward -s "${opt:--p1}" <"debian/patches/$p") \
                || die "Debian patch $p does not apply"
            log "  applied debian/patches/$p"
        done <"$src/debian/patches/series"
    fi

    build=$d/build
    log "  cmake configure + build ($(nproc) jobs)"
    # Same switches as Debian's rules (shared lib, hidden private symbols, no tools),
    # minus the static lib and the tests (not needed, and they dominate build time).
    # lib/ instead of lib/<multiarch>, so PREFIX/lib is the single lib dir.
    cmake -S "$src" -B "$build" \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_INSTALL_PREFIX="$PREFIX" \
        -DCMAKE_INSTALL_LIBDIR=lib \
        -DCARES_SHARED=ON -DCARES_STATIC=OFF \
        -DCARES_BUILD_TOOLS=OFF -DCARES_BUILD_TESTS=OFF \
        -DCARES_SYMBOL_HIDING=ON >"$WORK/cmake.log" 2>&1 \
        || { tail -40 "$WORK/cmake.log" >&2; die "cmake configure failed (log above)"; }
    cmake --build "$build" -j "$(nproc)" >>"$WORK/cmake.log" 2>&1 \
        || { tail -40 "$WORK/cmake.log" >&2; die "build failed (log above)"; }
    # Stage first, then copy: a failed build never leaves PREFIX half-written.
    DESTDIR=$WORK/stage cmake --install "$build" >>"$WORK/cmake.log" 2>&1 \
        || { tail -40 "$WORK/cmake.log" >&2; die "cmake install failed (log above)"; }
    mkdir -p "$PREFIX"
    # --remove-destination: replace (not write through) symlinks left by an earlier binary install.
    cp -a --remove-destination "$WORK/stage$PREFIX/." "$PREFIX/"
    [ -e "$PREFIX/lib/libcares.so" ] || die "build did not install $PREFIX/lib/libcares.so"
    fix_pc "$PREFIX/lib/pkgconfig/libcares.pc" '${prefix}/lib'
    write_build_info source "$SRC_VERSION" "${BINARY_WHY:-source route requested}; built with cmake from $SRC_ORIG + ${SRC_DEBTAR:-no} Debian patches ($SRC_FROM)"
    log "  installed into $PREFIX"
}

# ---------------------------------------------------------------- main
case "$ROUTE" in
    binary) try_binary || die "binary route failed: $BINARY_WHY" ;;
    source) build_source ;;
    auto)   if [ "${CARES_FETCH_ONLY:-0}" = 1 ]; then build_source; fi
            try_binary || { log "falling back to building a source"; build_source; } ;;
esac

verify_prefix || die "c-ares in $PREFIX failed verification (see above)"
report_and_exit "done: c-ares from Debian $SUITE installed in $PREFIX"
