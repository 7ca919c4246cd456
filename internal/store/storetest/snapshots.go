package storetest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

var snapshotTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"SnapshotRoundTripsInChunks", testSnapshotRoundTripsInChunks},
	{"SnapshotFailedReaderStoresNothing", testSnapshotFailedReaderStoresNothing},
}

func testSnapshotRoundTripsInChunks(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, err := s.LatestSnapshot(ctx); rung.ErrorCode(err) != rung.ENOTFOUND {
		t.Fatalf("latest of none = %v; want ENOTFOUND", err)
	}
	if err := s.ReadSnapshot(ctx, 1, io.Discard); rung.ErrorCode(err) != rung.ENOTFOUND {
		t.Fatalf("read of none = %v; want ENOTFOUND", err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	// Two chunks and a bit, then one short of a chunk, then nothing.
	var stored []store.SnapshotInfo
	for i, n := range []int{2*store.SnapshotChunk + 17, store.SnapshotChunk - 1, 0} {
		b := make([]byte, n)
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		in := store.SnapshotInfo{Format: 3, Seq: int64(100 * (i + 1)), Change: int64(7 + i), Versions: "1:abc",
			CreatedAt: base.Add(time.Duration(i) * time.Hour)}
		got, err := s.PutSnapshot(ctx, in, bytes.NewReader(b))
		if err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
		if got.Size != int64(n) || (i > 0 && got.ID <= stored[i-1].ID) {
			t.Fatalf("put %d = %+v; want size %d and a larger id", i, got, n)
		}
		latest, err := s.LatestSnapshot(ctx)
		in.ID, in.Size = got.ID, got.Size
		if err != nil || latest.ID != in.ID || latest.Format != 3 || latest.Seq != in.Seq || latest.Change != in.Change ||
			latest.Versions != in.Versions || latest.Size != in.Size || !latest.CreatedAt.Equal(in.CreatedAt) {
			t.Fatalf("latest = %+v, %v; want %+v", latest, err, in)
		}
		var out bytes.Buffer
		if err := s.ReadSnapshot(ctx, got.ID, &out); err != nil || !bytes.Equal(out.Bytes(), b) {
			t.Fatalf("read %d: %v (%d bytes, %d stored)", i, err, out.Len(), n)
		}
		// The older one is gone once the new one is in.
		if i > 0 {
			if err := s.ReadSnapshot(ctx, stored[i-1].ID, io.Discard); rung.ErrorCode(err) != rung.ENOTFOUND {
				t.Fatalf("older snapshot still readable: %v", err)
			}
		}
		stored = append(stored, got)
	}
}

var errReader = errors.New("the dump failed")

type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errReader
	}
	k := min(len(p), f.n)
	f.n -= k
	return k, nil
}

func testSnapshotFailedReaderStoresNothing(t *testing.T, s store.Store) {
	ctx := context.Background()
	good, err := s.PutSnapshot(ctx, store.SnapshotInfo{Format: 1, Seq: 5}, bytes.NewReader([]byte("state")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutSnapshot(ctx, store.SnapshotInfo{Format: 1, Seq: 9}, &failingReader{n: store.SnapshotChunk + 10}); !errors.Is(err, errReader) {
		t.Fatalf("put from a failing reader = %v; want its error", err)
	}
	latest, err := s.LatestSnapshot(ctx)
	if err != nil || latest.ID != good.ID || latest.Seq != 5 {
		t.Fatalf("latest = %+v, %v; want the good one", latest, err)
	}
	var out bytes.Buffer
	if err := s.ReadSnapshot(ctx, good.ID, &out); err != nil || out.String() != "state" {
		t.Fatalf("read = %q, %v", out.String(), err)
	}
}
