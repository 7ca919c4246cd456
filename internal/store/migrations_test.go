package store

import (
	"os"
	"testing"
	"testing/fstest"
)

func TestMigrationFoldersStayInStep(t *testing.T) {
	// Migration N must exist for every store, so that schema version N
	// means the same on SQLite and PostgreSQL.
	sqlite, err := ReadMigrations(os.DirFS("sqlite/migrations"))
	if err != nil {
		t.Fatal(err)
	}
	postgres, err := ReadMigrations(os.DirFS("postgres/migrations"))
	if err != nil {
		t.Fatal(err)
	}
	if len(sqlite) == 0 || len(sqlite) != len(postgres) {
		t.Fatalf("sqlite has %d migrations, postgres %d", len(sqlite), len(postgres))
	}
	for i := range sqlite {
		if sqlite[i].Name != postgres[i].Name {
			t.Errorf("migration %d is %s for sqlite, %s for postgres", i+1, sqlite[i].Name, postgres[i].Name)
		}
	}
}

func TestPendingRunsMigrationsLeftBehindAGap(t *testing.T) {
	ms := []Migration{{Version: 1, Name: "0001_a"}, {Version: 2, Name: "0002_b"}, {Version: 3, Name: "0003_c"}}
	// A database migrated by a binary that had 0001 and 0003 only.
	got, err := Pending(ms, []int{1, 3})
	if err != nil || len(got) != 1 || got[0].Version != 2 {
		t.Fatalf("Pending = %v, %v; want 0002 alone", got, err)
	}
	if got, err := Pending(ms[:1], nil); err != nil || len(got) != 1 {
		t.Fatalf("Pending on a new database = %v, %v", got, err)
	}
	if _, err := Pending(ms[:2], []int{1, 3}); err == nil {
		t.Fatal("a migration this binary does not know must be refused")
	}
}

func TestReadMigrationsAllowsGapsNotDuplicates(t *testing.T) {
	gap := fstest.MapFS{"0001_a.sql": {Data: []byte("x")}, "0003_c.sql": {Data: []byte("y")}}
	if ms, err := ReadMigrations(gap); err != nil || len(ms) != 2 || ms[1].Version != 3 {
		t.Fatalf("ReadMigrations with a gap = %v, %v", ms, err)
	}
	dup := fstest.MapFS{"0001_a.sql": {Data: []byte("x")}, "0001_b.sql": {Data: []byte("y")}}
	if _, err := ReadMigrations(dup); err == nil {
		t.Fatal("two migrations numbered 0001 must be refused")
	}
}
