package source

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseHubSpotMergesOneRecordsEvents(t *testing.T) {
	body := `[
	 {"eventId":3,"subscriptionId":9,"portalId":62515,"appId":1,"occurredAt":1763458260000,"subscriptionType":"deal.propertyChange","attemptNumber":0,"objectId":1001,"propertyName":"amount","propertyValue":"48000","changeSource":"CRM"},
	 {"eventId":2,"subscriptionId":9,"portalId":62515,"appId":1,"occurredAt":1763458200000,"subscriptionType":"deal.propertyChange","attemptNumber":0,"objectId":1001,"propertyName":"dealstage","propertyValue":"closedwon","changeSource":"CRM"},
	 {"eventId":4,"subscriptionId":8,"portalId":62515,"appId":1,"occurredAt":1763458200000,"subscriptionType":"contact.deletion","attemptNumber":0,"objectId":77,"changeFlag":"DELETED"},
	 {"eventId":5,"subscriptionId":7,"portalId":62515,"appId":1,"occurredAt":1763458200000,"subscriptionType":"deal.associationChange","attemptNumber":0,"objectId":1001}
	]`
	got, err := ParseHubSpot([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := []Change{
		{Object: "deal", Record: "1001", Version: 1763458260000, At: time.UnixMilli(1763458260000).UTC(),
			Changed: []string{"dealstage", "amount"}, Fields: map[string]any{"hs_object_id": "1001", "dealstage": "closedwon", "amount": "48000"}},
		{Object: "contact", Record: "77", Version: 1763458200000, At: time.UnixMilli(1763458200000).UTC(), Deleted: true,
			Changed: []string{}, Fields: map[string]any{"hs_object_id": "77"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("changes:\n got  %+v\n want %+v", got, want)
	}
}

func TestParseHubSpotRefusesWhatIsNotHubSpots(t *testing.T) {
	for _, tt := range []struct{ name, body, want string }{
		{"an object", `{"objectId": 1}`, "expected the JSON array"},
		{"no subscription type", `[{"objectId": 1, "occurredAt": 1}]`, "subscriptionType"},
		{"bad object id", `[{"objectId": "x", "occurredAt": 1, "subscriptionType": "deal.creation"}]`, "objectId"},
		{"property change without name", `[{"objectId": 1, "occurredAt": 1763458200000, "subscriptionType": "deal.propertyChange"}]`, "propertyName"},
		{"two arrays", `[] []`, "found more"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseHubSpot([]byte(tt.body)); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseHubSpot = %v, want an error with %q", err, tt.want)
			}
		})
	}
}

func TestParseOutboundMessage(t *testing.T) {
	org, got, err := ParseOutbound(readTestdata(t, "outbound.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if org != "00D5g000004ABCDEAA" {
		t.Errorf("org = %q", org)
	}
	at := time.Date(2026, 11, 18, 9, 30, 0, 0, time.UTC)
	want := Change{Object: "Opportunity", Record: "0065g00000XyZabAAB", Version: at.UnixMilli(), At: at, Fields: map[string]any{
		"Id": "0065g00000XyZabAAB", "Amount": "48000.0", "CloseDate": "2026-11-18", "LastModifiedDate": "2026-11-18T09:30:00.000Z",
		"Partner_Account__c": "p1", "StageName": "Closed Won", "Owner.Email": "peter@initech.example"}}
	if len(got) != 2 || !reflect.DeepEqual(got[0], want) {
		t.Fatalf("changes:\n got  %+v\n want %+v (and one more)", got, want)
	}
	if got[1].Record != "0065g00000XyZacAAB" || got[1].Fields["StageName"] != "Prospecting" {
		t.Errorf("second change = %+v", got[1])
	}
	for _, tt := range []struct{ name, body, want string }{
		{"not XML", "{}", "not a Salesforce Outbound Message"},
		{"broken XML", "<a><b></a>", "expected a Salesforce Outbound Message"},
		{"another envelope", `<Envelope><Body><x/></Body></Envelope>`, "not a Salesforce Outbound Message"},
		{"no Id field", `<notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>00D</OrganizationId><Notification><sObject xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="sf:Lead"><Email>a@b.c</Email></sObject></Notification></notifications>`, "without an Id"},
		{"no type", `<notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>00D</OrganizationId><Notification><sObject><Id>1</Id></sObject></Notification></notifications>`, "xsi:type"},
		{"unclosed", `<notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>00D`, "expected a Salesforce Outbound Message"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := ParseOutbound([]byte(tt.body)); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseOutbound = %v, want an error with %q", err, tt.want)
			}
		})
	}
}

func TestParseCDC(t *testing.T) {
	got, err := ParseCDC(readTestdata(t, "cdc.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("got %d changes", len(got))
	}
	c := got[0]
	if c.Object != "Opportunity" || c.Record != "0065g00000XyZabAAB" || c.Version != 10714552234557 || c.Deleted ||
		!c.At.Equal(time.UnixMilli(1763458200000)) || !reflect.DeepEqual(c.Changed, []string{"StageName", "LastModifiedDate"}) {
		t.Errorf("change = %+v", c)
	}
	if c.Fields["StageName"] != "Closed Won" || c.Fields["Name.LastName"] != "Initech renewal" || c.Fields["Id"] != "0065g00000XyZabAAB" {
		t.Errorf("fields = %v", c.Fields)
	}

	del := `[{"ChangeEventHeader": {"entityName": "Opportunity", "recordIds": ["006A", "006B"], "changeType": "DELETE", "commitNumber": 5, "commitTimestamp": 1763458200000}}]`
	got, err = ParseCDC([]byte(del))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got[0].Deleted || got[0].Record != "006A" || got[1].Record != "006B" || got[1].Version != 5 {
		t.Errorf("delete of two records = %+v", got)
	}

	pe := `{"channel": "/event/Course_Completed__e", "data": {"event": {"replayId": 42}, "payload": {"CreatedDate": "2026-11-18T09:30:00Z", "Email__c": "peter@initech.example", "Score__c": 91}}}`
	got, err = ParseCDC([]byte(pe))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Object != "Course_Completed__e" || got[0].Record != "42" || got[0].Version != 42 || got[0].Fields["Score__c"] != 91.0 {
		t.Errorf("platform event = %+v", got)
	}

	for _, tt := range []struct{ name, body, want string }{
		{"not JSON", "<x/>", "expected a change event"},
		{"no entity", `{"ChangeEventHeader": {"recordIds": ["1"], "changeType": "CREATE"}}`, "entityName"},
		{"no records", `{"ChangeEventHeader": {"entityName": "Lead", "changeType": "CREATE"}}`, "recordIds"},
		{"unknown change", `{"ChangeEventHeader": {"entityName": "Lead", "recordIds": ["1"], "changeType": "MERGE"}}`, "changeType"},
		{"neither", `{"Score__c": 1}`, "no ChangeEventHeader"},
		{"null", `[null]`, "got null"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseCDC([]byte(tt.body)); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseCDC = %v, want an error with %q", err, tt.want)
			}
		})
	}
}

func TestParseWebhook(t *testing.T) {
	got, err := ParseWebhook([]byte(`[{"id": "enr-9", "object": "course", "version": 3, "occurred_at": "2026-11-18T09:30:00Z", "fields": {"email": "peter@initech.example", "score": 91}},
		{"id": "enr-8", "object": "course", "deleted": true}]`))
	if err != nil {
		t.Fatal(err)
	}
	want := []Change{
		{Object: "course", Record: "enr-9", Version: 3, At: time.Date(2026, 11, 18, 9, 30, 0, 0, time.UTC),
			Fields: map[string]any{"id": "enr-9", "email": "peter@initech.example", "score": 91.0}},
		{Object: "course", Record: "enr-8", Deleted: true, Fields: map[string]any{"id": "enr-8"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("changes:\n got  %+v\n want %+v", got, want)
	}
	for _, tt := range []struct{ name, body, want string }{
		{"no id", `{"object": "course", "fields": {}}`, "id is required"},
		{"no object", `{"id": "1", "fields": {}}`, "object is required"},
		{"no fields", `{"id": "1", "object": "course"}`, "fields is required"},
		{"bad version", `{"id": "1", "object": "c", "fields": {}, "version": 1.5}`, "version"},
		{"bad time", `{"id": "1", "object": "c", "fields": {}, "occurred_at": "yesterday"}`, "occurred_at"},
		{"not JSON", `id=1`, "expected a JSON object"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseWebhook([]byte(tt.body)); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseWebhook = %v, want an error with %q", err, tt.want)
			}
		})
	}
}

// The first rows of a HubSpot deals export and a Salesforce opportunities
// report, with their own column labels.
const (
	hubspotDealsCSV = "\ufeffRecord ID,Deal Name,Deal Stage,Amount,Close Date,Pipeline,Last Modified Date,Partner ID\n" +
		"1001,Initech renewal,closedwon,48000,2026-11-18 09:30,default,2026-11-18 09:31,p1\n" +
		"1002,Globex pilot,appointmentscheduled,,,default,2026-11-17 10:00,p1\n"
	salesforceOppsCSV = `"Opportunity ID","Opportunity Name","Account Name","Stage","Amount","Close Date","Last Modified Date","Partner Email"` + "\n" +
		`"0065g00000XyZabAAB","Initech renewal","Initech","Closed Won","48000.00","11/18/2026","11/18/2026 9:31 AM","peter@initech.example"` + "\n"
)

func TestParseCSVExports(t *testing.T) {
	hs, err := ParseCSV(KindHubSpotCSV, "", []byte(hubspotDealsCSV))
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 2 || hs[0].Object != "deal" || hs[0].Record != "1001" || hs[0].Changed != nil {
		t.Fatalf("hubspot rows = %+v", hs)
	}
	for _, f := range []string{"dealstage", "Deal Stage", "amount", "closedate", "hs_object_id"} {
		if _, ok := hs[0].Fields[f]; !ok {
			t.Errorf("hubspot row lacks %q: %v", f, hs[0].Fields)
		}
	}
	if _, ok := hs[1].Fields["amount"]; ok {
		t.Errorf("an empty cell is a field: %v", hs[1].Fields)
	}
	if want := time.Date(2026, 11, 18, 9, 31, 0, 0, time.UTC).UnixMilli(); hs[0].Version != want {
		t.Errorf("version = %d, want %d (Last Modified Date)", hs[0].Version, want)
	}

	sf, err := ParseCSV(KindSalesforceCSV, "", []byte(salesforceOppsCSV))
	if err != nil {
		t.Fatal(err)
	}
	if len(sf) != 1 || sf[0].Object != "Opportunity" || sf[0].Record != "0065g00000XyZabAAB" ||
		sf[0].Fields["StageName"] != "Closed Won" || sf[0].Fields["Account.Name"] != "Initech" || sf[0].Fields["CloseDate"] != "11/18/2026" {
		t.Fatalf("salesforce rows = %+v", sf)
	}
	if want := time.Date(2026, 11, 18, 9, 31, 0, 0, time.UTC).UnixMilli(); sf[0].Version != want {
		t.Errorf("version = %d, want %d", sf[0].Version, want)
	}

	for _, tt := range []struct{ name, kind, object, body, want string }{
		{"empty", KindHubSpotCSV, "", "", "empty"},
		{"no id column", KindHubSpotCSV, "", "Deal Name,Amount\nx,1\n", `"Record ID"`},
		{"unknown object", KindSalesforceCSV, "", "Id,Foo\n1,2\n", "cannot tell the file's object"},
		{"not UTF-8", KindCSV, "row", "id\n\xff\n", "UTF-8"},
		{"bad quoting", KindCSV, "row", "id,x\n1,\"a\n", "row"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseCSV(tt.kind, tt.object, []byte(tt.body)); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseCSV = %v, want an error with %q", err, tt.want)
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	want := time.Date(2026, 11, 18, 9, 30, 0, 0, time.UTC)
	for _, in := range []any{"2026-11-18T09:30:00Z", "2026-11-18T10:30:00+01:00", "2026-11-18T09:30:00.000+0000", "2026-11-18 09:30",
		"11/18/2026 9:30 AM", "1794994200000", float64(1794994200000)} {
		if got, ok := parseTime(in); !ok || !got.Equal(want) {
			t.Errorf("parseTime(%v) = %v, %v", in, got, ok)
		}
	}
	for _, in := range []any{"", "yesterday", "0", float64(-1), true, "99999999999999999"} {
		if got, ok := parseTime(in); ok {
			t.Errorf("parseTime(%v) = %v, want no time", in, got)
		}
	}
}

func TestAttrValueReadsNumbersAndBools(t *testing.T) {
	for in, want := range map[string]any{"48000": 48000.0, "48000.50": 48000.5, "-3": -3.0, "0.5": 0.5, "true": true, "false": false,
		"007": "007", "1e3": "1e3", "Closed Won": "Closed Won", "": "", "123456789012345678901": "123456789012345678901"} {
		if got := attrValue(in); got != want {
			t.Errorf("attrValue(%q) = %#v, want %#v", in, got, want)
		}
	}
}
