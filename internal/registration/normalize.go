// Package registration runs partner lead and deal registration (SPEC §4
// Registrations): it normalizes company names and domains so that the same
// company is recognised however a partner writes it, keeps each
// registration's state (submitted, approved, needs_info, declined, meeting,
// won, lost, expired), settles conflicts between partners by the program's
// policy, and writes every transition into the event log so that point
// rules, badges and tiers can score them.
package registration

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
	"golang.org/x/text/unicode/norm"

	"github.com/rung-dev/rung"
)

// RegistrableDomain reduces a web address, a host name or an e-mail address
// to the domain a company registered: the public suffix plus one label
// ("https://www.shop.initech.co.uk/x" → "initech.co.uk"). It refuses what
// is not a domain under a known public suffix, and a bare public suffix
// such as "co.uk".
func RegistrableDomain(s string) (string, error) {
	host := strings.TrimSpace(s)
	if host == "" {
		return "", rung.Errorf(rung.EINVALID, "the domain is empty: give the company's web domain, such as initech.com")
	}
	bad := func(why string) (string, error) {
		return "", rung.Errorf(rung.EINVALID, "%q is not a company domain: %s", clip(s, 80), why)
	}
	if !utf8.ValidString(host) {
		return bad("it is not valid UTF-8")
	}
	lower := strings.ToLower(host)
	host = strings.TrimPrefix(lower, "mailto:")
	switch {
	case strings.Contains(host, "://"):
		u, err := url.Parse(host)
		if err != nil || u.Hostname() == "" {
			return bad("it is not a URL with a host")
		}
		host = u.Hostname()
	case strings.Contains(host, "@"):
		host = host[strings.LastIndexByte(host, '@')+1:]
	}
	if i := strings.IndexAny(host, "/?#"); i >= 0 {
		host = host[:i]
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i] // a port
	}
	host = strings.TrimSuffix(host, ".")
	if host == "" {
		return bad("it has no host name")
	}
	ascii, err := idna.Lookup.ToASCII(host)
	if err != nil {
		return bad("it is not a valid host name")
	}
	host = ascii
	if !strings.Contains(host, ".") {
		return bad("it has no dot; write the full domain, such as initech.com")
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return bad("one of its labels is empty, too long, or starts or ends with a hyphen")
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return bad("it may hold only letters, digits, hyphens and dots")
			}
		}
	}
	suffix, icann := publicsuffix.PublicSuffix(host)
	if !icann && !strings.Contains(suffix, ".") {
		return bad("." + suffix + " is not a known top-level domain")
	}
	d, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil {
		return bad("it is a public suffix, not a company's domain")
	}
	return d, nil
}

// SameDomain reports whether two addresses reduce to the same registrable
// domain; either one failing to reduce is no match.
func SameDomain(a, b string) bool {
	da, err := RegistrableDomain(a)
	if err != nil {
		return false
	}
	db, err := RegistrableDomain(b)
	return err == nil && da == db
}

// freeMail are mailbox providers: a contact's address there says nothing
// about the company.
var freeMail = map[string]bool{
	"gmail.com": true, "googlemail.com": true, "outlook.com": true, "hotmail.com": true, "live.com": true,
	"yahoo.com": true, "yahoo.co.uk": true, "icloud.com": true, "me.com": true, "aol.com": true,
	"gmx.de": true, "gmx.net": true, "web.de": true, "proton.me": true, "protonmail.com": true,
	"yandex.ru": true, "mail.ru": true, "qq.com": true, "163.com": true, "orange.fr": true, "free.fr": true,
}

// FreeMail reports whether a registrable domain is a public mailbox
// provider, such as gmail.com.
func FreeMail(domain string) bool { return freeMail[domain] }

// foldRune maps letters that do not decompose into a base letter and a mark
// (ß, æ, ø, ł, ...) to their usual Latin spelling.
var foldRune = map[rune]string{
	'ß': "ss", 'æ': "ae", 'Æ': "ae", 'ø': "o", 'Ø': "o", 'œ': "oe", 'Œ': "oe", 'ł': "l", 'Ł': "l",
	'đ': "d", 'Đ': "d", 'ð': "d", 'þ': "th", 'Þ': "th", 'ı': "i", 'ħ': "h", 'ŀ': "l",
}

// Legal forms stripped from the end of a company name, by country: single
// words after punctuation is removed ("S.p.A." is "spa", "Sp. z o.o." is
// "sp z oo").
var legalWord = map[string]bool{
	// English-speaking countries
	"inc": true, "incorporated": true, "corp": true, "corporation": true, "co": true, "company": true,
	"llc": true, "lc": true, "pllc": true, "ltd": true, "limited": true, "plc": true, "llp": true, "lp": true,
	"pty": true, "pvt": true, "pte": true, "ulc": true,
	// German-speaking countries
	"gmbh": true, "ag": true, "kg": true, "kgaa": true, "ohg": true, "ug": true, "ev": true, "mbh": true,
	// European company
	"se": true,
	// France, Belgium, Switzerland, Luxembourg, Spain, Latin America
	"sa": true, "sas": true, "sasu": true, "sarl": true, "eurl": true, "sca": true, "scs": true, "snc": true,
	"sl": true, "slu": true, "sau": true, "ltda": true, "eireli": true, "sab": true, "cv": true, "sapi": true,
	// Italy
	"spa": true, "srl": true, "srls": true, "sapa": true,
	// Netherlands, Belgium
	"bv": true, "nv": true, "vof": true, "cvba": true, "bvba": true,
	// Nordics
	"ab": true, "publ": true, "as": true, "asa": true, "aps": true, "oy": true, "oyj": true, "hf": true, "ehf": true,
	// Central and Eastern Europe
	"sro": true, "zrt": true, "nyrt": true, "kft": true, "bt": true, "doo": true, "dd": true, "ad": true,
	"ood": true, "eood": true, "spzoo": true, "ska": true, "oao": true, "ooo": true, "zao": true,
	"pao": true, "jsc": true, "ojsc": true, "pjsc": true, "tov": true, "uab": true, "sia": true, "ou": true,
	// Asia and Oceania
	"kk": true, "gk": true, "yk": true, "bhd": true, "sdn": true, "tbk": true,
}

// legalPhrase are legal forms of several words, compared after the words
// of legalWord would not match on their own.
var legalPhrase = [][]string{
	{"sp", "z", "oo"}, {"sp", "k"}, {"sp", "j"}, {"s", "a"}, {"a", "s"}, {"a", "g"}, {"s", "l"},
	{"b", "v"}, {"n", "v"}, {"s", "r", "l"}, {"s", "p", "a"}, {"k", "k"}, {"o", "y"},
	{"kabushiki", "kaisha"}, {"godo", "kaisha"}, {"yugen", "kaisha"}, {"private", "limited"},
	{"de", "cv"}, {"s", "de", "rl"}, {"de", "rl"}, {"sociedad", "anonima"}, {"societe", "anonyme"},
	{"aktiengesellschaft"}, {"gesellschaft", "mit", "beschrankter", "haftung"}, {"berhad"}, {"sendirian"},
}

// legalPrefix are legal forms written before the name (PT Telkom, Kabushiki
// Kaisha Toshiba, OOO Romashka, The Home Depot).
var legalPrefix = [][]string{
	{"the"}, {"pt"}, {"cv"}, {"ooo"}, {"oao"}, {"zao"}, {"pao"}, {"kabushiki", "kaisha"}, {"kk"},
}

// NormalizeName reduces a company name to the form registrations are
// compared in: lower case, accents folded, punctuation removed, legal forms
// ("Inc", "GmbH & Co. KG", "Sp. z o.o.", "Pty Ltd", ...) and a leading
// "The" stripped. It never strips a name to nothing: "AG" stays "ag".
func NormalizeName(s string) string {
	words := nameWords(s)
	if len(words) == 0 {
		return ""
	}
	words = stripPrefix(words)
	words = stripSuffix(words)
	return strings.Join(words, " ")
}

// nameWords folds s into lower-case ASCII-where-possible words. Dots and
// apostrophes join ("S.A." is "sa", "McDonald's" is "mcdonalds"); "&" and
// "+" are "and"; other punctuation separates.
func nameWords(s string) []string {
	var b strings.Builder
	for _, r := range norm.NFKD.String(strings.ToValidUTF8(s, " ")) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r == '.' || r == '\'' || r == '’' || r == '`' || r == '´':
			continue
		case r == '&' || r == '+':
			b.WriteString(" and ")
		case foldRune[r] != "":
			b.WriteString(foldRune[r])
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteByte(' ')
		}
	}
	words := strings.Fields(b.String())
	for i, w := range words {
		if w == "und" || w == "et" || w == "y" || w == "e" {
			// "GmbH und Co. KG", "Fils et Cie": the connector of a legal form.
			if i > 0 && i < len(words)-1 {
				next := words[i+1]
				if next == "co" || next == "cie" || next == "cia" || next == "c" {
					words[i] = "and"
				}
			}
		}
	}
	return words
}

func hasPrefix(words, p []string) bool {
	if len(p) >= len(words) {
		return false
	}
	for i := range p {
		if words[i] != p[i] {
			return false
		}
	}
	return true
}

func stripPrefix(words []string) []string {
	for changed := true; changed; {
		changed = false
		for _, p := range legalPrefix {
			if hasPrefix(words, p) {
				words, changed = words[len(p):], true
				break
			}
		}
	}
	return words
}

// stripSuffix removes legal forms from the end while at least one word
// would remain; an "and" left before a stripped form goes too ("GmbH & Co.
// KG").
func stripSuffix(words []string) []string {
	stripped := false
	for len(words) > 1 {
		n := 0
		for _, p := range legalPhrase {
			if len(p) < len(words) && equalWords(words[len(words)-len(p):], p) {
				n = len(p)
				break
			}
		}
		last := words[len(words)-1]
		switch {
		case n > 0:
		case legalWord[last] || last == "cie" || last == "cia":
			n = 1
		case stripped && last == "and":
			words = words[:len(words)-1]
			continue
		default:
			return words
		}
		words, stripped = words[:len(words)-n], true
	}
	return words
}

func equalWords(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// JaroWinkler returns the Jaro-Winkler similarity of two strings, from 0
// (nothing in common) to 1 (equal), comparing runes. Winkler's bonus
// rewards a common prefix of up to four runes with a scale of 0.1.
func JaroWinkler(a, b string) float64 {
	if a == b {
		return 1
	}
	ra, rb := []rune(a), []rune(b)
	if len(ra) == 0 || len(rb) == 0 {
		return 0
	}
	window := max(len(ra), len(rb))/2 - 1
	if window < 0 {
		window = 0
	}
	matchA := make([]bool, len(ra))
	matchB := make([]bool, len(rb))
	matches := 0
	for i, r := range ra {
		lo, hi := max(0, i-window), min(len(rb)-1, i+window)
		for j := lo; j <= hi; j++ {
			if !matchB[j] && rb[j] == r {
				matchA[i], matchB[j] = true, true
				matches++
				break
			}
		}
	}
	if matches == 0 {
		return 0
	}
	transpositions, j := 0, 0
	for i := range ra {
		if !matchA[i] {
			continue
		}
		for !matchB[j] {
			j++
		}
		if ra[i] != rb[j] {
			transpositions++
		}
		j++
	}
	m := float64(matches)
	jaro := (m/float64(len(ra)) + m/float64(len(rb)) + (m-float64(transpositions)/2)/m) / 3
	prefix := 0
	for prefix < min(4, len(ra), len(rb)) && ra[prefix] == rb[prefix] {
		prefix++
	}
	return jaro + float64(prefix)*0.1*(1-jaro)
}

// clip shortens s for a message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// DefaultMatchThreshold is the Jaro-Winkler score of two normalized names
// from which a registration is shown to an admin as a possible match of
// another company.
const DefaultMatchThreshold = 0.92
