package registration

import (
	"math"
	"strings"
	"testing"
	"unicode/utf8"
)

// Real-world companies as partners write them, and the form they compare in.
func TestNormalizeNameStripsLegalFormsOfManyCountries(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Apple Inc.", "apple"},
		{"Microsoft Corporation", "microsoft"},
		{"Alphabet Inc", "alphabet"},
		{"Amazon.com, Inc.", "amazoncom"},
		{"The Home Depot, Inc.", "home depot"},
		{"Salesforce, Inc.", "salesforce"},
		{"Meta Platforms, Inc.", "meta platforms"},
		{"Stripe, LLC", "stripe"},
		{"Dunder Mifflin Paper Company, Inc.", "dunder mifflin paper"},
		{"Initech Ltd", "initech"},
		{"Tesco PLC", "tesco"},
		{"Marks and Spencer Group plc", "marks and spencer group"},
		{"Rolls-Royce Holdings plc", "rolls royce holdings"},
		{"Siemens AG", "siemens"},
		{"SAP SE", "sap"},
		{"Robert Bosch GmbH", "robert bosch"},
		{"Dr. Ing. h.c. F. Porsche AG", "dr ing hc f porsche"},
		{"Müller GmbH & Co. KG", "muller"},
		{"Aldi Süd Dienstleistungs-SE & Co. oHG", "aldi sud dienstleistungs"},
		{"Nestlé S.A.", "nestle"},
		{"L'Oréal S.A.", "loreal"},
		{"Société Générale SA", "societe generale"},
		{"Capgemini SE", "capgemini"},
		{"Décathlon SAS", "decathlon"},
		{"Boulangerie Paul SARL", "boulangerie paul"},
		{"Ferrari N.V.", "ferrari"},
		{"Eni S.p.A.", "eni"},
		{"Luxottica Group S.p.A.", "luxottica group"},
		{"Barilla G. e R. Fratelli S.r.l.", "barilla g e r fratelli"},
		{"ASML Holding N.V.", "asml holding"},
		{"Booking.com B.V.", "bookingcom"},
		{"Koninklijke Philips N.V.", "koninklijke philips"},
		{"Telefónica, S.A.", "telefonica"},
		{"Inditex S.L.", "inditex"},
		{"Volvo AB", "volvo"},
		{"Telefonaktiebolaget LM Ericsson (publ)", "telefonaktiebolaget lm ericsson"},
		{"Equinor ASA", "equinor"},
		{"Novo Nordisk A/S", "novo nordisk"},
		{"Nokia Oyj", "nokia"},
		{"Supercell Oy", "supercell"},
		{"Atlassian Pty Ltd", "atlassian"},
		{"Canva Pty. Ltd.", "canva"},
		{"Toyota Motor Corporation", "toyota motor"},
		{"Sony Group K.K.", "sony group"},
		{"Kabushiki Kaisha Toshiba", "toshiba"},
		{"Samsung Electronics Co., Ltd.", "samsung electronics"},
		{"Tata Consultancy Services Private Limited", "tata consultancy services"},
		{"Infosys Pvt. Ltd.", "infosys"},
		{"CD Projekt Sp. z o.o.", "cd projekt"},
		{"Allegro.eu S.A.", "allegroeu"},
		{"Natura Cosméticos Ltda.", "natura cosmeticos"},
		{"Grupo Bimbo, S.A.B. de C.V.", "grupo bimbo"},
		{"Škoda Auto a.s.", "skoda auto"},
		{"Richter Gedeon Nyrt.", "richter gedeon"},
		{"PT Telkom Indonesia Tbk", "telkom indonesia"},
		{"Petronas Sdn. Bhd.", "petronas"},
		{"Grab Holdings Pte. Ltd.", "grab holdings"},
		{"Øresund Logistik ApS", "oresund logistik"},
		{"Straße & Söhne", "strasse and sohne"},
		{"AT&T Inc.", "at and t"},
		{"  ACME   corp  ", "acme"},
		{"AG", "ag"}, // a name that is all legal form stays
		{"Inc.", "inc"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := NormalizeName(tt.in); got != tt.want {
			t.Errorf("NormalizeName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSpellingsOfOneCompanyNormalizeAlike(t *testing.T) {
	same := [][]string{
		{"Initech", "Initech Ltd.", "INITECH LIMITED", "initech, ltd"},
		{"Globex Corporation", "Globex Corp.", "globex", "Globex Inc"},
		{"Müller GmbH", "Mueller"[:0] + "Muller GmbH & Co. KG", "MÜLLER AG"},
		{"Nestlé", "Nestle S.A.", "NESTLÉ SA"},
		{"Sp. z o.o. Test", "Sp. z o.o. Test"},
	}
	for _, group := range same {
		want := NormalizeName(group[0])
		for _, s := range group[1:] {
			if got := NormalizeName(s); got != want {
				t.Errorf("NormalizeName(%q) = %q, want %q like %q", s, got, want, group[0])
			}
		}
	}
}

func TestRegistrableDomain(t *testing.T) {
	tests := []struct{ in, want string }{
		{"initech.com", "initech.com"},
		{"www.initech.com", "initech.com"},
		{"WWW.Initech.COM.", "initech.com"},
		{"https://www.initech.com/about?x=1", "initech.com"},
		{"http://shop.initech.co.uk:8080/", "initech.co.uk"},
		{"shop.initech.co.uk", "initech.co.uk"},
		{"initech.co.uk", "initech.co.uk"},
		{"jane.doe@initech.co.uk", "initech.co.uk"},
		{"mailto:bill@sales.initech.com", "initech.com"},
		{"eu.store.globex.com.au", "globex.com.au"},
		{"mail.globex.co.jp", "globex.co.jp"},
		{"globex.de/impressum", "globex.de"},
		{"münchen-it.de", "xn--mnchen-it-q9a.de"},
		{"a.b.c.example.org", "example.org"},
		{"acme.com.br", "acme.com.br"},
		{"www.bbc.co.uk", "bbc.co.uk"},
	}
	for _, tt := range tests {
		got, err := RegistrableDomain(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("RegistrableDomain(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "co.uk", "com", "localhost", "acme", "acme.internal", "http://", "jane@",
		"ac me.com", "-acme.com", "acme..com", "acme_co.com", "https://[::1]/"} {
		if got, err := RegistrableDomain(bad); err == nil {
			t.Errorf("RegistrableDomain(%q) = %q, want an error", bad, got)
		}
	}
}

func TestSameDomainMatchesSubdomainsNotNeighbours(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"initech.co.uk", "shop.initech.co.uk", true},
		{"https://www.initech.co.uk", "jane@mail.initech.co.uk", true},
		{"a.co.uk", "b.co.uk", false},
		{"initech.com", "initech.co.uk", false},
		{"globex.com", "globex.com.au", false},
		{"user.github.io", "other.github.io", false}, // a private suffix: each user's own
		{"co.uk", "co.uk", false},
	}
	for _, tt := range tests {
		if got := SameDomain(tt.a, tt.b); got != tt.want {
			t.Errorf("SameDomain(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestJaroWinklerKnownValues(t *testing.T) {
	tests := []struct {
		a, b string
		want float64
	}{
		{"martha", "marhta", 0.9611},
		{"dwayne", "duane", 0.84},
		{"dixon", "dicksonx", 0.8133},
		{"crate", "trace", 0.7333},
		{"abc", "abc", 1},
		{"abc", "xyz", 0},
		{"", "abc", 0},
	}
	for _, tt := range tests {
		if got := JaroWinkler(tt.a, tt.b); math.Abs(got-tt.want) > 0.0001 {
			t.Errorf("JaroWinkler(%q, %q) = %.4f, want %.4f", tt.a, tt.b, got, tt.want)
		}
		if a, b := JaroWinkler(tt.a, tt.b), JaroWinkler(tt.b, tt.a); math.Abs(a-b) > 1e-12 {
			t.Errorf("JaroWinkler is not symmetric for %q, %q: %v, %v", tt.a, tt.b, a, b)
		}
	}
}

func TestPossibleMatchNeedsTheThreshold(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"Initech Ltd", "Initech Solutions", false},
		{"Globex Corporation", "Globexx Corp", true},
		{"Deutsche Telekom AG", "Deutsche Telecom", true},
		{"Volkswagen AG", "Volkswagon", true},
		{"Acme", "Apex", false},
		{"Siemens", "Siemens Healthineers", false},
	}
	for _, tt := range tests {
		s := JaroWinkler(NormalizeName(tt.a), NormalizeName(tt.b))
		if got := s >= DefaultMatchThreshold; got != tt.want {
			t.Errorf("%q ~ %q: score %.3f, possible match %v, want %v", tt.a, tt.b, s, got, tt.want)
		}
	}
}

func FuzzNormalizeName(f *testing.F) {
	for _, s := range []string{"Müller GmbH & Co. KG", "Sp. z o.o.", "AG", "", "The The Inc", "ß\u0301", "\xff\xfe", "A/S a/s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := NormalizeName(s)
		if !utf8.ValidString(n) {
			t.Fatalf("NormalizeName(%q) = %q is not UTF-8", s, n)
		}
		if n != strings.TrimSpace(n) || strings.Contains(n, "  ") {
			t.Fatalf("NormalizeName(%q) = %q has stray spaces", s, n)
		}
		if strings.TrimSpace(s) != "" && n == "" && len(nameWords(s)) > 0 {
			t.Fatalf("NormalizeName(%q) stripped a name to nothing", s)
		}
		if again := NormalizeName(n); again != n && len(nameWords(s)) > 0 {
			// Stripping is applied until nothing more goes, so a second
			// pass may only strip what the first left for the last word.
			if NormalizeName(again) != again {
				t.Fatalf("NormalizeName is not stable: %q → %q → %q", s, n, again)
			}
		}
		if JaroWinkler(n, n) != 1 && n != "" {
			t.Fatalf("JaroWinkler(%q, itself) != 1", n)
		}
	})
}

func FuzzRegistrableDomain(f *testing.F) {
	for _, s := range []string{"www.initech.co.uk", "jane@globex.com", "https://x.y.z.example.org:80/p", "co.uk", "münchen.de", "\x00.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := RegistrableDomain(s)
		if err != nil {
			return
		}
		// The result is a plain domain that reduces to itself.
		if d == "" || strings.ContainsAny(d, "/@:?# ") || strings.ToLower(d) != d {
			t.Fatalf("RegistrableDomain(%q) = %q", s, d)
		}
		again, err := RegistrableDomain(d)
		if err != nil || again != d {
			t.Fatalf("RegistrableDomain(%q) = %q, but that reduces to %q, %v", s, d, again, err)
		}
		if sub, err := RegistrableDomain("www." + d); err != nil || sub != d {
			t.Fatalf("www.%s reduces to %q, %v", d, sub, err)
		}
	})
}
