package service

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/jobs"
	"github.com/rung-dev/rung/internal/store"
)

// A snapshot is the engine's derived state written to the store
// (engine.WriteDump), so that start-up loads it and replays only what came
// after it, instead of the whole log. It is a cache: whenever it does not
// fit (another engine format, other program versions, damaged bytes) the
// start-up says why and replays the log as before.

// SnapshotTimes is where the time of writing a snapshot went.
type SnapshotTimes struct {
	// Paused is how long the writer and the applier waited: the state
	// written to a temporary file under the engine's read lock.
	Paused time.Duration
	Store  time.Duration // the file copied into the store
}

// WriteSnapshot writes a snapshot of the derived state to the store. The
// state is dumped on the writer, once the applier has applied every
// committed group: the engine then holds the log up to the index's seen
// seq (and this instance's commits after it, which a follower skips) and
// the change feed up to its seen change, which tag the snapshot.
func (s *Service) WriteSnapshot(ctx context.Context) (store.SnapshotInfo, SnapshotTimes, error) {
	var times SnapshotTimes
	f, err := os.CreateTemp("", "rung-snapshot-*")
	if err != nil {
		return store.SnapshotInfo{}, times, fmt.Errorf("snapshot: a temporary file: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	var info store.SnapshotInfo
	res := s.do(ctx, &request{kind: kindCustom, custom: func() error {
		start := time.Now()
		defer func() { times.Paused = time.Since(start) }()
		info = store.SnapshotInfo{Format: engine.DumpFormat, Seq: s.idx.seenSeq, Change: s.idx.seenChange, CreatedAt: s.clock()}
		w := bufio.NewWriterSize(f, 1<<20)
		s.mu.RLock()
		defer s.mu.RUnlock()
		info.Versions = versionsTag(s.eng.Versions())
		if err := s.eng.WriteDump(w, info.Seq, info.Change); err != nil {
			return err
		}
		return w.Flush()
	}})
	if res.err != nil {
		return info, times, fmt.Errorf("snapshot: %w", res.err)
	}
	start := time.Now()
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return info, times, fmt.Errorf("snapshot: %w", err)
	}
	info, err = s.st.PutSnapshot(ctx, info, bufio.NewReaderSize(f, 1<<20))
	times.Store = time.Since(start)
	if err != nil {
		return info, times, fmt.Errorf("snapshot: %w", err)
	}
	return info, times, nil
}

// versionsTag names program versions for SnapshotInfo.Versions: number,
// start and the SHA-256 of the source of each.
func versionsTag(vs []*engine.Version) string {
	var b strings.Builder
	for i, v := range engine.DumpVersions(vs) {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(v.N))
		b.WriteByte(':')
		b.WriteString(strconv.FormatInt(v.From.UnixNano(), 10))
		b.WriteByte(':')
		b.WriteString(hex.EncodeToString(v.Source[:]))
	}
	return b.String()
}

// loadSnapshot loads the newest snapshot into the engine when it fits, and
// reports whether it did; the caller then catches up on what came after
// it (catchUp). A snapshot that does not fit is logged with the reason and
// leaves the service as it was, for a replay of the log.
func (s *Service) loadSnapshot(ctx context.Context) bool {
	info, err := s.st.LatestSnapshot(ctx)
	if rung.ErrorCode(err) == rung.ENOTFOUND {
		return false
	}
	why := func(reason string, args ...any) bool {
		s.log.Warn("snapshot not used; replaying the whole log", append([]any{"snapshot", info.ID, "reason", reason}, args...)...)
		return false
	}
	if err != nil {
		return why("cannot read it", "err", err)
	}
	if info.Format != engine.DumpFormat {
		return why("written by another version of rung", "format", info.Format, "this build", engine.DumpFormat)
	}
	progs, err := s.st.Programs(ctx)
	if err != nil {
		return why("cannot read the programs", "err", err)
	}
	vs, err := compileVersions(progs)
	if err != nil {
		return why("the programs do not compile", "err", err)
	}
	if versionsTag(vs) != info.Versions {
		return why("the program versions changed since it was written")
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(s.st.ReadSnapshot(ctx, info.ID, pw)) }()
	// The writer's index of events is made while the dump loads, on the
	// core the load leaves idle much of the time: a table for millions of
	// events takes a while to allocate. There are at most as many events
	// as records.
	made := make(chan *eventIndex, 1)
	go func() { made <- newEventIndex(int(info.Seq)) }()
	e, meta, err := engine.LoadDump(pr, vs)
	pr.CloseWithError(errors.New("loaded")) // the reader stops, if it has not
	events := <-made
	if err != nil {
		return why("it does not load", "err", err)
	}
	if meta.Seq != info.Seq || meta.Change != info.Change {
		return why("its bytes and its row disagree", "seq", meta.Seq, "row seq", info.Seq)
	}
	e.EachEvent(func(id string, seq int64, version int, retracted bool) {
		events.set(id, indexedEvent{seq: seq, version: int32(version), retracted: retracted})
	})
	s.eng = e
	s.base = loaded{seq: info.Seq, change: info.Change, adjustments: map[string]bool{}, events: events}
	e.EachAdjustmentID(func(id string) { s.base.adjustments[id] = true })
	s.fromSnapshot = info
	return true
}

// catchUp brings an engine loaded from a snapshot up to date: what other
// instances (or this one before it stopped) wrote after the snapshot
// arrives through the follower, as from any other instance, and is applied
// before Open returns. It runs once the applier runs and before the writer
// does.
func (s *Service) catchUp(ctx context.Context) error {
	if err := s.follow(ctx); err != nil {
		return err
	}
	s.applyc <- &applyJob{batch: &store.Batch{}, now: s.clock()} // moves the clock when nothing was new
	s.drain()
	return nil
}

// SnapshotJob writes a snapshot on the leader when at least minRecords
// records were written since the last one, checked every period.
func (s *Service) SnapshotJob(every time.Duration, minRecords int64) jobs.Job {
	return jobs.Job{
		Name:    "state.snapshot",
		Every:   every,
		Timeout: time.Hour,
		Run: func(ctx context.Context, _ time.Time) error {
			_, err := s.SnapshotIfDue(ctx, minRecords)
			return err
		},
	}
}

// SnapshotIfDue writes a snapshot when at least minRecords log records
// were written since the newest one, and reports whether it did.
func (s *Service) SnapshotIfDue(ctx context.Context, minRecords int64) (bool, error) {
	last, err := s.st.LastSeq(ctx)
	if err != nil {
		return false, err
	}
	var have int64
	var tag string
	s.Read(func(e *engine.Engine) error { tag = versionsTag(e.Versions()); return nil })
	info, err := s.st.LatestSnapshot(ctx)
	switch {
	case err == nil && info.Format == engine.DumpFormat && info.Versions == tag:
		have = info.Seq
	case err != nil && rung.ErrorCode(err) != rung.ENOTFOUND:
		return false, err
	}
	if last-have < minRecords {
		return false, nil
	}
	info, times, err := s.WriteSnapshot(ctx)
	if err != nil {
		return false, err
	}
	s.log.Info("snapshot written", "snapshot", info.ID, "seq", info.Seq, "bytes", info.Size,
		"paused", times.Paused.Round(time.Millisecond), "stored in", times.Store.Round(time.Millisecond))
	return true, nil
}
