package mail_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandem-coach/tandem/internal/clock"
	"github.com/tandem-coach/tandem/internal/mail"
)

var epoch = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func newMailbox(t *testing.T, capacity int) (*mail.Mailbox, *clock.Manual) {
	t.Helper()
	clk := clock.NewManual(epoch)
	return mail.NewMailbox(slog.New(slog.DiscardHandler), clk, capacity), clk
}

func send(t *testing.T, box *mail.Mailbox, to, subject, text string) {
	t.Helper()
	if err := box.Send(context.Background(), mail.Message{To: to, Subject: subject, Text: text}); err != nil {
		t.Fatal(err)
	}
}

func subjects(list []mail.Stored) string {
	var s []string
	for _, m := range list {
		s = append(s, m.Subject)
	}
	return strings.Join(s, ",")
}

func TestMailboxListsNewestFirst(t *testing.T) {
	box, clk := newMailbox(t, 10)
	if got := box.Messages(); len(got) != 0 {
		t.Fatalf("a new mailbox holds %d messages", len(got))
	}
	for _, s := range []string{"one", "two", "three"} {
		send(t, box, "a@example.com", s, "body of "+s)
		clk.Advance(time.Minute)
	}
	got := box.Messages()
	if subjects(got) != "three,two,one" {
		t.Fatalf("Messages() = %s, want three,two,one", subjects(got))
	}
	if !got[0].SentAt.Equal(epoch.Add(2*time.Minute)) || got[0].Text != "body of three" || got[0].To != "a@example.com" {
		t.Fatalf("newest message = %+v", got[0])
	}
	seen := map[string]bool{}
	for _, m := range got {
		if m.ID == "" || seen[m.ID] {
			t.Fatalf("IDs are not unique and non-empty: %+v", got)
		}
		seen[m.ID] = true
		byID, ok := box.Message(m.ID)
		if !ok || !reflect.DeepEqual(byID, m) {
			t.Fatalf("Message(%q) = %+v, %v; want %+v", m.ID, byID, ok, m)
		}
	}
	if _, ok := box.Message("no-such-id"); ok {
		t.Fatal("Message found an unknown ID")
	}
}

func TestMailboxDropsTheOldestBeyondItsCapacity(t *testing.T) {
	for _, tt := range []struct {
		capacity, sent int
		want           string
	}{
		{capacity: 3, sent: 2, want: "m1,m0"},
		{capacity: 3, sent: 3, want: "m2,m1,m0"},
		{capacity: 3, sent: 7, want: "m6,m5,m4"},
		{capacity: 0, sent: 2, want: "m1"}, // at least one is kept
	} {
		t.Run(fmt.Sprintf("cap %d sent %d", tt.capacity, tt.sent), func(t *testing.T) {
			box, _ := newMailbox(t, tt.capacity)
			for i := range tt.sent {
				send(t, box, "a@example.com", fmt.Sprintf("m%d", i), "")
			}
			if got := subjects(box.Messages()); got != tt.want {
				t.Fatalf("Messages() = %s, want %s", got, tt.want)
			}
			if _, ok := box.Message("1"); ok && tt.sent > max(tt.capacity, 1) {
				t.Fatal("the dropped first message is still found by ID")
			}
		})
	}
}

func TestMailboxIsSafeForConcurrentUse(t *testing.T) {
	box, _ := newMailbox(t, 50)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 40 {
				m := mail.Message{To: fmt.Sprintf("w%d@example.com", w), Subject: fmt.Sprintf("w%d-%d", w, i)}
				if err := box.Send(context.Background(), m); err != nil {
					t.Error(err) // not Fatal: this is not the test's goroutine
					return
				}
				box.Messages()
				box.Latest(fmt.Sprintf("w%d@example.com", w))
			}
		})
	}
	wg.Wait()
	got := box.Messages()
	if len(got) != 50 {
		t.Fatalf("the mailbox holds %d messages, want its capacity of 50", len(got))
	}
	ids := map[string]bool{}
	for _, m := range got {
		ids[m.ID] = true
	}
	if len(ids) != 50 {
		t.Fatalf("%d distinct IDs among 50 messages", len(ids))
	}
}

func TestMailboxLatestByRecipient(t *testing.T) {
	box, _ := newMailbox(t, 10)
	send(t, box, "Coach@Example.com", "first to coach", "")
	send(t, box, "client@example.com", "to client", "")
	send(t, box, "coach@example.com", "second to coach", "")
	send(t, box, "client@example.com.evil", "lookalike", "")
	for _, tt := range []struct {
		to, want string
		found    bool
	}{
		{"coach@example.com", "second to coach", true},
		{"COACH@EXAMPLE.COM", "second to coach", true},
		{"client@example.com", "to client", true},
		{"nobody@example.com", "", false},
		{"", "", false},
	} {
		got, ok := box.Latest(tt.to)
		if ok != tt.found || got.Subject != tt.want {
			t.Errorf("Latest(%q) = %q, %v; want %q, %v", tt.to, got.Subject, ok, tt.want, tt.found)
		}
	}
}

func TestMailboxLogsRecipientButNotBody(t *testing.T) {
	var buf bytes.Buffer
	box := mail.NewMailbox(slog.New(slog.NewJSONHandler(&buf, nil)), clock.System{}, 10)
	send(t, box, "a@example.com", "Your invitation", "secret-link-token")
	if !strings.Contains(buf.String(), "a@example.com") || !strings.Contains(buf.String(), "Your invitation") {
		t.Fatalf("log lacks recipient or subject: %s", buf.String())
	}
	if strings.Contains(buf.String(), "secret-link-token") {
		t.Fatalf("the body reached the log: %s", buf.String())
	}
}

func TestExtractToken(t *testing.T) {
	for _, tt := range []struct {
		name, text, want string
		found            bool
	}{
		{"invitation", "Open this link:\n\nhttp://127.0.0.1:8080/accept-invitation#token=Ab_9-xZ\n\nThanks.", "Ab_9-xZ", true},
		{"ends the line with a full stop", "Open http://h/accept-invitation#token=abc.", "abc", true},
		{"first of two", "#token=first then #token=second", "first", true},
		{"no token", "Hello, no link here.", "", false},
		{"empty token", "http://h/accept-invitation#token=", "", false},
		{"query, not fragment", "http://h/x?token=abc", "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := mail.ExtractToken(tt.text)
			if got != tt.want || ok != tt.found {
				t.Fatalf("ExtractToken = %q, %v; want %q, %v", got, ok, tt.want, tt.found)
			}
		})
	}
}
