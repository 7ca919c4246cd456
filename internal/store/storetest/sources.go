package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
)

var sourceTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"SourceDeliveryRoundTrips", testSourceDeliveryRoundTrips},
	{"SourceDeliveryReplaceKeepsOne", testSourceDeliveryReplaceKeepsOne},
	{"SourceDeliveriesFilterNewestFirst", testSourceDeliveriesFilterNewestFirst},
	{"SourceRecordsKeepTheLastState", testSourceRecordsKeepTheLastState},
}

func newDelivery(id, status string, at time.Time) store.SourceDelivery {
	return store.SourceDelivery{
		ID: id, Source: "hubspot", ReceivedAt: at, Method: "POST", URI: "https://rung.example/api/v1/sources/hubspot",
		Headers: map[string]string{"X-HubSpot-Signature-v3": "c2lnbmF0dXJl", "X-HubSpot-Request-Timestamp": "1700000000000"},
		Body:    []byte(`[{"objectId":1,"propertyName":"dealstage","propertyValue":"closedwon"}]` + "\x00\xff"),
		Status:  status, Reason: "", Events: 1, Attempts: 1, UpdatedAt: at,
	}
}

// testSourceDeliveryRoundTrips checks every field comes back as stored,
// binary body bytes and header names included, and that an unknown id is
// ENOTFOUND.
func testSourceDeliveryRoundTrips(t *testing.T, s store.Store) {
	ctx := context.Background()
	_, err := s.SourceDelivery(ctx, "nope")
	wantCode(t, err, rung.ENOTFOUND)
	d := newDelivery("d1", store.DeliveryRejected, base)
	d.Reason = `mapping sources.hubspot[0] names field "amount", which deal 1 lacks`
	d.Events = 0
	if err := s.PutSourceDelivery(ctx, d); err != nil {
		t.Fatal(err)
	}
	got, err := s.SourceDelivery(ctx, "d1")
	if err != nil {
		t.Fatal(err)
	}
	d.ReceivedAt, d.UpdatedAt = d.ReceivedAt.UTC(), d.UpdatedAt.UTC()
	equal(t, "delivery", got, d)

	none := newDelivery("d2", store.DeliveryApplied, base)
	none.Headers, none.Body = nil, nil
	if err := s.PutSourceDelivery(ctx, none); err != nil {
		t.Fatal(err)
	}
	got, err = s.SourceDelivery(ctx, "d2")
	if err != nil {
		t.Fatal(err)
	}
	if got.Headers != nil || len(got.Body) != 0 {
		t.Errorf("a delivery without headers and body came back with %v, %q", got.Headers, got.Body)
	}
	wantCode(t, s.PutSourceDelivery(ctx, store.SourceDelivery{ID: "d3", Status: "applied"}), rung.EINVALID)
}

// testSourceDeliveryReplaceKeepsOne checks a replay's update replaces the
// delivery rather than adding one.
func testSourceDeliveryReplaceKeepsOne(t *testing.T, s store.Store) {
	ctx := context.Background()
	d := newDelivery("d1", store.DeliveryRejected, base)
	d.Reason = "no partner"
	if err := s.PutSourceDelivery(ctx, d); err != nil {
		t.Fatal(err)
	}
	d.Status, d.Reason, d.Attempts, d.UpdatedAt = store.DeliveryApplied, "", 2, base.Add(time.Hour)
	if err := s.PutSourceDelivery(ctx, d); err != nil {
		t.Fatal(err)
	}
	all, err := s.ListSourceDeliveries(ctx, store.SourceDeliveryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0].Status != store.DeliveryApplied || all[0].Attempts != 2 || !all[0].UpdatedAt.Equal(base.Add(time.Hour)) {
		t.Fatalf("after replace: %+v", all)
	}
	rejected, err := s.ListSourceDeliveries(ctx, store.SourceDeliveryFilter{Status: store.DeliveryRejected})
	if err != nil || len(rejected) != 0 {
		t.Fatalf("rejected after replace = %v, %v", rejected, err)
	}
}

// testSourceDeliveriesFilterNewestFirst checks the status, source and limit
// filters and the order.
func testSourceDeliveriesFilterNewestFirst(t *testing.T, s store.Store) {
	ctx := context.Background()
	for i := range 6 {
		status := store.DeliveryApplied
		if i%2 == 1 {
			status = store.DeliveryRejected
		}
		d := newDelivery(fmt.Sprintf("d%d", i), status, base.Add(time.Duration(i)*time.Minute))
		if i == 5 {
			d.Source = "webhook"
		}
		if err := s.PutSourceDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(f store.SourceDeliveryFilter) []string {
		ds, err := s.ListSourceDeliveries(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, d := range ds {
			out = append(out, d.ID)
		}
		return out
	}
	equal(t, "all", ids(store.SourceDeliveryFilter{}), []string{"d5", "d4", "d3", "d2", "d1", "d0"})
	equal(t, "rejected", ids(store.SourceDeliveryFilter{Status: store.DeliveryRejected}), []string{"d5", "d3", "d1"})
	equal(t, "rejected hubspot", ids(store.SourceDeliveryFilter{Status: store.DeliveryRejected, Source: "hubspot"}), []string{"d3", "d1"})
	equal(t, "limit", ids(store.SourceDeliveryFilter{Limit: 2}), []string{"d5", "d4"})
	equal(t, "no limit", ids(store.SourceDeliveryFilter{Limit: -1}), []string{"d5", "d4", "d3", "d2", "d1", "d0"})
}

// testSourceRecordsKeepTheLastState checks record states round-trip, are
// replaced and deleted by key, come back only for the keys asked, and are
// listed in key order.
func testSourceRecordsKeepTheLastState(t *testing.T, s store.Store) {
	ctx := context.Background()
	key := func(src, obj, rec string) store.SourceRecordKey {
		return store.SourceRecordKey{Source: src, Object: obj, Record: rec}
	}
	rec := func(k store.SourceRecordKey, fields string) store.SourceRecord {
		return store.SourceRecord{SourceRecordKey: k, Fields: []byte(fields), UpdatedAt: base}
	}
	a, b, c := key("hubspot", "deal", "1001"), key("hubspot", "deal", "1002"), key("salesforce", "Opportunity", "006A")
	if got, err := s.SourceRecords(ctx, []store.SourceRecordKey{a}); err != nil || len(got) != 0 {
		t.Fatalf("SourceRecords on an empty store = %v, %v", got, err)
	}
	if err := s.PutSourceRecords(ctx, []store.SourceRecord{rec(c, `{"StageName":{"v":"Closed Won","at":5}}`), rec(a, `{"amount":{"v":"1","at":1}}`), rec(b, `{}`)}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSourceRecords(ctx, []store.SourceRecord{rec(a, `{"amount":{"v":"2","at":2}}`)}, []store.SourceRecordKey{b, key("x", "y", "absent")}); err != nil {
		t.Fatal(err)
	}
	got, err := s.SourceRecords(ctx, []store.SourceRecordKey{a, b, c})
	if err != nil {
		t.Fatal(err)
	}
	want := []store.SourceRecord{rec(a, `{"amount":{"v":"2","at":2}}`), rec(c, `{"StageName":{"v":"Closed Won","at":5}}`)}
	for i := range want {
		want[i].UpdatedAt = base.UTC()
	}
	equal(t, "records", got, want)
	all, err := s.AllSourceRecords(ctx)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "all records", all, want)
	wantCode(t, s.PutSourceRecords(ctx, []store.SourceRecord{{SourceRecordKey: a, Fields: []byte("{}")}}, nil), rung.EINVALID)
}
