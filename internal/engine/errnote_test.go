package engine

import (
	"fmt"
	"maps"
	"testing"
	"unsafe"
)

// notesProgram reads attributes some events lack, at every place a note is
// made of an expression's error.
const notesProgram = `
name: Notes
timezone: Europe/Berlin
metrics:
  csat: {avg: survey.csat, value: event.attrs.score}
  wins: {count: deal.won, where: event.attrs.sourced == true}
points:
  rules:
    - {id: training, on: training.completed, when: event.attrs.score >= 80, award: 50}
    - {id: win, on: deal.won, award: event.attrs.amount / 100}
    - {id: cert, on: certification.earned, award: 300, once_per: event.attrs.cert_id}
badges:
  - {id: architect, name: Architect, on: certification.earned, when: event.attrs.cert == "architect", evidence: event.attrs.cert_id}
  - {id: any-cert, name: Any, on: certification.earned, evidence: event.attrs.cert_id}
  - {id: ladder, name: Ladder, for: member, steps: [{type: training.completed, where: 'event.attrs.course == "a"'}, portal.login], within: 30d, from: first_step}
`

// Every event that lacks an attribute an expression reads gets the note it
// always got, word for word; the events share one string for it.
func TestErrorNotesAreSharedAmongEvents(t *testing.T) {
	tests := []struct {
		typ   string
		attrs map[string]any
		want  []string
	}{
		{"training.completed", map[string]any{"course": "a"}, []string{
			`rule training: when: event.attrs.score >= 80: no such key: score`}},
		{"training.completed", map[string]any{"score": 90.0}, []string{
			`badge ladder: steps[0].where: event.attrs.course == "a": no such key: course`}},
		{"deal.won", map[string]any{"amount": 500.0}, []string{
			`metric wins: where: event.attrs.sourced == true: no such key: sourced`}},
		{"deal.won", map[string]any{"sourced": true}, []string{
			`rule win: award: event.attrs.amount / 100: no such key: amount`}},
		{"survey.csat", map[string]any{}, []string{
			`metric csat: value: event.attrs.score: no such key: score`}},
		{"certification.earned", map[string]any{"cert_id": "(the event's id)"}, []string{
			`badge architect: when: event.attrs.cert == "architect": no such key: cert`}},
		{"certification.earned", map[string]any{"cert": "architect"}, []string{
			`rule cert: once_per: event.attrs.cert_id: no such key: cert_id`,
			`badge architect: not awarded without evidence: event.attrs.cert_id: no such key: cert_id`,
			`badge any-cert: not awarded without evidence: event.attrs.cert_id: no such key: cert_id`}},
	}
	h := newHarness(t, notesProgram, at(30, 12))
	for i, tt := range tests {
		t.Run(fmt.Sprint(i, " ", tt.typ), func(t *testing.T) {
			var got [2][]string
			for j := range got {
				id := fmt.Sprintf("e%d-%d", i, j)
				attrs := maps.Clone(tt.attrs)
				if _, ok := attrs["cert_id"]; ok {
					attrs["cert_id"] = id // once_per: each its own
				}
				h.send(ev(id, tt.typ, "p1", "m1", at(2+j, 10+i), attrs))
				ef, err := h.e.EventEffects(id)
				if err != nil {
					t.Fatal(err)
				}
				got[j] = ef.Notes
			}
			for j := range got {
				if fmt.Sprint(got[j]) != fmt.Sprint(tt.want) {
					t.Fatalf("event %d: notes\n%q\nwant\n%q", j, got[j], tt.want)
				}
			}
			for k := range tt.want {
				if unsafe.StringData(got[0][k]) != unsafe.StringData(got[1][k]) {
					t.Errorf("note %q: two copies, want one string shared", tt.want[k])
				}
			}
		})
	}
}
