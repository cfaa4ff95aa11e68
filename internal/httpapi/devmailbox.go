package httpapi

import (
	"bytes"
	"context"
	"html/template"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/jobs"
	"github.com/tandem-coach/tandem/internal/mail"
)

// registerDevMailbox serves what the development mailbox kept: a page for
// the browser at /dev/mailbox and a list for scripts at /dev/mailbox.json.
// New registers it only when main made a mailbox: outside production, with
// no SMTP server configured.
func (s *Server) registerDevMailbox(e *echo.Echo, box *mail.Mailbox) {
	h := devMailbox{box: box, settle: func(context.Context) {}}
	if s.store != nil {
		// E-mails are jobs: a script that reads the mailbox right after
		// the request that queued one finds it there, as long as this
		// process works the queue (a few seconds at most).
		h.settle = func(ctx context.Context) {
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			_ = jobs.MailSettled(ctx, s.store)
		}
	}
	for path, handler := range map[string]echo.HandlerFunc{"/dev/mailbox": h.page, "/dev/mailbox.json": h.list} {
		s.rules[http.MethodGet+" "+path] = RulePublic
		e.GET(path, handler, devMailboxHeaders, fromThisMachine)
	}
}

type devMailbox struct {
	box    *mail.Mailbox
	settle func(context.Context) // waits for the e-mails queued so far
}

// devMailboxHeaders keeps the messages, which hold live sign-up links, out of
// caches, frames and referrers, and lets the page run no script at all. The
// global securityHeaders sets some of these too; the mailbox does not rely on
// it.
func devMailboxHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		return next(c)
	}
}

// fromThisMachine answers only requests from the machine Tandem runs on: a
// loopback TCP peer (never the forwarded client IP, which a caller can claim)
// and no proxy in between. A development server reachable from a network, or
// published through a reverse proxy on the same host, must not hand its
// sign-up links to whoever can reach it.
func fromThisMachine(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		peer, err := netip.ParseAddrPort(r.RemoteAddr)
		proxied := r.Header.Get("Forwarded") != "" || r.Header.Get(echo.HeaderXForwardedFor) != "" || r.Header.Get(echo.HeaderXRealIP) != ""
		if err != nil || !peer.Addr().Unmap().IsLoopback() || proxied {
			return apperr.New(apperr.Forbidden, "The development mailbox answers only requests made on the machine Tandem runs on, "+
				"not through a proxy. Elsewhere, configure TANDEM_SMTP_URL (for example Mailpit, as in docker-compose.yml).")
		}
		return next(c)
	}
}

// devMailboxItem is one message in the JSON list.
type devMailboxItem struct {
	ID      string `json:"id"`
	SentAt  string `json:"sent_at"`
	To      string `json:"to"`
	Subject string `json:"subject"`
	Text    string `json:"text"`
	// Headers are the extra header fields (List-Unsubscribe and the like).
	Headers map[string]string `json:"headers,omitempty"`
}

// list answers {"items": [...]}, newest first; ?to= keeps the messages to one
// address, compared without regard to case.
func (h devMailbox) list(c echo.Context) error {
	to := c.QueryParam("to")
	h.settle(c.Request().Context())
	items := []devMailboxItem{}
	for _, m := range h.box.Messages() {
		if to != "" && !strings.EqualFold(m.To, to) {
			continue
		}
		items = append(items, devMailboxItem{ID: m.ID, SentAt: m.SentAt.UTC().Format(time.RFC3339),
			To: m.To, Subject: m.Subject, Text: m.Text, Headers: m.Headers})
	}
	return c.JSON(http.StatusOK, map[string][]devMailboxItem{"items": items})
}

// page renders the messages for a browser, newest first.
func (h devMailbox) page(c echo.Context) error {
	var view []devMailboxMessage
	h.settle(c.Request().Context())
	for _, m := range h.box.Messages() {
		view = append(view, devMailboxMessage{ID: m.ID, To: m.To, Subject: m.Subject,
			SentAt: m.SentAt.UTC(), Body: linkify(m.Text)})
	}
	var buf bytes.Buffer
	if err := devMailboxPage.Execute(&buf, view); err != nil {
		return err
	}
	return c.HTMLBlob(http.StatusOK, buf.Bytes())
}

type devMailboxMessage struct {
	ID, To, Subject string
	SentAt          time.Time
	Body            []bodyPart
}

// bodyPart is a run of a message body: plain text, or a link when URL is set.
type bodyPart struct{ Text, URL string }

// linkCandidate matches an http(s) URL made only of characters a URL may hold
// unescaped, so html/template writes the href exactly as the e-mail has it.
var linkCandidate = regexp.MustCompile(`https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+`)

// linkify splits text into plain runs and http(s) links. Punctuation that
// ends a sentence is not part of the link.
func linkify(text string) []bodyPart {
	var parts []bodyPart
	rest := 0
	for _, loc := range linkCandidate.FindAllStringIndex(text, -1) {
		link := strings.TrimRight(text[loc[0]:loc[1]], ".,;:!?'\")]")
		if u, err := url.Parse(link); err != nil || u.Host == "" {
			continue
		}
		if loc[0] > rest {
			parts = append(parts, bodyPart{Text: text[rest:loc[0]]})
		}
		parts = append(parts, bodyPart{Text: link, URL: link})
		rest = loc[0] + len(link)
	}
	if rest < len(text) {
		parts = append(parts, bodyPart{Text: text[rest:]})
	}
	return parts
}

var devMailboxPage = template.Must(template.New("mailbox").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Development mailbox · Tandem</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
header { border-bottom: 1px solid #ddd; margin-bottom: 1.5rem; }
header p { color: #555; }
article { border: 1px solid #ddd; border-radius: 6px; padding: 1rem; margin: 1rem 0; }
h2 { font-size: 1.1rem; margin: 0 0 .5rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0 0 .75rem; color: #444; }
dt { color: #777; }
dd { margin: 0; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f6f6f6; padding: .75rem; margin: 0; }
</style>
</head>
<body>
<header>
<h1>Development mailbox</h1>
<p>This page exists only in development, when no SMTP server is configured (TANDEM_SMTP_URL is empty).
It shows the e-mails Tandem would have sent, newest first. They are kept in memory and lost when Tandem stops.
Scripts can read them at <a href="/dev/mailbox.json">/dev/mailbox.json</a> (add <code>?to=</code> an address).</p>
</header>
<main>
{{- range .}}
<article id="m{{.ID}}">
<h2>{{if .Subject}}{{.Subject}}{{else}}(no subject){{end}}</h2>
<dl>
<dt>To</dt><dd>{{.To}}</dd>
<dt>Sent</dt><dd><time datetime="{{.SentAt.Format "2006-01-02T15:04:05Z07:00"}}">{{.SentAt.Format "2006-01-02 15:04:05 UTC"}}</time></dd>
</dl>
<pre>{{range .Body}}{{if .URL}}<a href="{{.URL}}">{{.Text}}</a>{{else}}{{.Text}}{{end}}{{end}}</pre>
</article>
{{- else}}
<p>No e-mail yet.</p>
{{- end}}
</main>
</body>
</html>
`))
