package web

import (
	"fmt"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/program"
)

// Problem returns a problem of a program file in the locale's language. The
// parser keeps each problem's English format and arguments; the phrases
// among the arguments translate too, while names, values and the messages
// of CEL and of the YAML library stay as they are.
func (l *Locale) Problem(d rung.Detail) string {
	m, ok := program.DetailMessage(d)
	if !ok || l.Lang != "de" {
		return d.Message
	}
	return l.programText(m)
}

// programText fills in a translated parser format with translated
// arguments; a format or phrase without a translation stays English.
func (l *Locale) programText(m program.Message) string {
	args := make([]any, len(m.Args))
	for i, a := range m.Args {
		switch v := a.(type) {
		case program.Message:
			args[i] = l.programText(v)
		case program.Phrase:
			args[i] = l.programPhrase(string(v))
		default:
			args[i] = a
		}
	}
	return fmt.Sprintf(l.programPhrase(m.Format), args...)
}

func (l *Locale) programPhrase(s string) string {
	if t, ok := deProgram[s]; ok && l.Lang == "de" {
		return t
	}
	return s
}
