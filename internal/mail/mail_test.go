package mail_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/tandem-coach/tandem/internal/mail"
	"github.com/tandem-coach/tandem/internal/mail/mailtest"
)

func TestSMTPDeliversThroughARealServer(t *testing.T) {
	mp := mailtest.Start(t)
	m, err := mail.New(mp.SMTPURL(), "Tandem <no-reply@tandem.example>", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	err = m.Send(context.Background(), mail.Message{To: "coach@example.com", Subject: "Welcome to Tandem", Text: "Hello, coach.\nLine two."})
	if err != nil {
		t.Fatal(err)
	}
	got := mp.Messages(t)
	if len(got) != 1 {
		t.Fatalf("mailpit holds %d messages, want 1", len(got))
	}
	if got[0].Subject != "Welcome to Tandem" || len(got[0].To) != 1 || got[0].To[0] != "coach@example.com" ||
		!strings.Contains(got[0].Text, "Hello, coach.") {
		t.Fatalf("received %+v", got[0])
	}
}

func TestSMTPFailureIsAnError(t *testing.T) {
	// Nothing listens on port 1 of loopback.
	m, err := mail.NewSMTP("smtp://127.0.0.1:1?tls=none", "no-reply@tandem.example")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Send(context.Background(), mail.Message{To: "a@example.com", Subject: "s", Text: "t"}); err == nil {
		t.Fatal("sending to a closed port reported success")
	}
}

func TestLogMailerLogsRecipientButNotBody(t *testing.T) {
	var buf bytes.Buffer
	m, err := mail.New("", "x@example.com", slog.New(slog.NewJSONHandler(&buf, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Send(context.Background(), mail.Message{To: "a@example.com", Subject: "Your invitation", Text: "secret-link-token"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "a@example.com") || !strings.Contains(buf.String(), "Your invitation") {
		t.Fatalf("log lacks recipient or subject: %s", buf.String())
	}
	if strings.Contains(buf.String(), "secret-link-token") {
		t.Fatalf("the body reached the log: %s", buf.String())
	}
}

func TestNewSMTPRejectsBadURLs(t *testing.T) {
	for _, u := range []string{"http://mail.example.com", "smtp://host:notaport", "::"} {
		if _, err := mail.NewSMTP(u, "x@example.com"); err == nil {
			t.Errorf("NewSMTP(%q) accepted", u)
		}
	}
}
