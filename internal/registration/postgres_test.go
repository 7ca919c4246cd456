package registration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store"
	"github.com/rung-dev/rung/internal/store/postgres"
)

// TestTwoInstancesOnPostgreSQLGiveOneConflictPair: two servers sharing one
// PostgreSQL database, each taking one partner's registration of the same
// company at the same instant, record exactly one conflict pair.
func TestTwoInstancesOnPostgreSQLGiveOneConflictPair(t *testing.T) {
	url := os.Getenv("RUNG_TEST_POSTGRES")
	if url == "" {
		t.Skip("RUNG_TEST_POSTGRES is not set")
	}
	ctx := context.Background()
	b := make([]byte, 6)
	rand.Read(b)
	schema := "rung_test_reg_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		if conn, err := pgx.Connect(ctx, url); err == nil {
			conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
			conn.Close(ctx)
		}
	})
	var desks []*Desk
	var svcs []*service.Service
	for range 2 {
		st, err := postgres.OpenSchema(ctx, url, schema)
		if err != nil {
			t.Fatal(err)
		}
		svc, err := service.Open(ctx, st, service.Options{Logger: slog.New(slog.DiscardHandler), FollowEvery: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { svc.Close(); st.Close() })
		svcs = append(svcs, svc)
		desks = append(desks, New(svc, Options{Logger: slog.New(slog.DiscardHandler)}))
	}
	if _, err := svcs[0].ApplyProgram(ctx, []byte(programWith(PolicyManual)), time.Time{}, "test"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"p1", "p2"} {
		if _, err := svcs[0].PutPartner(ctx, rung.Partner{ID: id, Name: "Partner " + id}); err != nil {
			t.Fatal(err)
		}
	}
	// The second instance follows the first.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var ok bool
		svcs[1].Read(func(e *engine.Engine) error { _, ok = e.Partner("p2"); ok = ok && e.Program() != nil; return nil })
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the second instance did not see the partners")
		}
		time.Sleep(20 * time.Millisecond)
	}
	const companies = 10
	var wg sync.WaitGroup
	errs := make(chan error, 2*companies)
	for c := range companies {
		start := make(chan struct{})
		for i, p := range []string{"p1", "p2"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, _, err := desks[i].Submit(ctx, input(p, "Company", fmt.Sprintf("race%d.com", c)))
				errs <- err
			}()
		}
		close(start)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for c := range companies {
		rs, err := desks[0].List(ctx, store.RegistrationFilter{CompanyKey: fmt.Sprintf("race%d.com", c)})
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != 2 || len(rs[0].Conflicts) != 1 || len(rs[1].Conflicts) != 1 || rs[0].Conflicts[0] != rs[1].Conflicts[0] {
			t.Fatalf("company %d: want two registrations in one conflict pair, got %+v", c, rs)
		}
	}
}
