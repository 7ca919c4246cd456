package web

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The locales the portal and console speak. English is the default and the
// key of the catalog: templates write English text, and de maps it to
// German. TestEveryStringHasAGermanTranslation keeps the catalog complete.
var locales = []string{"en", "de"}

// Locale formats text, numbers and dates for one language.
type Locale struct {
	Lang string
	loc  *time.Location
}

func newLocale(lang string, loc *time.Location) *Locale {
	if loc == nil {
		loc = time.UTC
	}
	if lang != "de" {
		lang = "en"
	}
	return &Locale{Lang: lang, loc: loc}
}

// T translates an English text.
func (l *Locale) T(s string) string {
	if l.Lang == "de" {
		if t, ok := de[s]; ok {
			return t
		}
	}
	return s
}

// Tf translates a format and fills it in; numbers given as int or int64
// (for %d) are formatted for the locale.
func (l *Locale) Tf(format string, args ...any) string {
	for i, a := range args {
		switch v := a.(type) {
		case int:
			args[i] = l.Num(v)
		case int64:
			args[i] = l.Num(v)
		}
	}
	// The numbers are strings now: their %d verbs become %s.
	return fmt.Sprintf(strings.ReplaceAll(l.T(format), "%d", "%s"), args...)
}

// Num formats a number with the locale's separators: up to two decimals for
// fractions, none for whole numbers.
func (l *Locale) Num(v any) string {
	var f float64
	switch x := v.(type) {
	case int:
		f = float64(x)
	case int64:
		f = float64(x)
	case float64:
		f = x
	case uint64:
		f = float64(x)
	default:
		return fmt.Sprint(v)
	}
	thousands, decimal := ",", "."
	if l.Lang == "de" {
		thousands, decimal = ".", ","
	}
	neg := f < 0
	f = math.Abs(f)
	s := strconv.FormatFloat(f, 'f', 2, 64)
	whole, frac, _ := strings.Cut(s, ".")
	frac = strings.TrimRight(frac, "0")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteString(thousands)
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteString(decimal)
		b.WriteString(frac)
	}
	return b.String()
}

// Percent formats a share in [0, 1] as a whole percentage.
func (l *Locale) Percent(f float64) string {
	p := int(math.Round(f * 100))
	if l.Lang == "de" {
		return strconv.Itoa(p) + " %"
	}
	return strconv.Itoa(p) + "%"
}

var months = map[string][12]string{
	"en": {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"},
	"de": {"Jan.", "Feb.", "März", "Apr.", "Mai", "Juni", "Juli", "Aug.", "Sep.", "Okt.", "Nov.", "Dez."},
}

// Date formats a day: "2 Nov 2026" or "2. Nov. 2026".
func (l *Locale) Date(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	t = t.In(l.loc)
	m := months[l.Lang][t.Month()-1]
	if l.Lang == "de" {
		return fmt.Sprintf("%d. %s %d", t.Day(), m, t.Year())
	}
	return fmt.Sprintf("%d %s %d", t.Day(), m, t.Year())
}

// DateTime formats a day and a time of day (24-hour in both languages).
func (l *Locale) DateTime(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return l.Date(t) + " " + t.In(l.loc).Format("15:04")
}

// ISO is a machine-readable time for <time datetime>.
func (l *Locale) ISO(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// pickLocale chooses the language: the account's setting, then the
// locale cookie, then the browser's Accept-Language.
func pickLocale(account string, r *http.Request) string {
	if account == "en" || account == "de" {
		return account
	}
	if c, err := r.Cookie(localeCookie); err == nil && (c.Value == "en" || c.Value == "de") {
		return c.Value
	}
	return fromAcceptLanguage(r.Header.Get("Accept-Language"))
}

// fromAcceptLanguage returns the supported language the header prefers
// most ("en" when none).
func fromAcceptLanguage(h string) string {
	best, bestQ := "en", -1.0
	for _, part := range strings.Split(h, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		lang, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if (lang == "en" || lang == "de") && q > bestQ {
			best, bestQ = lang, q
		}
	}
	return best
}
