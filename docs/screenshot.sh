#!/bin/sh
# Starts the development stack (bin/devstack, as `make run` does) on its own ports, renders its
# /docs page with headless Chromium into the PNG named by $1, and stops the stack again.
set -eu

out=${1:?usage: docs/screenshot.sh OUTPUT.png}
addr=${SCREENSHOT_HTTP_ADDR:-127.0.0.1:18080}
log=$(mktemp)
profile=$(mktemp -d)

HTTP_ADDR=$addr TEMPORAL_PORT=${SCREENSHOT_TEMPORAL_PORT:-17233} ./bin/devstack >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$profile" "$log"' EXIT

# Up to 2 minutes for Temporal, migrations and the gateway.
tries=0
until curl -fsS "http://$addr/healthz" >/dev/null 2>&1; do
	tries=$((tries + 1))
	if [ "$tries" -gt 240 ] || ! kill -0 "$pid" 2>/dev/null; then
		cat "$log" >&2
		echo "the gateway did not come up at $addr" >&2
		exit 1
	fi
	sleep 0.5
done

# Redoc fetches /openapi.yaml and renders after the load event; the virtual time budget lets it.
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
	--disable-background-networking --disable-component-update --disable-sync \
	--hide-scrollbars --virtual-time-budget=15000 \
	--user-data-dir="$profile" --screenshot="$out" --window-size=1280,900 \
	"http://$addr/docs"
echo "wrote $out"
