# Sourced by the .ci scripts: installing what a step needs when it is missing.
#
# Python tools live in a virtualenv (Debian's python3 is "externally managed"
# and refuses pip installs), created on first use and put first on PATH. It
# sees the system's site-packages, so a machine that has a tool already
# installs nothing.

CI_VENV="${CI_VENV:-$HOME/.cache/ec2-inventory/venv}"

# apt_install PACKAGE...: Debian packages, as root or through sudo.
apt_install() {
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  echo "installing $* (apt)"
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# ensure_venv: creates the virtualenv if needed and activates it.
ensure_venv() {
  if [ ! -x "$CI_VENV/bin/python" ]; then
    if ! python3 -m venv --system-site-packages "$CI_VENV" >/dev/null 2>&1; then
      # Debian keeps ensurepip (and so venv) in a separate package.
      rm -rf "$CI_VENV"
      command -v python3 >/dev/null 2>&1 || apt_install python3
      apt_install python3-venv
      python3 -m venv --system-site-packages "$CI_VENV"
    fi
  fi
  case ":$PATH:" in
    *":$CI_VENV/bin:"*) ;;
    *) export PATH="$CI_VENV/bin:$PATH" ;;
  esac
  export VIRTUAL_ENV="$CI_VENV"
  hash -r
}

# pip_tools COMMAND:PACKAGE...: pip-installs into the virtualenv each PACKAGE
# whose COMMAND is not on the PATH. A COMMAND `import:MODULE` checks that the
# virtualenv's python can import MODULE instead.
pip_tools() {
  ensure_venv
  local need=() pair check
  for pair in "$@"; do
    check="${pair%:*}"
    case "$check" in
      import:*) "$CI_VENV/bin/python" -c "import ${check#import:}" 2>/dev/null && continue ;;
      *) command -v "$check" >/dev/null 2>&1 && continue ;;
    esac
    need+=("${pair##*:}")
  done
  if [ ${#need[@]} -gt 0 ]; then
    echo "installing ${need[*]} (pip, into $CI_VENV)"
    "$CI_VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${need[@]}"
    hash -r
  fi
}
