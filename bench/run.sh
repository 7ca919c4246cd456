#!/usr/bin/env bash
# bench/run.sh — Rung's HTTP benchmarks, with Redis side by side.
#
# Builds rung and the tools into a temporary directory, starts `rung serve`
# on a fresh SQLite file on a free loopback port, applies the demo program,
# creates an admin key, creates the partners and members, then runs each
# scenario BENCH_RUNS times against Rung and the same shape against Redis,
# and prints a markdown table of medians. The server is killed and the
# temporary directory removed on exit.
#
# Environment (all optional):
#   BENCH_DURATION   length of one run of a scenario (default 10s)
#   BENCH_RUNS       runs per scenario; the table shows the median (default 3)
#   BENCH_SCENARIOS  which scenarios, in order (default "batch single leaderboard ceiling";
#                    leaderboard needs events on the board, so it comes after batch)
#   BENCH_PARTNERS   synthetic partners (default 1000)
#   BENCH_MEMBERS    synthetic members (default 100000)
#   BENCH_REDIS      Redis address, or "off" (default 127.0.0.1:6379)
#   BENCH_OUT        a directory to copy results.jsonl, table.md, server.log and metrics.txt (the server's /metrics at the end) to
#   BENCH_KEEP       set to keep the temporary directory
#   BENCH_DB         a postgres:// URL to run Rung on PostgreSQL instead of a
#                    fresh SQLite file; the run uses a new schema of its own
#                    (bench_<pid>) and drops it at the end
#   BENCH_HTTP       the load generator's HTTP client: loop (default; every client's
#                    keep-alive connection driven from one thread with epoll, as wrk
#                    does; figures before 2026-11-24 used lean), lean (a goroutine and
#                    a keep-alive connection per client, requests and answers handled
#                    by hand) or net (net/http's client, what figures before
#                    2026-11-23 05:00 UTC used)
#   BENCH_SNAPSHOT_EVERY the server's --snapshot-every (default 0: none). A snapshot pauses
#                    ingest for seconds on the large state the runs build, and the leader
#                    takes one on wall-clock ten-minute marks, so with the default of
#                    `rung serve` one may fall inside a 10-second run; its cost is measured
#                    on its own (BENCHMARKS.md)
#   BENCH_CPUPROFILE a file for the server's CPU profile over the whole run (setup
#                    included), written when the server stops; read it with
#                    `go tool pprof -top FILE`
#   LOADGEN_CPUPROFILE a file for the load generator's CPU profile; each invocation
#                    writes it anew, so it ends with the last run's
#
# Before each run of a read scenario (leaderboard, ceiling) the script waits
# for the server to settle: under a tenth of a core over a second, at most
# two minutes (the CPU the server used meanwhile is printed).
#
# With the defaults it takes about six minutes on two cores. The "ceiling"
# scenario (GET /healthz; Redis PING) has no target: it is the most
# requests/s HTTP (or RESP) allows on this machine with these clients.
set -euo pipefail

cd "$(dirname "$0")/.."

duration=${BENCH_DURATION:-10s}
runs=${BENCH_RUNS:-3}
scenarios=${BENCH_SCENARIOS:-batch single leaderboard ceiling}
partners=${BENCH_PARTNERS:-1000}
members=${BENCH_MEMBERS:-100000}
redis_addr=${BENCH_REDIS:-127.0.0.1:6379}
http_client=${BENCH_HTTP:-loop}

work=$(mktemp -d "${TMPDIR:-/tmp}/rung-bench.XXXXXX")
server_pid=""
pg_schema=""

cleanup() {
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	if [ -n "${BENCH_OUT:-}" ]; then
		mkdir -p "$BENCH_OUT"
		cp "$work"/results.jsonl "$work"/table.md "$work"/server.log "$work"/metrics.txt "$BENCH_OUT"/ 2>/dev/null || true
	fi
	if [ -n "${pg_schema:-}" ] && [ -z "${BENCH_KEEP:-}" ]; then
		psql "$BENCH_DB" -qc "SET client_min_messages = warning; DROP SCHEMA $pg_schema CASCADE" >/dev/null 2>&1 || true
	fi
	if [ -n "${BENCH_KEEP:-}" ]; then
		echo "kept $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '%s\n' "$*" >&2; }

# free_port prints a loopback port nothing is listening on.
free_port() {
	local p
	for _ in $(seq 1 100); do
		p=$((20000 + RANDOM % 20000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	say "no free port found"
	return 1
}

machine() {
	echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "- nproc: $(nproc)"
	echo "- CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') (family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' '), model $(grep -m1 '^model[[:space:]]*:' /proc/cpuinfo | cut -d: -f2 | tr -d ' '))"
	echo "- go: $(go version)"
	echo "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown) (plus uncommitted changes, if any)"
	echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	if [ -r /proc/pressure/cpu ]; then
		echo "- CPU pressure at start (other processes wanting the CPU): $(head -1 /proc/pressure/cpu)"
	fi
	if [ "$redis_addr" != off ] && command -v redis-cli >/dev/null; then
		local h=${redis_addr%:*} p=${redis_addr##*:}
		echo "- redis: $(redis-cli -h "$h" -p "$p" INFO server | tr -d '\r' | sed -n 's/^redis_version://p'), appendonly=$(redis-cli -h "$h" -p "$p" CONFIG GET appendonly | tr -d '\r' | tail -1), save='$(redis-cli -h "$h" -p "$p" CONFIG GET save | tr -d '\r' | tail -1)'"
	fi
}

say "building into $work"
go build -o "$work/rung" ./cmd/rung
go build -o "$work/loadgen" ./bench/loadgen
go build -o "$work/redisbench" ./bench/redis

machine | tee "$work/machine.md" >&2

db="$work/rung.db"
if [ -n "${BENCH_DB:-}" ]; then
	pg_schema="bench_$$"
	psql "$BENCH_DB" -qc "CREATE SCHEMA $pg_schema" >&2
	case "$BENCH_DB" in
	*\?*) db="$BENCH_DB&search_path=$pg_schema" ;;
	*) db="$BENCH_DB?search_path=$pg_schema" ;;
	esac
fi
port=$(free_port)
url="http://127.0.0.1:$port"
"$work/rung" program apply internal/demo/program.yaml --db "$db" >&2
key=$("$work/rung" apikey create --scope admin --name bench --db "$db" | tail -n 1)
RUNG_CPUPROFILE=${BENCH_CPUPROFILE:-} "$work/rung" serve --db "$db" --addr "127.0.0.1:$port" --snapshot-every "${BENCH_SNAPSHOT_EVERY:-0}" >"$work/server.log" 2>&1 &
server_pid=$!
say "rung serve (pid $server_pid) on $url, database $db"

results="$work/results.jsonl"
: >"$results"
common=(--url "$url" --key "$key" --partners "$partners" --members "$members" --http "$http_client")

redis_pid=""
if [ "$redis_addr" != off ]; then
	redis_pid=$(pgrep -o -x redis-server || true)
fi
hz=$(getconf CLK_TCK)
cores=$(nproc)

# proc_cpu PID prints the CPU jiffies a process has used (0 if unknown).
proc_cpu() {
	if [ -n "$1" ] && [ -r "/proc/$1/stat" ]; then
		sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
	else
		echo 0
	fi
}

# snap prints: uptime in seconds, busy jiffies of the machine, and the
# jiffies of the server and of Redis.
snap() {
	echo "$(cut -d' ' -f1 /proc/uptime) $(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat) $(proc_cpu "$server_pid") $(proc_cpu "$redis_pid")"
}

# record runs one tool invocation and appends its JSON line, with
# other_cpu_pct: the share of the machine's CPU that processes other than
# the server, Redis and the tool used meanwhile (another tenant's build, say;
# runs with a large share are disturbed), and server_cpu_s: the CPU seconds
# the server (Rung, or Redis for the Redis tool) used meanwhile. A run with
# failures still counts (the table says so); an error stops the script.
record() {
	local out rc=0 before after client other server
	before=$(snap)
	out=$("$@") || rc=$?
	after=$(snap)
	if [ "$rc" -ge 2 ] || [ -z "$out" ]; then
		say "failed ($rc): $*"
		# SIGQUIT makes the server print every goroutine's stack as it
		# ends: where a server that stopped answering is stuck.
		if kill -QUIT "$server_pid" 2>/dev/null; then
			sleep 2
			say "server log tail (the server's goroutines at the end):"
			tail -n 200 "$work/server.log" >&2 || true
		else
			say "server log tail:"
			tail -n 20 "$work/server.log" >&2 || true
		fi
		exit 1
	fi
	client=$(echo "$out" | sed -n 's/.*"client_cpu_s":\([-0-9.e+]*\).*/\1/p')
	other=$(awk -v a="$before" -v b="$after" -v c="${client:-0}" -v hz="$hz" -v n="$cores" 'BEGIN {
		split(a, x, " "); split(b, y, " ")
		wall = y[1] - x[1]; if (wall <= 0) { print 0; exit }
		o = ((y[2] - x[2]) - (y[3] - x[3]) - (y[4] - x[4])) / hz - c
		if (o < 0) o = 0
		printf "%.1f", 100 * o / (n * wall) }')
	server=$(awk -v a="$before" -v b="$after" -v hz="$hz" -v tool="$1" 'BEGIN {
		split(a, x, " "); split(b, y, " ")
		i = (tool ~ /redisbench$/) ? 4 : 3
		printf "%.2f", (y[i] - x[i]) / hz }')
	say "  other processes used ${other}% of the CPU during this run; the server ${server} s"
	echo "${out%\}},\"other_cpu_pct\":$other,\"server_cpu_s\":$server}" >>"$results"
}

say "setup: $partners partners, $members members"
record "$work/loadgen" "${common[@]}" --wait 60s setup

# settle waits, up to two minutes, until the server uses under a tenth of a
# core over a second: after a batch run it still works through what the
# events set off (notifications, the outbox), and a read scenario measured
# meanwhile would count that work as the reads'. It says how long it waited
# and how much CPU the server used meanwhile.
settle() {
	local start end a b used=0 waited=0
	start=$(proc_cpu "$server_pid")
	while [ "$waited" -lt 120 ]; do
		a=$(proc_cpu "$server_pid")
		sleep 1
		waited=$((waited + 1))
		b=$(proc_cpu "$server_pid")
		if [ $((b - a)) -lt $((hz / 10)) ]; then
			break
		fi
	done
	end=$(proc_cpu "$server_pid")
	used=$(awk -v a="$start" -v b="$end" -v hz="$hz" 'BEGIN { printf "%.2f", (b - a) / hz }')
	say "  the server settled after ${waited} s, using ${used} s of CPU meanwhile"
}

for sc in $scenarios; do
	for i in $(seq 1 "$runs"); do
		case $sc in
		leaderboard | ceiling) settle ;;
		esac
		say "$sc, run $i of $runs"
		record "$work/loadgen" "${common[@]}" --duration "$duration" "$sc"
		if [ "$redis_addr" != off ]; then
			record "$work/redisbench" --addr "$redis_addr" --partners "$partners" --members "$members" --duration "$duration" "$sc"
		fi
	done
done

# field TOOL SCENARIO NAME prints NAME of every run of TOOL's SCENARIO.
field() {
	{ grep "\"tool\":\"$1\",\"scenario\":\"$2\"" "$results" || true; } | sed -n "s/.*\"$3\":\([-0-9.e+]*\).*/\1/p"
}

# per_item TOOL SCENARIO NAME prints, for every run, NAME (CPU seconds)
# in microseconds per item.
per_item() {
	{ grep "\"tool\":\"$1\",\"scenario\":\"$2\"" "$results" || true; } | awk -v f="$3" '{
		v = $0; sub(".*\"" f "\":", "", v); sub("[,}].*", "", v)
		n = $0; sub(".*\"items\":", "", n); sub("[,}].*", "", n)
		if (n > 0) printf "%.1f\n", 1e6 * v / n }'
}

# median reads numbers, one a line, and prints their median.
median() {
	sort -g | awk '{a[NR]=$1} END {if (NR==0) exit; if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'
}

num() { awk -v x="$1" 'BEGIN { if (x == "") { print "–"; exit } s = sprintf("%.0f", x); n = length(s); o = ""; for (i = 1; i <= n; i++) { o = o substr(s, i, 1); if ((n - i) % 3 == 0 && i < n) o = o "," } print o }'; }

target() {
	case $1 in
	setup) echo "" ;;
	batch) if [ -n "${BENCH_DB:-}" ]; then echo 50000; else echo 150000; fi ;; # issue 3's target on PostgreSQL, issue 2's on SQLite
	single) echo 15000 ;;
	leaderboard) echo 30000 ;;
	*) echo "" ;;
	esac
}

unit() { { grep -m1 "\"tool\":\"rung\",\"scenario\":\"$1\"" "$results" || true; } | sed -n 's/.*"unit":"\([^"]*\)".*/\1/p'; }

rss_kb=$(ps -o rss= -p "$server_pid" 2>/dev/null | tr -d ' ' || true)
# The server's own account of its commits (internal/opsmetrics), over all
# runs: how long a commit took, how many events shared one, and how long a
# group waited for the engine after it.
commits=""
if command -v curl >/dev/null && curl -fsS "http://127.0.0.1:$port/metrics" >"$work/metrics.txt" 2>/dev/null; then
	commits=$(awk '
		/^rung_store_commit_seconds_sum / { cs = $2 } /^rung_store_commit_seconds_count / { cn = $2 }
		/^rung_ingest_group_events_sum / { gs = $2 } /^rung_ingest_group_events_count / { gn = $2 }
		/^rung_ingest_apply_seconds_sum / { as = $2 } /^rung_ingest_apply_seconds_count / { an = $2 }
		END { if (cn > 0 && gn > 0 && an > 0) printf "%d commits, %.3f ms each on average; %.1f events a commit that stored events (%d such); %.3f ms from a commit to its group applied and answered", cn, cs / cn * 1000, gs / gn, gn, as / an * 1000 }' "$work/metrics.txt")
fi
events=$(awk -F'"items":' '/"tool":"rung","scenario":"(batch|single)"/ { split($2, a, ","); s += a[1] } END { print s + 0 }' "$results")

{
	echo
	echo "| scenario | Rung median | runs (rate) | Rung p50 / p99 ms (median) | target | Redis median | Rung ÷ Redis | failed | CPU µs per item, server / load generator (median) | other CPU % (Rung / Redis runs) |"
	echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
	for sc in setup $scenarios; do
		rates=$(field rung "$sc" rate | xargs -n1 printf '%.0f\n' | paste -sd/ -)
		med=$(field rung "$sc" rate | median)
		p50=$(field rung "$sc" p50_ms | median | xargs printf '%.2f')
		p99=$(field rung "$sc" p99_ms | median | xargs printf '%.2f')
		failed=$(field rung "$sc" failed | awk '{s+=$1} END {print s+0}')
		tgt=$(target "$sc")
		rmed=$(field redis "$sc" rate | median)
		ratio="–"
		if [ -n "$rmed" ] && [ -n "$med" ]; then
			ratio=$(awk -v a="$med" -v b="$rmed" 'BEGIN { printf "%.2f×", a / b }')
		fi
		verdict=""
		if [ -n "$tgt" ] && [ -n "$med" ]; then
			verdict=$(awk -v a="$med" -v t="$tgt" 'BEGIN { print (a >= t) ? "met" : "MISSED" }')
			tgt="≥ $(num "$tgt") ($verdict)"
		fi
		oth="$(field rung "$sc" other_cpu_pct | paste -sd/ -) / $(field redis "$sc" other_cpu_pct | paste -sd/ -)"
		cpu="$(per_item rung "$sc" server_cpu_s | median) / $(per_item rung "$sc" client_cpu_s | median)"
		printf '| %s | %s %s | %s | %s / %s | %s | %s | %s | %s | %s | %s |\n' \
			"$sc" "$(num "$med")" "$(unit "$sc")" "$rates" "$p50" "$p99" "${tgt:-–}" "$(num "$rmed")" "$ratio" "$failed" "$cpu" "$oth"
	done
	echo
	echo "- load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
	if [ -r /proc/pressure/cpu ]; then
		echo "- CPU pressure at end: $(head -1 /proc/pressure/cpu)"
	fi
	echo "- events accepted by the server in all runs: $(num "$events"); its resident memory at the end: $((${rss_kb:-0} / 1024)) MiB"
	if [ -n "$commits" ]; then
		echo "- the server's commits over all runs (its /metrics): $commits"
	fi
	echo "- duration per run: $duration; $partners partners, $members members; clients: setup 32, batch 4, single 64, leaderboard 8, ceiling 8; load generator's HTTP client: $http_client"
} >"$work/table.md"

cat "$work/machine.md" "$work/table.md"
