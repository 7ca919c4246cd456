package web

// deWebhooks is the German of the webhooks page, added to the catalog.
var deWebhooks = map[string]string{
	"Webhooks": "Webhooks",
	"The endpoint's signing secret. It is shown once: copy it now.": "Das Signaturgeheimnis des Endpunkts. Es wird nur einmal angezeigt: Kopieren Sie es jetzt.",
	"%s is delivered again.":      "%s wird erneut zugestellt.",
	"New endpoint":                "Neuer Endpunkt",
	"Address":                     "Adresse",
	"Messages (none ticked: all)": "Nachrichten (keine angekreuzt: alle)",
	"Add":                         "Hinzufügen",
	"Endpoints":                   "Endpunkte",
	"Messages":                    "Nachrichten",
	"all":                         "alle",
	"Remove this endpoint? Its undelivered messages are dropped.": "Diesen Endpunkt entfernen? Seine nicht zugestellten Nachrichten werden verworfen.",
	"Remove":            "Entfernen",
	"No endpoints yet.": "Noch keine Endpunkte.",
	"Dead letters":      "Unzustellbare Nachrichten",
	"Message":           "Nachricht",
	"Endpoint":          "Endpunkt",
	"Attempts":          "Versuche",
	"Last error":        "Letzter Fehler",
	"Replay":            "Erneut zustellen",
	"No dead letters: every message was delivered or is still being tried.": "Keine unzustellbaren Nachrichten: Jede Nachricht wurde zugestellt oder wird noch versucht.",
	"Give the endpoint's address, starting with https:// or http://.":       "Geben Sie die Adresse des Endpunkts an, beginnend mit https:// oder http://.",
}

func init() {
	for k, v := range deWebhooks {
		if _, ok := de[k]; !ok {
			de[k] = v
		}
	}
}
