package outbox_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/outbox"
)

// crmServer answers like HubSpot's and Salesforce's update APIs, and
// records what it was sent; a request of the wrong shape is refused with
// the reason.
type crmServer struct {
	mu       sync.Mutex
	hubspot  []map[string]any
	sf       []map[string]any
	problems []string
}

func (c *crmServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	refuse := func(why string) {
		c.problems = append(c.problems, r.Method+" "+r.URL.Path+": "+why)
		http.Error(w, why, http.StatusBadRequest)
	}
	if r.Method != http.MethodPatch {
		refuse("method is not PATCH")
		return
	}
	if r.Header.Get("Content-Type") != "application/json" {
		refuse("content type is not application/json")
		return
	}
	var body map[string]any
	b, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(b, &body); err != nil {
		refuse("body is not a JSON object")
		return
	}
	switch r.URL.Path {
	case "/crm/v3/objects/companies/9001":
		if r.Header.Get("Authorization") != "Bearer pat-na1-123" {
			refuse("bad HubSpot token")
			return
		}
		props, ok := body["properties"].(map[string]any)
		if !ok || len(body) != 1 {
			refuse(`HubSpot wants {"properties": {...}}`)
			return
		}
		c.hubspot = append(c.hubspot, props)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"id": "9001", "properties": props})
	case "/services/data/v60.0/sobjects/Account/001Aa000001AbCdEAF":
		if r.Header.Get("Authorization") != "Bearer 00D-session" {
			refuse("bad Salesforce token")
			return
		}
		c.sf = append(c.sf, body)
		w.WriteHeader(http.StatusNoContent)
	default:
		refuse("unknown path")
	}
}

func TestCRMWriteBackUpdatesHubSpotCompanyAndSalesforceAccount(t *testing.T) {
	f := newFixture(t)
	crm := &crmServer{}
	srv := httptest.NewServer(crm)
	defer srv.Close()
	hsProps, err := outbox.ParseFieldMap("--hubspot-properties", "tier=rung_tier,points=rung_points,level=rung_level,badges=rung_badges")
	if err != nil {
		t.Fatal(err)
	}
	sfFields, err := outbox.ParseFieldMap("--salesforce-fields", "points=Rung_Points__c, level=Rung_Level__c, badges=Rung_Badges__c")
	if err != nil {
		t.Fatal(err)
	}
	sinks := []outbox.Sink{
		&outbox.HubSpot{BaseURL: srv.URL, Token: "pat-na1-123", IDAttr: "hubspot_id", Properties: hsProps},
		&outbox.Salesforce{InstanceURL: srv.URL, Token: "00D-session", IDAttr: "sf_id", Fields: sfFields},
	}
	p := outbox.NewProducer(f.svc, true)
	step(t, p)
	f.ingest(t,
		rung.Event{ID: "t1", Type: "training.completed", Partner: "p1", Member: "ann"},
		rung.Event{ID: "t2", Type: "training.completed", Partner: "p1", Member: "ann"},
		rung.Event{ID: "c1", Type: "certification.earned", Partner: "p1", Member: "ann", Attrs: map[string]any{"cert_id": "C-1"}},
	)
	step(t, p)
	drain(t, outbox.NewDeliverer(f.st, outbox.Options{Clock: f.clock.now, Sinks: sinks}), f.st, f.clock, 5)
	crm.mu.Lock()
	defer crm.mu.Unlock()
	if len(crm.problems) > 0 {
		t.Fatalf("requests refused: %v", crm.problems)
	}
	wantHS := []map[string]any{{"rung_tier": "", "rung_points": "1200", "rung_level": "Pro", "rung_badges": ""}}
	if !reflect.DeepEqual(crm.hubspot, wantHS) {
		t.Errorf("HubSpot got %v, want %v", crm.hubspot, wantHS)
	}
	wantSF := []map[string]any{{"Rung_Points__c": 1200.0, "Rung_Level__c": "Pro", "Rung_Badges__c": ""}}
	if !reflect.DeepEqual(crm.sf, wantSF) {
		t.Errorf("Salesforce got %v, want %v", crm.sf, wantSF)
	}
}

func TestCRMWriteBackWithoutARecordIDIsDeadLetteredWithTheReason(t *testing.T) {
	f := newFixture(t)
	srv := httptest.NewServer(&crmServer{})
	defer srv.Close()
	p := outbox.NewProducer(f.svc, true)
	step(t, p)
	f.ingest(t, rung.Event{ID: "t1", Type: "training.completed", Partner: "p1", Member: "ann"})
	step(t, p)
	d := outbox.NewDeliverer(f.st, outbox.Options{Clock: f.clock.now, MaxAttempts: 2,
		Sinks: []outbox.Sink{&outbox.HubSpot{BaseURL: srv.URL, Token: "t", IDAttr: "hs_company", Properties: map[string]string{"points": "rung_points"}}}})
	drain(t, d, f.st, f.clock, 10)
	dead, err := f.st.Deliveries(t.Context(), storeDead)
	if err != nil || len(dead) != 1 {
		t.Fatalf("dead letters = %v, %v", dead, err)
	}
	if want := `partner p1 has no HubSpot company id in its attribute "hs_company"`; !contains(dead[0].LastError, want) {
		t.Errorf("reason %q does not say %q", dead[0].LastError, want)
	}
}

func TestParseFieldMapSaysWhatIsWrong(t *testing.T) {
	for in, want := range map[string]string{
		"tier":                  "is not field=property",
		"rank=rung_rank":        "is not a write-back field",
		"tier=rung tier":        "is not a property name",
		"tier=a,tier=b":         "mapped twice",
		"points=x,,level=y":     "is not field=property",
		"badges=Rung_Badges__c": "",
	} {
		_, err := outbox.ParseFieldMap("--hubspot-properties", in)
		switch {
		case want == "" && err != nil:
			t.Errorf("%q: %v", in, err)
		case want != "" && (err == nil || !contains(err.Error(), want)):
			t.Errorf("%q: error %v, want one saying %q", in, err, want)
		}
	}
}
