package web

// de is the German catalog, keyed by the English text.
var de = map[string]string{}
