#!/usr/bin/env bash
# Installs the Debian packages meshcd's end-to-end tests (crate meshcd-e2e) need.
#
# Idempotent: packages already installed are left alone, and `apt-get update` runs only
# when something is missing. Needs root and apt-get (Debian/Ubuntu); otherwise it says
# which packages are missing and exits non-zero.
#
#   iptables   transparent interception test (REDIRECT inside a network namespace)
#   iproute2   `ip netns` for that test
#   git        the reconciler's Git sources (file://, git daemon, git-http-backend)
#   openssh-server, openssh-client   the ssh:// Git source tests (sshd on loopback, ssh-keygen
#              for test keys and SSH-signed commits)
#   libssl-dev, pkg-config   git2's https and ssh transports link the system OpenSSL
#   ca-certificates, procps   basics the harness and later suites rely on
#   prometheus   the Prometheus canary metric source test (reconciler/tests/canary_prometheus.rs
#              starts its own server; the package's service is not used)
set -euo pipefail

# Offline Kubernetes schema checks of the rendered manifests and injected pods (PyPI).
if ! command -v kubernetes-validate >/dev/null 2>&1; then
    python3 -m pip install --quiet kubernetes-validate==1.33.1 \
        || echo "install-test-deps: could not install kubernetes-validate; those checks will report skipped" >&2
fi

packages=(iptables iproute2 git ca-certificates procps openssh-server openssh-client libssl-dev pkg-config prometheus)

missing=()
for package in "${packages[@]}"; do
    status="$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)"
    if [[ "$status" != "install ok installed" ]]; then
        missing+=("$package")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "install-test-deps: all present (${packages[*]})"
    exit 0
fi

echo "install-test-deps: missing: ${missing[*]}"

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-test-deps: apt-get not found; install these packages with your system's package manager: ${missing[*]}" >&2
    exit 1
fi

if [[ "$(id -u)" -ne 0 ]]; then
    echo "install-test-deps: must run as root to install packages; run: sudo $0" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-test-deps: installed ${missing[*]}"
