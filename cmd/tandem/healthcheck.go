package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/tandem-coach/tandem/internal/config"
)

const healthcheckUsage = `usage: tandem healthcheck [--ready]

Asks the tandem serve of this configuration whether it is alive (GET
/healthz), or with --ready whether it takes traffic (GET /readyz: the
database answers), on TANDEM_OPS_ADDR when set, else TANDEM_LISTEN_ADDR.
Exits 0 on 200 within 3 seconds, 1 otherwise. It is the container's
health check: the image has no shell and no curl.
`

// healthcheck probes the local server, for a container's HEALTHCHECK.
func healthcheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	ready := fs.Bool("ready", false, "ask /readyz instead of /healthz")
	if helped, err := parseFlags(fs, args, healthcheckUsage, stdout, stderr); helped || err != nil {
		return err
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	addr := cfg.ListenAddr
	if cfg.OpsAddr != "" {
		addr = cfg.OpsAddr
	}
	path := "/healthz"
	if *ready {
		path = "/readyz"
	}
	url := "http://" + localAddr(addr) + path
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s", url, resp.Status)
	}
	fmt.Fprintln(stdout, "ok:", url)
	return nil
}

// localAddr is addr as this machine reaches it: a listener on every
// interface is asked on loopback.
func localAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
