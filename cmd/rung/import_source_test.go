package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store/sqlite"
)

func TestImportHubSpotAndSalesforceExports(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "rung.db")
	prog := `name: Import Test
sources:
  hubspot:
    - {object: deal, type: deal.won, when: 'record.dealstage == "closedwon"', occurred_at: closedate, partner: {field: Partner ID}, attrs: {amount: amount}}
  salesforce:
    - {object: Opportunity, type: deal.won, when: 'record.StageName == "Closed Won"', occurred_at: CloseDate, partner: {domain: Partner Email}, attrs: {amount: Amount}}
`
	st, err := sqlite.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := service.Open(ctx, st, service.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ApplyProgram(ctx, []byte(prog), time.Time{}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.PutPartner(ctx, rung.Partner{ID: "p1", Name: "Initech", Domains: []string{"initech.com"}, JoinedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	svc.Close()
	st.Close()

	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	hs := write("deals.csv", "Record ID,Deal Name,Deal Stage,Amount,Close Date,Partner ID\n1001,Initech renewal,closedwon,48000,2026-11-18,p1\n1002,Globex pilot,qualifiedtobuy,5000,,p1\n")
	out, err := runCmd(t, "import", "--db", db, "--source", "hubspot", hs)
	if err != nil || !strings.Contains(out, "1 accepted") {
		t.Fatalf("hubspot import: %v\n%s", err, out)
	}
	out, err = runCmd(t, "import", "--db", db, "--source", "hubspot", hs)
	if err != nil || !strings.Contains(out, "0 accepted, 0 corrected, 1 duplicate") {
		t.Fatalf("hubspot import again: %v\n%s", err, out)
	}
	sf := write("opps.csv", `"Opportunity ID","Opportunity Name","Account Name","Stage","Amount","Close Date","Partner Email"`+"\n"+
		`"0065g00000XyZabAAB","Initech renewal","Initech","Closed Won","48000.00","11/18/2026","peter@initech.com"`+"\n")
	out, err = runCmd(t, "import", "--db", db, "--source", "salesforce", sf)
	if err != nil || !strings.Contains(out, "1 accepted") {
		t.Fatalf("salesforce import: %v\n%s", err, out)
	}
	bad := write("bad.csv", `"Opportunity ID","Stage","Amount","Close Date"`+"\n"+`"006B","Closed Won","1","11/18/2026"`+"\n")
	out, err = runCmd(t, "import", "--db", db, "--source", "salesforce", bad)
	if err == nil || !strings.Contains(err.Error(), `names field "Partner Email"`) || !strings.Contains(err.Error(), "kept for replay") {
		t.Fatalf("import lacking a mapped column: %v\n%s", err, out)
	}
	if _, err := runCmd(t, "import", "--db", db, "--source", "zoho", sf); err == nil || !strings.Contains(err.Error(), "hubspot, salesforce or csv") {
		t.Errorf("unknown source: %v", err)
	}
}
