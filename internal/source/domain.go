package source

import "github.com/rung-dev/rung/internal/registration"

// registrableDomain reduces a domain to the one a company registers
// (mail.acme.co.uk: acme.co.uk), by the public suffix list.
func registrableDomain(d string) (string, error) { return registration.RegistrableDomain(d) }
