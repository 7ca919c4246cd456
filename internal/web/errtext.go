package web

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/rung-dev/rung"
)

// Err returns the message of an error meant for the user, in the locale's
// language: rung.Errorf keeps the English format and its arguments, and
// deErrors translates the formats of the errors the console and the portal
// show. Arguments (ids, values, times) stay as they are; a format without
// a translation stays English; an internal error says only that something
// went wrong, as rung.ErrorMessage does.
func (l *Locale) Err(err error) string {
	var re *rung.Error
	if !errors.As(err, &re) {
		return l.T("Something went wrong on our side. The server log has the details.")
	}
	if l.Lang == "de" && re.Format != "" {
		if t, ok := deErrors[re.Format]; ok {
			return fmt.Sprintf(t, re.Args...)
		}
	}
	return re.Message
}

// requestLocale is the language of a request that shows no page: the
// viewer's setting, else the browser's.
func requestLocale(r *http.Request) *Locale {
	acct := ""
	if v := viewerFrom(r); v != nil {
		acct = v.Account.Locale
	}
	return newLocale(pickLocale(acct, r), time.UTC)
}
