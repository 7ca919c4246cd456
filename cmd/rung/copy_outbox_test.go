package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rung-dev/rung/internal/store"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

func TestCopyCarriesTheOutbox(t *testing.T) {
	ctx := context.Background()
	srcPath := filepath.Join(t.TempDir(), "source.db")
	src, err := sqlite.Open(ctx, srcPath)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(src.PutSubscription(ctx, store.Subscription{ID: "hook", URL: "https://crm.example/hook", Secret: "s3cret", Types: []string{"badge.awarded"}, Enabled: true, CreatedAt: at}))
	must(src.ProduceOutbox(ctx, store.OutboxProduction{Cursor: "producer", To: 3, Subjects: map[string][]byte{"member:ann": []byte(`{"balance":5}`)},
		Messages: []store.OutboxMessage{
			{ID: "m1", Subject: "member:ann", Type: "badge.awarded", Payload: json.RawMessage(`{"badge":"x"}`), CreatedAt: at},
			{ID: "m2", Subject: "member:ann", Type: "points.changed", Payload: json.RawMessage(`{"balance":5}`), CreatedAt: at},
		}}))
	ms, err := src.OutboxMessages(ctx, 0, 0, true)
	must(err)
	must(src.DispatchOutbox(ctx, []int64{ms[0].Seq}, []store.Delivery{{Message: ms[0], Endpoint: "hook", Attempts: 4, NextAttemptAt: at, Dead: true, LastError: "HTTP 503"}}))
	want, err := src.ExportOutbox(ctx)
	must(err)
	must(src.Close())

	dst := filepath.Join(t.TempDir(), "copy.db")
	out, err := runCmd(t, "copy", "--from", srcPath, "--to", dst)
	if err != nil {
		t.Fatalf("copy: %v\n%s", err, out)
	}
	if !strings.Contains(out, "verified") || !strings.Contains(out, "outbox rows") {
		t.Fatalf("copy output:\n%s", out)
	}
	copied, err := sqlite.Open(ctx, dst)
	must(err)
	got, err := copied.ExportOutbox(ctx)
	must(err)
	must(copied.Close())
	if !reflect.DeepEqual(got, want) {
		t.Errorf("copied outbox:\n got  %+v\n want %+v", got, want)
	}
	// The copy is not empty any more: a second copy into it is refused.
	if _, err := runCmd(t, "copy", "--from", srcPath, "--to", dst); err == nil || !strings.Contains(err.Error(), "outbox rows") {
		t.Errorf("copy into a database with an outbox: %v", err)
	}
}
