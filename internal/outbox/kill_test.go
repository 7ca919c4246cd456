package outbox_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/rung-dev/rung/internal/outbox"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

// TestDelivererChild is the process TestKillDuringDeliveryLosesNothing
// kills: it delivers the outbox of the database it is given until killed.
func TestDelivererChild(t *testing.T) {
	db := os.Getenv("RUNG_OUTBOX_CHILD_DB")
	if db == "" {
		t.Skip("run by TestKillDuringDeliveryLosesNothing")
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	d := outbox.NewDeliverer(st, outbox.Options{Backoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, MaxAttempts: 1000,
		Timeout: time.Minute, Logger: slog.New(slog.DiscardHandler)})
	for {
		if _, err := d.Step(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestKillDuringDeliveryLosesNothing(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs kill -9")
	}
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "rung.db")
	st, err := sqlite.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	rc := newReceiver("k", time.Now)
	inFlight := make(chan string, 1)
	// The tenth call is stored, then hangs: the child is killed while it
	// waits for the answer, so it never records the delivery.
	rc.fail = func(call int, env outbox.Envelope) (int, bool) {
		if call == 10 {
			inFlight <- env.ID
			return 200, true
		}
		if call%3 == 0 {
			return 500, false
		}
		return 200, false
	}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	subscribe(t, st, "hook", srv.URL, "k", time.Now())
	want := enqueue(t, st, time.Now(), []string{"member:ann", "member:bob", "partner:p1"}, 5)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	child := exec.Command(os.Args[0], "-test.run=^TestDelivererChild$")
	child.Env = append(os.Environ(), "RUNG_OUTBOX_CHILD_DB="+db)
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	var id string
	select {
	case id = <-inFlight:
	case <-time.After(2 * time.Minute):
		child.Process.Kill()
		t.Fatal("the child delivered nothing")
	}
	if err := child.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	child.Wait()

	st, err = sqlite.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ds, err := st.Deliveries(ctx, storeFilterMessage(id))
	if err != nil || len(ds) != 1 || !ds[0].DeliveredAt.IsZero() {
		t.Fatalf("the delivery in flight when the child died: %+v, %v; want it open", ds, err)
	}
	c := &clock{t: time.Now()}
	d := outbox.NewDeliverer(st, outbox.Options{Clock: c.now, Backoff: time.Second})
	drain(t, d, st, c, 100)
	got, bad := rc.snapshot()
	if len(bad) > 0 {
		t.Errorf("bad signatures: %v", bad)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("after the kill:\n got  %v\n want %v", got, want)
	}
}
