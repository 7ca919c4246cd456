package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/rung-dev/rung"
	"github.com/rung-dev/rung/internal/source"
)

// importSource imports a HubSpot or Salesforce export, or a CSV the
// program's sources section maps, as one source delivery: all of it is
// applied, or none of it and the delivery is kept for replay.
func importSource(ctx context.Context, db, src, object, path string, stdout, stderr io.Writer) error {
	kinds := map[string]string{"hubspot": source.KindHubSpotCSV, "salesforce": source.KindSalesforceCSV, "csv": source.KindCSV}
	kind, ok := kinds[src]
	if !ok {
		return rung.Errorf(rung.EINVALID, "--source %q: expected hubspot, salesforce or csv", src)
	}
	body, err := os.ReadFile(path)
	if err != nil {
		return rung.Errorf(rung.EINVALID, "cannot read %s: %v", path, err)
	}
	svc, st, err := openService(ctx, db, quietLog(stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	defer svc.Close()
	x := source.New(svc, quietLog(stderr), source.Secrets{})
	res, err := x.Receive(ctx, source.Request{Kind: kind, Method: "IMPORT", URI: path, Body: body, Object: object, By: "cli:import"})
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	counts := map[string]int{}
	for _, r := range res.Events {
		counts[r.Status]++
	}
	if res.Status != "applied" {
		return rung.Errorf(rung.EINVALID, "%s was not imported (delivery %s, kept for replay):\n  %s\nfix the program's sources section, then replay it: POST /api/v1/sources/deliveries/%s/replay, or the console's Sources page",
			path, res.Delivery, strings.ReplaceAll(res.Reason, "\n", "\n  "), res.Delivery)
	}
	fmt.Fprintf(stdout, "imported %s (delivery %s): %d accepted, %d corrected, %d duplicate, %d stale, %d rows no mapping takes\n",
		path, res.Delivery, counts["accepted"], counts["corrected"], counts["duplicate"], res.Stale, res.Ignored)
	return nil
}
