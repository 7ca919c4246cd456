package demo

// Word lists the generator combines into company, people and course names.
// They are invented for the demo; any likeness to a real company is chance.

// namePrefixes start partner and customer company names.
var namePrefixes = []string{
	"Northwind", "Bluepeak", "Ironclad", "Silverline", "Brightpath", "Cobalt",
	"Redwood", "Summit", "Harbor", "Keystone", "Lighthouse", "Meridian",
	"Nimbus", "Orbit", "Pinnacle", "Quantum", "Riverbend", "Stratus",
	"Tidewater", "Vertex", "Westgate", "Zenith", "Alpine", "Beacon", "Cedar",
	"Clearwater", "Crescent", "Evergreen", "Falcon", "Granite", "Horizon",
	"Juniper", "Lakeside", "Maple", "Nova", "Oakridge", "Polaris", "Sapphire",
	"Sterling", "Trident", "Upland", "Vantage", "Willow", "Aurora",
	"Bridgeway", "Copperleaf", "Driftwood", "Elmstead", "Foxglove",
	"Greystone", "Highland", "Kestrel", "Lumen", "Mosaic", "Northstar",
	"Onyx", "Prism", "Ravenwood", "Skyline", "Thornbury", "Wavecrest",
	"Yarrow", "Bluewater", "Cloudberry", "Eastbrook", "Fjord", "Glacier",
	"Ashford", "Blackridge", "Castlegate", "Deepwell", "Emberly", "Fairhaven",
}

// partnerSuffixes end partner names, by partner type, so a reseller sounds
// like a reseller and an ISV like a software company.
var partnerSuffixes = map[string][]string{
	"reseller": {"Systems", "Solutions", "Technologies", "Networks", "IT", "Computing", "Infotech", "Distribution", "Tech", "Cloud"},
	"isv":      {"Software", "Labs", "Analytics", "Data", "Apps", "AI", "Security", "Platforms"},
	"services": {"Consulting", "Partners", "Advisory", "Digital", "Group", "Services", "Integration", "Engineering"},
}

// customerSuffixes end the names of the end customers partners register
// deals for.
var customerSuffixes = []string{
	"Logistics", "Foods", "Health", "Bank", "Retail", "Energy", "Insurance",
	"Manufacturing", "Pharma", "Media", "Telecom", "Motors", "Airlines",
	"Hotels", "Chemicals", "Textiles", "Mining", "Shipping", "Utilities",
	"Capital", "Furniture", "Brewing", "Clinics", "Education",
}

// country is where a partner is based: its code, web domain ending, the
// legal forms companies there use, and its UTC offset in hours (standard
// time; close enough for business hours).
type country struct {
	code   string
	tld    string
	legal  []string
	offset int
}

// regions maps each region to its countries, most common first.
var regions = map[string][]country{
	"emea": {
		{"DE", "de", []string{"GmbH", "AG"}, 1},
		{"GB", "co.uk", []string{"Ltd"}, 0},
		{"FR", "fr", []string{"SAS"}, 1},
		{"NL", "nl", []string{"BV"}, 1},
		{"SE", "se", []string{"AB"}, 1},
		{"ES", "es", []string{"SL"}, 1},
		{"IT", "it", []string{"Srl"}, 1},
		{"PL", "pl", []string{"sp. z o.o."}, 1},
		{"CH", "ch", []string{"AG"}, 1},
		{"AE", "ae", []string{"LLC"}, 4},
		{"ZA", "co.za", []string{"(Pty) Ltd"}, 2},
	},
	"na": {
		{"US", "com", []string{"Inc", "LLC", "Corp"}, -5},
		{"US", "com", []string{"Inc", "LLC"}, -8},
		{"US", "com", []string{"Inc", "LLC"}, -6},
		{"CA", "ca", []string{"Inc", "Ltd"}, -5},
	},
	"apac": {
		{"AU", "com.au", []string{"Pty Ltd"}, 10},
		{"SG", "sg", []string{"Pte Ltd"}, 8},
		{"JP", "co.jp", []string{"KK"}, 9},
		{"IN", "in", []string{"Pvt Ltd"}, 5},
		{"NZ", "co.nz", []string{"Ltd"}, 12},
	},
	"latam": {
		{"BR", "com.br", []string{"Ltda"}, -3},
		{"MX", "com.mx", []string{"S.A. de C.V."}, -6},
		{"AR", "com.ar", []string{"S.A."}, -3},
		{"CL", "cl", []string{"SpA"}, -4},
		{"CO", "com.co", []string{"S.A.S."}, -5},
	},
}

// firstNames and lastNames, by region.
var firstNames = map[string][]string{
	"emea": {"Anna", "Lukas", "Sophie", "Jonas", "Emma", "Felix", "Marie", "Paul",
		"Oliver", "Charlotte", "Lena", "Thomas", "Julia", "Lars", "Ingrid", "Pieter",
		"Sanne", "Camille", "Louis", "Chloé", "Marco", "Giulia", "Javier", "Lucía",
		"Katarzyna", "Piotr", "Fatima", "Omar", "Thabo", "Naledi", "Hannah", "James"},
	"na": {"Michael", "Jennifer", "David", "Sarah", "Chris", "Jessica", "Daniel",
		"Ashley", "Matthew", "Emily", "Ryan", "Megan", "Kevin", "Rachel", "Brian",
		"Lauren", "Tyler", "Olivia", "Ethan", "Madison", "Priya", "Wei", "Carlos", "Maya"},
	"apac": {"Hiroshi", "Yuki", "Kenji", "Aiko", "Wei", "Mei", "Jun", "Li", "Arjun",
		"Priya", "Rahul", "Ananya", "Jack", "Chloe", "Liam", "Ruby", "Siti", "Minh",
		"Daniel", "Grace"},
	"latam": {"João", "Maria", "Pedro", "Ana", "Lucas", "Beatriz", "Diego",
		"Valentina", "Mateo", "Camila", "Santiago", "Sofía", "Gabriel", "Isabela",
		"Andrés", "Fernanda", "Rafael", "Carolina"},
}

var lastNames = map[string][]string{
	"emea": {"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Becker", "Smith",
		"Jones", "Taylor", "Brown", "Wilson", "de Vries", "Jansen", "Bakker",
		"Martin", "Bernard", "Dubois", "Rossi", "Bianchi", "García", "Fernández",
		"Nowak", "Kowalski", "Andersson", "Lindqvist", "Haddad", "Nkosi", "Dlamini",
		"Keller", "Hofmann", "Wagner", "O'Brien"},
	"na": {"Johnson", "Williams", "Miller", "Davis", "Anderson", "Thomas", "Moore",
		"Jackson", "White", "Harris", "Clark", "Lewis", "Walker", "Hall", "Young",
		"Allen", "King", "Wright", "Lopez", "Nguyen", "Patel", "Chen", "Kim", "Tremblay"},
	"apac": {"Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Wang", "Li",
		"Zhang", "Liu", "Tan", "Lim", "Sharma", "Gupta", "Iyer", "Reddy", "Smith",
		"Nguyen", "Kelly", "Wilson", "Campbell"},
	"latam": {"Silva", "Santos", "Oliveira", "Souza", "Pereira", "Costa", "Hernández",
		"González", "Rodríguez", "Martínez", "López", "Pérez", "Gómez", "Díaz",
		"Torres", "Ramírez", "Rojas", "Vargas"},
}

// titles are job titles by member role.
var titles = map[string][]string{
	"sales":    {"Account Executive", "Partner Sales Manager", "Sales Director", "Business Development Rep", "Key Account Manager"},
	"presales": {"Solutions Engineer", "Solutions Architect", "Presales Consultant", "Technical Account Manager"},
	"delivery": {"Cloud Consultant", "Delivery Lead", "Implementation Engineer", "Project Manager", "Cloud Engineer"},
}

// courses are the LMS courses members complete, with the roles that take
// them most.
var courses = []struct {
	id    string
	roles string
}{
	{"cloud-fundamentals", "sales presales delivery"},
	{"selling-acme-cloud", "sales presales"},
	{"value-selling", "sales"},
	{"architecture-deep-dive", "presales delivery"},
	{"migration-factory", "presales delivery"},
	{"security-compliance", "presales delivery"},
	{"data-platform-essentials", "presales delivery"},
	{"kubernetes-on-acme", "delivery"},
	{"cost-optimization", "sales presales delivery"},
	{"competitive-positioning", "sales presales"},
}

// certs are the certifications, the roles that go for them, and the code
// in their certificate ids.
var certs = []struct {
	name  string
	code  string
	roles string
}{
	{"architect", "ARC", "presales delivery"},
	{"specialist", "SPC", "delivery presales"},
	{"sales", "SAL", "sales presales"},
}
