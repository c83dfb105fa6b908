#!/bin/sh
# Build deploy/Containerfile on a machine that reaches a Debian mirror but no
# container registry: make the debian:12 and debian:12-slim base images
# locally with debootstrap, then build with podman without pulling.
# Run as root from anywhere; see docs/DEPLOY.md, "Building without a registry".
#
#   deploy/build_offline.sh [TAG]        (default tritonc-server:0.1.0)
#
# Environment:
#   MIRROR    Debian mirror         (default http://deb.debian.org/debian)
#   SECURITY  security mirror       (default http://deb.debian.org/debian-security)
#   ROOTFS    debootstrap target    (default /var/tmp/rootfs-debian12; reused if present)
#   REBASE=1  re-import the base images even if they exist
#   SRC       build context         (default: the checkout holding this script;
#             a clean one is `git archive HEAD | tar -x -C DIR`)
#   ISOLATION podman build --isolation (default chroot; oci needs a working runtime)
set -eu

TAG=${1:-tritonc-server:0.1.0}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SECURITY=${SECURITY:-http://deb.debian.org/debian-security}
ROOTFS=${ROOTFS:-/var/tmp/rootfs-debian12}
REBASE=${REBASE:-0}
ISOLATION=${ISOLATION:-chroot}
SRC=${SRC:-$(cd "$(dirname "$0")/.." && pwd)}
BASE=docker.io/library/debian:12
SLIM=docker.io/library/debian:12-slim

if [ "$(id -u)" -ne 0 ]; then
    echo "build_offline.sh: run as root (debootstrap and podman import need it)" >&2
    exit 1
fi

# 1. The tools, from Debian 12.
need=""
for p in podman buildah debootstrap; do
    command -v "$p" >/dev/null 2>&1 || need="$need $p"
done
if [ -n "$need" ]; then
    apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
fi

# 2. A minimal Debian 12 root filesystem, with the apt sources the official
#    image has (bookworm, bookworm-updates, bookworm-security).
if [ ! -x "$ROOTFS/usr/bin/apt-get" ]; then
    debootstrap --variant=minbase bookworm "$ROOTFS" "$MIRROR"
fi
rm -f "$ROOTFS/etc/apt/sources.list"
cat > "$ROOTFS/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin \
       "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/log/*.log

# 3. Import it under the names the Containerfile's FROM lines use. The slim
#    variant also tells dpkg to skip docs, man pages and translations (as the
#    official -slim image does) and drops the ones debootstrap installed.
# import_as IMAGE DIR: DIR's tree as a one-layer image with the official
# image's PATH and CMD.
import_as() {
    tar -C "$2" --numeric-owner -c . | podman import \
        --change ENV=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        --change 'CMD=["bash"]' - "$1"
}
if [ "$REBASE" = 1 ] || ! podman image exists "$BASE"; then
    import_as "$BASE" "$ROOTFS"
fi
if [ "$REBASE" = 1 ] || ! podman image exists "$SLIM"; then
    slim=$(mktemp -d /var/tmp/rootfs-slim.XXXXXX)
    tar -C "$ROOTFS" --numeric-owner -c . | tar -C "$slim" --numeric-owner -x
    cat > "$slim/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
EOF
    find "$slim/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete
    rm -rf "$slim"/usr/share/man/* "$slim"/usr/share/info/* "$slim"/usr/share/locale/*
    import_as "$SLIM" "$slim"
    rm -rf "$slim"
fi

# 4. Build. --pull=never: the FROM images must come from local storage;
#    --network host: the RUN steps reach the Debian mirror for apt-get;
#    --isolation chroot: RUN steps need no OCI runtime, cgroups or rlimit
#    changes (sandboxes and VMs with hybrid cgroups often refuse those).
cd "$SRC"
podman build --pull=never --network host --isolation "$ISOLATION" \
    -f deploy/Containerfile --ignorefile deploy/Containerfile.dockerignore \
    -t "$TAG" .
podman images "$TAG"
