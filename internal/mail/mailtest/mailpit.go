// Package mailtest runs a real SMTP server — mailpit, a Go tool of this
// module — for a test, and reads back what it received through its API.
package mailtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// Mailpit is a running mailpit server.
type Mailpit struct {
	SMTPAddr string
	httpBase string
}

var binary struct {
	once sync.Once
	path string
	err  error
}

// mailpitBinary finds mailpit: $TANDEM_TEST_MAILPIT, or the module's tool
// built (and cached) by the go command.
func mailpitBinary() (string, error) {
	binary.once.Do(func() {
		if p := os.Getenv("TANDEM_TEST_MAILPIT"); p != "" {
			binary.path = p
			return
		}
		out, err := exec.Command("go", "tool", "-n", "mailpit").Output()
		if err != nil {
			binary.err = fmt.Errorf("go tool -n mailpit: %w", err)
			return
		}
		binary.path = strings.TrimSpace(string(out))
	})
	return binary.path, binary.err
}

// Start runs mailpit on free loopback ports until t ends.
func Start(t testing.TB) *Mailpit {
	t.Helper()
	bin, err := mailpitBinary()
	if err != nil {
		t.Fatalf("mailpit: %v", err)
	}
	smtpAddr, httpAddr := freeAddr(t), freeAddr(t)
	// Chaos lets a test make the server refuse mail (RefuseRecipients).
	cmd := exec.Command(bin, "--smtp", smtpAddr, "--listen", httpAddr, "--disable-version-check",
		"--smtp-auth-allow-insecure", "--quiet", "--enable-chaos")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start mailpit: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	m := &Mailpit{SMTPAddr: smtpAddr, httpBase: "http://" + httpAddr}
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(m.httpBase + "/api/v1/messages")
		if err == nil {
			resp.Body.Close()
			if c, err := net.Dial("tcp", smtpAddr); err == nil {
				c.Close()
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailpit did not start on %s / %s", smtpAddr, httpAddr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// SMTPURL is the TANDEM_SMTP_URL that sends to this server.
func (m *Mailpit) SMTPURL() string { return "smtp://" + m.SMTPAddr + "?tls=none" }

// Message is a received e-mail.
type Message struct {
	ID          string
	To          []string
	Subject     string
	Text        string
	Attachments []Attachment
}

// Attachment is a file a received e-mail carries.
type Attachment struct {
	FileName    string `json:"FileName"`
	ContentType string `json:"ContentType"`
}

// Messages returns every message received so far, newest first.
func (m *Mailpit) Messages(t testing.TB) []Message {
	t.Helper()
	var list struct {
		Messages []struct {
			ID      string `json:"ID"`
			Subject string `json:"Subject"`
			To      []struct {
				Address string `json:"Address"`
			} `json:"To"`
		} `json:"messages"`
	}
	m.get(t, "/api/v1/messages", &list)
	out := make([]Message, 0, len(list.Messages))
	for _, s := range list.Messages {
		var full struct {
			Text        string       `json:"Text"`
			Attachments []Attachment `json:"Attachments"`
		}
		m.get(t, "/api/v1/message/"+url.PathEscape(s.ID), &full)
		msg := Message{ID: s.ID, Subject: s.Subject, Text: full.Text, Attachments: full.Attachments}
		for _, to := range s.To {
			msg.To = append(msg.To, to.Address)
		}
		out = append(out, msg)
	}
	return out
}

// Count returns how many messages the server holds.
func (m *Mailpit) Count(t testing.TB) int {
	t.Helper()
	var list struct {
		Total int `json:"total"`
	}
	m.get(t, "/api/v1/messages?limit=1", &list)
	return list.Total
}

// Headers returns the header fields of the message with the given ID.
func (m *Mailpit) Headers(t testing.TB, id string) map[string][]string {
	t.Helper()
	var h map[string][]string
	m.get(t, "/api/v1/message/"+url.PathEscape(id)+"/headers", &h)
	return h
}

// RefuseRecipients makes the server answer every RCPT TO with code (a 4xx
// or 5xx SMTP reply), until called again with 0, which accepts them again.
func (m *Mailpit) RefuseRecipients(t testing.TB, code int) {
	t.Helper()
	probability := 100
	if code == 0 {
		code, probability = 451, 0
	}
	body := fmt.Sprintf(`{"Recipient":{"ErrorCode":%d,"Probability":%d}}`, code, probability)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPut, m.httpBase+"/api/v1/chaos", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("mailpit chaos: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("mailpit chaos: status %d", resp.StatusCode)
	}
}

func (m *Mailpit) get(t testing.TB, path string, v any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, m.httpBase+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("mailpit %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("mailpit %s: status %d", path, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("mailpit %s: %v", path, err)
	}
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
