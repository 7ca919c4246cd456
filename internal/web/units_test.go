package web

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/demo"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/program"
	"github.com/rung-dev/rung/internal/service"
	"github.com/rung-dev/rung/internal/store"
)

func TestMetricValuesFollowTheirUnitAndTheLocale(t *testing.T) {
	en, de := newLocale("en", time.UTC), newLocale("de", time.UTC)
	tests := []struct {
		name   string
		v      float64
		unit   program.Unit
		code   string
		en, de string
	}{
		{"whole euros show no cents", 42000, program.UnitCurrency, "EUR", "€42,000", "42.000\u00a0€"},
		{"cents show two decimals", 42000.5, program.UnitCurrency, "EUR", "€42,000.50", "42.000,50\u00a0€"},
		{"cents are rounded", 19.999, program.UnitCurrency, "EUR", "€20", "20\u00a0€"},
		{"millions", 1000000, program.UnitCurrency, "EUR", "€1,000,000", "1.000.000\u00a0€"},
		{"negative dollars", -1200, program.UnitCurrency, "USD", "-$1,200", "-1.200\u00a0$"},
		{"a symbol of letters keeps a space", 1200, program.UnitCurrency, "CHF", "CHF\u00a01,200", "1.200\u00a0CHF"},
		{"yen have no minor unit", 1234.5, program.UnitCurrency, "JPY", "¥1,235", "1.235\u00a0¥"},
		{"an unknown code is a plain number", 1234.5, program.UnitCurrency, "ZZZ", "1,234.5", "1.234,5"},
		{"a share is a percentage", 0.45, program.UnitPercent, "EUR", "45%", "45\u00a0%"},
		{"a percentage keeps one decimal", 0.4555, program.UnitPercent, "", "45.6%", "45,6\u00a0%"},
		{"a full share", 1, program.UnitPercent, "", "100%", "100\u00a0%"},
		{"numbers are as before", 1234567.891, program.UnitNumber, "EUR", "1,234,567.89", "1.234.567,89"},
		{"no unit is a number", 4.5, "", "", "4.5", "4,5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := en.Measure(tt.v, tt.unit, tt.code); got != tt.en {
				t.Errorf("en: %q, want %q", got, tt.en)
			}
			if got := de.Measure(tt.v, tt.unit, tt.code); got != tt.de {
				t.Errorf("de: %q, want %q", got, tt.de)
			}
		})
	}
}

func TestMetricTakesItsUnitFromTheProgram(t *testing.T) {
	prog, err := program.Parse(demo.Program)
	if err != nil {
		t.Fatal(err)
	}
	en, de := newLocale("en", time.UTC), newLocale("de", time.UTC)
	en.prog, de.prog = prog, prog
	tests := []struct {
		metric string
		v      float64
		en, de string
	}{
		{"sourced_revenue", 250000, "€250,000", "250.000\u00a0€"},
		{"meeting_rate", 0.45, "45%", "45\u00a0%"},
		{"registrations", 12000, "12,000", "12.000"},
		{"points", 1500, "1,500", "1.500"},
		{"no_such_metric", 2.5, "2.5", "2,5"},
	}
	for _, tt := range tests {
		if got := en.Metric(tt.metric, tt.v); got != tt.en {
			t.Errorf("en %s: %q, want %q", tt.metric, got, tt.en)
		}
		if got := de.Metric(tt.metric, tt.v); got != tt.de {
			t.Errorf("de %s: %q, want %q", tt.metric, got, tt.de)
		}
	}
	if got := newLocale("en", nil).Metric("sourced_revenue", 1000); got != "1,000" {
		t.Errorf("without a program: %q, want a plain number", got)
	}
}

// moneyIn matches an amount in euros as each language writes it.
var moneyIn = map[string]*regexp.Regexp{
	"en": regexp.MustCompile(`€[0-9]{1,3}(,[0-9]{3})*(\.[0-9]{2})?\b`),
	"de": regexp.MustCompile(`\b[0-9]{1,3}(\.[0-9]{3})*(,[0-9]{2})?\x{00a0}€`),
}

// percentIn matches a percentage as each language writes it.
var percentIn = map[string]*regexp.Regexp{
	"en": regexp.MustCompile(`>[0-9]{1,3}(\.[0-9])?%<`),
	"de": regexp.MustCompile(`>[0-9]{1,3}(,[0-9])?\x{00a0}%<`),
}

func TestPortalAndConsoleShowMoneyAndRatesPerLocale(t *testing.T) {
	e := newEnv(t, envOptions{})
	// A partner below the top tier, whose tier card lists a revenue target.
	var partner, target string
	targets := map[float64]map[string]string{
		250000:  {"en": "€250,000", "de": "250.000\u00a0€"},
		150000:  {"en": "€150,000", "de": "150.000\u00a0€"},
		1000000: {"en": "€1,000,000", "de": "1.000.000\u00a0€"},
		600000:  {"en": "€600,000", "de": "600.000\u00a0€"},
	}
	var want map[string]string
	var index int
	var before float64 // the partner's sourced revenue from the demo's history
	e.svc.Read(func(en *engine.Engine) error {
		for i, p := range e.data.Partners {
			sc, err := en.PartnerScorecard(p.ID, time.Time{})
			if err != nil || sc.Tier == nil {
				continue
			}
			for _, c := range sc.Tier.Criteria {
				if c.Metric == "sourced_revenue" && targets[c.Target] != nil && partner == "" {
					partner, want, index = p.ID, targets[c.Target], i
					target = c.ID
					before = c.Value
				}
			}
		}
		return nil
	})
	if partner == "" {
		t.Fatal("no partner of the demo has a sourced revenue target")
	}
	m, _ := e.member(index)
	won := rung.Event{ID: "opp-units-1", Type: "deal.won", Partner: partner, Member: m.ID, OccurredAt: e.clock.Now().Add(-time.Hour),
		Attrs: map[string]any{"amount": 42000.0, "sourced": true}}
	if _, err := e.svc.Ingest(context.Background(), []*service.Incoming{{Event: won}}); err != nil {
		t.Fatal(err)
	}
	// The test writes the amounts itself: digits grouped by threes, a
	// comma and the sign in front in English, a dot and the sign behind
	// in German.
	total := strconv.FormatInt(int64(before)+42000, 10)
	for i := len(total) - 3; i > 0; i -= 3 {
		total = total[:i] + "," + total[i:]
	}
	value := map[string]string{"en": "€" + total, "de": strings.ReplaceAll(total, ",", ".") + "\u00a0€"}
	admin := e.staff(adminEmail, adminPassword)
	member := e.signIn(m, store.RoleMember)
	for _, lang := range []string{"en", "de"} {
		admin.lang, member.lang = lang, lang
		for _, page := range []struct {
			c    *client
			path string
		}{{admin, "/admin/partners/" + partner}, {member, "/portal"}} {
			res, body := page.c.get(page.path)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("%s %s: %d", lang, page.path, res.StatusCode)
			}
			crit := regexp.MustCompile(`for="crit-` + target + `"[^>]*>[^<]*`).FindString(body)
			if !strings.Contains(crit, ": "+value[lang]+" / "+want[lang]) {
				t.Errorf("%s %s: criterion %s reads %q, want %q of %q", lang, page.path, target, crit, value[lang], want[lang])
			}
		}
		res, body := admin.get("/admin/leaderboards/sourced-revenue-4q")
		if res.StatusCode != http.StatusOK || !strings.Contains(body, `<td class="num">`+value[lang]+`</td>`) {
			t.Errorf("%s: the sourced revenue board does not show euros: %d\n%s", lang, res.StatusCode, body)
		}
		res, body = admin.get("/admin/leaderboards/meeting-rate")
		if res.StatusCode != http.StatusOK || !percentIn[lang].MatchString(body) {
			t.Errorf("%s: the meeting rate board does not show percentages: %d\n%s", lang, res.StatusCode, body)
		}
		// Members do not see other partners' revenue on boards.
		if _, body := member.get("/portal/leaderboards/sourced-revenue-4q"); moneyIn[lang].MatchString(body) {
			t.Errorf("%s: a member sees revenue figures on the board", lang)
		}
	}
}
