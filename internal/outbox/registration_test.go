package outbox_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"testing"

	"github.com/rung-dev/rung/internal/outbox"
	"github.com/rung-dev/rung/internal/registration"
)

func TestRegistrationDecisionWritesRegistrationUpdated(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	desk := registration.New(f.svc, registration.Options{Logger: slog.New(slog.DiscardHandler)})
	r, _, err := desk.Submit(ctx, registration.Input{Kind: registration.KindDeal, Partner: "p1", Member: "ann", CompanyName: "Initech",
		CompanyDomain: "initech.com", ContactName: "Jane Doe", ContactEmail: "jane@initech.com", Channel: "api", By: "api"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := desk.Decide(ctx, r.ID, registration.DecisionApprove, "", "admin"); err != nil {
		t.Fatal(err)
	}
	// Deciding again changes nothing, and writes nothing.
	if _, err := desk.Decide(ctx, r.ID, registration.DecisionApprove, "", "admin"); err != nil {
		t.Fatal(err)
	}
	var got []string
	var last map[string]any
	for _, m := range messages(t, f.st) {
		if m.Type == outbox.RegistrationUpdated {
			got = append(got, m.ID)
			if m.Subject != "registration:"+r.ID {
				t.Errorf("subject %q", m.Subject)
			}
			json.Unmarshal(m.Payload, &last)
		}
	}
	if want := []string{"registration.updated:" + r.ID + ":v2"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("registration messages %v, want %v", got, want)
	}
	if last["status"] != "approved" || last["previous_status"] != "submitted" || last["by"] != "admin" || last["partner"] != "p1" {
		t.Errorf("payload = %v", last)
	}
}
