// Package jobs runs Rung's scheduled jobs (tier reviews, digests, SLA
// sweeps) on one instance at a time. Every instance runs a Runner; the one
// that holds the store's leadership (a PostgreSQL session advisory lock;
// with SQLite, the one process) runs the jobs, and when it dies its session
// ends and another instance's Runner takes over within about a second.
//
// Each job divides time into periods and runs once per period. The store
// records each run keyed by job and period, so a period that has run is not
// run again after leadership moves, and a run its leader did not finish is
// run again once the job's Timeout has passed. A job that fails is tried
// again after RetryAfter. Jobs must therefore be safe to run twice for one
// period (a tier review of a quarter is: running it again changes nothing).
package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/opsmetrics"
	"github.com/rung-dev/rung/internal/store"
)

// Job is a scheduled job.
type Job struct {
	// Name identifies the job in the record of runs; keep it stable.
	Name string
	// Period returns the start of the period t falls in: the job runs once
	// for each period, as soon as it has started. When nil, periods are
	// Every long, counted from the zero time in UTC (so a day starts at
	// midnight UTC).
	Period func(t time.Time) time.Time
	Every  time.Duration
	// Timeout bounds one run (default 10 minutes). A run left unfinished
	// by a leader that died is run again after it.
	Timeout time.Duration
	// RetryAfter is how long a failed run waits before the next try
	// (default 1 minute).
	RetryAfter time.Duration
	// Run does the work for the period starting at period. Its context
	// ends when the run times out or this instance stops leading.
	Run func(ctx context.Context, period time.Time) error
}

// KeepRuns is how far back the record of finished runs of a job goes.
const KeepRuns = 30 * 24 * time.Hour

func (j *Job) periodOf(t time.Time) time.Time {
	if j.Period != nil {
		return j.Period(t)
	}
	return t.UTC().Truncate(j.Every)
}

// Options configure a Runner.
type Options struct {
	// Instance names this instance in the record of runs; host:pid when
	// empty.
	Instance string
	// Clock returns the current time; time.Now when nil.
	Clock func() time.Time
	// Logger; slog.Default() when nil.
	Logger *slog.Logger
	// Check is how often the leader looks for due jobs, and how often the
	// others try to lead (default 1 s).
	Check time.Duration
}

// leadership is the name of the runner's lease in the store.
const leadership = "jobs"

// Runner runs the registered jobs while this instance leads.
type Runner struct {
	st       store.Sharing
	instance string
	clock    func() time.Time
	log      *slog.Logger
	check    time.Duration

	mu      sync.Mutex
	jobs    []*Job
	retry   map[string]time.Time // job → when a failed run may be tried again
	leading atomic.Bool
}

// New returns a Runner over st with no jobs.
func New(st store.Sharing, o Options) *Runner {
	r := &Runner{st: st, instance: o.Instance, clock: o.Clock, log: o.Logger, check: o.Check, retry: map[string]time.Time{}}
	if r.instance == "" {
		host, _ := os.Hostname()
		r.instance = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	if r.clock == nil {
		r.clock = time.Now
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	if r.check <= 0 {
		r.check = time.Second
	}
	return r
}

// Add registers a job. Names must be unique; a job needs Run, and Every
// or Period.
func (r *Runner) Add(j Job) error {
	if j.Name == "" || j.Run == nil || (j.Period == nil && j.Every <= 0) {
		return rung.Errorf(rung.EINVALID, "job %q needs a name, a Run function, and Every or Period", j.Name)
	}
	if j.Timeout <= 0 {
		j.Timeout = 10 * time.Minute
	}
	if j.RetryAfter <= 0 {
		j.RetryAfter = time.Minute
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, o := range r.jobs {
		if o.Name == j.Name {
			return rung.Errorf(rung.EINVALID, "job %q is registered twice", j.Name)
		}
	}
	r.jobs = append(r.jobs, &j)
	return nil
}

// Instance returns the name this runner records its runs under.
func (r *Runner) Instance() string { return r.instance }

// Leading reports whether this instance leads the scheduled jobs now.
func (r *Runner) Leading() bool { return r.leading.Load() }

// Run tries to lead, runs the jobs while it leads, and tries again when it
// loses the lead, until ctx ends.
func (r *Runner) Run(ctx context.Context) {
	failing := false
	for {
		lease, err := r.st.TryLead(ctx, leadership)
		if err != nil && ctx.Err() == nil && !failing {
			r.log.Error("scheduler: cannot take part in the leadership; trying again", "err", err)
		}
		failing = err != nil
		if lease != nil {
			r.lead(ctx, lease)
			lease.Release()
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(r.check):
		}
	}
}

// lead runs the due jobs every check until the lease is lost or ctx ends.
func (r *Runner) lead(ctx context.Context, lease store.Lease) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-lease.Lost():
			cancel()
		case <-ctx.Done():
		}
	}()
	r.leading.Store(true)
	defer r.leading.Store(false)
	r.log.Info("scheduler: this instance leads the scheduled jobs", "instance", r.instance)
	t := time.NewTicker(r.check)
	defer t.Stop()
	for {
		r.runDue(ctx)
		select {
		case <-ctx.Done():
			select {
			case <-lease.Lost():
				r.log.Warn("scheduler: leadership lost; another instance takes over", "instance", r.instance)
			default:
			}
			return
		case <-t.C:
		}
	}
}

// runDue runs every job whose current period has not run yet.
func (r *Runner) runDue(ctx context.Context) {
	r.mu.Lock()
	jobs := append([]*Job(nil), r.jobs...)
	r.mu.Unlock()
	for _, j := range jobs {
		if ctx.Err() != nil {
			return
		}
		now := r.clock()
		if now.Before(r.retry[j.Name]) {
			continue
		}
		period := j.periodOf(now)
		ok, err := r.st.StartJobRun(ctx, j.Name, period, r.instance, now, j.Timeout)
		if err != nil {
			r.log.Error("scheduler: cannot record a job run", "job", j.Name, "err", err)
			continue
		}
		if !ok {
			continue // done, or running elsewhere
		}
		r.log.Info("scheduler: job starts", "job", j.Name, "period", period)
		err = r.runOne(ctx, j, period)
		opsmetrics.JobRun(j.Name, err)
		msg := ""
		if err != nil {
			msg = err.Error()
			if msg == "" {
				msg = "failed"
			}
			r.retry[j.Name] = r.clock().Add(j.RetryAfter)
			r.log.Error("scheduler: job failed", "job", j.Name, "period", period, "err", err, "retry_after", j.RetryAfter)
		} else {
			r.log.Info("scheduler: job done", "job", j.Name, "period", period, "took", r.clock().Sub(now).Round(time.Millisecond))
		}
		// Recorded even when the lease was lost meanwhile: the run
		// happened.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		if msg == "" {
			// Only the current period is ever started, so older finished
			// runs are history: keep KeepRuns of it, not a row a minute
			// forever. Pruned before the run is marked finished, so whoever
			// sees it finished sees the history already trimmed.
			if _, err := r.st.PruneJobRuns(fctx, j.Name, period.Add(-KeepRuns)); err != nil {
				r.log.Error("scheduler: cannot prune old job runs", "job", j.Name, "err", err)
			}
		}
		if err := r.st.FinishJobRun(fctx, j.Name, period, r.clock(), msg); err != nil {
			r.log.Error("scheduler: cannot record the end of a job run", "job", j.Name, "err", err)
		}
		cancel()
	}
}

// runOne runs j under its timeout, turning a panic into an error.
func (r *Runner) runOne(ctx context.Context, j *Job, period time.Time) (err error) {
	ctx, cancel := context.WithTimeout(ctx, j.Timeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return j.Run(ctx, period)
}
