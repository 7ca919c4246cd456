package main

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rung-dev/rung/internal/store"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

func TestCopyCarriesSourceDeliveries(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	srcPath, dstPath := filepath.Join(dir, "src.db"), filepath.Join(dir, "dst.db")
	src, err := sqlite.Open(ctx, srcPath)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 2, 9, 0, 0, 123, time.UTC)
	var want []store.SourceDelivery
	for i, status := range []string{store.DeliveryApplied, store.DeliveryRejected, store.DeliveryRejected} {
		d := store.SourceDelivery{ID: "del-" + string(rune('a'+i)), Source: "hubspot", ReceivedAt: at.Add(time.Duration(i) * time.Minute),
			Method: "POST", URI: "https://rung.example/api/v1/sources/hubspot", Headers: map[string]string{"X-HubSpot-Request-Timestamp": "1"},
			Body: []byte(`[{"objectId":1}]`), Status: status, Attempts: 1, UpdatedAt: at}
		if status == store.DeliveryRejected {
			d.Reason = "no partner"
		}
		if err := src.PutSourceDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
		want = append([]store.SourceDelivery{d}, want...)
	}
	rec := store.SourceRecord{SourceRecordKey: store.SourceRecordKey{Source: "hubspot", Object: "deal", Record: "1"}, Fields: []byte(`{"amount":{"v":"5","at":1}}`), UpdatedAt: at}
	if err := src.PutSourceRecords(ctx, []store.SourceRecord{rec}, nil); err != nil {
		t.Fatal(err)
	}
	src.Close()

	out, err := runCmd(t, "copy", "--from", srcPath, "--to", dstPath)
	if err != nil {
		t.Fatalf("copy: %v\n%s", err, out)
	}
	if !strings.Contains(out, "source deliveries") || !strings.Contains(out, "verified") {
		t.Errorf("output does not report source deliveries verified:\n%s", out)
	}
	dst, err := sqlite.Open(ctx, dstPath)
	if err != nil {
		t.Fatal(err)
	}
	got, err := dst.ListSourceDeliveries(ctx, store.SourceDeliveryFilter{Limit: -1})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("copied deliveries:\n got  %+v\n want %+v", got, want)
	}
	recs, err := dst.AllSourceRecords(ctx)
	if err != nil || !reflect.DeepEqual(recs, []store.SourceRecord{rec}) {
		t.Errorf("copied records = %+v, %v", recs, err)
	}
	dst.Close()
	out, err = runCmd(t, "copy", "--from", srcPath, "--to", dstPath)
	if err == nil || !strings.Contains(err.Error()+out, "3 source deliveries, 1 source record") {
		t.Errorf("copy into a database holding deliveries: %v\n%s", err, out)
	}
}
