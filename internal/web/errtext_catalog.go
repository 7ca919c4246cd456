package web

// deErrors is the German catalog of the errors the console and the portal
// show, keyed by the English format given to rung.Errorf. The verbs stay in
// the same order (TestErrorCatalogCoversShownErrors checks every format of
// the files that produce these errors has a translation with the same
// verbs).
var deErrors = map[string]string{
	// Analytics periods and cohorts (internal/analytics).
	"the period is empty: from (%s) must be before to (%s)":                                "Der Zeitraum ist leer: from (%s) muss vor to (%s) liegen",
	"the period is longer than five years: choose a later from or an earlier to":           "Der Zeitraum ist länger als fünf Jahre: Wählen Sie ein späteres from oder ein früheres to",
	"%s=%q is not a date: use 2026-01-31 or an RFC 3339 time such as 2026-01-31T00:00:00Z": "%s=%q ist kein Datum: Verwenden Sie 2026-01-31 oder eine RFC-3339-Zeit wie 2026-01-31T00:00:00Z",
	"%s=%q is out of range: use a date between 1970 and 2200":                              "%s=%q liegt außerhalb des Bereichs: Verwenden Sie ein Datum zwischen 1970 und 2200",
	"cohort %q: write it as field:value, for example region:emea, size:smb or type:isv":    "Gruppe %q: Schreiben Sie sie als Feld:Wert, zum Beispiel region:emea, size:smb oder type:isv",
	"cohort %q: the field %q is not one of region, size, type":                             "Gruppe %q: Das Feld %q ist keines von region, size, type",

	// Registration metrics (internal/web/regmetrics.go).
	"period=%q is not a quarter such as 2026-Q4": "period=%q ist kein Quartal wie 2026-Q4",

	// Tier reviews, overrides and appeals (internal/service/tiers.go).
	"quarter %s has not ended (it ends %s): review it as a dry run, or publish after it ends": "Das Quartal %s ist noch nicht zu Ende (es endet %s): Prüfen Sie es als Probelauf oder veröffentlichen Sie nach seinem Ende",
	"partner %q not found": "Partner %q nicht gefunden",
	"member %q not found":  "Mitglied %q nicht gefunden",
	"the program has no tiers section: add one before setting overrides": "Das Programm hat keinen Abschnitt tiers: Fügen Sie einen hinzu, bevor Sie Stufen manuell festlegen",
	"override %q not found":              "Manuelle Festlegung %q nicht gefunden",
	"override %q has ended already (%s)": "Die manuelle Festlegung %q ist bereits beendet (%s)",
	"%s %q exists already":               "%s %q existiert bereits",
	"partner %q has no published decision for %s: appeal a decision of a published review": "Partner %q hat für %s keine veröffentlichte Entscheidung: Fechten Sie eine Entscheidung einer veröffentlichten Prüfung an",
	"the decision of %s for %q was appealed already (%s)":                                  "Gegen die Entscheidung für %s zu %q wurde bereits Einspruch erhoben (%s)",
	"appeal %q not found":     "Einspruch %q nicht gefunden",
	"appeal %q is %s already": "Einspruch %q ist bereits %s",

	// Registration CSV files (internal/registration/csv.go).
	"the file is empty: give a header row such as company,domain,contact_email,partner": "Die Datei ist leer: Geben Sie eine Kopfzeile an, etwa company,domain,contact_email,partner",
	"the header row cannot be read: %v":                                                 "Die Kopfzeile kann nicht gelesen werden: %v",
	"column %d, %q, is not known: use company, domain, contact_email, contact_name, kind, partner, member, notes, amount, region, product, consent": "Spalte %d, %q, ist unbekannt: Verwenden Sie company, domain, contact_email, contact_name, kind, partner, member, notes, amount, region, product, consent",
	"column %q appears twice":                  "Spalte %q kommt zweimal vor",
	"the file has more than %d rows; split it": "Die Datei hat mehr als %d Zeilen; teilen Sie sie auf",
	"the file cannot be read: %v":              "Die Datei kann nicht gelesen werden: %v",

	// Simulations (internal/simulate).
	"another simulation is running: try again when it has finished":                                              "Eine andere Simulation läuft: Versuchen Sie es erneut, wenn sie fertig ist",
	"cannot sort by %q: use one of %s or rank:<leaderboard> (leaderboards: %s), with a leading - for descending": "Nach %q kann nicht sortiert werden: Verwenden Sie eines von %s oder rank:<Bestenliste> (Bestenlisten: %s), mit vorangestelltem - für absteigend",
}
