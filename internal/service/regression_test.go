package service

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
)

// holdWriter parks the writer in a custom request until release is closed,
// so the requests sent meanwhile form one group.
func holdWriter(s *Service) (release chan struct{}) {
	release = make(chan struct{})
	started := make(chan struct{})
	s.submit(&request{kind: kindCustom, custom: func() error { close(started); <-release; return nil }})
	<-started
	return release
}

func waitQueued(t *testing.T, s *Service, n int) {
	t.Helper()
	for i := 0; len(s.reqs) < n; i++ {
		if i > 2000 {
			t.Fatalf("only %d requests queued", len(s.reqs))
		}
		time.Sleep(time.Millisecond)
	}
}

// Two adjustments without an id in one group get the same id
// ("adj:<group now>"), the store refuses the duplicate and the whole group
// fails — unrelated events included.
func TestTwoAdjustmentsInOneGroup(t *testing.T) {
	s, _ := setup(t)
	ctx := context.Background()
	release := holdWriter(s)
	errs := make(chan error, 3)
	go func() {
		_, err := s.Adjust(ctx, rung.Adjustment{Partner: "p1", Member: "m1", Points: 10, Reason: "a"}, "t")
		errs <- err
	}()
	waitQueued(t, s, 1)
	go func() {
		_, err := s.Adjust(ctx, rung.Adjustment{Partner: "p1", Member: "m1", Points: 20, Reason: "b"}, "t")
		errs <- err
	}()
	waitQueued(t, s, 2)
	go func() {
		_, err := s.Ingest(ctx, []*Incoming{win("w", "p1", "m1", 10000)})
		errs <- err
	}()
	waitQueued(t, s, 3)
	close(release)
	for i := 0; i < 3; i++ {
		if err := <-errs; err != nil {
			t.Errorf("request failed: %v", err)
		}
	}
	if got := lifetime(t, s, "m1"); got != 130 {
		t.Errorf("lifetime %d, want 130", got)
	}
}

// Close must answer the requests already queued (its doc: "stops the writer
// after the requests already queued"); callers without a deadline hang.
func TestCloseAnswersQueuedRequests(t *testing.T) {
	// The writer's select between s.reqs and s.stop is random: try a few times.
	for try := 0; try < 8; try++ {
		s, _ := setup(t)
		release := holdWriter(s)
		const n = 5
		errs := make(chan error, n)
		for i := 0; i < n; i++ {
			id := fmt.Sprintf("c%d", i)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				defer cancel()
				_, err := s.Ingest(ctx, []*Incoming{win(id, "p1", "m1", 10000)})
				errs <- err
			}()
			waitQueued(t, s, i+1)
		}
		closed := make(chan struct{})
		go func() { s.Close(); close(closed) }()
		<-s.stop // Close has begun
		close(release)
		<-closed
		for i := 0; i < n; i++ {
			if err := <-errs; err == context.DeadlineExceeded {
				t.Fatalf("try %d: a request queued before Close was never answered", try)
			}
		}
	}
}

// The service's own test program has `window: all`: the board stays empty.
func TestAllTimeBoardViaService(t *testing.T) {
	s, _ := setup(t)
	s.Ingest(context.Background(), []*Incoming{win("w", "p1", "m1", 10000)})
	s.Read(func(e *engine.Engine) error {
		page, err := e.Leaderboard("all-points", engine.BoardQuery{})
		if err != nil || page.Total != 1 {
			t.Errorf("all-points: total %d err %v, want 1", page.Total, err)
		}
		return nil
	})
}

// Correcting an event's member m1 -> m2 -> m1, then any update of m1,
// counts the event twice; a rebuild counts it once.
func TestMemberCorrectionThenUpdateViaService(t *testing.T) {
	s, _ := setup(t)
	ctx := context.Background()
	s.PutMember(ctx, rung.Member{ID: "m2", Partner: "p1", Name: "Bob"})
	s.Ingest(ctx, []*Incoming{win("w", "p1", "m1", 10000)})
	s.Ingest(ctx, []*Incoming{win("w", "p1", "m2", 10000)})
	s.Ingest(ctx, []*Incoming{win("w", "p1", "m1", 10000)})
	s.PutMember(ctx, rung.Member{ID: "m1", Partner: "p1", Name: "Ann B."})
	if got := lifetime(t, s, "m1"); got != 100 {
		t.Errorf("incremental lifetime %d, want 100", got)
	}
	s.Rebuild(ctx)
	if got := lifetime(t, s, "m1"); got != 100 {
		t.Errorf("rebuilt lifetime %d, want 100", got)
	}
}
