#!/usr/bin/env bash
# setup.sh — the project's one set-up script, for a fresh Debian 12 machine (root, or sudo).
#
#   tools/setup.sh              install packages, prepare data/, configure and build build/
#   tools/setup.sh --no-build   packages and data only
#   tools/setup.sh --data-only  data only
#   tools/setup.sh --reference-tools   also install PyTorch (python3-torch), which only
#                               tools/torch_reference.py needs (regenerating tests/reference/);
#                               building and testing do not
#
# 1. Packages: apt-get installs whatever dpkg-query says is missing (nothing to do on a rerun).
# 2. Data (<repo>/data, or $DLC_DATA_OUT): data/mnist/ gets the four MNIST .gz files, symlinked
#    from <repo>/../shared/data/mnist when that copy is present and verified ($DLC_DATA_COPY=1
#    copies instead), else downloaded from $DLC_MNIST_MIRROR (default below; file:// works too).
#    Every file is checked against the SHA-256 sums committed here before it is put in place, so
#    no partial or unverified file is ever left; verified files already there are left alone.
#    data/fashion-mnist/ gets symlinks to Debian's dataset-fashion-mnist files
#    ($DLC_FASHION_SRC overrides /usr/share/datasets/fashion-mnist); if absent, only a note.
# 3. Build: cmake configure (Release) and build into <repo>/build.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DATA_OUT=${DLC_DATA_OUT:-$REPO/data}
MIRROR=${DLC_MNIST_MIRROR:-https://ossci-datasets.s3.amazonaws.com/mnist/}
SHARED_MNIST=$REPO/../shared/data/mnist
FASHION_SRC=${DLC_FASHION_SRC:-/usr/share/datasets/fashion-mnist}

PACKAGES=(build-essential cmake flex bison clang libclang-rt-dev libomp-dev pkg-config libopenblas-dev zlib1g-dev
          libjson-c-dev libminizip-dev libpng-dev python3 python3-numpy curl ca-certificates dataset-fashion-mnist
          universal-ctags)

# --reference-tools: for tools/torch_reference.py only
REFERENCE_PACKAGES=(python3-torch)

MNIST_FILES=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz
             t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)
declare -A MNIST_SHA256=(
  [t10k-images-idx3-ubyte.gz]=8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6
  [t10k-labels-idx1-ubyte.gz]=f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6
  [train-images-idx3-ubyte.gz]=440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609
  [train-labels-idx1-ubyte.gz]=3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c
)

TMPFILE=""  # a download or copy in progress; removed on exit if it was not moved into place
trap 'rm -f "$TMPFILE"' EXIT
trap 'exit 130' INT TERM HUP

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

usage() {
  sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

# Runs a command as root: directly if we are root, else through sudo if there is one.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "not root and sudo is not available: cannot run '$*' (run this script as root)"
  fi
}

install_packages() {
  command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: this script expects Debian 12"
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    say "packages already installed"
    return
  fi
  say "installing packages: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq ||
    die "apt-get update failed"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" ||
    die "apt-get install failed for: ${missing[*]}"
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# True if $1 exists (through symlinks) and has the committed checksum for MNIST file $2.
verified() { [ -f "$1" ] && [ "$(sha256_of "$1")" = "${MNIST_SHA256[$2]}" ]; }

# Moves a wrong or dangling $1 out of the way: symlinks (ours) are removed, anything else is kept
# as $1.bad so nothing the user had is lost.
set_aside() {
  if [ -L "$1" ]; then
    rm -f "$1"
  elif [ -e "$1" ]; then
    say "note: $1 fails its checksum; keeping it as $1.bad"
    mv -f "$1" "$1.bad"
  fi
}

# Puts verified file $2 into place at $1: a symlink, or a copy when DLC_DATA_COPY=1.
link_or_copy() {
  if [ "${DLC_DATA_COPY:-0}" = 1 ]; then
    TMPFILE=$(mktemp "$(dirname "$1")/.tmp.XXXXXX")
    cp "$2" "$TMPFILE"
    chmod 644 "$TMPFILE"
    verified "$TMPFILE" "$(basename "$1")" || die "$2: copy does not match its checksum"
    mv -f "$TMPFILE" "$1"
    TMPFILE=""
  else
    ln -s "$(realpath "$2")" "$1"
  fi
}

# Downloads MNIST file $2 to $1 through a temp file, which must match its checksum.
download() {
  local url="${MIRROR%/}/$2" got
  command -v curl >/dev/null 2>&1 || die "curl not found: needed to download $url"
  say "downloading $url"
  TMPFILE=$(mktemp "$(dirname "$1")/.tmp.XXXXXX")
  curl -fsSL --retry 3 -o "$TMPFILE" "$url" || die "download failed: $url"
  got=$(sha256_of "$TMPFILE")
  [ "$got" = "${MNIST_SHA256[$2]}" ] ||
    die "checksum mismatch for $url: expected ${MNIST_SHA256[$2]}, got $got (file discarded)"
  chmod 644 "$TMPFILE"
  mv -f "$TMPFILE" "$1"
  TMPFILE=""
}

prepare_mnist() {
  local dir=$DATA_OUT/mnist f
  mkdir -p "$dir"
  for f in "${MNIST_FILES[@]}"; do
    verified "$dir/$f" "$f" && continue
    set_aside "$dir/$f"
    if verified "$SHARED_MNIST/$f" "$f"; then
      link_or_copy "$dir/$f" "$SHARED_MNIST/$f"
    else
      download "$dir/$f" "$f"
    fi
  done
}

prepare_fashion() {
  local dir=$DATA_OUT/fashion-mnist f
  if ! ls "$FASHION_SRC"/*.gz >/dev/null 2>&1; then
    say "note: Fashion-MNIST is unavailable ($FASHION_SRC not found; Debian package dataset-fashion-mnist provides it)"
    return
  fi
  mkdir -p "$dir"
  for f in "$FASHION_SRC"/*.gz; do
    if [ -e "$dir/${f##*/}" ] && [ ! -L "$dir/${f##*/}" ]; then
      continue  # a real file the user put there: leave it
    fi
    ln -sfn "$f" "$dir/${f##*/}"
  done
}

prepare_data() {
  say "preparing data in $DATA_OUT"
  prepare_mnist
  prepare_fashion
  say "data ready in $DATA_OUT"
}

build() {
  say "configuring and building in $REPO/build"
  cmake -S "$REPO" -B "$REPO/build" -DCMAKE_BUILD_TYPE=Release || die "cmake configure failed"
  cmake --build "$REPO/build" -j"$(nproc)" || die "build failed"
  say "build ready: $REPO/build/dlc"
}

main() {
  local do_packages=1 do_build=1
  while [ $# -gt 0 ]; do
    case "$1" in
      --no-build) do_build=0 ;;
      --data-only) do_packages=0; do_build=0 ;;
      --reference-tools) PACKAGES+=("${REFERENCE_PACKAGES[@]}") ;;
      -h|--help) usage; exit 0 ;;
      *) usage >&2; die "unknown option: $1" ;;
    esac
    shift
  done
  [ "$do_packages" = 1 ] && install_packages
  prepare_data
  [ "$do_build" = 1 ] && build
  return 0
}

main "$@"
