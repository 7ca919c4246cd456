package program

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/rung-dev/rung"
)

func TestDetailsKeepTheirFormatAndArguments(t *testing.T) {
	src := "name: T\ntimezone: Mars/Base\npoints:\n  rules:\n    - {id: a, on: x, award: [1], whne: true}\n    - {id: b, on: x, award: 1, when: 'event.attrs.score >='}\n"
	_, err := Parse([]byte(src))
	var re *rung.Error
	if !errors.As(err, &re) || len(re.Details) == 0 {
		t.Fatalf("Parse: %v", err)
	}
	for _, d := range re.Details {
		m, ok := DetailMessage(d)
		if !ok {
			t.Errorf("line %d: no format for %q", d.Line, d.Message)
			continue
		}
		if got := fmt.Sprintf(m.Format, m.Args...); got != d.Message {
			t.Errorf("line %d: format gives %q, message is %q", d.Line, got, d.Message)
		}
	}
	b, _ := json.Marshal(re)
	if s := string(b); strings.Contains(s, "Format") || strings.Contains(s, "Args") {
		t.Errorf("the API JSON shows the format: %s", s)
	}
}
