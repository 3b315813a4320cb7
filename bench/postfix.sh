#!/usr/bin/env bash
# The notifier against Postfix's own tools, side by side in one run on this
# machine: the whole worker (`notifier bench`: a NATS server process, the
# worker, SQLite) sends the notices of an outage to Postfix's smtp-sink, then
# Postfix's smtp-source sends as many messages of the same size with the same
# number of connections into a second smtp-sink. The ratio of the two rates
# says how close the notifier comes to the relay being the only limit.
#
# Needs Postfix's smtp-sink and smtp-source (Debian: apt-get install postfix)
# and Go. Usage: bench/postfix.sh [APPOINTMENTS] [AFFECTED] [CONNS] [SIZE_BYTES]
# (default 200000 50000 20 3000: the figures in the README).
set -euo pipefail
cd "$(dirname "$0")/.."

appointments=${1:-200000}
affected=${2:-50000}
conns=${3:-20}
size=${4:-3000}
# smtp-sink refuses to run as root without a user to run as.
sink_user=()
[ "$(id -u)" = 0 ] && sink_user=(-u nobody)
for tool in smtp-sink smtp-source; do
  command -v "$tool" >/dev/null || { echo "$tool not found: install Postfix (Debian: apt-get install postfix)" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

go build -o "$work/notifier" ./cmd/notifier

# The notifier into smtp-sink (a backlog of 1024 connections, as the issue's
# reference run does).
port1=$(free_port)
smtp-sink "${sink_user[@]}" -c "127.0.0.1:$port1" 1024 > /dev/null &
sleep 0.5
"$work/notifier" bench --smtp "127.0.0.1:$port1" --appointments "$appointments" --affected "$affected" \
  --conns "$conns" --size "$((size / 1024))KB" --json "$work/bench.json" | tee "$work/bench.txt"
notices=$(python3 -c "import json; print(json.load(open('$work/bench.json'))['notices'])")
rate=$(python3 -c "import json; print(json.load(open('$work/bench.json'))['delivery']['notices_per_second'])")

# smtp-source into a second smtp-sink: as many messages, as many sessions,
# the same size.
port2=$(free_port)
smtp-sink "${sink_user[@]}" -c "127.0.0.1:$port2" 1024 > /dev/null &
sleep 0.5
start=$(date +%s.%N)
smtp-source -s "$conns" -m "$notices" -l "$size" "127.0.0.1:$port2" > /dev/null
end=$(date +%s.%N)
source_rate=$(python3 -c "print(round($notices / ($end - $start), 1))")

echo
echo "notifier end to end:  $rate notices/s ($notices notices, $conns connections, ~$size bytes)"
echo "smtp-source:          $source_rate messages/s"
python3 -c "print('ratio:                %.2fx smtp-source' % ($rate / $source_rate))"
