package httpapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tandem-coach/tandem/internal/clock"
	"github.com/tandem-coach/tandem/internal/mail"
)

// newDevMailboxEcho serves a development mailbox on a bare Echo, without the
// global middleware New adds: the mailbox must set its own headers.
func newDevMailboxEcho(t *testing.T) (*echo.Echo, *mail.Mailbox, *clock.Manual, *Server) {
	t.Helper()
	clk := clock.NewManual(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	box := mail.NewMailbox(slog.New(slog.DiscardHandler), clk, 10)
	s := &Server{log: slog.New(slog.DiscardHandler), rules: map[string]Rule{}}
	e := echo.New()
	e.HTTPErrorHandler = s.handleError
	s.registerDevMailbox(e, box)
	return e, box, clk, s
}

func sendTo(t *testing.T, box *mail.Mailbox, clk *clock.Manual, to, subject, text string) {
	t.Helper()
	if err := box.Send(context.Background(), mail.Message{To: to, Subject: subject, Text: text}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
}

// getLocal requests path as a browser on the same machine would.
func getLocal(e *echo.Echo, path string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.RemoteAddr = "127.0.0.1:53124"
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func assertDevMailboxHeaders(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	h := rec.Header()
	if h.Get("Cache-Control") != "no-store" || h.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("Cache-Control %q, X-Content-Type-Options %q; want no-store, nosniff",
			h.Get("Cache-Control"), h.Get("X-Content-Type-Options"))
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
		t.Errorf("Content-Security-Policy %q allows more than styles", csp)
	}
}

func TestDevMailboxPage(t *testing.T) {
	t.Parallel()
	e, box, clk, _ := newDevMailboxEcho(t)
	link := "http://127.0.0.1:8080/accept-invitation#token=Ab_9-xZ"
	sendTo(t, box, clk, "coach@example.com", "Older message", "Nothing to click.")
	sendTo(t, box, clk, "client@example.com", `Hi <script>alert("s")</script>`,
		"Open this link:\n\n"+link+".\n\n<b>not bold</b> javascript:alert(1) http://a.example/?q=1&r=2")

	rec := getLocal(e, "/dev/mailbox")
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("status %d, Content-Type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	assertDevMailboxHeaders(t, rec)
	body := rec.Body.String()
	for _, want := range []string{
		"only in development",
		"Older message",
		"client@example.com",
		"2026-03-01 09:01:00 UTC",
		"Hi &lt;script&gt;alert(&#34;s&#34;)&lt;/script&gt;",
		`<a href="` + link + `">` + link + `</a>.`, // the full stop is not part of the link
		"&lt;b&gt;not bold&lt;/b&gt; javascript:alert(1)",
		`<a href="http://a.example/?q=1&amp;r=2">`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %s:\n%s", want, body)
		}
	}
	if strings.Contains(strings.ToLower(body), "<script") || strings.Contains(body, "<b>") || strings.Contains(body, `href="javascript`) {
		t.Errorf("the page carries unescaped markup:\n%s", body)
	}
	if strings.Index(body, "Hi &lt;script") > strings.Index(body, "Older message") {
		t.Error("the page does not list the newest message first")
	}
}

func TestDevMailboxPageWhenEmpty(t *testing.T) {
	t.Parallel()
	e, _, _, _ := newDevMailboxEcho(t)
	rec := getLocal(e, "/dev/mailbox")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "No e-mail yet.") {
		t.Fatalf("status %d:\n%s", rec.Code, rec.Body.String())
	}
}

func TestDevMailboxJSON(t *testing.T) {
	t.Parallel()
	e, box, clk, _ := newDevMailboxEcho(t)
	sendTo(t, box, clk, "Coach@Example.com", "first", "one")
	sendTo(t, box, clk, "client@example.com", "second", "two http://h/accept-invitation#token=tok_1")
	sendTo(t, box, clk, "coach@example.com", "third", "three")

	for _, tt := range []struct {
		name, query string
		want        []string // subjects, in order
	}{
		{"all", "", []string{"third", "second", "first"}},
		{"to one address", "?to=coach@example.com", []string{"third", "first"}},
		{"to, ignoring case", "?to=CLIENT%40EXAMPLE.COM", []string{"second"}},
		{"to nobody", "?to=nobody@example.com", []string{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := getLocal(e, "/dev/mailbox.json"+tt.query)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
			}
			assertDevMailboxHeaders(t, rec)
			var got struct {
				Items []struct {
					ID      string `json:"id"`
					SentAt  string `json:"sent_at"`
					To      string `json:"to"`
					Subject string `json:"subject"`
					Text    string `json:"text"`
				} `json:"items"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || got.Items == nil {
				t.Fatalf("body %s: %v", rec.Body.String(), err)
			}
			subjects := []string{}
			for _, it := range got.Items {
				subjects = append(subjects, it.Subject)
				if it.ID == "" {
					t.Errorf("item %q has no id", it.Subject)
				}
			}
			if strings.Join(subjects, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("subjects %v, want %v", subjects, tt.want)
			}
			if tt.name == "to, ignoring case" {
				it := got.Items[0]
				if it.SentAt != "2026-03-01T09:01:00Z" || it.To != "client@example.com" {
					t.Errorf("item %+v", it)
				}
				if tok, ok := mail.ExtractToken(it.Text); !ok || tok != "tok_1" {
					t.Errorf("ExtractToken(%q) = %q, %v", it.Text, tok, ok)
				}
			}
		})
	}
}

func TestDevMailboxAnswersOnlyThisMachine(t *testing.T) {
	t.Parallel()
	e, box, clk, _ := newDevMailboxEcho(t)
	sendTo(t, box, clk, "client@example.com", "Invitation", "http://h/accept-invitation#token=secret_token")
	for _, tt := range []struct {
		name, remote string
		header       [2]string
		want         int
	}{
		{"IPv4 loopback", "127.0.0.1:5000", [2]string{}, http.StatusOK},
		{"IPv6 loopback", "[::1]:5000", [2]string{}, http.StatusOK},
		{"another machine", "192.0.2.10:5000", [2]string{}, http.StatusForbidden},
		{"another machine claiming loopback", "192.0.2.10:5000", [2]string{"X-Forwarded-For", "127.0.0.1"}, http.StatusForbidden},
		{"through a local proxy", "127.0.0.1:5000", [2]string{"X-Forwarded-For", "198.51.100.7"}, http.StatusForbidden},
		{"through a local proxy, RFC 7239", "127.0.0.1:5000", [2]string{"Forwarded", "for=198.51.100.7"}, http.StatusForbidden},
		{"through a local proxy, X-Real-IP", "127.0.0.1:5000", [2]string{"X-Real-IP", "198.51.100.7"}, http.StatusForbidden},
	} {
		for _, path := range []string{"/dev/mailbox", "/dev/mailbox.json"} {
			t.Run(tt.name+" "+path, func(t *testing.T) {
				req := httptest.NewRequest(http.MethodGet, path, nil)
				req.RemoteAddr = tt.remote
				if tt.header[0] != "" {
					req.Header.Set(tt.header[0], tt.header[1])
				}
				rec := httptest.NewRecorder()
				e.ServeHTTP(rec, req)
				if rec.Code != tt.want {
					t.Fatalf("status %d, want %d", rec.Code, tt.want)
				}
				assertDevMailboxHeaders(t, rec)
				if tt.want != http.StatusOK && strings.Contains(rec.Body.String(), "secret_token") {
					t.Fatalf("a refused request received the message: %s", rec.Body.String())
				}
			})
		}
	}
}

func TestDevMailboxRoutesDeclareARule(t *testing.T) {
	t.Parallel()
	_, _, _, s := newDevMailboxEcho(t)
	for _, key := range []string{"GET /dev/mailbox", "GET /dev/mailbox.json"} {
		if s.rules[key] != RulePublic {
			t.Errorf("%s declares rule %q", key, s.rules[key])
		}
	}
}

func TestDevMailboxLinkify(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		text  string
		links []string
	}{
		{"no links here", nil},
		{"see http://a.example/x.", []string{"http://a.example/x"}},
		{"(https://a.example/x?y=1&z=2)", []string{"https://a.example/x?y=1&z=2"}},
		{"http://h/accept-invitation#token=Ab_9-\nand https://b.example", []string{"http://h/accept-invitation#token=Ab_9-", "https://b.example"}},
		{`http://a.example/"onmouseover="x`, []string{"http://a.example/"}},
		{"ftp://a.example javascript:alert(1) http:// http:///path", nil},
	} {
		parts := linkify(tt.text)
		var joined strings.Builder
		var links []string
		for _, p := range parts {
			joined.WriteString(p.Text)
			if p.URL != "" {
				if p.URL != p.Text {
					t.Errorf("linkify(%q): link text %q differs from its URL %q", tt.text, p.Text, p.URL)
				}
				links = append(links, p.URL)
			}
		}
		if joined.String() != tt.text {
			t.Errorf("linkify(%q) rebuilds %q", tt.text, joined.String())
		}
		if strings.Join(links, " ") != strings.Join(tt.links, " ") {
			t.Errorf("linkify(%q) links %q, want %q", tt.text, links, tt.links)
		}
	}
}
