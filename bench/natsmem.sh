#!/usr/bin/env bash
# What a standalone nats-server holds in memory and on disk per stored
# appointment, for the APPOINTMENTS stream as the worker declares it and for
# alternatives to it. Each alternative runs alone, in turn, against a fresh
# nats-server (built from the module this project uses) with a fresh store on
# a free loopback port; bench/natsmem publishes synthetic records (those of
# `notifier bench --write-data`) with PublishAsync and at most 4000
# acknowledgements outstanding.
#
# For each it reports the publish rate, the server's RSS 5 s after the last
# acknowledgement (settled), its peak RSS (VmHWM), its RSS after IDLE seconds
# without traffic (the per-block subject state expires after 2 minutes idle,
# a 2 minute duplicate window empties, the Go runtime returns freed memory)
# and then its Go heap in use after a collection (its heap profile), and the
# store's size on disk. Then it restarts the server on the stores of "today"
# and "today+id" at the largest size and measures the same after recovery.
#
# Alternatives:
#   today       stream appointments.<facility>.<id>, MaxMsgsPerSubject 1,
#               24h duplicate window, no Nats-Msg-Id (CSV import)
#   today+id    the same with a Nats-Msg-Id on every message (HL7)
#   s2          today with S2 stream compression
#   dup2m       today with the default 2 minute duplicate window
#   dup2m+id    the same with a Nats-Msg-Id on every message
#   kv          KeyValue bucket, History 1, keys <facility>.<id>
#   single      one subject appointments.<facility>, no per-subject limit
#               (loses "the latest per appointment wins")
#   gomemlimit  today with GOMEMLIMIT=$MEMLIMIT on the server process
#   maxmem      today with jetstream max_memory_store 64 MB (the limit of
#               memory-storage streams)
#   follow      today with an ordered consumer reading the stream from its
#               start while it is loaded, as the worker's replica does
#
# Usage: bench/natsmem.sh [RECORDS...] (default 200000 1000000).
# Environment: ONLY="today s2" runs some alternatives; IDLE (default 300)
# seconds of quiet before the idle figures, 0 skips them; RESTART=0 skips the
# restarts; MEMLIMIT (default 192MiB); WORK is the folder to work in (default
# a new one in /tmp), removed at the end unless KEEP=1 (then its stores, log,
# heap profiles and the publisher's summaries stay).
# Needs Go and curl; runs one server at a time.
set -euo pipefail
cd "$(dirname "$0")/.."

sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(200000 1000000)
alternatives=(${ONLY:-today today+id s2 dup2m dup2m+id kv single gomemlimit maxmem follow})
idle=${IDLE:-300}
restart=${RESTART:-1}
memlimit=${MEMLIMIT:-192MiB}
work=${WORK:-$(mktemp -d /tmp/natsmem.XXXXXX)}
mkdir -p "$work"
command -v curl >/dev/null || { echo "curl not found" >&2; exit 1; }

go build -o "$work/nats-server" github.com/nats-io/nats-server/v2
go build -o "$work/natsmem" ./bench/natsmem

server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [ "${KEEP:-}" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

# free_port prints a loopback port nobody listens on.
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
}

# kib FIELD prints a field of the server's /proc status in KiB.
kib() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$server_pid/status"; }

# start_server STORE [CONF] [ENV...] starts nats-server and waits until
# JetStream is ready; sets server_pid, url, mon and ready_ms.
start_server() {
  local store=$1 conf=${2:-}
  shift 2 || shift $#
  local port mport pport
  port=$(free_port); mport=$(free_port); pport=$(free_port)
  url=nats://127.0.0.1:$port mon=http://127.0.0.1:$mport prof=http://127.0.0.1:$pport
  local args=(-a 127.0.0.1 -p "$port" -m "$mport" --profile "$pport" -js -sd "$store")
  [ -z "$conf" ] || args+=(-c "$conf")
  local began
  began=$(date +%s%N)
  env "$@" "$work/nats-server" "${args[@]}" >>"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 6000); do
    if curl -fs "$mon/healthz?js-enabled-only=true" >/dev/null 2>&1; then
      ready_ms=$((($(date +%s%N) - began) / 1000000))
      return
    fi
    kill -0 "$server_pid" 2>/dev/null || { echo "nats-server exited, see $work/server.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "nats-server not ready after 10 minutes" >&2
  exit 1
}

stop_server() {
  kill -TERM "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=
}

# heap_mb FILE prints the Go heap in use of a heap profile, in MB.
heap_mb() {
  go tool pprof -top -sample_index=inuse_space "$work/nats-server" "$1" 2>/dev/null |
    awk '/^Showing nodes/ { for (i = 1; i <= NF; i++) if ($i == "of") { v = $(i+1); break } }
      END { u = substr(v, length(v) - 1); n = v + 0; if (u == "GB") n *= 1024; else if (u == "kB") n /= 1024; else if (u !~ /MB/) n /= 1048576; printf "%.0f", n }'
}

# measure NAME RECORDS RATE STORE: the settled, peak and idle figures of the
# running server; appends a row to the table.
measure() {
  local name=$1 n=$2 rate=$3 store=$4
  sleep 5
  local settled peak idle_rss=- heap=- bytes
  settled=$(kib VmRSS)
  curl -fs "$prof/debug/pprof/heap" -o "$work/$name-$n-settled.heap" || true
  if [ "$idle" -gt 0 ]; then
    sleep "$((idle - 5))"
    idle_rss=$(kib VmRSS)
    curl -fs "$prof/debug/pprof/heap?gc=1" -o "$work/$name-$n-idle.heap" && heap=$(heap_mb "$work/$name-$n-idle.heap")
  fi
  peak=$(kib VmHWM)
  bytes=$(du -sb "$store" | cut -f1)
  local idle_mb=- idle_per=-
  if [ "$idle_rss" != - ]; then idle_mb=$((idle_rss / 1024)) idle_per=$((idle_rss * 1024 / n)); fi
  printf '%-22s %9d %9s %9d %9d %9s %9s %9d %9s %11d %9d\n' "$name" "$n" "$rate" \
    $((settled / 1024)) $((peak / 1024)) "$idle_mb" "$heap" $((settled * 1024 / n)) "$idle_per" "$bytes" $((bytes / n)) |
    tee -a "$work/table"
}

printf '%-22s %9s %9s %9s %9s %9s %9s %9s %9s %11s %9s\n' alternative records 'msgs/s' 'RSS MB' 'peak MB' \
  'idle MB' 'heap MB' 'RSS B/rec' 'idle B/r' 'store bytes' 'store B/r' | tee "$work/table"

largest=0
for n in "${sizes[@]}"; do [ "$n" -gt "$largest" ] && largest=$n; done

for n in "${sizes[@]}"; do
  for alt in "${alternatives[@]}"; do
    store=$work/store-$alt-$n
    rm -rf "$store"
    pub=(-count "$n") conf= env=()
    case $alt in
      today) pub+=(-layout stream) ;;
      today+id) pub+=(-layout stream -msg-id) ;;
      s2) pub+=(-layout stream -compression s2) ;;
      dup2m) pub+=(-layout stream -duplicates 2m) ;;
      dup2m+id) pub+=(-layout stream -duplicates 2m -msg-id) ;;
      kv) pub+=(-layout kv) ;;
      single) pub+=(-layout single) ;;
      gomemlimit) pub+=(-layout stream) env=(GOMEMLIMIT="$memlimit") ;;
      maxmem)
        pub+=(-layout stream) conf=$work/maxmem.conf
        echo 'jetstream { max_memory_store: 64MB }' >"$conf" ;;
      follow) pub+=(-layout stream -follow) ;;
      *) echo "unknown alternative $alt" >&2; exit 1 ;;
    esac
    start_server "$store" "$conf" "${env[@]}"
    summary=$("$work/natsmem" -url "$url" "${pub[@]}")
    echo "$alt $summary" >>"$work/summaries"
    rate=$(sed -n 's/.* rate=\([0-9]*\)\/s.*/\1/p' <<<"$summary")
    measure "$alt" "$n" "$rate" "$store"
    stop_server
    if [ "$restart" = 1 ] && [ "$n" = "$largest" ] && { [ "$alt" = today ] || [ "$alt" = today+id ]; }; then
      start_server "$store" ""
      measure "$alt restart(${ready_ms}ms)" "$n" - "$store"
      stop_server
    fi
    [ "${KEEP:-}" = 1 ] || rm -rf "$store"
  done
done
