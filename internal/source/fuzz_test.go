package source

import (
	"testing"
)

// checkChanges checks what every parser promises of a change it returns.
func checkChanges(t *testing.T, cs []Change, needRecord bool) {
	t.Helper()
	for i, c := range cs {
		if c.Object == "" || c.Fields == nil {
			t.Fatalf("change %d without object or fields: %+v", i, c)
		}
		if needRecord && c.Record == "" {
			t.Fatalf("change %d without record id: %+v", i, c)
		}
		if c.Version < 0 {
			t.Fatalf("change %d has a negative version: %+v", i, c)
		}
	}
}

func FuzzParseHubSpot(f *testing.F) {
	f.Add([]byte(hubspotDocBody))
	f.Add([]byte(`[{"objectId":1001,"occurredAt":1763458200000,"subscriptionType":"deal.propertyChange","propertyName":"dealstage","propertyValue":"closedwon"},{"objectId":1001,"occurredAt":1763458200001,"subscriptionType":"deal.deletion"}]`))
	f.Add([]byte(`[{"objectId":-1,"occurredAt":"x"}]`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		cs, err := ParseHubSpot(body)
		if err == nil {
			checkChanges(t, cs, true)
		}
	})
}

func FuzzParseOutbound(f *testing.F) {
	f.Add(readTestdata(f, "outbound.xml"))
	f.Add([]byte(`<notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>00D</OrganizationId><Notification><sObject xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="sf:Lead"><Id>1</Id><Owner><Email>a@b.c</Email></Owner></sObject></Notification></notifications>`))
	f.Add([]byte(`<a><b></a>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		org, cs, err := ParseOutbound(body)
		if err == nil {
			if org == "" {
				t.Fatal("no error and no OrganizationId")
			}
			checkChanges(t, cs, true)
		}
	})
}

func FuzzParseCDC(f *testing.F) {
	f.Add(readTestdata(f, "cdc.json"))
	f.Add([]byte(`[{"ChangeEventHeader": {"entityName": "Opportunity", "recordIds": ["006A", "006B"], "changeType": "DELETE", "commitNumber": 5}}]`))
	f.Add([]byte(`{"channel": "/event/X__e", "data": {"event": {"replayId": 42}, "payload": {"A": {"B": {"C": 1}}}}}`))
	f.Add([]byte(`{"ChangeEventHeader": {"entityName": "Lead", "recordIds": ["1"], "changeType": "GAP_UPDATE", "commitTimestamp": "x"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		cs, err := ParseCDC(body)
		if err == nil {
			checkChanges(t, cs, false)
		}
	})
}

func FuzzParseWebhook(f *testing.F) {
	f.Add([]byte(`{"id":"c-1","object":"course","version":2,"occurred_at":"2026-11-18T09:30:00Z","fields":{"partner":"p1","score":91}}`))
	f.Add([]byte(`[{"id":"c-1","object":"course","deleted":true}]`))
	f.Add([]byte(`{"id":"c-1","object":"course","fields":{"a":[1,{"b":2}]},"changed":["a"]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		cs, err := ParseWebhook(body)
		if err == nil {
			checkChanges(t, cs, true)
		}
	})
}

func FuzzParseHubSpotCSV(f *testing.F) {
	f.Add([]byte(hubspotDealsCSV), "")
	f.Add([]byte("Record ID,Company name,Company Domain Name\n5,Initech,initech.example\n"), "company")
	f.Add([]byte("Record ID\n\"1\n"), "deal")
	f.Fuzz(func(t *testing.T, body []byte, object string) {
		cs, err := ParseCSV(KindHubSpotCSV, object, body)
		if err == nil {
			checkChanges(t, cs, false)
		}
	})
}

func FuzzParseSalesforceCSV(f *testing.F) {
	f.Add([]byte(salesforceOppsCSV), "")
	f.Add([]byte("Id,StageName,Amount\n006A,Closed Won,5\n"), "")
	f.Add([]byte("Lead ID,Email\n00Q1,a@b.c\n,\n"), "Lead")
	f.Fuzz(func(t *testing.T, body []byte, object string) {
		cs, err := ParseCSV(KindSalesforceCSV, object, body)
		if err == nil {
			checkChanges(t, cs, false)
		}
	})
}
