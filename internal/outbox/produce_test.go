package outbox_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/outbox"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

func idsOf(ms []store.OutboxMessage) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

func step(t *testing.T, p *outbox.Producer) int {
	t.Helper()
	n, err := p.Step(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestProducerReportsEachChangeOnce(t *testing.T) {
	f := newFixture(t)
	p := outbox.NewProducer(f.svc, false)
	if n := step(t, p); n != 0 {
		t.Fatalf("the first step reported %d messages; it should record the state as it is", n)
	}
	f.ingest(t,
		rung.Event{ID: "t1", Type: "training.completed", Partner: "p1", Member: "ann"},
		rung.Event{ID: "t2", Type: "training.completed", Partner: "p1", Member: "ann"},
		rung.Event{ID: "c1", Type: "certification.earned", Partner: "p1", Member: "ann", Attrs: map[string]any{"cert_id": "C-1"}},
	)
	if n := step(t, p); n != 4 {
		t.Errorf("step after three events wrote %d messages, want 4", n)
	}
	want := []string{
		"points.changed:member:ann:2",
		"level.changed:member:ann:2",
		"badge.awarded:member:ann:2:certified",
		"points.changed:partner:p1:2",
	}
	ms := messages(t, f.st)
	if got := idsOf(ms); !reflect.DeepEqual(got, want) {
		t.Fatalf("messages:\n got  %v\n want %v", got, want)
	}
	var pts outbox.PointsPayload
	json.Unmarshal(ms[0].Payload, &pts)
	if pts != (outbox.PointsPayload{Subject: "ann", Kind: "member", Partner: "p1", Balance: 1200, Lifetime: 1200}) {
		t.Errorf("points.changed payload = %+v", pts)
	}
	var lv outbox.LevelPayload
	json.Unmarshal(ms[1].Payload, &lv)
	if lv.Level != "Pro" || lv.Previous != "Rookie" {
		t.Errorf("level.changed payload = %+v", lv)
	}
	// Nothing changed: nothing written. A second producer (another
	// instance, or this one after a restart) finds the cursor moved and
	// reports nothing again.
	if n := step(t, p); n != 0 {
		t.Errorf("an idle step wrote %d messages", n)
	}
	if n := step(t, outbox.NewProducer(f.svc, false)); n != 0 {
		t.Errorf("a second producer wrote %d messages for changes already reported", n)
	}
	if _, err := f.svc.Retract(context.Background(), "c1", "test"); err != nil {
		t.Fatal(err)
	}
	step(t, p)
	ms = messages(t, f.st)
	if got := idsOf(ms[4:]); !reflect.DeepEqual(got, []string{"badge.revoked:member:ann:3:certified"}) {
		t.Errorf("after the retraction: %v", got)
	}
	// An adjustment writes no record, but it is a change all the same.
	if _, err := f.svc.Adjust(context.Background(), rung.Adjustment{Partner: "p1", Member: "ann", Points: -200, Reason: "correction"}, "admin"); err != nil {
		t.Fatal(err)
	}
	step(t, p)
	ms = messages(t, f.st)
	if got := idsOf(ms[5:]); !reflect.DeepEqual(got, []string{"points.changed:member:ann:4", "points.changed:partner:p1:4"}) {
		t.Errorf("after the adjustment: %v", got)
	}
}

func TestProducerWritesCRMSyncForPartners(t *testing.T) {
	f := newFixture(t)
	p := outbox.NewProducer(f.svc, true)
	step(t, p)
	f.ingest(t, rung.Event{ID: "t1", Type: "training.completed", Partner: "p1", Member: "ann"},
		rung.Event{ID: "t2", Type: "training.completed", Partner: "p1", Member: "ann"})
	step(t, p)
	var sync *store.OutboxMessage
	for _, m := range messages(t, f.st) {
		if m.Type == outbox.CRMSync {
			sync = &m
		}
	}
	if sync == nil {
		t.Fatal("no crm.sync message")
	}
	var c outbox.CRMPayload
	json.Unmarshal(sync.Payload, &c)
	want := outbox.CRMPayload{Partner: "p1", Attrs: map[string]string{"hubspot_id": "9001", "sf_id": "001Aa000001AbCdEAF"}, Points: 1200, Level: "Pro", Badges: []string{}}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("crm.sync payload:\n got  %+v\n want %+v", c, want)
	}
}

func TestProducerOnAnEmptyStoreReportsWhatComesLater(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "rung.db"))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := service.Open(ctx, st, service.Options{Clock: func() time.Time { return start }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { svc.Close(); st.Close() }()
	p := outbox.NewProducer(svc, false)
	if n := step(t, p); n != 0 {
		t.Fatalf("baseline wrote %d messages", n)
	}
	f := &fixture{svc: svc, st: st, clock: &clock{t: start}}
	if _, err := svc.ApplyProgram(ctx, []byte(testProgram), time.Time{}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.PutPartner(ctx, rung.Partner{ID: "p1", Name: "Alpha", JoinedAt: start.AddDate(-1, 0, 0)}); err != nil {
		t.Fatal(err)
	}
	f.ingest(t, rung.Event{ID: "c1", Type: "certification.earned", Partner: "p1", Member: "ann", Attrs: map[string]any{"cert_id": "C-1"}})
	step(t, p)
	// A new member has reached the first level, too.
	if got := idsOf(messages(t, st)); !reflect.DeepEqual(got, []string{"level.changed:member:ann:2", "badge.awarded:member:ann:2:certified"}) {
		t.Errorf("messages %v", got)
	}
}

func TestProducerSeesACorrectionMoveAnEventToAnotherMember(t *testing.T) {
	f := newFixture(t)
	p := outbox.NewProducer(f.svc, false)
	step(t, p)
	at := start.Add(-time.Hour)
	f.ingest(t, rung.Event{ID: "t1", Type: "training.completed", Partner: "p1", Member: "ann", OccurredAt: at})
	step(t, p)
	n := len(messages(t, f.st))
	in := []*service.Incoming{{Event: rung.Event{ID: "t1", Type: "training.completed", Partner: "p1", Member: "bob", OccurredAt: at}}}
	res, err := f.svc.Ingest(context.Background(), in)
	if err != nil || res[0].Status != "corrected" {
		t.Fatalf("correction: %+v, %v", res, err)
	}
	step(t, p)
	got := map[string]int64{}
	for _, m := range messages(t, f.st)[n:] {
		if m.Type == outbox.PointsChanged {
			var pp outbox.PointsPayload
			json.Unmarshal(m.Payload, &pp)
			got[pp.Kind+":"+pp.Subject] = pp.Balance
		}
	}
	if want := map[string]int64{"member:ann": 0, "member:bob": 600}; !reflect.DeepEqual(got, want) {
		t.Errorf("points after the correction: %v, want %v", got, want)
	}
}
