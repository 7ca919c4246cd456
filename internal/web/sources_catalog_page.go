package web

// deSourcesPage is the German of the Sources page (sources.go), added to de
// where de has no entry yet.
var deSourcesPage = map[string]string{
	"Sources":                 "Quellen",
	"Rejected":                "Abgewiesen",
	"Received":                "Empfangen",
	"Attempts":                "Versuche",
	"Replay":                  "Erneut anwenden",
	"applied":                 "angewandt",
	"rejected":                "abgewiesen",
	"No rejected deliveries.": "Keine abgewiesenen Lieferungen.",
	"The newest %d are listed; older ones are kept.":                        "Die neuesten %d sind aufgeführt; ältere bleiben gespeichert.",
	"The delivery was replayed and applied.":                                "Die Lieferung wurde erneut angewandt und übernommen.",
	"The delivery was replayed and is still rejected: the reason is below.": "Die Lieferung wurde erneut angewandt und ist weiter abgewiesen: Der Grund steht unten.",
	"CRM, LMS and CSV deliveries the program's sources section could not map are kept here. Fix the mapping in the program, then replay them.": "Lieferungen aus CRM, LMS und CSV, die der Abschnitt sources des Programms nicht zuordnen konnte, werden hier aufbewahrt. Korrigieren Sie die Zuordnung im Programm und wenden Sie sie dann erneut an.",
}

func init() {
	for k, v := range deSourcesPage {
		if _, ok := de[k]; !ok {
			de[k] = v
		}
	}
}
