package program

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const sourcesExample = `name: T
sources:
  hubspot:
    - object: deal
      type: deal.won
      changed: dealstage
      when: record.dealstage == "closedwon"
      occurred_at: closedate
      partner: {field: partner_id}
      member: owner_email
      attrs: {amount: amount, deal_name: dealname}
    - object: company
      type: partner.profile
      partner: {attr: hubspot_id, field: hs_object_id}
  salesforce:
    - {object: Opportunity, type: deal.registered, partner: {domain: Partner_Email__c}}
  webhook:
    - {object: course, type: training.completed, partner: {field: partner}, member: member, attrs: {score: score}}
  csv:
    - {object: row, type: survey.csat, record: "Response ID", partner: {field: "Partner ID"}, attrs: {score: "Score"}}
`

func TestParseSourcesReadsEveryKind(t *testing.T) {
	p := mustParse(t, sourcesExample)
	if len(p.Sources) != 5 {
		t.Fatalf("got %d mappings, want 5", len(p.Sources))
	}
	deal := p.Sources[0]
	want := &SourceMapping{Source: "hubspot", Object: "deal", Type: "deal.won", Changed: "dealstage", OccurredAt: "closedate",
		Partner: Lookup{Field: "partner_id"}, Member: "owner_email", When: deal.When,
		Attrs: []SourceAttr{{"amount", "amount"}, {"deal_name", "dealname"}}, Line: 4}
	if !reflect.DeepEqual(deal, want) {
		t.Errorf("deal mapping = %+v, want %+v", deal, want)
	}
	if got := p.Sources[1].Partner; got != (Lookup{Field: "hs_object_id", Attr: "hubspot_id"}) {
		t.Errorf("company lookup = %+v", got)
	}
	if got := p.Sources[2].Partner; got != (Lookup{Field: "Partner_Email__c", Domain: true}) {
		t.Errorf("salesforce lookup = %+v", got)
	}
	if got := p.MappingsFor("salesforce", "opportunity"); len(got) != 1 {
		t.Errorf("salesforce objects compare without case: got %d mappings", len(got))
	}
	if got := p.MappingsFor("hubspot", "Deal"); len(got) != 0 {
		t.Errorf("hubspot objects compare with case: got %d mappings", len(got))
	}
	if got := p.Sources[4].Fields(); !reflect.DeepEqual(got, []string{"Partner ID", "Response ID", "Score"}) {
		t.Errorf("csv fields = %q", got)
	}
}

func TestSourceMappingWhen(t *testing.T) {
	deal := mustParse(t, sourcesExample).Sources[0]
	for _, tt := range []struct {
		name    string
		fields  map[string]any
		want    bool
		wantErr string
	}{
		{"matches", map[string]any{"dealstage": "closedwon"}, true, ""},
		{"other stage", map[string]any{"dealstage": "appointmentscheduled"}, false, ""},
		{"missing field fails", map[string]any{"amount": 5.0}, false, "no such key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := deal.Matches(tt.fields)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Matches = %v, %v; want error with %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Matches = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestParseSourcesReportsBrokenMappings(t *testing.T) {
	for _, tt := range []struct {
		name, src, want string
	}{
		{"unknown source", "sources:\n  ftp: []\n", `line 3: sources.ftp: unknown key "ftp"`},
		{"not a list", "sources:\n  hubspot: {object: deal}\n", "line 3: sources.hubspot: expected a list of source mappings"},
		{"missing object", "sources:\n  hubspot:\n    - {type: deal.won, partner: {field: p}}\n", `sources.hubspot[0].object: missing required key "object"`},
		{"missing partner", "sources:\n  hubspot:\n    - {object: deal, type: deal.won}\n", `sources.hubspot[0].partner: missing required key "partner"`},
		{"bad type", "sources:\n  webhook:\n    - {object: c, type: Deal Won, partner: {field: p}}\n", `sources.webhook[0].type: invalid event type "Deal Won"`},
		{"field and domain", "sources:\n  csv:\n    - {object: c, type: a, partner: {field: p, domain: e}}\n", "give field or domain, not both"},
		{"attr with domain", "sources:\n  csv:\n    - {object: c, type: a, partner: {domain: e, attr: x}}\n", "attr goes with field"},
		{"empty lookup", "sources:\n  csv:\n    - {object: c, type: a, partner: {attr: x}}\n", `sources.csv[0].partner: missing required key "field"`},
		{"bad field", "sources:\n  csv:\n    - {object: c, type: a, partner: {field: \"a\\nb\"}}\n", `invalid field name "a\nb"`},
		{"attr value not text", "sources:\n  csv:\n    - {object: c, type: a, partner: {field: p}, attrs: {x: [1]}}\n", "sources.csv[0].attrs.x: expected a record field name, got a list"},
		{"bad when", "sources:\n  csv:\n    - {object: c, type: a, partner: {field: p}, when: record.x +}\n", "sources.csv[0].when: invalid CEL expression"},
		{"when not bool", "sources:\n  csv:\n    - {object: c, type: a, partner: {field: p}, when: \"1 + 1\"}\n", "sources.csv[0].when"},
		{"unknown key", "sources:\n  csv:\n    - {object: c, type: a, partner: {field: p}, atrs: {}}\n", `did you mean "attrs"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := parseError(t, "name: T\n"+tt.src)
			var all []string
			for _, d := range err.Details {
				all = append(all, "line "+itoa(d.Line)+": "+d.Key+": "+d.Message)
			}
			if !strings.Contains(strings.Join(all, "\n"), tt.want) {
				t.Errorf("errors:\n%s\nwant one containing %q", strings.Join(all, "\n"), tt.want)
			}
		})
	}
}

func itoa(n int) string {
	s := ""
	for n >= 10 {
		s = string(rune('0'+n%10)) + s
		n /= 10
	}
	return string(rune('0'+n)) + s
}

// TestSourcesSeedTheParseFuzzer keeps a sources section among the seeds of
// FuzzParse, in its corpus folder.
func TestSourcesSeedTheParseFuzzer(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzParse", "sources"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "sources:") {
		t.Fatal("the seed has no sources section")
	}
}
