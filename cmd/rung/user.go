package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/store"
	"github.com/rung-dev/rung/internal/web"
)

const userUsage = `usage:
  rung user add --email E --role admin|manager [--name N] [--partners p1,p2] [--db]
      the password is read from stdin (one line), or generated and printed when stdin is a terminal or empty
  rung user link --member ID [--url http://127.0.0.1:8080] [--db]
      print a one-time sign-in link for a partner member (valid 15 minutes)
  rung user role --member ID --role member|partner_admin [--db]
      let a member see their whole company (partner_admin), or not`

// cmdUser manages web accounts: staff accounts with passwords, and sign-in
// links and roles for partner members.
func cmdUser(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return rung.Errorf(rung.EINVALID, "%s", userUsage)
	}
	sub := args[0]
	fs := flags("user "+sub, stderr)
	db := fs.String("db", env("RUNG_DB", "rung.db"), "SQLite path or postgres:// URL (RUNG_DB)")
	switch sub {
	case "add":
		email := fs.String("email", "", "the person's e-mail address (their sign-in name)")
		role := fs.String("role", "", "admin or manager")
		name := fs.String("name", "", "display name")
		partners := fs.String("partners", "", "a manager's partner ids, comma-separated")
		if _, err := parse(fs, args[1:]); err != nil {
			return err
		}
		pw, generated, err := readPassword(stdin)
		if err != nil {
			return err
		}
		st, err := openStore(ctx, *db)
		if err != nil {
			return err
		}
		defer st.Close()
		var ps []string
		for _, p := range strings.Split(*partners, ",") {
			if p = strings.TrimSpace(p); p != "" {
				ps = append(ps, p)
			}
		}
		a, err := web.AddStaff(ctx, st, web.NewStaff{Email: *email, Name: *name, Role: store.Role(*role), Partners: ps, Password: pw},
			"cli:"+currentUser(), time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created %s account %s (%s)\n", a.Role, a.Email, a.ID)
		if generated {
			fmt.Fprintf(stdout, "password (shown once):\n%s\n", pw)
		}
		return nil
	case "link", "role":
		member := fs.String("member", "", "the member's id")
		base := fs.String("url", env("RUNG_URL", "http://127.0.0.1:8080"), "how browsers reach the server (RUNG_URL)")
		role := fs.String("role", "", "member or partner_admin")
		if _, err := parse(fs, args[1:]); err != nil {
			return err
		}
		if *member == "" {
			return rung.Errorf(rung.EINVALID, "give the member: --member ID")
		}
		st, err := openStore(ctx, *db)
		if err != nil {
			return err
		}
		defer st.Close()
		ms, err := st.Members(ctx)
		if err != nil {
			return err
		}
		var m *rung.Member
		for i := range ms {
			if ms[i].ID == *member {
				m = &ms[i]
			}
		}
		if m == nil {
			return rung.Errorf(rung.ENOTFOUND, "member %q does not exist", *member)
		}
		by := "cli:" + currentUser()
		if sub == "role" {
			if err := web.SetMemberRole(ctx, st, *m, store.Role(*role), by, time.Now()); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "member %s is now %s\n", m.ID, *role)
			return nil
		}
		u, err := web.IssueLink(ctx, st, nil, *m, *base, by, time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "sign-in link for %s (works once, for %d minutes):\n%s\n", m.ID, int(web.LinkTTL/time.Minute), u)
		return nil
	}
	return rung.Errorf(rung.EINVALID, "unknown subcommand %q\n%s", sub, userUsage)
}

// readPassword reads a password from the first line of stdin; with a
// terminal or nothing on stdin, it generates one.
func readPassword(stdin io.Reader) (string, bool, error) {
	if f, ok := stdin.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			return web.GeneratePassword(), true, nil
		}
	}
	if stdin == nil {
		return web.GeneratePassword(), true, nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", false, err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return web.GeneratePassword(), true, nil
	}
	return line, false, nil
}
