package web

// rewardsDE is the German of the rewards pages; init adds it to the
// catalog, so the rewards pages keep their texts in one file.
var rewardsDE = map[string]string{
	"Rewards":                            "Prämien",
	"Redemptions":                        "Einlösungen",
	"Liability":                          "Verbindlichkeit",
	"Points liability":                   "Verbindlichkeit aus Punkten",
	"Reward":                             "Prämie",
	"Redemption":                         "Einlösung",
	"Points back from redemption":        "Punkte zurück aus Einlösung",
	"Requested":                          "Angefragt",
	"Note":                               "Hinweis",
	"Pending":                            "Offen",
	"Fulfilled":                          "Erfüllt",
	"Rejected":                           "Abgelehnt",
	"Reject":                             "Ablehnen",
	"Total":                              "Summe",
	"Team reward":                        "Team-Prämie",
	"%s points":                          "%s Punkte",
	"%d left":                            "noch %d",
	"For tier %s":                        "Für die Stufe %s",
	"Redeem %s":                          "%s einlösen",
	"Out of stock.":                      "Vergriffen.",
	"Only for partners in tier %s.":      "Nur für Partner der Stufe %s.",
	"%s more points needed.":             "Es fehlen noch %s Punkte.",
	"You have %s points to spend.":       "Sie haben %s Punkte zum Einlösen.",
	"Your team has %s.":                  "Ihr Team hat %s.",
	"My redemptions":                     "Meine Einlösungen",
	"Our redemptions":                    "Unsere Einlösungen",
	"No redemptions yet.":                "Noch keine Einlösungen.",
	"No redemptions here.":               "Hier gibt es keine Einlösungen.",
	"The program has no rewards yet.":    "Das Programm hat noch keine Prämien.",
	"Redemption %s: %s.":                 "Einlösung %s: %s.",
	"Redemption %s was decided already.": "Über die Einlösung %s wurde bereits entschieden.",
	"Choose approve or reject.":          "Wählen Sie Genehmigen oder Ablehnen.",
	"Reason (told to the member)":        "Begründung (wird dem Mitglied mitgeteilt)",
	"Held by pending redemptions":        "Durch offene Einlösungen gebunden",
	"Held value":                         "Gebundener Wert",
	"Download as CSV":                    "Als CSV herunterladen",
	"No points outstanding.":             "Keine offenen Punkte.",
	"Redeemed %d times already, the most allowed.":                                             "Bereits %d-mal eingelöst, öfter geht es nicht.",
	"Not redeemed: this reward is not for your partner's tier.":                                "Nicht eingelöst: Diese Prämie gilt nicht für die Stufe Ihres Partners.",
	"Not redeemed: this reward is out of stock.":                                               "Nicht eingelöst: Diese Prämie ist vergriffen.",
	"Not redeemed: you have redeemed this reward as often as allowed.":                         "Nicht eingelöst: Sie haben diese Prämie so oft eingelöst wie erlaubt.",
	"Not redeemed: not enough points.":                                                         "Nicht eingelöst: Es fehlen Punkte.",
	"Thank you: your request %s is in. The points are held until it is fulfilled.":             "Danke: Ihre Anfrage %s ist eingegangen. Die Punkte sind reserviert, bis sie erfüllt ist.",
	"Redeeming holds the points; the oldest points, those that expire first, are spent first.": "Beim Einlösen werden die Punkte reserviert; zuerst werden die ältesten Punkte verbraucht, die als Erste verfallen.",
	"Your partner admin redeems this with the team's points.":                                  "Ihr Partner-Admin löst diese Prämie mit den Punkten des Teams ein.",
	"Points partners can still redeem, as of %s.":                                              "Punkte, die Partner noch einlösen können, Stand %s.",
	"One point is worth %s.":                                                                   "Ein Punkt ist %s wert.",
	"Set point_value in the program to see what the points are worth.":                         "Setzen Sie point_value im Programm, um den Wert der Punkte zu sehen.",
	"%d waiting for a decision, oldest first.":                                                 "%d warten auf eine Entscheidung, die ältesten zuerst.",
}

// rewardsDEProgram is the German of the program file problems about
// rewards (the problems catalog, deProgram).
var rewardsDEProgram = map[string]string{
	"expected what one point is worth in the program's currency, a positive number like 0.01, got %g": "Erwartet wird der Wert eines Punktes in der Währung des Programms, eine positive Zahl wie 0.01, angegeben ist %g.",
}

func init() {
	for k, v := range rewardsDE {
		de[k] = v
	}
	for k, v := range rewardsDEProgram {
		deProgram[k] = v
	}
}
