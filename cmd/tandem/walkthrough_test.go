package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tandem-coach/tandem/internal/store/storetest"
)

// The README's walkthrough is the first thing a newcomer runs, so it is run
// here word for word: every ```sh block of its section, in order, in one bash
// process against a real `tandem serve`, each block's output compared with
// the sample printed under it. IDs, tokens, times and curl's version differ
// on every run and are normalised on both sides; anything else that differs
// is either a bug in the server or a mistake in the README.

const (
	walkthroughREADME = "../../README.md"
	// walkthroughAddr is the address the README's commands use.
	walkthroughAddr = "127.0.0.1:8080"
	// walkthroughTimeout bounds one run of the whole walkthrough.
	walkthroughTimeout = 5 * time.Minute
)

// walkthroughTools are the commands the walkthrough runs, with the Debian
// package that provides each.
var walkthroughTools = []struct{ command, debianPackage string }{
	{"bash", "bash"}, {"curl", "curl"}, {"jq", "jq"}, {"oathtool", "oathtool"},
}

// walkthroughBlock is one ```sh block of the walkthrough and the output
// documented right under it.
type walkthroughBlock struct {
	where     string // "step 12 (README.md line 380)"
	script    string
	output    string
	hasOutput bool
}

// walkthroughResult is what one block printed when it ran.
type walkthroughResult struct {
	stdout, stderr string
	status         int // walkthroughUnfinished when the script stopped inside the block
}

const walkthroughUnfinished = -1

// walkthroughs are the README's walkthroughs, each run on a fresh server
// with its extra configuration.
var walkthroughs = []struct {
	name, heading string
	env           []string
}{
	{"main", "## Walkthrough", nil},
	// The digest task looks every minute instead of every quarter hour, so
	// that step 4 waits a minute at most.
	{"notifications", "### Walkthrough: preferences, a digest and one click to stop it", []string{"TANDEM_REMINDER_INTERVAL=1m"}},
}

// TestWalkthrough runs the README's walkthroughs on SQLite and, when
// TANDEM_TEST_DATABASE_URL is set, on PostgreSQL too.
func TestWalkthrough(t *testing.T) {
	var missing []string
	for _, tool := range walkthroughTools {
		if _, err := exec.LookPath(tool.command); err != nil {
			missing = append(missing, tool.debianPackage)
		}
	}
	if len(missing) > 0 {
		// Never a skip: a skipped walkthrough proves nothing.
		t.Fatalf("the walkthrough test needs %s on PATH: run .ci/ensure-tools, or install them "+
			"(Debian: apt-get install %s; macOS: brew install %s)",
			strings.Join(missing, ", "), strings.Join(missing, " "),
			strings.ReplaceAll(strings.Join(missing, " "), "oathtool", "oath-toolkit"))
	}
	readme, err := os.ReadFile(walkthroughREADME)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range walkthroughs {
		blocks, err := parseWalkthrough(string(readme), w.heading)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(w.name+"/sqlite", func(t *testing.T) { runWalkthrough(t, blocks, "", w.env) })
		if os.Getenv(storetest.EnvPostgres) != "" {
			t.Run(w.name+"/postgres", func(t *testing.T) { runWalkthrough(t, blocks, storetest.PostgresURL(t), w.env) })
		}
	}
}

var walkthroughStepHeading = regexp.MustCompile(`^\*\*(\d+)\.`)

// parseWalkthrough returns the ```sh blocks of the README's section under
// heading (up to the next heading of its level or above), in order, each
// with the ```json or ``` block that immediately follows it, if any.
func parseWalkthrough(readme, heading string) ([]walkthroughBlock, error) {
	lines := strings.Split(readme, "\n")
	start := -1
	for i, line := range lines {
		if strings.TrimSpace(line) == heading {
			start = i + 1
			break
		}
	}
	if start < 0 {
		return nil, fmt.Errorf("README.md has no %q section", heading)
	}
	level := strings.Index(heading, " ") // 2 for "## ", 3 for "### "
	end := len(lines)
	inFence := false
	for i := start; i < len(lines); i++ {
		if strings.HasPrefix(lines[i], "```") {
			inFence = !inFence
		}
		if hashes := strings.Index(lines[i], " "); !inFence && hashes > 0 && hashes <= level &&
			strings.Trim(lines[i][:hashes], "#") == "" {
			end = i
			break
		}
	}

	// fence reads the fenced block opening at line i: its info string, its
	// text and the line after its closing fence.
	fence := func(i int) (info, text string, next int, err error) {
		info = strings.TrimSpace(strings.TrimPrefix(lines[i], "```"))
		for j := i + 1; j < end; j++ {
			if strings.TrimSpace(lines[j]) == "```" {
				return info, strings.Join(lines[i+1:j], "\n"), j + 1, nil
			}
		}
		return "", "", 0, fmt.Errorf("README.md line %d: the ``` block never closes", i+1)
	}

	var blocks []walkthroughBlock
	step, afterSection := 0, false
	for i := start; i < end; {
		line := lines[i]
		if m := walkthroughStepHeading.FindStringSubmatch(line); m != nil {
			step, _ = strconv.Atoi(m[1])
			afterSection = false
		}
		if strings.HasPrefix(line, "### ") {
			afterSection = true
		}
		if !strings.HasPrefix(line, "```") {
			i++
			continue
		}
		info, text, next, err := fence(i)
		if err != nil {
			return nil, err
		}
		if info != "sh" {
			i = next // an output block not under a command, or another language
			continue
		}
		b := walkthroughBlock{script: text}
		switch {
		case step == 0:
			b.where = "the preamble"
		case afterSection:
			b.where = fmt.Sprintf("the block before step %d", step+1)
		default:
			b.where = fmt.Sprintf("step %d", step)
		}
		b.where += fmt.Sprintf(" (README.md line %d)", i+1)
		j := next
		for j < end && strings.TrimSpace(lines[j]) == "" {
			j++
		}
		if j < end && (lines[j] == "```" || lines[j] == "```json") {
			_, out, after, err := fence(j)
			if err != nil {
				return nil, err
			}
			b.output, b.hasOutput, next = out, true, after
		}
		blocks = append(blocks, b)
		i = next
	}
	if len(blocks) == 0 {
		return nil, errors.New("the walkthrough has no ```sh block")
	}
	return blocks, nil
}

// walkthroughDetailedFailures bounds the blocks reported in full: once the
// walkthrough goes wrong, later blocks mostly fail because of it.
const walkthroughDetailedFailures = 5

// runWalkthrough starts a server on a fresh database (SQLite when
// postgresURL is empty) and runs the blocks against it.
func runWalkthrough(t *testing.T, blocks []walkthroughBlock, postgresURL string, extraEnv []string) {
	began := time.Now()
	addr := freeAddr(t)
	serverLog, stopServer := startWalkthroughServer(t, addr, postgresURL, extraEnv...)

	results, runErr := runWalkthroughScript(t, blocks, addr)
	if runErr != nil {
		t.Errorf("the walkthrough script: %v", runErr)
	}
	var failed []string
	fail := func(b walkthroughBlock, format string, args ...any) {
		if len(failed) == 0 || failed[len(failed)-1] != b.where {
			failed = append(failed, b.where)
		}
		if len(failed) <= walkthroughDetailedFailures {
			t.Errorf("%s "+format, append([]any{b.where}, args...)...)
		}
	}
	for i, b := range blocks {
		if i >= len(results) {
			fail(b, "did not run")
			break
		}
		r := results[i]
		if r.status == walkthroughUnfinished {
			fail(b, "never finished; it wrote to stderr:\n%s", r.stderr)
			break
		}
		if r.stderr != "" {
			fail(b, "wrote to stderr:\n%s", r.stderr)
		}
		if r.status != 0 {
			fail(b, "exited with status %d", r.status)
		}
		if !b.hasOutput {
			continue
		}
		got := strings.ReplaceAll(r.stdout, addr, walkthroughAddr)
		if diff, ok := compareWalkthroughOutput(b.output, got); !ok {
			fail(b, "printed something else than the README shows (- README, + server, both normalised):\n%s", diff)
		}
	}
	if len(failed) > walkthroughDetailedFailures {
		t.Errorf("and %d more blocks failed: %s", len(failed)-walkthroughDetailedFailures,
			strings.Join(failed[walkthroughDetailedFailures:], "; "))
	}

	stopServer()
	log := serverLog.String()
	if strings.Contains(log, "DATA RACE") {
		t.Errorf("the server reported a data race:\n%s", log)
	} else if len(failed) > 0 || runErr != nil {
		t.Logf("what the server logged above INFO:\n%s", logProblems(log))
	}
	t.Logf("%d blocks ran in %v", len(blocks), time.Since(began).Round(time.Millisecond))
}

// logProblems returns the lines of a server log that are not
// INFO request lines: warnings, errors, panics.
func logProblems(log string) string {
	var lines []string
	for _, line := range strings.Split(log, "\n") {
		if line != "" && !strings.Contains(line, `"level":"INFO"`) {
			lines = append(lines, line)
		}
	}
	if len(lines) == 0 {
		return "(nothing)"
	}
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return strings.Join(lines, "\n")
}

// startWalkthroughServer runs `tandem serve` (the test binary, through
// TestMain) in development mode without SMTP, so the development mailbox is
// on, and waits until it is ready. The server stops when stop is called or
// after t.
func startWalkthroughServer(t *testing.T, addr, postgresURL string, extraEnv ...string) (log *serverOutput, stop func()) {
	t.Helper()
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TANDEM_") { // nothing from the caller's configuration
			env = append(env, kv)
		}
	}
	env = append(env,
		"TANDEM_TEST_AS_BINARY=1", "TANDEM_TEST_ARGS=serve", "TANDEM_ENV=development",
		"TANDEM_DATA_DIR="+t.TempDir(), "TANDEM_LISTEN_ADDR="+addr, "TANDEM_BASE_URL=http://"+addr,
		"TANDEM_DATABASE_URL="+postgresURL, "TANDEM_SMTP_URL=")
	env = append(env, extraEnv...)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = env
	log = &serverOutput{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { _ = cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				<-done
			}
		})
	}
	t.Cleanup(stop)
	waitHealthy(t, "http://"+addr, log)
	return log, stop
}

// runWalkthroughScript runs every block in one bash process, so that the
// variables of one block carry over to the next, and splits what it printed
// back into blocks with a marker line that nothing else prints.
func runWalkthroughScript(t *testing.T, blocks []walkthroughBlock, addr string) ([]walkthroughResult, error) {
	t.Helper()
	dir := t.TempDir()
	nonce := make([]byte, 8)
	_, _ = rand.Read(nonce)
	marker := "@@walkthrough-" + hex.EncodeToString(nonce) + "@@"

	var driver strings.Builder
	driver.WriteString("set -uo pipefail\n")
	// Every failing command is reported on stderr, not only a block's last.
	driver.WriteString("set -E\ntrap 'echo \"walkthrough: status $? from: $BASH_COMMAND\" >&2' ERR\n")
	for i, b := range blocks {
		path := filepath.Join(dir, fmt.Sprintf("block-%02d.sh", i))
		script := strings.ReplaceAll(b.script, walkthroughAddr, addr) + "\n"
		if err := os.WriteFile(path, []byte(script), 0o600); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&driver, "source %q\nstatus=$?\n", path)
		fmt.Fprintf(&driver, "printf '\\n%s %%d\\n' \"$status\"\nprintf '\\n%s\\n' >&2\n", marker, marker)
	}
	driverPath := filepath.Join(dir, "walkthrough.sh")
	if err := os.WriteFile(driverPath, []byte(driver.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), walkthroughTimeout)
	defer cancel()
	home := t.TempDir() // no ~/.curlrc or other personal settings
	cmd := exec.CommandContext(ctx, "bash", "--noprofile", "--norc", driverPath)
	// A small environment: no proxy may stand between curl and the server.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "TMPDIR=" + dir}
	cmd.Dir = dir
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	if ctx.Err() != nil {
		runErr = fmt.Errorf("stopped after %v: %w", walkthroughTimeout, runErr)
	}

	outs := strings.Split(stdout.String(), "\n"+marker+" ")
	errs := strings.Split(stderr.String(), "\n"+marker+"\n")
	var results []walkthroughResult
	for i := range outs {
		r := walkthroughResult{stdout: outs[i], status: walkthroughUnfinished}
		if i+1 < len(outs) {
			// The piece after a marker starts with the status of the block before it.
			status, rest, _ := strings.Cut(outs[i+1], "\n")
			n, err := strconv.Atoi(status)
			if err != nil {
				return results, fmt.Errorf("block %d: unreadable status %q", i, status)
			}
			r.status, outs[i+1] = n, rest
		}
		if i < len(errs) {
			r.stderr = errs[i]
		}
		if i == len(blocks) { // after the last block: nothing should be left
			break
		}
		results = append(results, r)
	}
	return results, runErr
}

// walkthroughNormalisers replace what differs on every run. Their order
// matters: a UUID or a JWT would otherwise be taken for an opaque token.
var walkthroughNormalisers = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b`), "<uuid>"},
	{regexp.MustCompile(`\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+`), "<jwt>"},
	{regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})`), "<time>"},
	{regexp.MustCompile(`\b\d{8}T\d{6}Z\b`), "<time>"}, // iCalendar's basic format, in the calendar feed
	{regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}\b`), "<date>"},
	{regexp.MustCompile(`\bcurl/\d+(\.\d+)*`), "curl/<version>"},
}

var (
	walkthroughOpaqueToken = regexp.MustCompile(`[A-Za-z0-9_-]{30,}`)
	walkthroughSHA256      = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// normaliseWalkthrough replaces the parts of s that differ on every run
// with placeholders. A SHA-256 in hex stays: the consent text's is fixed.
func normaliseWalkthrough(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n") // the calendar feed ends its lines with CRLF
	for _, n := range walkthroughNormalisers {
		s = n.re.ReplaceAllString(s, n.with)
	}
	return walkthroughOpaqueToken.ReplaceAllStringFunc(s, func(tok string) string {
		if walkthroughSHA256.MatchString(tok) {
			return tok
		}
		return "<token>"
	})
}

// compareWalkthroughOutput compares what a block printed with the README's
// sample, both normalised: as JSON documents, whitespace aside, when both
// are streams of JSON values; line by line otherwise. It returns a diff
// when they differ.
func compareWalkthroughOutput(want, got string) (string, bool) {
	want, got = normaliseWalkthrough(want), normaliseWalkthrough(got)
	wantJSON, wantOK := walkthroughJSONStream(want)
	gotJSON, gotOK := walkthroughJSONStream(got)
	var wantLines, gotLines []string
	if wantOK && gotOK {
		wantLines, gotLines = wantJSON, gotJSON
	} else {
		wantLines, gotLines = walkthroughLines(want), walkthroughLines(got)
	}
	if strings.Join(wantLines, "\n") == strings.Join(gotLines, "\n") {
		return "", true
	}
	return walkthroughDiff(wantLines, gotLines), false
}

// walkthroughJSONStream parses s as a stream of JSON values and returns them
// indented the same way (key order kept), or false when s is not JSON.
func walkthroughJSONStream(s string) ([]string, bool) {
	dec := json.NewDecoder(strings.NewReader(s))
	var lines []string
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, false
		}
		var buf bytes.Buffer
		if err := json.Indent(&buf, raw, "", "  "); err != nil {
			return nil, false
		}
		lines = append(lines, strings.Split(buf.String(), "\n")...)
	}
	return lines, len(lines) > 0
}

// walkthroughLines splits s into lines without trailing blanks or blank
// lines at either end.
func walkthroughLines(s string) []string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for sc.Scan() {
		lines = append(lines, strings.TrimRight(sc.Text(), " \t"))
	}
	for len(lines) > 0 && lines[0] == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// walkthroughDiff is a line diff (longest common subsequence): "-" lines
// only in want, "+" lines only in got.
func walkthroughDiff(want, got []string) string {
	lcs := make([][]int, len(want)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(got)+1)
	}
	for i := len(want) - 1; i >= 0; i-- {
		for j := len(got) - 1; j >= 0; j-- {
			if want[i] == got[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var b strings.Builder
	i, j := 0, 0
	for i < len(want) || j < len(got) {
		switch {
		case i < len(want) && j < len(got) && want[i] == got[j]:
			b.WriteString("  " + want[i] + "\n")
			i, j = i+1, j+1
		case j < len(got) && (i == len(want) || lcs[i][j+1] >= lcs[i+1][j]):
			b.WriteString("+ " + got[j] + "\n")
			j++
		default:
			b.WriteString("- " + want[i] + "\n")
			i++
		}
	}
	return b.String()
}

// serverOutput collects a server's output; the test reads it while the
// server still writes.
type serverOutput struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *serverOutput) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *serverOutput) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// TestWalkthroughNormalising: what changes on every run is replaced, and
// nothing else; JSON compares whitespace aside but keys in order.
func TestWalkthroughNormalising(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`"id": "01a228f7-6180-7917-9561-82df372a3b6f"`, `"id": "<uuid>"`},
		{`"at": "2026-12-05T09:14:05.311845521Z", "on": "2026-12-05"`, `"at": "<time>", "on": "<date>"`},
		{"DTSTAMP:20261205T091406Z", "DTSTAMP:<time>"},
		{"eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "<jwt>"},
		{"/calendar/feW3H9qYv7nIYipYoCEBqzFdZTK3D4qTQ9DBUyCC1Ko.ics", "/calendar/<token>.ics"},
		{"sha256 a3fc32fb832e362369e2555eba5353f990b93cac8e77ed8b0f32de505743fcb8", "sha256 a3fc32fb832e362369e2555eba5353f990b93cac8e77ed8b0f32de505743fcb8"},
		{`"user_agent":"curl/8.14.1"`, `"user_agent":"curl/<version>"`},
		{"Maya doubts her stamina; start with small wins.", "Maya doubts her stamina; start with small wins."},
	} {
		if got := normaliseWalkthrough(tt.in); got != tt.want {
			t.Errorf("normaliseWalkthrough(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, tt := range []struct {
		want, got string
		same      bool
	}{
		{"{\n  \"a\": 1,\n  \"b\": [2]\n}\n204", `{"a":1,"b":[2]} 204`, true},
		{`{"a":1,"b":2}`, `{"b":2,"a":1}`, false},
		{`{"status":401}`, `{"status":403}`, false},
		{"204\n{\"a\":1}", "200\n{\"a\":1}", false},
		{"version 1\n\ntext  \n", "version 1\n\ntext\n\n", true},
		{"version 1\ntext", "version 1\ntext\nmore", false},
	} {
		if diff, same := compareWalkthroughOutput(tt.want, tt.got); same != tt.same {
			t.Errorf("compareWalkthroughOutput(%q, %q) = %v, want %v\n%s", tt.want, tt.got, same, tt.same, diff)
		}
	}
}
