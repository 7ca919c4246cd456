#!/usr/bin/env bash
# bench/rotate.sh — read scenarios against several builds of rung at once.
#
#   bench/rotate.sh NAME=BINARY[,VAR=VALUE...] ...
#   e.g. bench/rotate.sh old=/tmp/rung-old new=/tmp/rung-new nolane=/tmp/rung-new,RUNG_LANE=off
#
# On a machine whose speed drifts from minute to minute, two builds measured
# one after the other differ by the drift as much as by their code. This
# script starts one `rung serve` per NAME (each on its own fresh SQLite file,
# with the given environment), sets each up and feeds it one 10-second batch
# as bench/run.sh does, then runs the read scenarios against each server in
# turn, ROUNDS times, reversing the order every other round. Before each run
# it waits until the servers together use under a fifth of a core over a
# second. Each line gives the rate, and the server's and the load
# generator's CPU a request.
#
# Environment (optional): ROUNDS (default 5), SCENARIOS (default
# "leaderboard ceiling"), BENCH_DURATION (default 10s), BENCH_PARTNERS and
# BENCH_MEMBERS (default 1000 and 100000), BENCH_HTTP (the load generator's
# HTTP clients, each run in turn against each server: default "loop"; e.g.
# "loop lean" to compare them), READ_CLIENTS (the read scenarios' clients,
# each count run in turn: default "8").
set -euo pipefail

cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: bench/rotate.sh NAME=BINARY[,VAR=VALUE...] ..." >&2; exit 2; }

rounds=${ROUNDS:-5}
scenarios=${SCENARIOS:-leaderboard ceiling}
duration=${BENCH_DURATION:-10s}
partners=${BENCH_PARTNERS:-1000}
members=${BENCH_MEMBERS:-100000}
http_clients=${BENCH_HTTP:-loop}
read_clients=${READ_CLIENTS:-8}

work=$(mktemp -d "${TMPDIR:-/tmp}/rung-rotate.XXXXXX")
declare -A pid url key
names=()
cleanup() {
	for n in "${names[@]}"; do kill "${pid[$n]}" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
go build -o "$work/loadgen" ./bench/loadgen

for spec in "$@"; do
	n=${spec%%=*}
	rest=${spec#*=}
	IFS=, read -r -a parts <<<"$rest"
	bin=${parts[0]}
	envs=("${parts[@]:1}")
	names+=("$n")
	mkdir -p "$work/$n"
	db="$work/$n/rung.db"
	"$bin" program apply internal/demo/program.yaml --db "$db" >/dev/null
	key[$n]=$("$bin" apikey create --scope admin --name bench --db "$db" | tail -n 1)
	port=$((20000 + RANDOM % 20000))
	env "${envs[@]}" "$bin" serve --db "$db" --addr "127.0.0.1:$port" --snapshot-every 0 >"$work/$n/server.log" 2>&1 &
	pid[$n]=$!
	url[$n]="http://127.0.0.1:$port"
done

cpu() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
total() {
	local n s=0
	for n in "${names[@]}"; do s=$((s + $(cpu "${pid[$n]}"))); done
	echo "$s"
}
hz=$(getconf CLK_TCK)
settle() {
	local a b i
	for i in $(seq 1 120); do
		a=$(total)
		sleep 1
		b=$(total)
		[ $((b - a)) -lt $((hz / 5)) ] && return
	done
}
common() { echo --url "${url[$1]}" --key "${key[$1]}" --partners "$partners" --members "$members" --http "${2:-lean}"; }

for n in "${names[@]}"; do
	# shellcheck disable=SC2046
	"$work/loadgen" $(common "$n") --wait 60s setup >/dev/null 2>&1
	echo "$n: $("$work/loadgen" $(common "$n") --duration 10s batch 2>&1 | grep -o 'rung batch: [0-9,]* events/s')"
done

for r in $(seq 1 "$rounds"); do
	order=("${names[@]}")
	if [ $((r % 2)) = 0 ]; then
		order=()
		for ((i = ${#names[@]} - 1; i >= 0; i--)); do order+=("${names[$i]}"); done
	fi
	for n in "${order[@]}"; do
		for sc in $scenarios; do
			for hc in $http_clients; do
			for rc in $read_clients; do
				settle
				a=$(cpu "${pid[$n]}")
				# shellcheck disable=SC2046
				out=$("$work/loadgen" $(common "$n" "$hc") --clients "$rc" --duration "$duration" "$sc" 2>&1)
				b=$(cpu "${pid[$n]}")
				items=$(echo "$out" | grep -o '"items":[0-9]*' | head -1 | cut -d: -f2)
				client=$(echo "$out" | grep -o '"client_cpu_s":[0-9.e+-]*' | head -1 | cut -d: -f2)
				rate=$(echo "$out" | grep -o '"rate":[0-9.e+]*' | head -1 | cut -d: -f2)
				awk -v r="$r" -v n="$n" -v sc="$sc" -v hc="$hc" -v rc="$rc" -v rate="$rate" -v a="$a" -v b="$b" -v hz="$hz" -v items="$items" -v c="${client:-0}" 'BEGIN {
					printf "round %d %-8s %-12s %-5s %3d clients %8.0f requests/s  server %5.1f µs a request  load generator %5.1f µs\n",
						r, n, sc, hc, rc, rate, 1e6 * (b - a) / hz / items, 1e6 * c / items }'
			done
			done
		done
	done
done
