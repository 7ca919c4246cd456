package web

import "maps"

// deSources is the German for the problems of the program file's sources
// section (internal/program/sources.go), merged into deProgram.
var deSources = map[string]string{
	"a list of source mappings": "eine Liste von Quellen-Zuordnungen",
	"a mapping of attribute names to record fields, like {amount: amount}":                                                "eine Zuordnung von Attributnamen zu Feldern des Datensatzes, etwa {amount: amount}",
	"a mapping with hubspot, salesforce, webhook and csv, each a list of mappings":                                        "eine Zuordnung mit hubspot, salesforce, webhook und csv, jeweils eine Liste von Zuordnungen",
	"a partner lookup: {field: F}, {domain: F} or {attr: A, field: F}":                                                    "eine Partnersuche: {field: F}, {domain: F} oder {attr: A, field: F}",
	"a source mapping with object, type and partner":                                                                      "eine Quellen-Zuordnung mit object, type und partner",
	"attr goes with field, not with domain":                                                                               "attr gehört zu field, nicht zu domain.",
	"expected a record field name, got %s":                                                                                "Erwartet wird der Name eines Felds des Datensatzes, angegeben ist %s.",
	"give field or domain, not both: domain names the field holding an e-mail address or domain":                          "Geben Sie field oder domain an, nicht beides: domain nennt das Feld mit einer E-Mail-Adresse oder Domain.",
	"how the partner is found, like {field: partner_id} or {domain: email}":                                               "wie der Partner gefunden wird, etwa {field: partner_id} oder {domain: email}",
	"invalid field name %q: use the CRM's API name or the CSV column header, like dealstage, StageName or \"Deal Stage\"": "Ungültiger Feldname %q: Verwenden Sie den API-Namen des CRM oder die Spaltenüberschrift der CSV-Datei, etwa dealstage, StageName oder \"Deal Stage\".",
	"the event type the change becomes, like deal.won":                                                                    "der Ereignistyp, zu dem die Änderung wird, etwa deal.won",
	"the record field holding the partner id, or domain: a field holding an e-mail address":                               "das Feld des Datensatzes mit der Partner-ID, oder domain: ein Feld mit einer E-Mail-Adresse",
	"the record's object, like deal or Opportunity":                                                                       "das Objekt des Datensatzes, etwa deal oder Opportunity",
}

func init() { maps.Copy(deProgram, deSources) }
