#!/usr/bin/env bash
# The notifier against Postfix's own tools, side by side in one run on this
# machine, with the real commands as a hospital runs them:
#
#  1. a standalone nats-server (built from the module this project uses),
#  2. the worker as `notifier run` with nats.url, one SMTP channel with
#     max_conns CONNS to Postfix's smtp-sink,
#  3. `notifier import` of APPOINTMENTS synthetic rows from a CSV file, timed
#     until the worker's replica reports them applied (its /metrics:
#     notifier_view_applied_sequence),
#  4. `notifier publish --event` of an outage affecting AFFECTED of them,
#     timed until every notice has an outcome (its /api/outages/{id}),
#  5. then Postfix's smtp-source sending as many messages of SIZE bytes over
#     CONNS sessions into a second smtp-sink, three times (the median counts).
#
# The ratio of the two rates says how close the notifier comes to the relay
# being the only limit. Needs Go, curl, jq, and Postfix's smtp-sink and
# smtp-source (Debian: apt-get install postfix).
#
# Usage: bench/postfix.sh [APPOINTMENTS] [AFFECTED] [CONNS] [SIZE_BYTES]
# (default 200000 50000 20 3000: the figures in the README). KEEP=1 keeps
# the work folder (logs, SQLite, NATS store) and says where it is.
set -euo pipefail
cd "$(dirname "$0")/.."

appointments=${1:-200000}
affected=${2:-50000}
conns=${3:-20}
size=${4:-3000}
for tool in smtp-sink smtp-source curl jq; do
  command -v "$tool" >/dev/null || { echo "$tool not found (smtp-sink, smtp-source: Debian's postfix package)" >&2; exit 1; }
done
# smtp-sink refuses to run as root without a user to run as.
sink_user=()
[ "$(id -u)" = 0 ] && sink_user=(-u nobody)

work=$(mktemp -d)
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  wait 2>/dev/null || true
  if [ "${KEEP:-}" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
now() { date +%s.%N; }
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 20000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}
wait_for() { # wait_for SECONDS COMMAND...: until COMMAND succeeds
  local until=$(( $(date +%s) + $1 )); shift
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$until" ] || { echo "timed out waiting for: $*" >&2; return 1; }
    sleep 0.05
  done
}
peak_kb() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat"; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }

echo "== building notifier and nats-server" >&2
go build -o "$work/notifier" ./cmd/notifier
go build -o "$work/nats-server" github.com/nats-io/nats-server/v2
"$work/notifier" bench --appointments "$appointments" --affected "$affected" --write-data "$work/data" | tee "$work/data.txt" >&2
outage=$(jq -r .data.outage_id "$work/data/outage.json")
notices=$(grep -o '[0-9]* notices' "$work/data.txt" | cut -d' ' -f1)

nats_port=$(free_port)
"$work/nats-server" -js -sd "$work/nats" -a 127.0.0.1 -p "$nats_port" > "$work/nats.log" 2>&1 &
nats_pid=$!
sink1=$(free_port)
smtp-sink "${sink_user[@]}" -c "127.0.0.1:$sink1" 1024 > /dev/null &
http_port=$(free_port)
cat > "$work/notifier.yaml" <<EOF
data_dir: $work/worker
nats:
  url: nats://127.0.0.1:$nats_port
http:
  addr: 127.0.0.1:$http_port
facilities:
  ukd:
    name: "Universitätsklinikum Düsseldorf"
    short_name: UKD
    timezone: Europe/Berlin
    language: de
    country: DE
channels:
  - name: relay
    type: smtp
    addr: "127.0.0.1:$sink1"
    tls: none
    from: "UKD <noreply@ukd.example.org>"
    max_conns: $conns
EOF
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$nats_port"
"$work/notifier" run --config "$work/notifier.yaml" > "$work/worker.log" 2>&1 &
worker_pid=$!
api="http://127.0.0.1:$http_port"
wait_for 30 curl -fsS "$api/readyz"

metric() { # the sum of a metric's series whose labels match $2
  curl -fsS "$api/metrics" | awk -v m="$1" -v l="$2" '$1 ~ "^"m && index($1, l) { s += $2 } END { printf "%d\n", s }'
}

echo "== notifier import: $appointments rows" >&2
t0=$(now)
TIMEFORMAT='%U %S'
{ time "$work/notifier" import --config "$work/notifier.yaml" --facility ukd --quiet "$work/data/appointments.csv" 2>&3; } 3>&2 2> "$work/import.time"
import_cpu=$(awk '{print $1 + $2}' "$work/import.time")
t_published=$(now)
# Until the store holds every record (the stream was empty: sequence =
# rows). Every look at /metrics costs the worker a little: ten a second are
# plenty.
until [ "$(metric notifier_view_applied_sequence 'stream="APPOINTMENTS"')" -ge "$appointments" ]; do sleep 0.1; done
t_applied=$(now)
worker_cpu0=$(cpu_s "$worker_pid"); nats_cpu0=$(cpu_s "$nats_pid")

echo "== notifier publish: outage $outage" >&2
t_event=$(now)
"$work/notifier" publish --config "$work/notifier.yaml" --facility ukd --event "$work/data/outage.json" > /dev/null
t_stored=$(now)
status() { curl -fsS "$api/api/outages/$outage"; }
last_say=0
while :; do
  s=$(status 2>/dev/null || echo '{}')
  done_count=$(jq -r '(.delivered // 0) + (.manual // 0)' <<<"$s")
  planned=$(jq -r '.planned // 0' <<<"$s")
  pending=$(jq -r '.pending // 1' <<<"$s")
  if [ "$planned" = "$notices" ] && [ "$pending" = 0 ] && [ "$done_count" = "$planned" ]; then break; fi
  if [ "$(date +%s)" -ge $((last_say + 5)) ]; then
    last_say=$(date +%s); echo "   $done_count/$planned notices with an outcome" >&2
  fi
  # The figures come from the outcomes' own times; a look a second is
  # enough and costs the worker little.
  sleep 1
done
worker_peak=$(peak_kb "$worker_pid"); nats_peak=$(peak_kb "$nats_pid")
worker_cpu=$(cpu_s "$worker_pid"); nats_cpu=$(cpu_s "$nats_pid")
first=$(date -d "$(jq -r .first_outcome_at <<<"$s")" +%s.%N)
last=$(date -d "$(jq -r .last_outcome_at <<<"$s")" +%s.%N)
delivered=$(jq -r .delivered <<<"$s")
manual=$(jq -r .manual <<<"$s")
kill -TERM "$worker_pid"; wait "$worker_pid" || true

echo "== smtp-source: $planned messages of $size bytes over $conns sessions, three times" >&2
sink2=$(free_port)
smtp-sink "${sink_user[@]}" -c "127.0.0.1:$sink2" 1024 > /dev/null &
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$sink2"
# Three runs, and the median: one run alone varies with whatever else the
# machine does.
source_rates=()
for _ in 1 2 3; do
  s0=$(now)
  smtp-source -s "$conns" -m "$planned" -l "$size" "127.0.0.1:$sink2" > /dev/null
  s1=$(now)
  source_rates+=("$(calc %.0f "$planned / ($s1 - $s0)")")
done
source_rate=$(printf '%s\n' "${source_rates[@]}" | sort -n | sed -n 2p)

rate=$(calc %.0f "$planned / ($last - $t_event)")
echo
echo "import:       $appointments rows applied by the replica in $(calc %.2f "$t_applied - $t0") s: $(calc %.0f "$appointments / ($t_applied - $t0)") rows/s (published in $(calc %.2f "$t_published - $t0") s)"
echo "outage:       $planned notices: $delivered delivered, $manual on the call list"
echo "first notice: accepted $(calc %.0f "($first - $t_event) * 1000") ms after notifier publish started, $(calc %.0f "($first - $t_stored) * 1000") ms after it returned (the event stored)"
echo "end to end:   $rate notices/s ($conns connections)"
echo "smtp-source:  $source_rate messages/s, the median of ${source_rates[*]} ($size bytes, $conns sessions)"
echo "ratio:        $(calc %.2f "$rate / $source_rate")x smtp-source"
echo "peak RSS:     worker $((worker_peak / 1024)) MB, nats-server $((nats_peak / 1024)) MB"
echo "CPU, import:   notifier import $(calc %.1f "$import_cpu") s, worker $(calc %.1f "$worker_cpu0") s, nats-server $(calc %.1f "$nats_cpu0") s: $(calc %.0f "($import_cpu + $worker_cpu0 + $nats_cpu0) * 1000000 / $appointments") µs a row"
echo "CPU, outage:   worker $(calc %.1f "$worker_cpu - $worker_cpu0") s, nats-server $(calc %.1f "$nats_cpu - $nats_cpu0") s: $(calc %.0f "($worker_cpu - $worker_cpu0 + $nats_cpu - $nats_cpu0) * 1000000 / $planned") µs a notice"
