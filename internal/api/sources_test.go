package api

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/source"
)

const sourcesSection = `sources:
  hubspot:
    - object: deal
      type: deal.won
      changed: dealstage
      when: record.dealstage == "closedwon"
      partner: {field: partner_id}
      member: owner_email
      attrs: {amount: amount, name: dealname}
  salesforce:
    - object: Opportunity
      type: deal.won
      when: record.StageName == "Closed Won"
      partner: {field: Partner_Account__c}
      attrs: {amount: Amount}
`

// post sends a raw request and returns the status and body.
func post(t *testing.T, url, ctype string, body string, header map[string]string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw), resp.Header
}

func TestSourcesEndToEnd(t *testing.T) {
	t.Setenv("RUNG_HUBSPOT_SECRET", "hs-secret")
	t.Setenv("RUNG_SALESFORCE_TOKEN", "sf-token")
	t.Setenv("RUNG_URL", "")
	c := newServer(t)
	c.do("PUT", "/api/v1/program", rung.ScopeAdmin, "application/yaml", testProgram+sourcesSection, 200)

	hubspot := func(body string, ts int64, secret string) (int, string) {
		uri := c.url + "/api/v1/sources/hubspot"
		stamp := fmt.Sprint(ts)
		code, out, _ := post(t, uri, "application/json", body, map[string]string{
			source.HeaderHubSpotTimestamp: stamp,
			source.HeaderHubSpotSignature: source.HubSpotSignature(secret, "POST", uri, []byte(body), stamp),
		})
		return code, out
	}
	deal := func(props ...string) string {
		var parts []string
		for i := 0; i+1 < len(props); i += 2 {
			parts = append(parts, fmt.Sprintf(`{"eventId":%d,"subscriptionId":1,"portalId":62515,"appId":7,"occurredAt":%d,"subscriptionType":"deal.propertyChange","attemptNumber":0,"objectId":1001,"propertyName":%q,"propertyValue":%q,"changeSource":"CRM"}`,
				i, now.Add(-10*60e9).UnixMilli(), props[i], props[i+1]))
		}
		return "[" + strings.Join(parts, ",") + "]"
	}

	won := deal("dealstage", "closedwon", "amount", "48000", "partner_id", "p1", "owner_email", "m1", "dealname", "Initech renewal")
	code, out := hubspot(won, now.UnixMilli(), "hs-secret")
	if code != 200 || !strings.Contains(out, `"status":"applied"`) || !strings.Contains(out, `"id":"hubspot:deal:1001:deal.won","status":"accepted"`) {
		t.Fatalf("HubSpot delivery: %d %s", code, out)
	}
	ev := c.do("GET", "/api/v1/events/hubspot:deal:1001:deal.won", rung.ScopeRead, "", "", 200)
	if got := fmt.Sprint(ev["event"]); !strings.Contains(got, "amount:48000") || !strings.Contains(got, "member:m1") {
		t.Errorf("the event: %v", ev)
	}
	if code, out = hubspot(won, now.UnixMilli(), "hs-secret"); code != 200 || !strings.Contains(out, `"status":"duplicate"`) {
		t.Errorf("the same delivery again: %d %s", code, out)
	}

	for name, send := range map[string]func() (int, string){
		"bad signature": func() (int, string) { return hubspot(won, now.UnixMilli(), "wrong") },
		"old timestamp": func() (int, string) { return hubspot(won, now.Add(-6*60e9).UnixMilli(), "hs-secret") },
	} {
		if code, out := send(); code != 401 || !strings.Contains(out, "nothing was applied") {
			t.Errorf("%s: %d %s", name, code, out)
		}
	}

	// A delivery the mapping cannot read is kept, listed and replayed.
	noName := strings.Replace(deal("dealstage", "closedwon", "amount", "1000", "partner_id", "p1", "owner_email", "m1"), "1001", "1002", -1)
	code, out = hubspot(noName, now.UnixMilli(), "hs-secret")
	if code != 200 || !strings.Contains(out, `"status":"rejected"`) || !strings.Contains(out, `names field \"dealname\"`) {
		t.Fatalf("delivery without dealname: %d %s", code, out)
	}
	list := c.do("GET", "/api/v1/sources/deliveries?status=rejected", rung.ScopeAdmin, "", "", 200)
	ds, _ := list["deliveries"].([]any)
	if len(ds) != 1 {
		t.Fatalf("rejected deliveries: %v", list)
	}
	id := ds[0].(map[string]any)["id"].(string)
	one := c.do("GET", "/api/v1/sources/deliveries/"+id, rung.ScopeAdmin, "", "", 200)
	if one["body"] != noName || one["status"] != "rejected" {
		t.Errorf("the kept delivery: %v", one)
	}
	c.do("GET", "/api/v1/sources/deliveries", rung.ScopeRead, "", "", 403)
	c.do("GET", "/api/v1/sources/deliveries?status=lost", rung.ScopeAdmin, "", "", 400)
	fixed := strings.Replace(testProgram+sourcesSection, "attrs: {amount: amount, name: dealname}", "attrs: {amount: amount}", 1)
	c.do("PUT", "/api/v1/program", rung.ScopeAdmin, "application/yaml", fixed, 200)
	replay := c.do("POST", "/api/v1/sources/deliveries/"+id+"/replay", rung.ScopeAdmin, "", "", 200)
	if replay["status"] != "applied" {
		t.Errorf("replay: %v", replay)
	}
	c.do("POST", "/api/v1/sources/deliveries/del_nope/replay", rung.ScopeAdmin, "", "", 404)
	c.do("GET", "/api/v1/events/hubspot:deal:1002:deal.won", rung.ScopeRead, "", "", 200)

	// Salesforce Outbound Messages get the Ack envelope.
	xml, err := os.ReadFile("../source/testdata/outbound.xml")
	if err != nil {
		t.Fatal(err)
	}
	code, out, h := post(t, c.url+"/api/v1/sources/salesforce/outbound/sf-token?from=flow", "text/xml", string(xml), nil)
	if code != 200 || !strings.Contains(out, "<notificationsResponse") || !strings.Contains(out, "<Ack>true</Ack>") || !strings.HasPrefix(h.Get("Content-Type"), "text/xml") {
		t.Fatalf("outbound message: %d %s", code, out)
	}
	c.do("GET", "/api/v1/events/salesforce:Opportunity:0065g00000XyZabAAB:deal.won", rung.ScopeRead, "", "", 200)
	if code, out, _ := post(t, c.url+"/api/v1/sources/salesforce/outbound/guess", "text/xml", string(xml), nil); code != 401 {
		t.Errorf("outbound message with a wrong token: %d %s", code, out)
	}
	all := c.do("GET", "/api/v1/sources/deliveries?source=salesforce", rung.ScopeAdmin, "", "", 200)
	if s := fmt.Sprint(all); strings.Contains(s, "sf-token") || !strings.Contains(s, "salesforce") {
		t.Errorf("the token shows in the kept deliveries, or they are missing: %s", s)
	}
	sfID := all["deliveries"].([]any)[0].(map[string]any)["id"].(string)
	if kept := c.do("GET", "/api/v1/sources/deliveries/"+sfID, rung.ScopeAdmin, "", "", 200); strings.Contains(fmt.Sprint(kept), "sf-token") ||
		!strings.HasSuffix(fmt.Sprint(kept["uri"]), "/outbound/…?from=flow") {
		t.Errorf("the kept Outbound Message shows the token: %v", kept["uri"])
	}

	// Sources without a secret are off.
	if code, out, _ := post(t, c.url+"/api/v1/sources/webhook", "application/json", `{}`, nil); code != 404 || !strings.Contains(out, "RUNG_WEBHOOK_SECRET") {
		t.Errorf("webhook without a secret: %d %s", code, out)
	}

	// CSV imports take an ingest key.
	csv := "Opportunity ID,Opportunity Name,Stage,Amount,Close Date,Partner_Account__c\n0065g00000CSV01AAB,Globex pilot,Closed Won,12000,11/18/2026,p1\n"
	c.do("POST", "/api/v1/sources/csv?source=salesforce", rung.ScopeRead, "text/csv", csv, 403)
	c.do("POST", "/api/v1/sources/csv?source=zoho", rung.ScopeIngest, "text/csv", csv, 400)
	res := c.do("POST", "/api/v1/sources/csv?source=salesforce", rung.ScopeIngest, "text/csv", csv, 200)
	if fmt.Sprint(res["events"]) != "[map[id:salesforce:Opportunity:0065g00000CSV01AAB:deal.won status:accepted version:1]]" {
		t.Errorf("CSV import: %v", res)
	}
}
