// Command tandem-load measures what Tandem's users feel: it seeds a
// standard data set, starts a real `tandem serve` on SQLite and on
// PostgreSQL, and drives each scenario with concurrent keep-alive
// connections, printing throughput, latency percentiles, the server's CPU
// per request and its peak memory as Markdown tables. On PostgreSQL it
// also drives the open-steps list against a deliberately minimal reference
// server (see reference.go) and prints Tandem ÷ reference.
//
// Run it from the module's root:
//
//	GOTOOLCHAIN=local go run ./cmd/tandem-load -db both
//
// Flags:
//
//	-db sqlite|postgres|both   the databases to measure on (default both)
//	-pg URL                    the PostgreSQL server; a database is created on it for
//	                           the run and dropped after (default
//	                           postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable)
//	-c N                       connections per scenario (default 16, and 8 for the dashboards)
//	-d DURATION                measured time per scenario (default 20s)
//	-warmup DURATION           unmeasured load before each measurement (default 3s)
//	-scenarios LIST            comma-separated, run in the order given (default
//	                           steps-open,dashboard-coach,dashboard-owner,dashboard-owner-2000,shared-view,step-complete)
//	-pool N                    open steps seeded for step-complete (default 40000); the
//	                           scenario ends early, and says so, when they run out
//	-reference=false           skip the reference comparison
//	-tandem PATH               a tandem binary to run instead of building ./cmd/tandem
//	-replicas N                on PostgreSQL, N tandem serve processes on the one database,
//	                           each worker's connection on one of them in turn (default 1)
//	-kill-after DURATION       SIGKILL the last replica this long into the first measurement;
//	                           its workers move to the others, as behind a load balancer
//
// The data set: practice A with an owner, a coach and 200 clients of 10
// goals of 10 action steps (6 open, 3 done, 1 skipped, due around today)
// with progress entries and sessions, four of them with portal accounts and
// a consent for a therapist; practice B with 2,000 clients of 2 goals of 5
// steps; practice C with one portal client holding the open steps
// step-complete completes. The scenarios:
//
//	steps-open            a portal client's GET /clients/{id}/action-steps?status=open&limit=50
//	dashboard-coach       the coach's GET /dashboard on practice A (200 clients)
//	dashboard-owner       the owner's GET /dashboard on practice A
//	dashboard-owner-2000  the owner's GET /dashboard on practice B (2,000 clients)
//	shared-view           the therapist's GET /shared/clients/{id} (writes a disclosure)
//	step-complete         a portal client's POST /action-steps/{id}/complete, a new step each time
//	mix                   (not in the default run) a quarter each: the coach's dashboard, the
//	                      coach writing session notes, the client completing steps and the
//	                      therapist's shared view
//
// Every step completion a server acknowledged (2xx) must be done in the
// database afterwards: on PostgreSQL the driver checks, and fails the run
// if one is not, so a replica killed mid-run shows whether it lost an
// acknowledged write. Replicas and kills:
//
//	GOTOOLCHAIN=local go run ./cmd/tandem-load -db postgres -scenarios mix -replicas 1
//	GOTOOLCHAIN=local go run ./cmd/tandem-load -db postgres -scenarios mix -replicas 3 -kill-after 10s
//
// CPU per request is the server process's user and system time
// (/proc/<pid>/stat) over the measurement divided by the requests; on
// PostgreSQL the database server's own work is not in it. Peak RSS is the
// server's VmHWM, reset before each measurement. Everything shares the
// machine's cores: the load generator's own CPU per request is printed too.
//
// It exits non-zero when setting up fails or any scenario saw an answer
// other than 2xx. Temporary files, the servers and the PostgreSQL database
// are removed on exit, Ctrl-C included.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
)

// options are the parsed flags.
type options struct {
	dbs       []string
	pgURL     string
	conc      int
	duration  time.Duration
	warmup    time.Duration
	scenarios []string
	pool      int
	reference bool
	tandemBin string
	replicas  int           // tandem serve processes on one PostgreSQL database
	killAfter time.Duration // SIGKILL the last replica this long into each measurement; 0: never
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "reference" {
		referenceMain(os.Args[2:])
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C ends the process at once
	}()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "tandem-load:", err)
		os.Exit(1)
	}
}

// errUsage is a misuse of the flags, already reported.
var errUsage = errors.New("usage")

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("tandem-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: tandem-load [flags]   (run from the module root; see the package comment)")
		fs.PrintDefaults()
	}
	db := fs.String("db", "both", "sqlite, postgres or both")
	o := options{}
	fs.StringVar(&o.pgURL, "pg", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
		"the PostgreSQL server (a database is created on it for the run and dropped after)")
	fs.IntVar(&o.conc, "c", 0, "connections per scenario (default 16, and 8 for the dashboards)")
	fs.DurationVar(&o.duration, "d", 20*time.Second, "measured time per scenario")
	fs.DurationVar(&o.warmup, "warmup", 3*time.Second, "unmeasured load before each measurement")
	list := fs.String("scenarios", strings.Join(scenarioNames, ","), "comma-separated scenarios, run in this order")
	fs.IntVar(&o.pool, "pool", 40000, "open steps seeded for step-complete")
	fs.BoolVar(&o.reference, "reference", true, "compare steps-open with the minimal reference on PostgreSQL")
	fs.StringVar(&o.tandemBin, "tandem", "", "a tandem binary to run instead of building ./cmd/tandem")
	fs.IntVar(&o.replicas, "replicas", 1, "tandem serve processes on the one PostgreSQL database, connections spread over them (-db postgres)")
	fs.DurationVar(&o.killAfter, "kill-after", 0, "SIGKILL the last replica this long into the first measurement (with -replicas 2 or more)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, errUsage
	}
	bad := func(format string, a ...any) (options, error) {
		fmt.Fprintf(stderr, "tandem-load: "+format+"\n", a...)
		fs.Usage()
		return o, errUsage
	}
	switch *db {
	case "both":
		o.dbs = []string{"sqlite", "postgres"}
	case "sqlite", "postgres":
		o.dbs = []string{*db}
	default:
		return bad("-db must be sqlite, postgres or both, not %q", *db)
	}
	for _, name := range strings.Split(*list, ",") {
		if name = strings.TrimSpace(name); name == "" {
			continue
		}
		if !slices.Contains(scenarioNames, name) && name != mixScenario {
			return bad("unknown scenario %q (want %s or %s)", name, strings.Join(scenarioNames, ", "), mixScenario)
		}
		o.scenarios = append(o.scenarios, name)
	}
	switch {
	case fs.NArg() > 0:
		return bad("unexpected argument %q", fs.Arg(0))
	case len(o.scenarios) == 0:
		return bad("-scenarios names none")
	case o.conc < 0 || o.conc > 512:
		return bad("-c must be from 1 to 512")
	case o.duration <= 0 || o.warmup < 0:
		return bad("-d must be positive and -warmup not negative")
	case o.pool < 0:
		return bad("-pool must not be negative")
	case o.replicas < 1 || o.replicas > 8:
		return bad("-replicas must be from 1 to 8")
	case o.replicas > 1 && !slices.Equal(o.dbs, []string{"postgres"}):
		return bad("-replicas needs -db postgres: one process serves SQLite")
	case o.killAfter < 0 || o.killAfter > 0 && o.replicas < 2:
		return bad("-kill-after needs -replicas 2 or more, and a positive duration")
	}
	return o, nil
}

// run measures every database the flags name and prints a table for each.
// A database whose setup fails is reported and the next one still runs.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	logf := func(format string, a ...any) {
		fmt.Fprintf(stderr, "%s tandem-load: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, a...))
	}
	tmp, err := os.MkdirTemp("", "tandem-load-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	bin := o.tandemBin
	if bin == "" {
		logf("building ./cmd/tandem")
		if bin, err = buildTandem(ctx, tmp); err != nil {
			return err
		}
	}

	var (
		failures []error
		reports  = map[string]*report{}
	)
	for _, kind := range o.dbs {
		rep, err := measureDatabase(ctx, o, kind, bin, tmp, logf)
		if ctx.Err() != nil {
			return errors.New("interrupted")
		}
		if err != nil {
			failures = append(failures, fmt.Errorf("%s: %w", kind, err))
			logf("%s: %v", kind, err)
			continue
		}
		rep.print(stdout, o)
		reports[kind] = rep
		if n := rep.errors(); n > 0 {
			failures = append(failures, fmt.Errorf("%s: %d answers other than 2xx", kind, n))
		}
	}
	if lite, pg := reports["sqlite"], reports["postgres"]; lite != nil && pg != nil {
		printComparison(stdout, lite, pg)
	}
	return errors.Join(failures...)
}
