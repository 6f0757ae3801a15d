# shellcheck shell=bash
# Shared by scripts/testbed/up.sh and down.sh (sourced, not run).
#
# A test bed NAME is: network namespaces NAME-h0 … NAME-h<N-1>, a bridge NAME-br in the root
# namespace, and a state folder $PEERD_TESTBED_DIR/NAME (keys, configs, pid files, the IP JSON).

TESTBED_ROOT="${PEERD_TESTBED_DIR:-/run/peerd-testbed}"

tb_die() { echo "$TB_SELF: $*" >&2; exit "${TB_EXIT:-1}"; }

# Names become interface names (15 characters at most): NAME-br, NAME-v12.
tb_check_name() {
  [[ "$1" =~ ^[a-z][a-z0-9]{0,7}$ ]] \
    || TB_EXIT=2 tb_die "--name must be 1-8 lower-case letters or digits, starting with a letter; got '$1'"
}

tb_namespaces() { ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$1-h[0-9]+$" || true; }

# Runs "$@" in host I's namespaces (network, mount, uts), the ones its sshd lives in.
tb_enter() { # state-dir index cmd...
  local pid
  pid=$(cat "$1/h$2/sshd.pid" 2>/dev/null) || tb_die "host $2 has no sshd pid file in $1/h$2"
  shift 2
  nsenter --target "$pid" --net --mount --uts -- "$@"
}
