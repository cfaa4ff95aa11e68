package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// otlpReceiver is an OTLP/HTTP trace endpoint: it decodes what the
// exporter sends, as a collector would, and keeps the spans.
type otlpReceiver struct {
	mu      sync.Mutex
	spans   []*tracepb.Span
	service []string // service.name of each batch
}

func (o *otlpReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" || err != nil {
		http.Error(w, "want protobuf spans at /v1/traces", http.StatusBadRequest)
		return
	}
	var req coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	o.mu.Lock()
	for _, rs := range req.ResourceSpans {
		o.service = append(o.service, attr(rs.GetResource().GetAttributes(), "service.name"))
		for _, ss := range rs.ScopeSpans {
			o.spans = append(o.spans, ss.Spans...)
		}
	}
	o.mu.Unlock()
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

// inTrace returns the spans received for the trace with the hex ID.
func (o *otlpReceiver) inTrace(traceID string) []*tracepb.Span {
	o.mu.Lock()
	defer o.mu.Unlock()
	var in []*tracepb.Span
	for _, s := range o.spans {
		if hex.EncodeToString(s.TraceId) == traceID {
			in = append(in, s)
		}
	}
	return in
}

func attr(attrs []*commonpb.KeyValue, key string) string {
	for _, kv := range attrs {
		if kv.Key == key {
			if s, ok := kv.Value.Value.(*commonpb.AnyValue_StringValue); ok {
				return s.StringValue
			}
			if i, ok := kv.Value.Value.(*commonpb.AnyValue_IntValue); ok {
				return strconv.FormatInt(i.IntValue, 10)
			}
		}
	}
	return ""
}

// TestTracesReachTheCollectorAndProblemsNameThem: with an OTLP endpoint
// set, a refused request is one trace — the server span and the span of
// each statement it ran — exported to the collector; the problem document
// and the request's log line name that trace; a caller's traceparent is
// continued; a job is a span linked to the request that queued it; and
// nothing in a span quotes SQL, the path or what was sent.
func TestTracesReachTheCollectorAndProblemsNameThem(t *testing.T) {
	collector := &otlpReceiver{}
	otlp := httptest.NewServer(collector)
	defer otlp.Close()

	addr := freeAddr(t)
	log, stop := startWalkthroughServer(t, addr, "",
		"OTEL_EXPORTER_OTLP_ENDPOINT="+otlp.URL, "OTEL_SERVICE_NAME=tandem-under-test")
	base := "http://" + addr + "/api/v1"

	// A registration queues its verification e-mail as a job; reading the
	// development mailbox waits until it is worked.
	resp, err := http.Post(base+"/auth/register", "application/json", strings.NewReader(
		`{"practice_name":"Traced practice","name":"Tracy Owner","email":"tracy@example.com","password":"a long enough password 1"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("registering: %d", resp.StatusCode)
	}
	if resp, err = http.Get("http://" + addr + "/dev/mailbox.json?to=tracy@example.com"); err != nil {
		t.Fatal(err)
	}
	mailbox, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(mailbox), "tracy@example.com") {
		t.Fatalf("the verification e-mail was not sent: %s", mailbox)
	}

	// A sign-in for an unknown account: refused after reading the database.
	const secretEmail, secretPassword = "nobody-traced@example.com", "correct horse battery staple"
	login := func(traceparent string) map[string]any {
		t.Helper()
		body := `{"email":"` + secretEmail + `","password":"` + secretPassword + `"}`
		req, _ := http.NewRequest(http.MethodPost, base+"/auth/login", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if traceparent != "" {
			req.Header.Set("traceparent", traceparent)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("unknown account signing in: %d, want 401", resp.StatusCode)
		}
		var problem map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&problem); err != nil {
			t.Fatal(err)
		}
		return problem
	}
	problem := login("")
	traceID, _ := problem["trace_id"].(string)
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(traceID) {
		t.Fatalf("problem document without a trace_id: %v", problem)
	}
	const callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	if got := login("00-" + callerTrace + "-00f067aa0ba902b7-01")["trace_id"]; got != callerTrace {
		t.Errorf("with the caller's traceparent the problem names trace %v, want the caller's %s", got, callerTrace)
	}
	stop() // shutting down exports what is still buffered

	spans := collector.inTrace(traceID)
	var server *tracepb.Span
	statements := 0
	for _, s := range spans {
		switch s.Kind {
		case tracepb.Span_SPAN_KIND_SERVER:
			server = s
		case tracepb.Span_SPAN_KIND_CLIENT:
			if attr(s.Attributes, "db.system.name") == "sqlite" {
				statements++
			}
		}
	}
	if server == nil {
		t.Fatalf("the collector has no server span for trace %s; it has %d spans in it", traceID, len(spans))
	}
	if server.Name != "POST /api/v1/auth/login" || attr(server.Attributes, "http.response.status_code") != "401" {
		t.Errorf("server span %q with status %q, want POST /api/v1/auth/login with 401", server.Name, attr(server.Attributes, "http.response.status_code"))
	}
	if statements == 0 {
		t.Error("no span for the statements the sign-in ran")
	}
	if len(collector.inTrace(callerTrace)) == 0 {
		t.Error("the caller's trace was not continued")
	}
	collector.mu.Lock()
	services, all := collector.service, collector.spans
	collector.mu.Unlock()

	// The job's span is linked to the registration that queued it, and the
	// statements it ran are in its trace.
	var register, work *tracepb.Span
	for _, s := range all {
		if s.Name == "POST /api/v1/auth/register" {
			register = s
		}
	}
	if register == nil {
		t.Fatal("no span for the registration")
	}
	for _, s := range all {
		for _, link := range s.Links {
			if strings.HasPrefix(s.Name, "river.work/") && s.Kind == tracepb.Span_SPAN_KIND_CONSUMER && bytes.Equal(link.TraceId, register.TraceId) {
				work = s
			}
		}
	}
	if work == nil {
		t.Fatal("no job span is linked to the registration that queued the e-mail")
	}
	jobStatements := 0
	for _, s := range collector.inTrace(hex.EncodeToString(work.TraceId)) {
		if s.Kind == tracepb.Span_SPAN_KIND_CLIENT && attr(s.Attributes, "db.system.name") == "sqlite" {
			jobStatements++
		}
	}
	if jobStatements == 0 {
		t.Errorf("the job %q ran no traced statement", work.Name)
	}
	for _, name := range services {
		if name != "tandem-under-test" {
			t.Errorf("spans from service %q, want OTEL_SERVICE_NAME's tandem-under-test", name)
		}
	}
	for _, s := range all {
		raw, _ := proto.Marshal(s)
		for _, secret := range []string{"WHERE", "where ", " FROM ", secretEmail, secretPassword, "tracy@example.com", "Tracy Owner"} {
			if bytes.Contains(raw, []byte(secret)) {
				t.Errorf("span %q holds %q", s.Name, secret)
			}
		}
	}

	var logged bool
	for _, line := range strings.Split(log.String(), "\n") {
		if strings.Contains(line, `"msg":"http request"`) && strings.Contains(line, `"trace_id":"`+traceID+`"`) {
			logged = true
		}
	}
	if !logged {
		t.Errorf("no access log line names trace %s; log:\n%s", traceID, log.String())
	}
}

// TestTracingIsOffWithoutOTLPSettings: with no OTEL_* variables nothing is
// exported and problem documents name no trace, even when the caller sends
// a traceparent.
func TestTracingIsOffWithoutOTLPSettings(t *testing.T) {
	addr := freeAddr(t)
	startWalkthroughServer(t, addr, "", "TANDEM_WORKERS=false")
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/api/v1/me", nil)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var problem map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&problem); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /me without a token: %d, want 401", resp.StatusCode)
	}
	if _, ok := problem["trace_id"]; ok {
		t.Errorf("tracing is off, yet the problem names a trace: %v", problem)
	}
}
