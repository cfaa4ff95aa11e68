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

// TestSMTPSendsHeadersAndAttachments: a reminder's one-click unsubscribe
// header fields and its iCalendar event reach the server as sent.
func TestSMTPSendsHeadersAndAttachments(t *testing.T) {
	mp := mailtest.Start(t)
	m, err := mail.New(mp.SMTPURL(), "Tandem <no-reply@tandem.example>", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ics := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
	err = m.Send(context.Background(), mail.Message{To: "client@example.com", Subject: "Reminder", Text: "See you tomorrow.",
		Headers: map[string]string{"List-Unsubscribe": "<https://tandem.example/unsubscribe?token=t>",
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
		Attachments: []mail.Attachment{{Name: "session.ics", ContentType: "text/calendar", Data: []byte(ics)}}})
	if err != nil {
		t.Fatal(err)
	}
	got := mp.Messages(t)
	if len(got) != 1 || len(got[0].Attachments) != 1 || got[0].Attachments[0].FileName != "session.ics" ||
		!strings.HasPrefix(got[0].Attachments[0].ContentType, "text/calendar") {
		t.Fatalf("received %+v", got)
	}
	h := mp.Headers(t, got[0].ID)
	if v := h["List-Unsubscribe-Post"]; len(v) != 1 || v[0] != "List-Unsubscribe=One-Click" {
		t.Fatalf("List-Unsubscribe-Post = %v", v)
	}
	if v := h["List-Unsubscribe"]; len(v) != 1 || v[0] != "<https://tandem.example/unsubscribe?token=t>" {
		t.Fatalf("List-Unsubscribe = %v", v)
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
