package store

import (
	"context"
	"time"

	"github.com/rung-dev/rung"
)

// ChangeKind names the kind of fact a Change is about.
type ChangeKind string

// The kinds of change. The event log has its own Seqs and is read with
// Records; the change feed covers every other fact a running instance keeps
// in memory.
const (
	ChangePartner    ChangeKind = "partner"    // Key: the partner id; a new version
	ChangeMember     ChangeKind = "member"     // Key: the member id; an upsert
	ChangeProgram    ChangeKind = "program"    // Key: the version number
	ChangeAdjustment ChangeKind = "adjustment" // Key: the adjustment id
	ChangeAPIKey     ChangeKind = "apikey"     // Key: the key id; created or revoked
)

// Change says that a fact was written: which kind, and its key. Commit,
// CreateAPIKey and RevokeAPIKey record one per fact in the same
// transaction as the fact. A reader fetches the fact itself (its current
// state) with the store's other methods.
type Change struct {
	Seq  int64
	Kind ChangeKind
	Key  string
}

// JobRun is the record of one scheduled job's run for one period.
type JobRun struct {
	Job      string
	Period   time.Time // the start of the period the run is for
	Instance string    // who ran it
	Started  time.Time
	Finished time.Time // zero while running, or when the runner died
	Error    string    // why the last attempt failed, if it did
}

// Lease is leadership held by one instance until it is released or lost.
type Lease interface {
	// Lost is closed when the leadership is gone: released, or the
	// connection that held it ended.
	Lost() <-chan struct{}
	// Release gives the leadership up.
	Release()
}

// Sharing is what lets several Rung instances use one database: a feed of
// the facts committed outside the event log, in commit order, so each
// instance can follow what the others wrote; leadership, so one instance
// runs the scheduled jobs; and the record of job runs, so a job runs once
// per period even when leadership moves.
type Sharing interface {
	// Shared reports whether other processes may write this store at the
	// same time (PostgreSQL); when false (SQLite, one process), there is
	// nothing to follow and this process always leads.
	Shared() bool

	// CommitExclusive holds the lock that orders commits (of records and
	// of facts in the feed) while it calls prepare and commits the batch
	// prepare returns (nothing when it is empty), like Commit: no other
	// instance commits in between, so what prepare read is still current.
	// A writer uses it after its optimistic commits kept conflicting.
	CommitExclusive(ctx context.Context, prepare func(ctx context.Context) (*Batch, error)) error

	// Changes returns up to limit changes with Seq > after, in Seq order.
	// Seqs are handed out in commit order, so a reader that has seen Seq n
	// never later finds a change below n.
	Changes(ctx context.Context, after int64, limit int) ([]Change, error)
	// Wake returns a channel that receives soon after another instance
	// commits records or changes (and sometimes after this one does), until
	// ctx ends; nil when the store cannot tell. Notifications may be lost
	// while a connection is down, so a follower polls as well.
	Wake(ctx context.Context) <-chan struct{}
	// LastChange returns the highest change Seq, 0 when there is none.
	LastChange(ctx context.Context) (int64, error)
	// PartnerVersionsOf returns the versions of the given partners with a
	// version above since[id] (0 when absent), ordered by id and version.
	PartnerVersionsOf(ctx context.Context, since map[string]int) ([]rung.PartnerVersion, error)
	// MembersByID returns the current records of the given members that
	// exist, ordered by id.
	MembersByID(ctx context.Context, ids []string) ([]rung.Member, error)
	// AdjustmentsByID returns the given adjustments that exist, in the
	// order they were committed.
	AdjustmentsByID(ctx context.Context, ids []string) ([]rung.Adjustment, error)

	// TryLead tries to become the leader for name without waiting. It
	// returns a nil Lease and no error when another instance leads.
	TryLead(ctx context.Context, name string) (Lease, error)
	// StartJobRun records that instance starts job's run for period. It
	// reports false when that period's run has already finished, or when
	// another instance started it less than stale ago and has not finished
	// (a runner that died leaves its run unfinished; after stale, another
	// may run it again).
	StartJobRun(ctx context.Context, job string, period time.Time, instance string, now time.Time, stale time.Duration) (bool, error)
	// FinishJobRun records the end of the run started by StartJobRun;
	// with a non-empty errMsg the run counts as not done and may be
	// started again.
	FinishJobRun(ctx context.Context, job string, period time.Time, now time.Time, errMsg string) error
	// JobRuns returns the recorded runs of job, oldest period first.
	JobRuns(ctx context.Context, job string) ([]JobRun, error)
	// PruneJobRuns deletes the finished runs of job whose period began
	// before before, and returns how many. A runner only ever starts the
	// current period, so an old finished run is history, not a guard.
	PruneJobRuns(ctx context.Context, job string, before time.Time) (int64, error)
}
