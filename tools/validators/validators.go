// Package validators runs, from Go tests, the third-party parsers and
// validators this folder installs from npm (package.json, pinned by
// package-lock.json): ical.js for the calendar feed (ical-parse.mjs) and
// FHIR.js for the FHIR Consent (fhir-validate.cjs). Install them with
// `npm ci --prefix tools/validators`; .ci/run does.
package validators

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// packages are the npm packages the scripts need.
var packages = []string{"fhir", "ical.js"}

// Run runs script, a Node.js script of this folder, with input on its stdin
// and returns its stdout. Without Node.js or the installed packages the test
// fails with what to install, never skips: a skipped validation proves
// nothing.
func Run(t testing.TB, script string, input []byte) []byte {
	t.Helper()
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("validators: cannot find the validators folder")
	}
	dir := filepath.Dir(self)
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("%s runs on Node.js, which is not on PATH: install Node.js 18 or newer (Debian: apt-get install nodejs npm), "+
			"then run `npm ci --prefix tools/validators` in the repository root", script)
	}
	for _, pkg := range packages {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
			t.Fatalf("the validators' npm packages are not installed (no %s): run `npm ci --prefix tools/validators` "+
				"in the repository root (.ci/run does)", pkg)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(input)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node %s: %v\n%s", script, err, stderr.String())
	}
	return out
}

// FHIRFinding is one message about a FHIR resource, from FHIR.js or from
// the receiver checks of fhir-validate.cjs.
type FHIRFinding struct {
	Severity string `json:"severity"` // fatal, error, warning or info
	Location string `json:"location"`
	Message  string `json:"message"`
}

// FHIR validates FHIR R4 resources (each a value that marshals to one) and
// returns the findings about each, in order.
func FHIR(t testing.TB, resources ...any) [][]FHIRFinding {
	t.Helper()
	raw, err := json.Marshal(resources)
	if err != nil {
		t.Fatal(err)
	}
	var results []struct {
		Messages []FHIRFinding `json:"messages"`
	}
	out := Run(t, "fhir-validate.cjs", raw)
	if err := json.Unmarshal(out, &results); err != nil || len(results) != len(resources) {
		t.Fatalf("fhir-validate.cjs printed %s for %d resources: %v", out, len(resources), err)
	}
	findings := make([][]FHIRFinding, len(results))
	for i, r := range results {
		findings[i] = r.Messages
	}
	return findings
}

// ExplainedConsentFinding reports whether f is one of the findings Tandem's
// Consent resource, with its URIs under baseURL, is known to draw, each for
// a reason that leaves the resource usable:
//
//   - info, "Value set … could not be found" for sourceAttachment.contentType
//     (mimetypes) and provision.purpose (v3-PurposeOfUse): FHIR.js ships
//     without these value sets, so it cannot check those codes; Tandem's
//     tests pin them instead.
//   - warning, a provision.class code of Tandem's data-class code system
//     "not found in value set": the binding of provision.class
//     (consent-content-class, the FHIR resource types) is extensible, and
//     Tandem's data classes are not FHIR resources, so codes of a system of
//     Tandem's own are what an extensible binding allows.
func ExplainedConsentFinding(f FHIRFinding, baseURL string) bool {
	switch {
	case f.Severity == "info" && strings.HasSuffix(f.Message, "could not be found."):
		return f.Location == "Consent.sourceAttachment.contentType" && strings.Contains(f.Message, `"http://hl7.org/fhir/ValueSet/mimetypes"`) ||
			f.Location == "Consent.provision.purpose[0]" && strings.Contains(f.Message, `"http://terminology.hl7.org/ValueSet/v3-PurposeOfUse"`)
	case f.Severity == "warning" && strings.HasPrefix(f.Location, "Consent.provision.class["):
		return strings.HasSuffix(f.Message, "("+strings.TrimRight(baseURL, "/")+"/fhir/CodeSystem/data-class) not found in value set")
	}
	return false
}

// ICalendar is what ical.js read from an iCalendar document. Date-times are
// as jCal writes them ("2026-03-01T12:00:00Z"); absent properties are nil.
type ICalendar struct {
	Version  string      `json:"version"`
	ProdID   string      `json:"prodid"`
	CalScale *string     `json:"calscale"`
	Method   *string     `json:"method"`
	Name     *string     `json:"name"`
	Events   []ICalEvent `json:"events"`
}

// ICalEvent is one VEVENT as ical.js read it.
type ICalEvent struct {
	UID          string  `json:"uid"`
	DTStamp      string  `json:"dtstamp"`
	Start        string  `json:"start"`
	End          *string `json:"end"`
	StartUnix    int64   `json:"startUnix"` // ical.js's own reading of the start
	EndUnix      int64   `json:"endUnix"`
	Sequence     *int64  `json:"sequence"`
	LastModified *string `json:"lastModified"`
	Summary      *string `json:"summary"`
	Location     *string `json:"location"`
	Status       *string `json:"status"`
	Transp       *string `json:"transp"`
}

// ICal parses an iCalendar document with ical.js; a document it cannot
// parse, or one without what RFC 5545 requires, fails the test.
func ICal(t testing.TB, doc []byte) ICalendar {
	t.Helper()
	var cal ICalendar
	out := Run(t, "ical-parse.mjs", doc)
	if err := json.Unmarshal(out, &cal); err != nil {
		t.Fatalf("ical-parse.mjs printed %s: %v", out, err)
	}
	return cal
}
