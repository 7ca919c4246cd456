package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/credential"
	"github.com/rung-dev/rung/internal/engine"
	"github.com/rung-dev/rung/internal/service"
)

// credentialFlags are the settings of the Open Badges issuer.
type credentialFlags struct {
	name, url string
	every     time.Duration
}

func (c *credentialFlags) register(fs *flag.FlagSet) error {
	every, err := envDuration("RUNG_CREDENTIALS_EVERY", time.Minute)
	if err != nil {
		return err
	}
	fs.StringVar(&c.name, "issuer-name", env("RUNG_ISSUER_NAME", ""), "the vendor's name on badge credentials; the program's name when empty (RUNG_ISSUER_NAME)")
	fs.StringVar(&c.url, "issuer-url", env("RUNG_ISSUER_URL", ""), "the vendor's home page on badge credentials, optional (RUNG_ISSUER_URL)")
	fs.DurationVar(&c.every, "credentials-every", every, "how often to issue credentials for new badge awards and revoke those of revoked ones (RUNG_CREDENTIALS_EVERY)")
	return nil
}

func (c *credentialFlags) check() error {
	if c.every <= 0 {
		return rung.Errorf(rung.EINVALID, "--credentials-every must be positive, such as 1m")
	}
	return nil
}

// issuer makes the credential issuer for the public address base. The
// issuer's name is --issuer-name, else the program's name, else "Rung".
func (c *credentialFlags) issuer(ctx context.Context, svc *service.Service, base string, log *slog.Logger) (*credential.Issuer, error) {
	name := strings.TrimSpace(c.name)
	if name == "" {
		svc.Read(func(e *engine.Engine) error {
			if p := e.Program(); p != nil {
				name = p.Name
			}
			return nil
		})
	}
	if name == "" {
		name = "Rung"
	}
	iss, err := credential.New(ctx, svc.Store(), credential.Config{BaseURL: base, IssuerName: name, IssuerURL: c.url})
	if err != nil {
		return nil, err
	}
	log.Info("credentials", "issuer", iss.DID(), "issuer_name", name, "every", c.every)
	return iss, nil
}

const credentialsUsage = `usage:
  rung credentials rotate-key [--db]
      make a new signing key for badge credentials and print its id; older keys stay published`

// cmdCredentials manages the badge credential issuer.
func cmdCredentials(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "rotate-key" {
		return rung.Errorf(rung.EINVALID, "%s", credentialsUsage)
	}
	fs := flags("credentials "+args[0], stderr)
	db := fs.String("db", env("RUNG_DB", "rung.db"), "SQLite path or postgres:// URL (RUNG_DB)")
	if pos, err := parse(fs, args[1:]); err != nil {
		return err
	} else if len(pos) > 0 {
		return rung.Errorf(rung.EINVALID, "rotate-key takes no arguments\n%s", credentialsUsage)
	}
	st, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	had, err := st.CredentialKeys(ctx)
	if err != nil {
		return err
	}
	// The key is the same whatever the issuer's address and name; they
	// only matter to what is signed. On a database without a key, New
	// makes the first one, and that is the new key.
	iss, err := credential.New(ctx, st, credential.Config{BaseURL: "http://localhost", IssuerName: "Rung"})
	if err != nil {
		return err
	}
	var k credential.Key
	if len(had) == 0 {
		keys, err := iss.Keys(ctx)
		if err != nil {
			return err
		}
		k = keys[len(keys)-1]
	} else if k, err = iss.RotateKey(ctx); err != nil {
		return err
	}
	fmt.Fprintln(stdout, k.ID)
	return nil
}
