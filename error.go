package rung

import (
	"errors"
	"fmt"
)

// Application error codes. The HTTP layer maps them to status codes in one
// place; the CLI maps them to exit codes.
const (
	ECONFLICT     = "conflict"
	EINTERNAL     = "internal"
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
	ETOOLARGE     = "too_large"
	EUNAVAILABLE  = "unavailable"
)

// Error is an error meant for the user of Rung: Message says what was wrong
// and how to fix it; Details lists the individual problems, if several.
type Error struct {
	Code    string   `json:"code"`
	Message string   `json:"message"`
	Details []Detail `json:"details,omitempty"`

	// Format and Args, set by Errorf, are the English format of Message
	// and its arguments, kept so a user interface can show the message in
	// the user's language. They are not part of the API.
	Format string `json:"-"`
	Args   []any  `json:"-"`
}

// Detail is one problem in a larger input, such as one line of a program
// file or one row of an import.
type Detail struct {
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Key     string `json:"key,omitempty"`
	Message string `json:"message"`

	// Format and Args, when set, are the English format of Message and
	// its arguments, kept so a user interface can show the problem in the
	// user's language. They are not part of the API.
	Format string `json:"-"`
	Args   []any  `json:"-"`
}

func (d Detail) String() string {
	s := ""
	if d.Line > 0 {
		s = fmt.Sprintf("line %d: ", d.Line)
	}
	if d.Key != "" {
		s += d.Key + ": "
	}
	return s + d.Message
}

func (e *Error) Error() string {
	if len(e.Details) == 0 {
		return e.Message
	}
	s := e.Message
	for _, d := range e.Details {
		s += "\n  " + d.String()
	}
	return s
}

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Format: format, Args: args}
}

// ErrorCode returns the code of the first *Error in err's chain, or
// EINTERNAL if there is none.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err: the message of an
// *Error, or a generic one for internal errors, which must not leak.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
