# shellcheck shell=bash
# The Debian packages Consentry builds with, and how to get them. Sourced by `.ci/run` and by
# the newcomer's first command, `./consentry`, so that both ask for the same list.
#
# build-essential: cc and c++ (the linker, and RocksDB's C++ in librocksdb-sys);
# clang, libclang-dev: bindgen (librocksdb-sys) loads libclang to read RocksDB's C header;
# pkg-config: lets the compression -sys crates find system libraries (they build their own
# copy when it finds none).
CONSENTRY_SYSTEM_PACKAGES=(build-essential clang libclang-dev pkg-config)
# What `.ci/run` needs beyond the build: Debian's Chromium for the audit page's browser test,
# jq for the README test (the README captures two ids with it).
CONSENTRY_TEST_PACKAGES=(chromium jq)

# Installs those of the given packages (default: the build's) that are missing, saying which.
# On a system without dpkg/apt-get it only warns: the build may still work if a C++ compiler and libclang exist.
ensure_system_packages() {
  if ! command -v dpkg >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    echo "consentry: not a Debian/Ubuntu system; make sure a C/C++ compiler and libclang" \
      "are installed (the RocksDB build needs them)" >&2
    return 0
  fi
  local need=() pkg wanted=("$@")
  [ "${#wanted[@]}" -eq 0 ] && wanted=("${CONSENTRY_SYSTEM_PACKAGES[@]}")
  for pkg in "${wanted[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
  done
  [ "${#need[@]}" -eq 0 ] && return 0
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      echo "consentry: missing system packages: ${need[*]}" >&2
      echo "  as root, run: apt-get install -y --no-install-recommends ${need[*]}" >&2
      return 1
    fi
  fi
  echo "consentry: installing missing system packages: ${need[*]}" \
    "(see .ci/system-packages.sh for why each is needed)" >&2
  # dpkg's per-package lines go nowhere; apt's errors still reach stderr.
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  echo "consentry: installed ${need[*]}" >&2
}
