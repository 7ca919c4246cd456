package importer

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/rung-dev/rung"
)

func readAll(t *testing.T, f Format, s string) ([]Row, error) {
	t.Helper()
	r, err := NewReader(f, strings.NewReader(s))
	if err != nil {
		return nil, err
	}
	var rows []Row
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		rows = append(rows, row)
	}
}

func TestCSVColumnsBecomeFieldsAndTypedAttributes(t *testing.T) {
	rows, err := readAll(t, CSV, "\ufeffID,type,partner,member,occurred_at,attrs.amount,qualified,company,empty\n"+
		"crm:1,deal.won,p1,m1,2026-11-02T10:00:00Z,64000,true,\"Initech, Inc.\",\n"+
		"crm:2,deal.won,p1,,not-a-time,12.5,false,0x10,\n"+
		"crm:3,deal.won\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("%d rows", len(rows))
	}
	e := rows[0].In.Event
	want := rung.Event{ID: "crm:1", Type: "deal.won", Partner: "p1", Member: "m1", OccurredAt: time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC),
		Attrs: map[string]any{"amount": 64000.0, "qualified": true, "company": "Initech, Inc."}}
	if rows[0].Line != 2 || rows[0].In.Err != "" || e.ID != want.ID || !e.OccurredAt.Equal(want.OccurredAt) ||
		e.Attrs["amount"] != 64000.0 || e.Attrs["qualified"] != true || e.Attrs["company"] != "Initech, Inc." || len(e.Attrs) != 3 {
		t.Fatalf("row 1: %+v", rows[0])
	}
	if !strings.Contains(rows[1].In.Err, "occurred_at") || rows[1].In.Event.Attrs["company"] != "0x10" {
		t.Fatalf("row 2: %+v", rows[1].In)
	}
	if rows[2].Line != 4 || !strings.Contains(rows[2].In.Err, "2 cells") {
		t.Fatalf("row 3: %+v", rows[2])
	}
}

func TestCSVHeaderProblems(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", "empty"},
		{"id,type,partner\n", `no "occurred_at" column`},
		{"id,type,partner,occurred_at,id\n", "twice"},
		{"id,,partner,occurred_at\n", "no name"},
	} {
		if _, err := readAll(t, CSV, tt.in); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want %q", tt.in, err, tt.want)
		}
	}
}

func TestNDJSONLinesKeepTheirNumbers(t *testing.T) {
	rows, err := readAll(t, NDJSON, "{\"id\": \"a\"}\n\n{bad\n{\"id\": \"c\"}\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[1].Line != 3 || rows[1].In.Err == "" || rows[2].Line != 4 || rows[2].In.Event.ID != "c" {
		t.Fatalf("rows %+v", rows)
	}
}

// FuzzCSV: any file either fails at its header with an invalid error, or
// reads to the end with every row at a line after the header, parsed or
// carrying its reason.
func FuzzCSV(f *testing.F) {
	f.Add("id,type,partner,member,occurred_at,amount\ncrm:1,deal.won,p1,m1,2026-11-02T10:00:00Z,5\n")
	f.Add("id,type,partner,occurred_at\n\"a,b\",x,p,2026-11-02T10:00:00Z\n\"unterminated\n")
	f.Add("id,type,partner,occurred_at\na,b\nc,d,e,f,g\n")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := NewReader(CSV, strings.NewReader(s))
		if err != nil {
			if rung.ErrorCode(err) != rung.EINVALID {
				t.Fatalf("header error %v is not EINVALID", err)
			}
			return
		}
		last := 1
		for i := 0; i < 100000; i++ {
			row, err := r.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				return // an I/O error from the reader itself
			}
			if row.In == nil || row.Line < last {
				t.Fatalf("row %+v after line %d", row, last)
			}
			last = row.Line
		}
		t.Fatal("the reader did not end")
	})
}

func TestCSVKeepsAttributeNamesAndCodes(t *testing.T) {
	rows, err := readAll(t, CSV, "ID,Type,partner,occurred_at,dealAmount,cert_id,crm_id,zero,neg,exp\n"+
		"a,deal.won,p1,2026-11-02T10:00:00Z,5,0042,12345678901234567891,0,-1.5,2e3\n")
	if err != nil {
		t.Fatal(err)
	}
	a := rows[0].In.Event.Attrs
	want := map[string]any{"dealAmount": 5.0, "cert_id": "0042", "crm_id": "12345678901234567891", "zero": 0.0, "neg": -1.5, "exp": 2000.0}
	for k, v := range want {
		if a[k] != v {
			t.Errorf("attrs[%q] = %#v, want %#v", k, a[k], v)
		}
	}
	if rows[0].In.Event.ID != "a" || rows[0].In.Event.Type != "deal.won" {
		t.Errorf("reserved columns in another case: %+v", rows[0].In.Event)
	}
}
