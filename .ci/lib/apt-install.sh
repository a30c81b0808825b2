# apt_install [APT OPTION...] PACKAGE...: install Debian packages quietly, without starting the
# services they ship (Debian starts a packaged service on install, e.g. nginx on port 80 of every
# address; nothing in CI wants those servers, so invoke-rc.d is told not to start them while the
# step runs). Sourced by the steps that install what is missing.
apt_install() {
  local policy=/usr/sbin/policy-rc.d
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod +x "$policy"
    # shellcheck disable=SC2064  # the path is fixed now, on purpose
    trap "rm -f $policy" EXIT
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" > /dev/null
}
