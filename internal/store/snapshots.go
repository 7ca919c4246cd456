package store

import (
	"context"
	"io"
	"time"
)

// SnapshotChunk is the most bytes one row of a snapshot holds: a
// snapshot of millions of events is gigabytes, more than one PostgreSQL
// value may be.
const SnapshotChunk = 4 << 20

// SnapshotInfo describes a stored snapshot of the engine's derived state
// (engine.WriteDump): what it includes, so start-up can tell whether it
// fits before reading it.
type SnapshotInfo struct {
	ID     int64 // assigned by PutSnapshot, increasing
	Format int   // the engine's dump format
	// Seq is the last log record and Change the last change of the feed
	// the state includes.
	Seq, Change int64
	// Versions names the program versions the state was computed with.
	Versions  string
	Size      int64 // bytes
	CreatedAt time.Time
}

// Snapshots stores snapshots of the engine's derived state, a cache that
// makes restarts fast: losing one costs a replay of the log, nothing else.
type Snapshots interface {
	// PutSnapshot stores the bytes r gives as a new snapshot, in rows of
	// at most SnapshotChunk bytes, in one transaction, and then deletes
	// every older snapshot. It returns the new snapshot's info (ID and
	// Size set). An error from r stores nothing.
	PutSnapshot(ctx context.Context, info SnapshotInfo, r io.Reader) (SnapshotInfo, error)
	// LatestSnapshot returns the newest snapshot's info; ENOTFOUND when
	// there is none.
	LatestSnapshot(ctx context.Context) (SnapshotInfo, error)
	// ReadSnapshot writes a snapshot's bytes to w, in order; ENOTFOUND when
	// it is not (or no longer) stored.
	ReadSnapshot(ctx context.Context, id int64, w io.Writer) error
}
