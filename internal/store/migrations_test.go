package store

import (
	"os"
	"testing"
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
