package source

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

// testProgram maps every kind of source; the deal.won rule makes points
// visible in the ledger.
const testProgram = `name: Sources Test
timezone: UTC
points:
  rules:
    - {id: win, on: deal.won, award: event.attrs.amount / 100}
sources:
  hubspot:
    - object: deal
      type: deal.won
      changed: dealstage
      when: record.dealstage == "closedwon"
      partner: {field: partner_id}
      attrs: {amount: amount, name: dealname}
    - object: company
      type: partner.profile
      partner: {attr: hubspot_company_id, field: hs_object_id}
      attrs: {tier: partner_tier}
  salesforce:
    - object: Opportunity
      type: deal.won
      when: record.StageName == "Closed Won"
      occurred_at: CloseDate
      partner: {field: Partner_Account__c}
      member: Owner.Email
      attrs: {amount: Amount}
  webhook:
    - object: course
      type: training.completed
      when: record.score >= 80
      partner: {domain: email}
      member: email
      attrs: {score: score}
  csv:
    - object: survey
      type: survey.csat
      record: Response ID
      partner: {field: Partner}
      attrs: {score: Score}
`

var testNow = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

type env struct {
	t   *testing.T
	svc *service.Service
	x   *Intake
	now time.Time
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "rung.db"))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, now: testNow}
	svc, err := service.Open(ctx, st, service.Options{Clock: func() time.Time { return e.now }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		svc.Close()
		st.Close()
	})
	e.svc = svc
	e.x = New(svc, slog.New(slog.DiscardHandler), Secrets{HubSpot: hubspotDocSecret, Webhook: "whsec", Salesforce: "sfsec", SalesforceToken: "tok"})
	if _, err := svc.ApplyProgram(ctx, []byte(testProgram), time.Time{}, "test"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []rung.Partner{
		{ID: "p1", Name: "Initech", Domains: []string{"initech.com"}, Attrs: map[string]any{"hubspot_company_id": "5001"}},
		{ID: "p2", Name: "Globex", Domains: []string{"globex.com"}},
	} {
		p.JoinedAt = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		if _, err := svc.PutPartner(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// hubspot sends a signed HubSpot delivery.
func (e *env) hubspot(body string) (Result, error) {
	ts := fmt.Sprint(e.now.UnixMilli())
	uri := "https://rung.example/api/v1/sources/hubspot"
	return e.x.Receive(context.Background(), Request{Kind: KindHubSpot, Method: "POST", URI: uri, Body: []byte(body),
		Headers: map[string]string{HeaderHubSpotTimestamp: ts, HeaderHubSpotSignature: HubSpotSignature(hubspotDocSecret, "POST", uri, []byte(body), ts)}})
}

// signed sends a delivery signed with the generic scheme.
func (e *env) signed(kind, secret, body string) (Result, error) {
	return e.x.Receive(context.Background(), Request{Kind: kind, Method: "POST", URI: "/", Body: []byte(body),
		Headers: map[string]string{HeaderTimestamp: fmt.Sprint(e.now.Unix()), HeaderSignature: Signature(secret, e.now.Unix(), []byte(body))}})
}

func (e *env) event(id string) (rung.Event, bool) {
	e.t.Helper()
	_, ev, err := e.svc.EventEffects(context.Background(), id)
	if err != nil {
		return rung.Event{}, false
	}
	return ev, true
}

// known says whether an event is in the log and whether it is retracted,
// and its version.
func (e *env) known(id string) (known, retracted bool, version int) {
	e.svc.Read(func(en *engine.Engine) error {
		known, retracted, version = en.Known(id)
		return nil
	})
	return
}

func hubspotDeal(id int, at int64, props ...string) string {
	var parts []string
	for i := 0; i+1 < len(props); i += 2 {
		parts = append(parts, fmt.Sprintf(`{"eventId":%d,"subscriptionId":1,"portalId":62515,"appId":1,"occurredAt":%d,"subscriptionType":"deal.propertyChange","attemptNumber":0,"objectId":%d,"propertyName":%q,"propertyValue":%q,"changeSource":"CRM"}`,
			at+int64(i), at, id, props[i], props[i+1]))
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func statuses(rs []service.Result) string {
	var s []string
	for _, r := range rs {
		s = append(s, r.ID+"="+r.Status)
	}
	return strings.Join(s, " ")
}

func TestMappingRules(t *testing.T) {
	e := newEnv(t)
	at := e.now.Add(-time.Hour).UnixMilli()
	for _, tt := range []struct {
		name   string
		send   func() (Result, error)
		status string // of the delivery
		events string // event ids and statuses
		reason string // part of the reason
	}{
		{"hubspot deal won", func() (Result, error) {
			return e.hubspot(hubspotDeal(1001, at, "dealstage", "closedwon", "amount", "48000", "partner_id", "p1", "dealname", "Initech renewal"))
		}, "applied", "hubspot:deal:1001:deal.won=accepted", ""},
		{"hubspot stage not won: when is false", func() (Result, error) {
			return e.hubspot(hubspotDeal(1002, at, "dealstage", "appointmentscheduled", "amount", "1", "partner_id", "p1", "dealname", "x"))
		}, "applied", "", ""},
		{"hubspot change of another property: changed filter", func() (Result, error) {
			return e.hubspot(hubspotDeal(1003, at, "amount", "5"))
		}, "applied", "", ""},
		{"hubspot company by partner attribute", func() (Result, error) {
			return e.hubspot(`[{"eventId":9,"subscriptionId":1,"portalId":1,"occurredAt":` + fmt.Sprint(at) + `,"subscriptionType":"company.propertyChange","objectId":5001,"propertyName":"partner_tier","propertyValue":"gold"}]`)
		}, "applied", "hubspot:company:5001:partner.profile=accepted", ""},
		{"hubspot field missing: rejected", func() (Result, error) {
			return e.hubspot(hubspotDeal(1004, at, "dealstage", "closedwon", "partner_id", "p1"))
		}, "rejected", "", `names field "amount", which deal 1004 lacks`},
		{"hubspot unknown partner: rejected", func() (Result, error) {
			return e.hubspot(hubspotDeal(1005, at, "dealstage", "closedwon", "amount", "1", "partner_id", "p9", "dealname", "x"))
		}, "rejected", "", `names partner "p9"`},
		{"salesforce outbound", func() (Result, error) {
			return e.x.Receive(context.Background(), Request{Kind: KindSalesforce, Token: "tok", Body: readTestdata(t, "outbound.xml")})
		}, "applied", "salesforce:Opportunity:0065g00000XyZabAAB:deal.won=accepted", ""},
		{"salesforce wrong token", func() (Result, error) {
			return e.x.Receive(context.Background(), Request{Kind: KindSalesforce, Token: "nope", Body: readTestdata(t, "outbound.xml")})
		}, "", "", "token"},
		{"webhook by e-mail domain", func() (Result, error) {
			return e.signed(KindWebhook, "whsec", `{"id":"enr-1","object":"course","fields":{"email":"Peter@Mail.Initech.com","score":91}}`)
		}, "applied", "webhook:course:enr-1:training.completed=accepted", ""},
		{"webhook domain nobody has", func() (Result, error) {
			return e.signed(KindWebhook, "whsec", `{"id":"enr-2","object":"course","fields":{"email":"a@hooli.com","score":91}}`)
		}, "rejected", "", "no partner has the domain hooli.com"},
		{"webhook when cannot be evaluated", func() (Result, error) {
			return e.signed(KindWebhook, "whsec", `{"id":"enr-3","object":"course","fields":{"email":"a@initech.com","score":"high"}}`)
		}, "rejected", "", "when cannot be evaluated"},
		{"webhook bad signature", func() (Result, error) {
			return e.signed(KindWebhook, "other", `{"id":"enr-4","object":"course","fields":{"email":"a@initech.com","score":91}}`)
		}, "", "", "does not match"},
		{"webhook object nobody maps: ignored", func() (Result, error) {
			return e.signed(KindWebhook, "whsec", `{"id":"x","object":"webinar","fields":{}}`)
		}, "applied", "", ""},
		{"csv survey with its record column", func() (Result, error) {
			return e.x.Receive(context.Background(), Request{Kind: KindCSV, Object: "survey", Body: []byte("Response ID,Partner,Score\nr-1,p2,5\n")})
		}, "applied", "csv:survey:r-1:survey.csat=accepted", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := tt.send()
			if tt.status == "" {
				if err == nil || !strings.Contains(err.Error(), tt.reason) || rung.ErrorCode(err) != rung.EUNAUTHORIZED {
					t.Fatalf("Receive = %+v, %v; want EUNAUTHORIZED with %q", res, err, tt.reason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tt.status || statuses(res.Events) != tt.events || !strings.Contains(res.Reason, tt.reason) {
				t.Fatalf("result %s %q events %q; want %s %q with %q", res.Status, res.Reason, statuses(res.Events), tt.status, tt.events, tt.reason)
			}
			d, err := e.svc.Store().SourceDelivery(context.Background(), res.Delivery)
			if err != nil || d.Status != tt.status || d.Reason != res.Reason {
				t.Fatalf("kept delivery = %+v, %v", d, err)
			}
		})
	}
	ev, ok := e.event("hubspot:deal:1001:deal.won")
	if !ok || ev.Partner != "p1" || ev.Attrs["amount"] != 48000.0 || ev.Attrs["name"] != "Initech renewal" || ev.Source != "hubspot" ||
		!ev.OccurredAt.Equal(time.UnixMilli(at)) || ev.Attrs[VersionAttr] != float64(at) {
		t.Errorf("hubspot event = %+v", ev)
	}
	ev, _ = e.event("salesforce:Opportunity:0065g00000XyZabAAB:deal.won")
	if ev.Member != "peter@initech.example" || ev.Attrs["amount"] != 48000.0 || !ev.OccurredAt.Equal(time.Date(2026, 11, 18, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("salesforce event = %+v", ev)
	}
	ev, _ = e.event("webhook:course:enr-1:training.completed")
	if ev.Partner != "p1" || ev.Member != "Peter@Mail.Initech.com" || !ev.OccurredAt.Equal(e.now) {
		t.Errorf("webhook event = %+v", ev)
	}
	if _, ok := e.event("hubspot:deal:1004:deal.won"); ok {
		t.Error("a rejected delivery applied an event")
	}
}

func TestSameDeliveryTwiceIsOneEvent(t *testing.T) {
	e := newEnv(t)
	at := e.now.Add(-time.Hour).UnixMilli()
	body := hubspotDeal(1001, at, "dealstage", "closedwon", "amount", "48000", "partner_id", "p1", "dealname", "Initech renewal")
	first, err := e.hubspot(body)
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.hubspot(body) // HubSpot retries with the same events
	if err != nil {
		t.Fatal(err)
	}
	if statuses(first.Events) != "hubspot:deal:1001:deal.won=accepted" || statuses(second.Events) != "hubspot:deal:1001:deal.won=duplicate" {
		t.Fatalf("first %q, second %q", statuses(first.Events), statuses(second.Events))
	}
	if _, _, v := e.known("hubspot:deal:1001:deal.won"); v != 1 {
		t.Errorf("event version = %d, want 1", v)
	}
	// The same record exported as CSV makes the same event id.
	csv := "Record ID,Deal Name,Deal Stage,Amount,Partner ID\n1001,Initech renewal,closedwon,48000,p1\n"
	e.svc.ApplyProgram(context.Background(), []byte(strings.Replace(testProgram, "partner: {field: partner_id}", "partner: {field: Partner ID}", 1)), time.Time{}, "test")
	res, err := e.x.Receive(context.Background(), Request{Kind: KindHubSpotCSV, Body: []byte(csv)})
	if err != nil {
		t.Fatal(err)
	}
	if statuses(res.Events) != "hubspot:deal:1001:deal.won=corrected" {
		t.Errorf("the CSV row of the same deal: %q (%s), want the webhook's event corrected", statuses(res.Events), res.Reason)
	}
}

func TestNewVersionCorrectsAndOldVersionIsStale(t *testing.T) {
	e := newEnv(t)
	at := e.now.Add(-time.Hour).UnixMilli()
	send := func(at int64, amount string) Result {
		t.Helper()
		res, err := e.hubspot(hubspotDeal(1001, at, "dealstage", "closedwon", "amount", amount, "partner_id", "p1", "dealname", "x"))
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	send(at, "48000")
	if res := send(at+60000, "50000"); statuses(res.Events) != "hubspot:deal:1001:deal.won=corrected" {
		t.Fatalf("newer version: %q", statuses(res.Events))
	}
	ev, _ := e.event("hubspot:deal:1001:deal.won")
	if ev.Attrs["amount"] != 50000.0 {
		t.Errorf("amount after correction = %v", ev.Attrs["amount"])
	}
	res := send(at+30000, "1") // delivered late, older than the correction
	if res.Stale != 1 || len(res.Events) != 0 || res.Status != "applied" {
		t.Fatalf("older version: %+v", res)
	}
	if ev, _ := e.event("hubspot:deal:1001:deal.won"); ev.Attrs["amount"] != 50000.0 {
		t.Errorf("an older version overwrote a newer one: amount %v", ev.Attrs["amount"])
	}
	var points int64
	e.svc.Read(func(en *engine.Engine) error {
		es, err := en.Ledger(engine.LedgerFilter{Partner: "p1"})
		for _, x := range es {
			points += x.Points
		}
		return err
	})
	if points != 500 {
		t.Errorf("p1 has %d points, want 500 (the corrected amount's)", points)
	}
}

func TestDeletedRecordRetractsItsEvents(t *testing.T) {
	e := newEnv(t)
	at := e.now.Add(-time.Hour).UnixMilli()
	if _, err := e.hubspot(hubspotDeal(1001, at, "dealstage", "closedwon", "amount", "48000", "partner_id", "p1", "dealname", "x")); err != nil {
		t.Fatal(err)
	}
	del := fmt.Sprintf(`[{"eventId":7,"subscriptionId":2,"portalId":62515,"occurredAt":%d,"subscriptionType":"deal.deletion","attemptNumber":0,"objectId":1001,"changeFlag":"DELETED"}]`, at+1000)
	res, err := e.hubspot(del)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "applied" || len(res.Retracted) != 1 || res.Retracted[0] != "hubspot:deal:1001:deal.won" {
		t.Fatalf("deletion: %+v", res)
	}
	if known, retracted, _ := e.known("hubspot:deal:1001:deal.won"); !known || !retracted {
		t.Errorf("after deletion: known %v retracted %v", known, retracted)
	}
	// HubSpot may send the deletion again: nothing more to do.
	if res, err := e.hubspot(del); err != nil || res.Status != "applied" || len(res.Retracted) != 0 {
		t.Errorf("deletion again: %+v, %v", res, err)
	}

	cdc := `{"payload": {"ChangeEventHeader": {"entityName": "Opportunity", "recordIds": ["006X"], "changeType": "CREATE", "commitNumber": 10, "commitTimestamp": %d},
		"StageName": "Closed Won", "CloseDate": "2026-11-18", "Partner_Account__c": "p2", "Amount": 1000, "Owner": {"Email": "o@globex.com"}}}`
	if res, err := e.signed(KindSalesforceCDC, "sfsec", fmt.Sprintf(cdc, at)); err != nil || statuses(res.Events) != "salesforce:Opportunity:006X:deal.won=accepted" {
		t.Fatalf("CDC create: %+v, %v", res, err)
	}
	res, err = e.signed(KindSalesforceCDC, "sfsec", fmt.Sprintf(`{"ChangeEventHeader": {"entityName": "Opportunity", "recordIds": ["006X"], "changeType": "DELETE", "commitNumber": 11, "commitTimestamp": %d}}`, at))
	if err != nil || len(res.Retracted) != 1 {
		t.Fatalf("CDC delete: %+v, %v", res, err)
	}
}

func TestRejectedDeliveryIsKeptAndReplayedAfterTheFix(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	at := e.now.Add(-time.Hour).UnixMilli()
	// The mapping wants dealname, which this portal's deliveries lack.
	res, err := e.hubspot(hubspotDeal(1001, at, "dealstage", "closedwon", "amount", "48000", "partner_id", "p1"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "rejected" || !strings.Contains(res.Reason, `names field "dealname"`) || !strings.Contains(res.Reason, "line 8") {
		t.Fatalf("delivery: %+v", res)
	}
	if known, _, _ := e.known("hubspot:deal:1001:deal.won"); known {
		t.Fatal("a rejected delivery applied its event")
	}
	kept, err := e.svc.Store().ListSourceDeliveries(ctx, store.SourceDeliveryFilter{Status: store.DeliveryRejected})
	if err != nil || len(kept) != 1 || kept[0].ID != res.Delivery {
		t.Fatalf("rejected deliveries = %+v, %v", kept, err)
	}

	// Replaying before the fix rejects it again, with the same reason.
	e.now = e.now.Add(time.Hour) // well past the signature's five minutes
	again, err := e.x.Replay(ctx, res.Delivery, "admin")
	if err != nil || again.Status != "rejected" || again.Reason != res.Reason {
		t.Fatalf("replay before the fix: %+v, %v", again, err)
	}

	fixed := strings.Replace(testProgram, "attrs: {amount: amount, name: dealname}", "attrs: {amount: amount}", 1)
	if _, err := e.svc.ApplyProgram(ctx, []byte(fixed), time.Time{}, "test"); err != nil {
		t.Fatal(err)
	}
	done, err := e.x.Replay(ctx, res.Delivery, "admin")
	if err != nil || done.Status != "applied" || statuses(done.Events) != "hubspot:deal:1001:deal.won=accepted" || done.Delivery != res.Delivery {
		t.Fatalf("replay after the fix: %+v, %v", done, err)
	}
	d, err := e.svc.Store().SourceDelivery(ctx, res.Delivery)
	if err != nil || d.Status != store.DeliveryApplied || d.Attempts != 3 || d.Reason != "" || d.Events != 1 {
		t.Fatalf("kept delivery after replay = %+v, %v", d, err)
	}
	if _, err := e.x.Replay(ctx, "del_nope", "admin"); rung.ErrorCode(err) != rung.ENOTFOUND {
		t.Errorf("replay of an unknown delivery: %v", err)
	}

	// A kept delivery whose body was changed no longer verifies.
	d.Body = []byte(strings.Replace(string(d.Body), "48000", "99000", 1))
	e.svc.Store().PutSourceDelivery(ctx, d)
	if _, err := e.x.Replay(ctx, d.ID, "admin"); rung.ErrorCode(err) != rung.EUNAUTHORIZED {
		t.Errorf("replay of a tampered delivery: %v", err)
	}
}

func TestOldOrUnsignedDeliveryAppliesNothingAndIsNotKept(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	body := hubspotDeal(1001, e.now.UnixMilli(), "dealstage", "closedwon", "amount", "1", "partner_id", "p1", "dealname", "x")
	uri := "https://rung.example/api/v1/sources/hubspot"
	old := fmt.Sprint(e.now.Add(-6 * time.Minute).UnixMilli())
	for name, h := range map[string]map[string]string{
		"old timestamp":  {HeaderHubSpotTimestamp: old, HeaderHubSpotSignature: HubSpotSignature(hubspotDocSecret, "POST", uri, []byte(body), old)},
		"bad signature":  {HeaderHubSpotTimestamp: fmt.Sprint(e.now.UnixMilli()), HeaderHubSpotSignature: "AAAA"},
		"no headers":     {},
		"other uri sign": {HeaderHubSpotTimestamp: old, HeaderHubSpotSignature: HubSpotSignature(hubspotDocSecret, "POST", uri+"x", []byte(body), old)},
	} {
		_, err := e.x.Receive(ctx, Request{Kind: KindHubSpot, Method: "POST", URI: uri, Body: []byte(body), Headers: h})
		if rung.ErrorCode(err) != rung.EUNAUTHORIZED {
			t.Errorf("%s: %v, want EUNAUTHORIZED", name, err)
		}
	}
	if known, _, _ := e.known("hubspot:deal:1001:deal.won"); known {
		t.Error("an unverified delivery applied its event")
	}
	if ds, _ := e.svc.Store().ListSourceDeliveries(ctx, store.SourceDeliveryFilter{}); len(ds) != 0 {
		t.Errorf("unverified deliveries were kept: %d", len(ds))
	}
	off := New(e.svc, nil, Secrets{})
	if _, err := off.Receive(ctx, Request{Kind: KindHubSpot}); rung.ErrorCode(err) != rung.ENOTFOUND || !strings.Contains(err.Error(), "RUNG_HUBSPOT_SECRET") {
		t.Errorf("a source without its secret: %v", err)
	}
	if _, err := e.hubspot("not json"); rung.ErrorCode(err) != rung.EINVALID {
		t.Errorf("an unreadable delivery: %v", err)
	}
}

func TestUndeleteAppliesTheRecordAgain(t *testing.T) {
	e := newEnv(t)
	at := e.now.Add(-time.Hour).UnixMilli()
	msg := func(change string, n int) string {
		return fmt.Sprintf(`{"payload": {"ChangeEventHeader": {"entityName": "Opportunity", "recordIds": ["006X"], "changeType": %q, "commitNumber": %d, "commitTimestamp": %d},
			"StageName": "Closed Won", "CloseDate": "2026-11-18", "Partner_Account__c": "p2", "Amount": 1000, "Owner": {"Email": "o@globex.com"}}}`, change, n, at)
	}
	for i, step := range []struct {
		change    string
		retracted bool
	}{{"CREATE", false}, {"DELETE", true}, {"UNDELETE", false}} {
		res, err := e.signed(KindSalesforceCDC, "sfsec", msg(step.change, 10+i))
		if err != nil || res.Status != "applied" {
			t.Fatalf("%s: %+v, %v", step.change, res, err)
		}
		known, retracted, _ := e.known("salesforce:Opportunity:006X:deal.won")
		if !known || retracted != step.retracted {
			t.Fatalf("after %s: known %v retracted %v (%+v)", step.change, known, retracted, res)
		}
	}
}

func TestPropertyChangesAreReadWithTheRecordsKeptFields(t *testing.T) {
	e := newEnv(t)
	at := e.now.Add(-2 * time.Hour).UnixMilli()
	send := func(body string) Result {
		t.Helper()
		res, err := e.hubspot(body)
		if err != nil || res.Status != "applied" {
			t.Fatalf("delivery: %+v, %v", res, err)
		}
		return res
	}
	// The deal is created with its properties, not yet won: no event.
	if res := send(hubspotDeal(2001, at, "dealstage", "appointmentscheduled", "amount", "48000", "partner_id", "p1", "dealname", "Initech renewal")); len(res.Events) != 0 {
		t.Fatalf("a deal not won made events: %+v", res)
	}
	// Later only the stage changes: the kept fields fill in the rest.
	if res := send(hubspotDeal(2001, at+60000, "dealstage", "closedwon")); statuses(res.Events) != "hubspot:deal:2001:deal.won=accepted" {
		t.Fatalf("stage change: %+v", res)
	}
	if ev, _ := e.event("hubspot:deal:2001:deal.won"); ev.Attrs["amount"] != 48000.0 || ev.Attrs["name"] != "Initech renewal" || ev.Partner != "p1" {
		t.Errorf("event from the merged record: %+v", ev)
	}
	// A late amount change older than the kept one does not overwrite it.
	send(hubspotDeal(2001, at-60000, "amount", "1"))
	send(hubspotDeal(2001, at+120000, "amount", "50000", "dealstage", "closedwon"))
	if ev, _ := e.event("hubspot:deal:2001:deal.won"); ev.Attrs["amount"] != 50000.0 {
		t.Errorf("amount after a newer change = %v, want 50000", ev.Attrs["amount"])
	}

	// A CSV backfill gives the webhooks the rest of the record.
	csv := "Record ID,Deal Name,Deal Stage,Amount,partner_id,Last Modified Date\n3001,Globex pilot,qualifiedtobuy,9000,p2,2026-11-19 10:00\n"
	if res, err := e.x.Receive(context.Background(), Request{Kind: KindHubSpotCSV, Body: []byte(csv)}); err != nil || res.Status != "applied" || len(res.Events) != 0 {
		t.Fatalf("backfill: %+v, %v", res, err)
	}
	if res := send(hubspotDeal(3001, e.now.Add(-time.Minute).UnixMilli(), "dealstage", "closedwon")); statuses(res.Events) != "hubspot:deal:3001:deal.won=accepted" {
		t.Fatalf("stage change after the backfill: %+v", res)
	}
	if ev, _ := e.event("hubspot:deal:3001:deal.won"); ev.Partner != "p2" || ev.Attrs["amount"] != 9000.0 {
		t.Errorf("event after the backfill: %+v", ev)
	}

	// Deleting the record forgets its fields.
	send(fmt.Sprintf(`[{"eventId":1,"subscriptionId":1,"portalId":1,"occurredAt":%d,"subscriptionType":"deal.deletion","objectId":3001}]`, e.now.UnixMilli()))
	got, err := e.svc.Store().SourceRecords(context.Background(), []store.SourceRecordKey{{Source: "hubspot", Object: "deal", Record: "3001"}})
	if err != nil || len(got) != 0 {
		t.Errorf("a deleted record's fields are kept: %v, %v", got, err)
	}
}

func TestRecordNoLongerMatchingRetractsItsEvent(t *testing.T) {
	e := newEnv(t)
	// The webhook mapping has no changed filter: every change is judged by when.
	send := func(score, version int) Result {
		t.Helper()
		res, err := e.signed(KindWebhook, "whsec", fmt.Sprintf(`{"id":"enr-7","object":"course","version":%d,"fields":{"email":"a@initech.com","score":%d}}`, version, score))
		if err != nil || res.Status != "applied" {
			t.Fatalf("delivery: %+v, %v", res, err)
		}
		return res
	}
	send(91, 1)
	if res := send(60, 3); len(res.Retracted) != 1 {
		t.Fatalf("a score corrected below the bar: %+v", res)
	}
	if _, retracted, _ := e.known("webhook:course:enr-7:training.completed"); !retracted {
		t.Error("the event is not retracted")
	}
	// A late delivery of version 2 (still passing) changes nothing: version 3 is newer.
	if res := send(95, 2); len(res.Events) != 0 || len(res.Retracted) != 0 {
		t.Errorf("a late older version: %+v", res)
	}
	if res := send(88, 4); statuses(res.Events) != "webhook:course:enr-7:training.completed=accepted" {
		t.Errorf("passing again: %+v", res)
	}
}
