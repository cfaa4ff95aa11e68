package jobs_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/jobs"
	"github.com/tandem-coach/tandem/internal/mail/mailtest"
	"github.com/tandem-coach/tandem/internal/store/storetest"
)

// BenchmarkSendThroughput measures how fast the queue's workers hand
// e-mails to a real SMTP server (mailpit): each iteration queues a burst of
// digest-sized e-mails in one transaction, as the digest task does, and
// waits until the delivery log has every one of them sent. It reports
// e-mails per second, from the commit to the last one logged as sent.
// Run it on both databases (README, Performance).
func BenchmarkSendThroughput(b *testing.B) {
	const burst = 500
	mp := mailtest.Start(b)
	st := storetest.Open(b)
	mailer := smtpMailer(b, mp)
	r, err := jobs.Start(context.Background(), st, jobs.Options{Mailer: mailer, PollInterval: 50 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = r.Stop(ctx)
	})
	ctx := context.Background()
	text := "Good morning.\n\nDue today:\n  - Phone out of the bedroom (Sleep eight hours)\n  - Ten minutes of reading (Read more)\n\n" +
		"Open Tandem: https://tandem.example/\n"
	var sent int64
	var busy time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		params := make([]river.InsertManyParams, burst)
		for j := range params {
			params[j] = river.InsertManyParams{Args: jobs.EmailArgs{Key: jobs.Key("bench", i, j, uuid.Must(uuid.NewV7())),
				To: fmt.Sprintf("client-%d@example.com", j), Subject: "Today: 2 steps due", Text: text}}
		}
		start := time.Now()
		if err := st.Tx(ctx, func(tx *gorm.DB) error {
			_, err := jobs.InsertEmails(ctx, st, tx, params)
			return err
		}); err != nil {
			b.Fatal(err)
		}
		for {
			var n int64
			if err := st.DB.Model(&jobs.DeliveryRow{}).Where("status = ?", jobs.DeliverySent).Count(&n).Error; err != nil {
				b.Fatal(err)
			}
			if n == sent+burst {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		busy += time.Since(start)
		sent += burst
	}
	b.StopTimer()
	if got := mp.Count(b); int64(got) != sent {
		b.Fatalf("mailpit holds %d messages, want %d", got, sent)
	}
	b.ReportMetric(float64(sent)/busy.Seconds(), "mails/s")
}
