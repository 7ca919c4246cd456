package web

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/currency"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/number"

	"github.com/rung-dev/rung/internal/program"
)

// The locales the portal and console speak. English is the default and the
// key of the catalog: templates write English text, and de maps it to
// German. TestEveryStringHasAGermanTranslation keeps the catalog complete.
var locales = []string{"en", "de"}

// Locale formats text, numbers and dates for one language.
type Locale struct {
	Lang string
	loc  *time.Location
	// prog gives metrics their units and the program's currency; nil
	// shows every value as a plain number.
	prog *program.Program
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

// nbsp keeps a number and its sign of unit on one line.
const nbsp = "\u00a0"

// Percent formats a share (1 is 100 %) as a percentage with up to one
// decimal: "45.5%" in English, "45,5 %" in German.
func (l *Locale) Percent(f float64) string {
	p := l.Num(math.Round(f*1000) / 10)
	if p == "-0" {
		p = "0"
	}
	if l.Lang == "de" {
		return p + nbsp + "%"
	}
	return p + "%"
}

// Money formats an amount in a currency given by its ISO 4217 code, with
// the locale's symbol, separators and placement: "€42,000" in English,
// "42.000 €" in German. Whole amounts show no cents; others show the
// currency's usual decimals. An unknown code gives a plain number.
func (l *Locale) Money(v float64, code string) string {
	cur, err := currency.ParseISO(code)
	if err != nil {
		return l.Num(v)
	}
	tag := language.English
	if l.Lang == "de" {
		tag = language.German
	}
	p := message.NewPrinter(tag)
	sym := p.Sprint(currency.Symbol(cur))
	scale, _ := currency.Standard.Rounding(cur)
	pow := math.Pow10(scale)
	v = math.Round(v*pow) / pow
	opt := number.Scale(scale)
	if v == math.Trunc(v) {
		opt = number.MaxFractionDigits(0)
	}
	amount := p.Sprint(number.Decimal(math.Abs(v), opt))
	sign := ""
	if v < 0 {
		sign = "-"
	}
	if l.Lang == "de" {
		return sign + amount + nbsp + sym
	}
	if r := []rune(sym); len(r) > 0 && unicode.IsLetter(r[len(r)-1]) {
		sym += nbsp // CHF 42,000
	}
	return sign + sym + amount
}

// Measure formats a value in a metric unit: money in the currency code,
// a percentage, or a plain number.
func (l *Locale) Measure(v float64, unit program.Unit, code string) string {
	switch unit {
	case program.UnitCurrency:
		return l.Money(v, code)
	case program.UnitPercent:
		return l.Percent(v)
	}
	return l.Num(v)
}

// Metric formats a value of the named metric by the unit the program
// gives it; "points" and unknown metrics are plain numbers.
func (l *Locale) Metric(name string, v float64) string {
	if l.prog == nil {
		return l.Num(v)
	}
	m := l.prog.Metric(name)
	if m == nil {
		return l.Num(v)
	}
	return l.Measure(v, m.Unit, l.prog.Currency)
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
