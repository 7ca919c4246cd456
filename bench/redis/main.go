// Command redis runs the benchmark workload's shape against Redis, as the
// side-by-side figure for Rung's: what a hand-rolled leaderboard on sorted
// sets does on the same machine.
//
//	redis --addr 127.0.0.1:6379 batch        pipelines of 5,000 events: ZINCRBY + ZREVRANK each, 4 clients
//	redis --addr 127.0.0.1:6379 single       one event (ZINCRBY + ZREVRANK) per round trip, 64 clients
//	redis --addr 127.0.0.1:6379 leaderboard  ZREVRANGE 0 99 and ZREVRANK, one per round trip, 8 clients
//	redis --addr 127.0.0.1:6379 ceiling      PING, one per round trip, 8 clients
//
// Events come from the same generator as bench/loadgen's and score the
// points the demo program would award. The keys live under a prefix unique
// to the invocation and are deleted at the end. It prints the same JSON
// line and sentence as loadgen, with tool "redis". Redis is not asked to be
// durable: its persistence is whatever the server is configured with.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/rung-dev/rung/bench/internal/workload"
)

type config struct {
	addr     string
	scenario string
	clients  int
	duration time.Duration
	count    int64
	batch    int
	partners int
	members  int
	prefix   string
	maxTime  time.Duration
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	rep, err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "redis bench:", err)
		os.Exit(2)
	}
	rep.Print(os.Stdout, os.Stderr)
	if rep.Failed > 0 {
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) (*workload.Report, error) {
	cfg, err := parseFlags(args)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.maxTime)
	defer cancel()
	rdb := redis.NewClient(&redis.Options{
		Addr: cfg.addr, PoolSize: cfg.clients + 4, MinIdleConns: cfg.clients,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second,
	})
	defer rdb.Close()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return nil, fmt.Errorf("cannot reach Redis at %s: %w", cfg.addr, err)
	}
	b := &bench{cfg: cfg, rdb: rdb, board: cfg.prefix + "quarter-points"}
	defer b.cleanup()
	switch cfg.scenario {
	case "batch":
		return b.ingest(ctx, cfg.batch)
	case "single":
		return b.ingest(ctx, 1)
	case "leaderboard":
		return b.leaderboard(ctx)
	case "ceiling":
		return b.ceiling(ctx)
	}
	return nil, fmt.Errorf("unknown scenario %q: use batch, single, leaderboard or ceiling", cfg.scenario)
}

func parseFlags(args []string) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("redis", flag.ContinueOnError)
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:6379", "Redis address, loopback only")
	fs.StringVar(&cfg.scenario, "scenario", "", "batch, single, leaderboard or ceiling (or give it as the argument)")
	fs.IntVar(&cfg.clients, "clients", 0, "concurrent clients (default: batch 4, single 64, leaderboard and ceiling 8)")
	fs.DurationVar(&cfg.duration, "duration", 10*time.Second, "how long the scenario runs")
	fs.Int64Var(&cfg.count, "count", 0, "stop after this many events or reads; 0: run for --duration")
	fs.IntVar(&cfg.batch, "batch", 5000, "events per pipeline in the batch scenario")
	fs.IntVar(&cfg.partners, "partners", 1000, "synthetic partners")
	fs.IntVar(&cfg.members, "members", 100000, "synthetic members")
	fs.StringVar(&cfg.prefix, "prefix", "", "key prefix (default rungbench:<run>:); its keys are deleted at the end")
	fs.DurationVar(&cfg.maxTime, "max-time", 5*time.Minute, "hard limit on the whole invocation")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 1 || (fs.NArg() == 1 && cfg.scenario != "") {
		return cfg, errors.New("give one scenario")
	}
	if fs.NArg() == 1 {
		cfg.scenario = fs.Arg(0)
	}
	if cfg.scenario == "" {
		return cfg, errors.New("no scenario given: batch, single, leaderboard or ceiling")
	}
	if err := workload.CheckLoopback(cfg.addr); err != nil {
		return cfg, err
	}
	if cfg.clients <= 0 {
		cfg.clients = map[string]int{"batch": 4, "single": 64, "leaderboard": 8, "ceiling": 8}[cfg.scenario]
	}
	if cfg.batch < 1 || cfg.partners < 1 || cfg.members < 1 || cfg.duration <= 0 || cfg.maxTime <= 0 {
		return cfg, errors.New("--batch, --partners, --members, --duration and --max-time must be positive")
	}
	if cfg.prefix == "" {
		cfg.prefix = "rungbench:" + workload.RunID() + ":"
	}
	return cfg, nil
}

type bench struct {
	cfg   config
	rdb   *redis.Client
	board string // the members' quarter board, a sorted set
}

// cleanup deletes every key under the prefix, with its own deadline so it
// runs after an interrupt too.
func (b *bench) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	iter := b.rdb.Scan(ctx, 0, b.cfg.prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		fmt.Fprintf(os.Stderr, "redis bench: listing keys %s* to delete: %v\n", b.cfg.prefix, err)
	}
	if len(keys) > 0 {
		if err := b.rdb.Del(ctx, keys...).Err(); err != nil {
			fmt.Fprintf(os.Stderr, "redis bench: deleting %d keys under %s: %v\n", len(keys), b.cfg.prefix, err)
		}
	}
}

// ingest applies events: per event a ZINCRBY of the member's points and a
// ZREVRANK for the new rank (what an award has to answer), size events per
// pipelined round trip.
func (b *bench) ingest(ctx context.Context, size int) (*workload.Report, error) {
	cfg := b.cfg
	scenario := "batch"
	if size == 1 {
		scenario = "single"
	}
	from, to := workload.QuarterWindow(time.Now())
	run := workload.RunID()
	budget := workload.NewBudget(cfg.count, cfg.duration)
	var events, failed, requests atomic.Int64
	var fails workload.Failures
	lats := make([]workload.Latencies, cfg.clients)
	took := workload.Drive(cfg.clients, func(cl int) {
		gen := workload.NewGenerator(run, cl, cfg.partners, cfg.members, from, to)
		for ctx.Err() == nil {
			n := budget.Take(size)
			if n == 0 {
				return
			}
			pipe := b.rdb.Pipeline()
			for range n {
				ev := gen.Next()
				m := workload.MemberID(ev.Member)
				pipe.ZIncrBy(ctx, b.board, ev.Points, m)
				pipe.ZRevRank(ctx, b.board, m)
			}
			t := time.Now()
			_, err := pipe.Exec(ctx)
			lats[cl].Add(time.Since(t))
			requests.Add(1)
			if err != nil {
				failed.Add(int64(n))
				fails.Add(err.Error())
				continue
			}
			events.Add(int64(n))
		}
	})
	rep := &workload.Report{
		Tool: "redis", Scenario: scenario, Clients: cfg.clients, Seconds: took.Seconds(),
		Requests: requests.Load(), Items: events.Load(), Failed: failed.Load(),
		Rate: float64(events.Load()) / took.Seconds(), Unit: "events/s", Errors: fails.List(),
	}
	rep.SetLatency(workload.Merge(lats).Summarize())
	return rep, nil
}

// leaderboard seeds the board with every member (untimed), then reads the
// top 100 with scores and single members' ranks, alternating, one command
// per round trip.
func (b *bench) leaderboard(ctx context.Context) (*workload.Report, error) {
	cfg := b.cfg
	if err := b.seed(ctx); err != nil {
		return nil, err
	}
	budget := workload.NewBudget(cfg.count, cfg.duration)
	var reads, failed atomic.Int64
	var fails workload.Failures
	top := make([]workload.Latencies, cfg.clients)
	around := make([]workload.Latencies, cfg.clients)
	took := workload.Drive(cfg.clients, func(cl int) {
		gen := workload.NewGenerator("reads", cl, cfg.partners, cfg.members, time.Now(), time.Now())
		for i := 0; ctx.Err() == nil; i++ {
			if budget.Take(1) == 0 {
				return
			}
			var err error
			t := time.Now()
			if (i+cl)%2 == 0 {
				err = b.rdb.ZRevRangeWithScores(ctx, b.board, 0, 99).Err()
				top[cl].Add(time.Since(t))
			} else {
				err = b.rdb.ZRevRank(ctx, b.board, workload.MemberID(gen.RandomMember())).Err()
				around[cl].Add(time.Since(t))
			}
			if err != nil {
				failed.Add(1)
				fails.Add(err.Error())
				continue
			}
			reads.Add(1)
		}
	})
	tops, arounds := workload.Merge(top), workload.Merge(around)
	rep := &workload.Report{
		Tool: "redis", Scenario: "leaderboard", Clients: cfg.clients, Seconds: took.Seconds(),
		Requests: int64(len(tops) + len(arounds)), Items: reads.Load(), Failed: failed.Load(),
		Rate: float64(reads.Load()) / took.Seconds(), Unit: "requests/s", Errors: fails.List(),
	}
	ts, as := tops.Summarize(), arounds.Summarize()
	rep.SetLatency(workload.Merge([]workload.Latencies{tops, arounds}).Summarize())
	rep.Extra = map[string]float64{
		"board_total":     float64(cfg.members),
		"top100_requests": float64(len(tops)), "top100_p50_ms": ts.P50, "top100_p99_ms": ts.P99,
		"around_requests": float64(len(arounds)), "around_p50_ms": as.P50, "around_p99_ms": as.P99,
	}
	return rep, nil
}

// ceiling sends PING, one per round trip: the most round trips per second
// this machine and client allow, to read the other figures against.
func (b *bench) ceiling(ctx context.Context) (*workload.Report, error) {
	cfg := b.cfg
	budget := workload.NewBudget(cfg.count, cfg.duration)
	var ok, failed atomic.Int64
	var fails workload.Failures
	lats := make([]workload.Latencies, cfg.clients)
	took := workload.Drive(cfg.clients, func(cl int) {
		for ctx.Err() == nil && budget.Take(1) > 0 {
			t := time.Now()
			err := b.rdb.Ping(ctx).Err()
			lats[cl].Add(time.Since(t))
			if err != nil {
				failed.Add(1)
				fails.Add(err.Error())
				continue
			}
			ok.Add(1)
		}
	})
	all := workload.Merge(lats)
	rep := &workload.Report{
		Tool: "redis", Scenario: "ceiling", Clients: cfg.clients, Seconds: took.Seconds(),
		Requests: int64(len(all)), Items: ok.Load(), Failed: failed.Load(),
		Rate: float64(ok.Load()) / took.Seconds(), Unit: "requests/s", Errors: fails.List(),
	}
	rep.SetLatency(all.Summarize())
	return rep, nil
}

// seed puts every member on the board with some points, so every rank
// read finds its member, as on Rung's board after the batch runs.
func (b *bench) seed(ctx context.Context) error {
	gen := workload.NewGenerator("seed", 0, b.cfg.partners, b.cfg.members, time.Now(), time.Now())
	for start := 0; start < b.cfg.members; start += 5000 {
		pipe := b.rdb.Pipeline()
		for m := start; m < min(start+5000, b.cfg.members); m++ {
			pipe.ZAdd(ctx, b.board, redis.Z{Score: float64(50 * gen.Intn(40)), Member: workload.MemberID(m)})
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("seed the board: %w", err)
		}
	}
	return nil
}
