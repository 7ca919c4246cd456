package sqlite_test

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

// TestCommitSeqsFollowTheLogThroughFailures commits random batches, some
// of which fail (a partner version that exists), and reopens the store at
// random: the seqs Commit hands out, which it no longer reads from the log
// before each commit, are always the log's, consecutive after its end.
func TestCommitSeqsFollowTheLogThroughFailures(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "rung.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	rnd := mrand.New(mrand.NewPCG(7, 11))
	var want int64 // the last seq of the log
	n := 0
	for round := range 60 {
		rs := testRecords(rnd.IntN(450))
		for _, r := range rs {
			n++
			r.Event.ID = fmt.Sprintf("e%d", n)
		}
		b := &store.Batch{Records: rs}
		fail := rnd.IntN(4) == 0 && round > 0
		if fail || round == 0 {
			// Partner version 1 exists after the first round: the whole
			// batch is refused, after its records were inserted, and
			// nothing of it is written.
			b.Partners = []rung.PartnerVersion{{Partner: rung.Partner{ID: "acme", Name: "Acme"}, Version: 1, ValidFrom: testTime}}
		}
		err := s.Commit(ctx, b)
		if fail {
			if err == nil {
				t.Fatalf("round %d: a commit of an existing program version succeeded", round)
			}
		} else {
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			for i, r := range rs {
				if r.Seq != want+int64(i)+1 {
					t.Fatalf("round %d: record %d got seq %d, want %d", round, i, r.Seq, want+int64(i)+1)
				}
			}
			want += int64(len(rs))
		}
		if last, err := s.LastSeq(ctx); err != nil || last != want {
			t.Fatalf("round %d: the log ends at %d (%v), want %d", round, last, err, want)
		}
		if rnd.IntN(10) == 0 {
			s.Close()
			if s, err = sqlite.Open(ctx, path); err != nil {
				t.Fatal(err)
			}
		}
	}
	var seq int64
	if err := s.Records(ctx, 0, func(r *rung.Record) error {
		seq++
		if r.Seq != seq {
			return fmt.Errorf("record %q has seq %d, want %d", r.Event.ID, r.Seq, seq)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if seq != want {
		t.Fatalf("the log holds %d records, want %d", seq, want)
	}
}

var testTime = testRecords(1)[0].ReceivedAt
