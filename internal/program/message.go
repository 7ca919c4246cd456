package program

import (
	"fmt"
	"strings"

	"github.com/rung-dev/rung"
)

// Phrase is a fixed English phrase the parser puts into a message, such as
// "a list" or "a rule mapping with id, on and award". It is a type of its own
// so that a user interface can find it among a message's arguments and
// translate it as a whole.
type Phrase string

// Message is English text kept as its format and arguments, so that a user
// interface can translate the format and fill in the arguments itself. Its
// arguments may be Phrases or Messages, which translate in turn.
type Message struct {
	Format string
	Args   []any
}

// message returns a Message; its format is a constant the translations cover.
func message(format string, args ...any) Message {
	return Message{Format: format, Args: args}
}

// joinAnd joins keys with "and" (on and metric and steps), as a Message.
func joinAnd(keys []string) Message {
	if len(keys) <= 1 {
		return message("%s", strings.Join(keys, ""))
	}
	return message("%s and %s", joinAnd(keys[:len(keys)-1]), keys[len(keys)-1])
}

// String returns the English text.
func (m Message) String() string { return fmt.Sprintf(m.Format, m.Args...) }

// Error returns the English text, so a Message can be returned as an error.
func (m Message) Error() string { return m.String() }

// DetailMessage returns the problem of a detail of a program error as its
// format and arguments, for translation. It is false for details Parse did
// not record.
func DetailMessage(d rung.Detail) (Message, bool) {
	if d.Format == "" {
		return Message{}, false
	}
	return Message{Format: d.Format, Args: d.Args}, true
}
