package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rung-dev/rung"
)

func TestRegistrationsImportPrintsRowResults(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "rung.db")
	svc, st, err := openService(context.Background(), db, quietLog(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.PutPartner(context.Background(), rung.Partner{ID: "p1", Name: "Initech", Domains: []string{"initech.com"}}); err != nil {
		t.Fatal(err)
	}
	svc.Close()
	st.Close()
	file := writeFile(t, dir, "regs.csv", "company,domain,contact_email\nGlobex,globex.com,jane@globex.com\nGlobex Inc,www.globex.com,joe@globex.com\nHooli,,\n")
	out, err := runCmd(t, "registrations", "import", file, "--partner", "p1", "--db", db, "--csv")
	if rung.ErrorCode(err) != rung.EINVALID || !strings.Contains(out, "2,created,R-") || !strings.Contains(out, "3,duplicate,") ||
		!strings.Contains(out, "4,rejected,") || !strings.Contains(out, "3 rows: 1 created, 0 existing, 1 duplicate, 1 rejected") {
		t.Fatalf("import = %v\n%s", err, out)
	}
	out, err = runCmd(t, "registrations", "sweep", "--db", db)
	if err != nil || !strings.Contains(out, "checked 1 active registrations: 0 expired") {
		t.Fatalf("sweep = %v\n%s", err, out)
	}
	if _, err := runCmd(t, "registrations", "export"); rung.ErrorCode(err) != rung.EINVALID {
		t.Fatalf("an unknown subcommand: %v", err)
	}
}
