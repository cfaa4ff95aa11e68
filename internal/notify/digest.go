package notify

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/tandem-coach/tandem/internal/date"
	"github.com/tandem-coach/tandem/internal/jobs"
	"github.com/tandem-coach/tandem/internal/store"
)

// The morning digest tells a client, at the local hour they chose, which
// of their action steps are due today and which are overdue; with nothing
// to say it is not sent. A periodic task (DigestEvery) enqueues the digests
// due, in batches: each batch is one transaction of a constant number of
// statements, whatever its size. digest_schedule holds each client's next
// digest; a batch moves it past the digest it enqueued in the same
// transaction, and each digest's e-mail is keyed by client and local date,
// so a run that is retried, or runs twice, sends nothing twice.

// DigestGrace is how late a digest may still go out: a queue that was
// down for longer skips the morning rather than mail it in the evening.
const DigestGrace = 6 * time.Hour

// digestSteps caps the steps one digest lists; it says how many more wait.
const digestSteps = 20

// scheduleRow is a row of digest_schedule.
type scheduleRow struct {
	UserID    uuid.UUID `gorm:"primaryKey"`
	NextAt    time.Time
	LastDate  *date.Date
	WeekStart *date.Date
	Nudges    int
	UpdatedAt time.Time
}

func (scheduleRow) TableName() string { return "digest_schedule" }

// recipientRow is a portal client who may get a digest: an active client
// record linked to an account.
type recipientRow struct {
	UserID       uuid.UUID
	ClientID     uuid.UUID
	PracticeID   uuid.UUID
	Timezone     string
	Email        string
	Name         string
	PracticeName string
}

// digestStepRow is an open step due on or before the latest local date of
// a batch, with how many such steps its client's account has.
type digestStepRow struct {
	UserID    uuid.UUID
	Title     string
	GoalTitle string
	DueDate   date.Date
	Total     int
}

// DigestStats says what one run of the digest task did.
type DigestStats struct {
	Batches  int // transactions
	Due      int // schedules that came due
	Enqueued int // digests queued
}

// EnqueueDigests queues every digest due now, batch by batch, each batch
// in a transaction of its own.
func (s *Service) EnqueueDigests(ctx context.Context) error {
	_, err := s.RunDigests(ctx)
	return err
}

// RunDigests is EnqueueDigests, reporting what it did.
func (s *Service) RunDigests(ctx context.Context) (DigestStats, error) {
	var stats DigestStats
	now := s.c.Clock.Now()
	if err := s.scheduleNewRecipients(ctx, now); err != nil {
		return stats, fmt.Errorf("digests: schedule new clients: %w", err)
	}
	for {
		due, enqueued, err := s.digestBatch(ctx, now)
		if err != nil {
			return stats, fmt.Errorf("digests: %w", err)
		}
		if due == 0 {
			return stats, nil
		}
		stats.Batches++
		stats.Due += due
		stats.Enqueued += enqueued
		if due < s.c.DigestBatch {
			return stats, nil
		}
	}
}

// scheduleNewRecipients gives every portal client without a schedule one
// that is due now, in one statement: the batch that reads it works out
// their first digest.
func (s *Service) scheduleNewRecipients(ctx context.Context, now time.Time) error {
	at := "?" // PostgreSQL does not infer a parameter's type in a SELECT list
	if s.c.Store.Dialect == store.Postgres {
		at = "CAST(? AS timestamptz)"
	}
	return s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		return tx.Exec(`INSERT INTO digest_schedule (user_id, next_at, nudges, updated_at)
SELECT DISTINCT c.user_id, `+at+`, 0, `+at+` FROM clients c
WHERE c.user_id IS NOT NULL AND c.status = 'active'
  AND NOT EXISTS (SELECT 1 FROM digest_schedule d WHERE d.user_id = c.user_id)
ON CONFLICT (user_id) DO NOTHING`, now, now).Error
	})
}

// digestBatch handles up to DigestBatch due schedules in one transaction
// of six statements: the due schedules, their recipients, their
// preferences, their steps, then one insert of the e-mail jobs and one
// upsert of the schedules. It returns how many were due and how many
// digests it queued.
func (s *Service) digestBatch(ctx context.Context, now time.Time) (int, int, error) {
	var due, enqueued int
	err := s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		var schedules []scheduleRow
		q := tx.Where("next_at <= ?", now).Order("next_at, user_id").Limit(s.c.DigestBatch)
		if s.c.Store.Dialect == store.Postgres {
			// A second run at the same time takes other rows.
			q = q.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
		}
		if err := q.Find(&schedules).Error; err != nil {
			return err
		}
		due = len(schedules)
		if due == 0 {
			return nil
		}
		users := make([]uuid.UUID, len(schedules))
		for i, r := range schedules {
			users[i] = r.UserID
		}

		var recipients []recipientRow
		if err := tx.Table("clients AS c").
			Select("c.user_id, c.id AS client_id, c.practice_id, c.timezone, u.email, u.name, p.name AS practice_name").
			Joins("JOIN users u ON u.id = c.user_id").
			Joins("JOIN practices p ON p.id = c.practice_id").
			Where("c.user_id IN ? AND c.status = 'active'", users).
			Order("c.user_id, c.id").Find(&recipients).Error; err != nil {
			return err
		}
		recipientOf := map[uuid.UUID]recipientRow{}
		for _, r := range recipients {
			if _, seen := recipientOf[r.UserID]; !seen { // the oldest record decides the zone
				recipientOf[r.UserID] = r
			}
		}

		var prefRows []preferencesRow
		if err := tx.Where("user_id IN ?", users).Find(&prefRows).Error; err != nil {
			return err
		}
		prefsOf := map[uuid.UUID]Preferences{}
		for _, r := range prefRows {
			prefsOf[r.UserID] = toPreferences(r)
		}

		// Every step due on or before the latest local date of the batch;
		// each client's own date sorts out the rest below.
		latest := date.Of(now.Add(15 * time.Hour)) // UTC+14 is the earliest zone
		steps, err := loadDigestSteps(tx, users, latest)
		if err != nil {
			return err
		}

		var params []river.InsertManyParams
		next := make([]scheduleRow, 0, len(schedules))
		for _, sch := range schedules {
			rec, ok := recipientOf[sch.UserID]
			if !ok {
				// No active client record any more: look again tomorrow.
				sch.NextAt, sch.UpdatedAt = now.Add(24*time.Hour), now
				next = append(next, sch)
				continue
			}
			prefs, ok := prefsOf[sch.UserID]
			if !ok {
				prefs = Defaults
			}
			d := planDigest(now, sch, rec, prefs)
			sch = d.schedule
			next = append(next, sch)
			if !d.send {
				continue
			}
			msg, ok := s.digestMail(rec, d.today, steps[sch.UserID])
			if !ok {
				continue // nothing due: nothing to say, and no nudge spent
			}
			sch.Nudges++
			next[len(next)-1] = sch
			opts := &river.InsertOpts{}
			if d.sendAt.After(now) {
				opts.ScheduledAt = d.sendAt
			}
			params = append(params, river.InsertManyParams{Args: msg, InsertOpts: opts})
		}
		inserted, err := jobs.InsertEmails(ctx, s.c.Store, tx, params)
		if err != nil {
			return err
		}
		for _, ok := range inserted {
			if ok {
				enqueued++
			}
		}
		return tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "user_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"next_at", "last_date", "week_start", "nudges", "updated_at"}),
		}).Create(&next).Error
	})
	return due, enqueued, err
}

// loadDigestSteps reads, in one statement, the open steps of the users'
// active client records due on or before latest, the earliest first, at
// most digestSteps+2 per user (a user's own today may be a day before
// latest), with each user's total.
func loadDigestSteps(tx *gorm.DB, users []uuid.UUID, latest date.Date) (map[uuid.UUID][]digestStepRow, error) {
	var rows []digestStepRow
	err := tx.Raw(`SELECT user_id, title, goal_title, due_date, total FROM (
  SELECT c.user_id, s.title, g.title AS goal_title, s.due_date,
         ROW_NUMBER() OVER (PARTITION BY c.user_id ORDER BY s.due_date, s.id) AS n,
         COUNT(*) OVER (PARTITION BY c.user_id) AS total
  FROM action_steps s
  JOIN clients c ON c.practice_id = s.practice_id AND c.id = s.client_id
  JOIN goals g ON g.practice_id = s.practice_id AND g.id = s.goal_id
  WHERE c.user_id IN ? AND c.status = 'active' AND s.status = 'open' AND s.due_date <= ?
) ranked WHERE n <= ? ORDER BY user_id, n`, users, latest, digestSteps*2).Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	out := map[uuid.UUID][]digestStepRow{}
	for _, r := range rows {
		out[r.UserID] = append(out[r.UserID], r)
	}
	return out, nil
}

// digestPlan is what to do about one due schedule.
type digestPlan struct {
	send     bool
	today    date.Date // the recipient's local date
	sendAt   time.Time // when the digest may go out (after quiet hours)
	schedule scheduleRow
}

// planDigest decides, for a schedule that came due at now, whether the
// recipient's digest for their local today goes out, when, and when the
// schedule comes due next. The digest is at the chosen hour of the local
// date, whatever the offset that day (a DST change moves the UTC instant,
// not the local hour).
func planDigest(now time.Time, sch scheduleRow, rec recipientRow, p Preferences) digestPlan {
	loc := date.Zone(rec.Timezone)
	local := now.In(loc)
	today := date.Of(local)
	slot := func(d date.Date) time.Time {
		return time.Date(d.Year, d.Month, d.Day, p.DigestHour, 0, 0, 0, loc).UTC()
	}
	plan := digestPlan{today: today, schedule: sch}
	plan.schedule.UpdatedAt = now
	if at := slot(today); now.Before(at) {
		// Too early (a new client, or an hour just changed): wait for it.
		plan.schedule.NextAt = at
		return plan
	}
	plan.schedule.NextAt = slot(today.AddDays(1))
	alreadySent := sch.LastDate != nil && *sch.LastDate == today
	late := now.Sub(slot(today)) > DigestGrace
	if !p.DailyDigest || alreadySent || late {
		return plan
	}
	week := weekStart(today)
	if sch.WeekStart == nil || *sch.WeekStart != week {
		plan.schedule.WeekStart, plan.schedule.Nudges = &week, 0
	}
	plan.schedule.LastDate = &today
	if plan.schedule.Nudges >= p.WeeklyNudgeBudget {
		// Over the week's budget: what is due stays due, and overdue, and
		// the next digest the budget allows lists it.
		return plan
	}
	plan.send, plan.sendAt = true, now
	if p.Quiet != nil && p.Quiet.Contains(local) {
		plan.sendAt = p.Quiet.EndAfter(local).UTC()
	}
	return plan
}

// weekStart is the Monday of d's week.
func weekStart(d date.Date) date.Date {
	wd := int(d.Time(time.UTC).Weekday()) // Sunday = 0
	return d.AddDays(-((wd + 6) % 7))
}

// digestMail renders the digest of steps for today, and false when none
// is due today or overdue.
func (s *Service) digestMail(rec recipientRow, today date.Date, steps []digestStepRow) (jobs.EmailArgs, bool) {
	var dueToday, overdue []digestStepRow
	total := 0
	for _, st := range steps {
		total = st.Total
		switch {
		case st.DueDate == today:
			dueToday = append(dueToday, st)
		case st.DueDate.Before(today):
			overdue = append(overdue, st)
		}
	}
	if len(dueToday)+len(overdue) == 0 {
		return jobs.EmailArgs{}, false
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Good morning, %s.\n\n", rec.Name)
	list := func(heading string, rows []digestStepRow) {
		if len(rows) == 0 {
			return
		}
		fmt.Fprintf(&b, "%s:\n", heading)
		for _, r := range rows {
			fmt.Fprintf(&b, "  - %s (%s", r.Title, r.GoalTitle)
			if r.DueDate != today {
				fmt.Fprintf(&b, ", due %s", r.DueDate)
			}
			b.WriteString(")\n")
		}
		b.WriteString("\n")
	}
	nToday, nOverdue := len(dueToday), len(overdue)
	if len(dueToday) > digestSteps {
		dueToday = dueToday[:digestSteps]
	}
	if room := digestSteps - len(dueToday); len(overdue) > room {
		overdue = overdue[:room]
	}
	list("Due today", dueToday)
	list("Overdue", overdue)
	if total > len(steps) || nToday+nOverdue > len(dueToday)+len(overdue) {
		b.WriteString("More steps are waiting for you in Tandem.\n\n")
	}
	fmt.Fprintf(&b, "Open Tandem: %s/\n\n", s.c.BaseURL)
	fmt.Fprintf(&b, "You receive this digest from %s through Tandem. Choose its hour, or turn it off, in your notification preferences.\n", rec.PracticeName)
	headers, link := s.UnsubscribeHeaders(rec.UserID, KindDailyDigest)
	if link != "" {
		fmt.Fprintf(&b, "Stop these digests: %s\n", link)
	}
	subject := fmt.Sprintf("Today: %d step%s due", nToday, plural(nToday))
	if nOverdue > 0 {
		subject += fmt.Sprintf(", %d overdue", nOverdue)
	}
	return jobs.EmailArgs{
		Key: jobs.Key("digest", rec.UserID, today), To: rec.Email, Subject: subject, Text: b.String(), Headers: headers,
		About: jobs.About{PracticeID: rec.PracticeID, ClientID: rec.ClientID, UserID: rec.UserID},
	}, true
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
