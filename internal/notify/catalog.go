package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"text/template"
)

// phrase is how one kind of notification reads in one language: a title
// (the subject when it is alone in a message) and a line. Both are
// text/template sources over the trigger's data: {{get "name"}}.
type phrase struct{ title, line string }

// catalog holds every kind's phrase in English and German.
var catalog = map[string]map[string]phrase{
	"en": {
		KindBadge:                {`You earned {{get "name"}}{{with get "level"}} ({{.}}){{end}}`, `Congratulations: you earned the {{get "name"}} badge{{with get "level"}} at level {{.}}{{end}}.`},
		KindLevel:                {`You reached {{get "level"}}`, `You reached the level {{get "level"}}. Keep going!`},
		KindTierChange:           {`{{get "partner_name"}} is now {{get "to"}}`, `Your company moved from {{get "from"}} to the {{get "to"}} tier.`},
		KindNudge:                {`Almost {{get "next"}}`, `{{get "partner_name"}} is close to {{get "next"}}: {{get "missing"}}.`},
		KindChallengeStart:       {`New challenge: {{get "name"}}`, `The challenge {{get "name"}} has started{{with get "ends"}} and runs until {{.}}{{end}}.`},
		KindChallengeStandings:   {`{{get "name"}}: you are #{{get "rank"}}`, `In the challenge {{get "name"}} you are number {{get "rank"}}{{with get "of"}} of {{.}}{{end}}.`},
		KindChallengeResult:      {`{{get "name"}} is over`, `The challenge {{get "name"}} has ended{{with get "rank"}}: you finished number {{.}}{{end}}.`},
		KindRegistrationDecision: {`[{{get "case"}}] {{get "company"}}: {{status}}`, `Your registration {{get "case"}} of {{get "company"}} is {{status}}.{{with get "reason"}} Reason: {{.}}{{end}}{{with get "protected_until"}} Protected until {{.}}.{{end}}`},
		KindSLAWarning:           {`[{{get "case"}}] {{what}}`, `Registration {{get "case"}} of {{get "company"}}: {{what}}{{with get "due"}} (due {{.}}){{end}}.`},
		KindMagicLink:            {`Your sign-in link`, `Open this link to sign in to the partner portal. It works once, for {{get "minutes"}} minutes. If you did not ask for it, ignore this message.`},
		KindDigest:               {`Your week in the program`, `Your weekly standings.`},
	},
	"de": {
		KindBadge:                {`Sie haben {{get "name"}}{{with get "level"}} ({{.}}){{end}} erreicht`, `Glückwunsch: Sie haben das Abzeichen {{get "name"}}{{with get "level"}} in der Stufe {{.}}{{end}} erhalten.`},
		KindLevel:                {`Sie haben {{get "level"}} erreicht`, `Sie haben die Stufe {{get "level"}} erreicht. Weiter so!`},
		KindTierChange:           {`{{get "partner_name"}} ist jetzt {{get "to"}}`, `Ihr Unternehmen ist von {{get "from"}} in den Status {{get "to"}} gewechselt.`},
		KindNudge:                {`Fast {{get "next"}}`, `{{get "partner_name"}} ist nah an {{get "next"}}: {{get "missing"}}.`},
		KindChallengeStart:       {`Neue Challenge: {{get "name"}}`, `Die Challenge {{get "name"}} hat begonnen{{with get "ends"}} und läuft bis {{.}}{{end}}.`},
		KindChallengeStandings:   {`{{get "name"}}: Sie sind auf Platz {{get "rank"}}`, `In der Challenge {{get "name"}} sind Sie auf Platz {{get "rank"}}{{with get "of"}} von {{.}}{{end}}.`},
		KindChallengeResult:      {`{{get "name"}} ist beendet`, `Die Challenge {{get "name"}} ist beendet{{with get "rank"}}: Sie haben Platz {{.}} erreicht{{end}}.`},
		KindRegistrationDecision: {`[{{get "case"}}] {{get "company"}}: {{status}}`, `Ihre Registrierung {{get "case"}} von {{get "company"}} ist {{status}}.{{with get "reason"}} Grund: {{.}}{{end}}{{with get "protected_until"}} Geschützt bis {{.}}.{{end}}`},
		KindSLAWarning:           {`[{{get "case"}}] {{what}}`, `Registrierung {{get "case"}} von {{get "company"}}: {{what}}{{with get "due"}} (fällig {{.}}){{end}}.`},
		KindMagicLink:            {`Ihr Anmeldelink`, `Öffnen Sie diesen Link, um sich im Partnerportal anzumelden. Er funktioniert einmal, {{get "minutes"}} Minuten lang. Wenn Sie ihn nicht angefordert haben, ignorieren Sie diese Nachricht.`},
		KindDigest:               {`Ihre Woche im Programm`, `Ihr wöchentlicher Stand.`},
	},
}

// statusWords are the registration states as the messages say them.
var statusWords = map[string]map[string]string{
	"en": {"submitted": "submitted", "approved": "approved", "declined": "declined", "needs_info": "waiting for more information",
		"meeting": "in the meeting stage", "won": "won", "lost": "lost", "expired": "expired",
		"conflict_won": "confirmed: a conflicting registration of the company was settled in your favour"},
	"de": {"submitted": "eingereicht", "approved": "genehmigt", "declined": "abgelehnt", "needs_info": "wartet auf weitere Angaben",
		"meeting": "im Termin-Stadium", "won": "gewonnen", "lost": "verloren", "expired": "abgelaufen",
		"conflict_won": "bestätigt: ein Konflikt um diese Firma wurde zu Ihren Gunsten geklärt"},
}

// slaWords name the deadlines of SLA warnings (data.sla); a trigger may
// give its own text in data.what instead.
var slaWords = map[string]map[string]string{
	"en": {"review_overdue": "review overdue", "meeting_due": "first meeting due soon, or the protection ends"},
	"de": {"review_overdue": "Prüfung überfällig", "meeting_due": "erster Termin bald fällig, sonst endet der Schutz"},
}

// words are the fixed texts around the items of a message.
var words = map[string]map[string]string{
	"en": {"updates": "%d updates from the partner program", "open": "Open the portal", "unsubscribe": "Unsubscribe from these e-mails",
		"unsubscribe_all": "Unsubscribe from all e-mails", "why": "You get this e-mail as a member of the partner program.",
		"signin": "Sign in", "place": "Place", "moved_up": "up %d", "moved_down": "down %d", "same": "no change",
		"to_level": "%d points to %s", "to_tier": "Next tier: %s", "challenges": "Active challenges", "no_challenges": "No active challenges this week.",
		"board": "Leaderboard", "points": "Points", "digest_intro": "Here is where you stand this week."},
	"de": {"updates": "%d Neuigkeiten aus dem Partnerprogramm", "open": "Portal öffnen", "unsubscribe": "Diese E-Mails abbestellen",
		"unsubscribe_all": "Alle E-Mails abbestellen", "why": "Sie erhalten diese E-Mail als Mitglied des Partnerprogramms.",
		"signin": "Anmelden", "place": "Platz", "moved_up": "%d aufwärts", "moved_down": "%d abwärts", "same": "unverändert",
		"to_level": "%d Punkte bis %s", "to_tier": "Nächster Status: %s", "challenges": "Aktive Challenges", "no_challenges": "Diese Woche keine aktiven Challenges.",
		"board": "Rangliste", "points": "Punkte", "digest_intro": "So stehen Sie diese Woche da."},
}

// lang returns a supported language for a preference ("en" otherwise).
func lang(l string) string {
	if l == "de" {
		return "de"
	}
	return "en"
}

// word returns a fixed text in a language.
func word(l, key string) string { return words[lang(l)][key] }

// phraseOf renders a kind's title and line in a language over data.
func phraseOf(l, kind string, data map[string]any) (title, line string) {
	l = lang(l)
	ph, ok := catalog[l][kind]
	if !ok {
		return kind, ""
	}
	funcs := template.FuncMap{
		"get": func(k string) string {
			v, ok := data[k]
			if !ok || v == nil {
				return ""
			}
			if f, ok := v.(float64); ok && f == float64(int64(f)) {
				return fmt.Sprint(int64(f))
			}
			return strings.TrimSpace(strings.ReplaceAll(fmt.Sprint(v), "\n", " "))
		},
		"what": func() string {
			if w, ok := slaWords[l][fmt.Sprint(data["sla"])]; ok {
				return w
			}
			return fmt.Sprint(data["what"])
		},
		"status": func() string {
			st := fmt.Sprint(data["status"])
			if w, ok := statusWords[l][st]; ok {
				return w
			}
			return st
		},
	}
	run := func(src string) string {
		t := template.Must(template.New("").Funcs(funcs).Parse(src))
		var b bytes.Buffer
		if err := t.Execute(&b, nil); err != nil {
			return src
		}
		return b.String()
	}
	return run(ph.title), run(ph.line)
}

// Describe renders a stored notification's title and line in a language,
// for the portal's list of notifications.
func Describe(l, kind string, data []byte) (title, line string) {
	var m map[string]any
	json.Unmarshal(data, &m)
	return phraseOf(l, kind, m)
}
