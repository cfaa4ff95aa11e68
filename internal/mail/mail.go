// Package mail is the one way Tandem sends e-mail: over SMTP when
// TANDEM_SMTP_URL is set, otherwise by logging that a message would have gone
// out and, in development, keeping it in the development mailbox.
package mail

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Message is an e-mail: a plain-text body, optionally an HTML alternative,
// and extra header fields (such as List-Unsubscribe).
type Message struct {
	To      string
	Subject string
	Text    string
	HTML    string
	Headers map[string]string
	// Attachments are files sent with the message (an iCalendar event).
	Attachments []Attachment
}

// Attachment is a file sent with a message.
type Attachment struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Data        []byte `json:"data"`
}

// Mailer sends e-mail.
type Mailer interface {
	Send(ctx context.Context, m Message) error
}

// New returns the SMTP mailer for smtpURL, or the logging mailer when it is empty.
func New(smtpURL, from string, log *slog.Logger) (Mailer, error) {
	if smtpURL == "" {
		return LogMailer{Log: log}, nil
	}
	return NewSMTP(smtpURL, from)
}

// LogMailer logs each message's recipient and subject instead of sending it.
// The body is not logged: it may hold a single-use link, and secrets never go
// to logs. Where the development Mailbox is used, it keeps the messages so
// that their links can be read.
type LogMailer struct{ Log *slog.Logger }

// Send logs the message.
func (l LogMailer) Send(ctx context.Context, m Message) error {
	l.Log.InfoContext(ctx, "e-mail not sent (no TANDEM_SMTP_URL); body withheld from the log",
		slog.String("to", m.To), slog.String("subject", m.Subject))
	return nil
}

// SMTP sends through an SMTP server.
type SMTP struct {
	from string
	opts []gomail.Option
	host string
}

// NewSMTP parses smtp://[user:password@]host[:port][?tls=none|starttls|mandatory]
// or smtps://... (implicit TLS).
func NewSMTP(rawURL, from string) (*SMTP, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("TANDEM_SMTP_URL is not a URL")
	}
	opts := []gomail.Option{gomail.WithTimeout(15 * time.Second)}
	port := 587
	switch u.Scheme {
	case "smtps":
		port = 465
		opts = append(opts, gomail.WithSSL())
	case "smtp":
		switch u.Query().Get("tls") {
		case "none":
			opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
		case "mandatory":
			opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
		default: // STARTTLS when the server offers it
			opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
		}
	default:
		return nil, fmt.Errorf("TANDEM_SMTP_URL must use smtp:// or smtps://")
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			return nil, fmt.Errorf("TANDEM_SMTP_URL has a bad port")
		}
	}
	opts = append(opts, gomail.WithPort(port))
	if user := u.User.Username(); user != "" {
		pass, _ := u.User.Password()
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(user), gomail.WithPassword(pass))
	}
	return &SMTP{from: from, opts: opts, host: u.Hostname()}, nil
}

// Send delivers one message, opening a connection for it.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	msg := gomail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return fmt.Errorf("mail from: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("mail to: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageID()
	for k, v := range m.Headers {
		msg.SetGenHeader(gomail.Header(k), v)
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	for _, a := range m.Attachments {
		msg.AttachReadSeeker(a.Name, bytes.NewReader(a.Data), gomail.WithFileContentType(gomail.ContentType(a.ContentType)))
	}
	client, err := gomail.NewClient(s.host, s.opts...)
	if err != nil {
		return fmt.Errorf("smtp client: %w", err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("smtp send: %w", err)
	}
	return nil
}
