#!/usr/bin/env bash
# Install what gperf's tests need, with apt-get, when missing. The oracle
# (Debian's linux-perf) is installed only when /usr/bin/perf is absent:
# upgrading it would swap the reference the tests compare against.
set -euo pipefail
need=()
for pair in gcc:gcc diff:diffutils file:file zstd:zstd; do
	cmd=${pair%%:*} pkg=${pair#*:}
	command -v "$cmd" >/dev/null 2>&1 || need+=("$pkg")
done
[ -x /usr/bin/perf ] || need+=(linux-perf)
# Headless Chromium opens the flame graph SVG in the flamegraph tests; a font
# is needed for its text to render in screenshots.
[ -x /usr/bin/chromium ] || need+=(chromium)
dpkg -s fonts-dejavu-core >/dev/null 2>&1 || need+=(fonts-dejavu-core)
if [ ${#need[@]} -gt 0 ]; then
	echo "deps: installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends \
		-o APT::Get::Upgrade-By-Source-Package=false "${need[@]}"
fi
command -v go >/dev/null 2>&1 || { echo "deps: go is not installed (expected /usr/local/go)"; exit 1; }
