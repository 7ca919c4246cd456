package web

// The German texts of the simulation page, added to the catalog at start.
func init() {
	for en, g := range map[string]string{
		"Simulate":                   "Simulieren",
		"Simulate a draft":           "Entwurf simulieren",
		"Back to the program editor": "Zurück zum Programm-Editor",
		"Period":                     "Zeitraum",
		"To (exclusive)":             "Bis (ausschließlich)",
		"The draft replaces the program's rules for events from the start of the period (all history when empty); the state is compared at its end (now when empty).": "Der Entwurf ersetzt die Regeln des Programms für Ereignisse ab Beginn des Zeitraums (leer: die ganze Historie); verglichen wird der Stand an seinem Ende (leer: jetzt).",
		"From and to must be dates such as 2026-10-01 or times such as 2026-10-01T00:00:00Z.":                                                                         "Von und Bis müssen Daten wie 2026-10-01 oder Zeitpunkte wie 2026-10-01T00:00:00Z sein.",
		"What the draft changes": "Was der Entwurf ändert",
		"%s against the active program, version %d: %d log records replayed, %d events in the period.":                "%s im Vergleich zum aktiven Programm, Version %d: %d Protokolleinträge nachgespielt, %d Ereignisse im Zeitraum.",
		"%s with no program applied yet: %d log records replayed, %d events in the period.":                           "%s ohne bisher angewendetes Programm: %d Protokolleinträge nachgespielt, %d Ereignisse im Zeitraum.",
		"No events occurred in the period: there is nothing to simulate. Choose a period that holds recorded events.": "Im Zeitraum gab es keine Ereignisse: Es gibt nichts zu simulieren. Wählen Sie einen Zeitraum mit erfassten Ereignissen.",
		"Active program":              "Aktives Programm",
		"Draft":                       "Entwurf",
		"Points issued in the period": "Im Zeitraum vergebene Punkte",
		"Lifetime points":             "Punkte insgesamt",
		"Points in the period":        "Punkte im Zeitraum",
		"Qualified tier":              "Erreichte Stufe",
		"Badges held":                 "Gehaltene Abzeichen",
		"Reward liability":            "Verbindlichkeit für Prämien",
		"%d of %d members and %d of %d partners change.":                                                    "Bei %d von %d Mitgliedern und %d von %d Partnern ändert sich etwas.",
		"Members: %d move up a level, %d down. Partners: %d qualify for a higher tier, %d for a lower one.": "Mitglieder: %d steigen ein Level auf, %d ab. Partner: %d erreichen eine höhere Stufe, %d eine niedrigere.",
		"Badges: %d gained, %d lost. Leaderboard places changed: %d.":                                       "Abzeichen: %d gewonnen, %d verloren. Geänderte Plätze in Bestenlisten: %d.",
		"The draft changes nothing.":                                                                        "Der Entwurf ändert nichts.",
		"Download CSV":                                                                                      "CSV herunterladen",
		"Apply this draft":                                                                                  "Diesen Entwurf anwenden",
		"Apply this draft as the new program version?":                                                      "Diesen Entwurf als neue Programmversion anwenden?",
		"Leaderboard places":                                                                                "Plätze in Bestenlisten",
		"%d more rows: download the CSV for all of them.":                                                   "%d weitere Zeilen: Laden Sie die CSV-Datei für alle herunter.",
		"Nobody here changes.":                                                                              "Hier ändert sich bei niemandem etwas.",
	} {
		de[en] = g
	}
}
