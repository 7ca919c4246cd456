package credential

import (
	"fmt"

	"github.com/piprate/json-gold/ld"
)

// canonicalize returns the RDF Dataset Canonicalization (RDFC-1.0, whose
// output equals URDNA2015's) of a JSON-LD document as N-Quads. It runs in
// safe mode: a property or type that no context defines is an error rather
// than silently left out of what is signed.
func canonicalize(doc map[string]any) (out string, err error) {
	defer func() {
		// The JSON-LD processor sees documents from outside when it
		// verifies; whatever it trips over is that document's fault.
		if r := recover(); r != nil {
			out, err = "", fmt.Errorf("canonicalize: malformed JSON-LD (%v)", r)
		}
	}()
	opts := ld.NewJsonLdOptions("")
	opts.ProcessingMode = ld.JsonLd_1_1
	opts.Algorithm = ld.AlgorithmURDNA2015
	opts.Format = "application/n-quads"
	opts.DocumentLoader = offlineLoader{}
	opts.SafeMode = true
	res, err := ld.NewJsonLdProcessor().Normalize(deepCopy(doc), opts)
	if err != nil {
		return "", fmt.Errorf("canonicalize: %w", err)
	}
	s, ok := res.(string)
	if !ok {
		return "", fmt.Errorf("canonicalize: unexpected result %T", res)
	}
	return s, nil
}
