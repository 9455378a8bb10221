#!/usr/bin/env bash
# Set up what is missing on a Debian machine: system packages, then the project's virtual environment.
#   scripts/setup.sh          what `make run` needs (OCR engine with Swedish, the Swedish lexicon that checks what
#                             scans read, a Unicode font for letters)
#   scripts/setup.sh --dev    also what the tests and fixtures use (pdftk, qpdf, poppler, handwriting fonts,
#                             Dovecot and openssl for the IMAP tests, util-linux's unshare and mount for the
#                             full-disk test)
#   scripts/setup.sh --glyphs as --dev, and the fonts the per-character readers are trained from, and jax
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(tesseract-ocr tesseract-ocr-swe tesseract-ocr-eng hunspell-sv hunspell-tools iso-codes fonts-dejavu-core)
if [[ "${1:-}" == "--dev" || "${1:-}" == "--glyphs" ]]; then
  packages+=(pdftk-java qpdf poppler-utils fonts-comic-neue fonts-humor-sans fonts-dkg-handwriting dovecot-imapd openssl util-linux mount)
fi
if [[ "${1:-}" == "--glyphs" ]]; then
  # The hands the per-character readers learn from (make glyphs); never the fixtures' fonts above.
  packages+=(fonts-breip fonts-bwht fonts-femkeklaver fonts-klee fonts-kristi fonts-rufscript fonts-tomsontalks
    fonts-sjfonts fonts-tlwg-purisa-ttf fonts-yusei-magic fonts-kiloji fonts-opendyslexic fonts-jura
    fonts-gnutypewriter fonts-liberation fonts-freefont-ttf fonts-urw-base35)
fi
python=${PYTHON:-python3}
if ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
  packages+=(python3-venv)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "setup: run as root or install sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

stamp=.venv/.installed
if [[ ! -f $stamp || pyproject.toml -nt $stamp ]]; then
  [[ -x .venv/bin/python ]] || "$python" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev]'
  touch "$stamp"
fi
if [[ "${1:-}" == "--glyphs" ]] && ! .venv/bin/python -c 'import jax' 2>/dev/null; then
  .venv/bin/python -m pip install -q -e '.[dev,glyphs]'  # jax trains the capitals' networks
fi
