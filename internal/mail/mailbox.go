package mail

import (
	"context"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tandem-coach/tandem/internal/clock"
)

// Stored is a message the development mailbox kept.
type Stored struct {
	Message
	ID     string
	SentAt time.Time
}

// Mailbox is the development mailer: it logs each message as LogMailer does
// and keeps the newest ones in memory, so that a developer without SMTP can
// read what was sent (at /dev/mailbox). It exists only outside production:
// bodies hold single-use links. Safe for concurrent use.
type Mailbox struct {
	log      LogMailer
	clock    clock.Clock
	capacity int

	mu     sync.Mutex
	lastID uint64
	kept   []Stored // oldest first
}

var _ Mailer = (*Mailbox)(nil)

// NewMailbox returns a mailbox that keeps at most capacity messages (at least
// one), dropping the oldest.
func NewMailbox(log *slog.Logger, clk clock.Clock, capacity int) *Mailbox {
	return &Mailbox{log: LogMailer{Log: log}, clock: clk, capacity: max(capacity, 1)}
}

// Send logs the message, without its body, and keeps it.
func (b *Mailbox) Send(ctx context.Context, m Message) error {
	if err := b.log.Send(ctx, m); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lastID++
	b.kept = append(b.kept, Stored{Message: m, ID: strconv.FormatUint(b.lastID, 10), SentAt: b.clock.Now().UTC()})
	if over := len(b.kept) - b.capacity; over > 0 {
		b.kept = append(b.kept[:0], b.kept[over:]...)
	}
	return nil
}

// Messages returns the kept messages, newest first.
func (b *Mailbox) Messages() []Stored {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]Stored, len(b.kept))
	for i, s := range b.kept {
		out[len(b.kept)-1-i] = s
	}
	return out
}

// Message returns the kept message with the given ID.
func (b *Mailbox) Message(id string) (Stored, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.kept {
		if s.ID == id {
			return s, true
		}
	}
	return Stored{}, false
}

// Latest returns the newest kept message to the address, compared without
// regard to case.
func (b *Mailbox) Latest(to string) (Stored, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := len(b.kept) - 1; i >= 0; i-- {
		if strings.EqualFold(b.kept[i].To, to) {
			return b.kept[i], true
		}
	}
	return Stored{}, false
}

var tokenInLink = regexp.MustCompile(`#token=([A-Za-z0-9_-]+)`)

// ExtractToken returns the token of the first "#token=" link in a message
// body: the single-use token an invitation carries in its URL fragment.
func ExtractToken(text string) (string, bool) {
	m := tokenInLink.FindStringSubmatch(text)
	if m == nil {
		return "", false
	}
	return m[1], true
}
