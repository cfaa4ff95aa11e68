package notify

import (
	"testing"
	"time"

	"github.com/tandem-coach/tandem/internal/date"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestDigestFollowsTheLocalHourAcrossDST: the digest comes at the chosen
// local hour on both sides of a DST change, so its UTC instant moves.
func TestDigestFollowsTheLocalHourAcrossDST(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		zone             string
		before, after    string // local dates either side of the change
		utcBefore, utcAt string // the 07:00 digest in UTC, before and after
	}{
		// US clocks go forward on 14 March 2027: 07:00 EST is 12:00 UTC, EDT 11:00.
		{"America/New_York", "2027-03-13", "2027-03-14", "2027-03-13T12:00:00Z", "2027-03-14T11:00:00Z"},
		// EU clocks go back on 31 October 2027: 07:00 CEST is 05:00 UTC, CET 06:00.
		{"Europe/Berlin", "2027-10-30", "2027-10-31", "2027-10-30T05:00:00Z", "2027-10-31T06:00:00Z"},
		// The southern hemisphere goes the other way: Sydney leaves daylight
		// time on 4 April 2027 (07:00 AEDT is 20:00 UTC the day before).
		{"Australia/Sydney", "2027-04-03", "2027-04-04", "2027-04-02T20:00:00Z", "2027-04-03T21:00:00Z"},
		// No DST, 45 minutes off the hour.
		{"Asia/Kathmandu", "2027-03-13", "2027-03-14", "2027-03-13T01:15:00Z", "2027-03-14T01:15:00Z"},
	} {
		t.Run(tc.zone, func(t *testing.T) {
			rec := recipientRow{Timezone: tc.zone}
			utcBefore, _ := time.Parse(time.RFC3339, tc.utcBefore)
			utcAt, _ := time.Parse(time.RFC3339, tc.utcAt)

			// A minute early: not yet, and due at the hour.
			p := planDigest(utcBefore.Add(-time.Minute), scheduleRow{}, rec, Defaults)
			if p.send || !p.schedule.NextAt.Equal(utcBefore) {
				t.Fatalf("a minute early: send=%v next=%v, want next %v", p.send, p.schedule.NextAt, utcBefore)
			}
			// On the hour: sent, for that local date, and next due the day after at 07:00 local.
			p = planDigest(utcBefore, scheduleRow{}, rec, Defaults)
			if !p.send || p.today.String() != tc.before || !p.schedule.NextAt.Equal(utcAt) {
				t.Fatalf("at the hour: send=%v today=%s next=%v, want %s and %v", p.send, p.today, p.schedule.NextAt, tc.before, utcAt)
			}
			if got := p.schedule.NextAt.In(mustZone(t, tc.zone)); got.Hour() != 7 || got.Minute() != 0 {
				t.Fatalf("next digest at %v local", got)
			}
			p = planDigest(utcAt, p.schedule, rec, Defaults)
			if !p.send || p.today.String() != tc.after {
				t.Fatalf("the day after the change: send=%v today=%s", p.send, p.today)
			}
			// Once a day: the same day again sends nothing.
			if again := planDigest(utcAt.Add(time.Hour), p.schedule, rec, Defaults); again.send {
				t.Fatal("a second digest the same day")
			}
		})
	}
}

// TestDigestInQuietHoursWaits: a digest whose hour falls in quiet hours is
// queued to go out when they end, in local time, and a span over midnight
// works either side of it.
func TestDigestInQuietHoursWaits(t *testing.T) {
	t.Parallel()
	rec := recipientRow{Timezone: "America/New_York"}
	prefs := Defaults
	prefs.Quiet = &QuietHours{Start: 22 * 60, End: 8*60 + 30} // 22:00–08:30
	at, _ := time.Parse(time.RFC3339, "2027-03-14T11:00:00Z") // 07:00 EDT
	p := planDigest(at, scheduleRow{}, rec, prefs)
	want, _ := time.Parse(time.RFC3339, "2027-03-14T12:30:00Z") // 08:30 EDT
	if !p.send || !p.sendAt.Equal(want) {
		t.Fatalf("send=%v at %v, want %v", p.send, p.sendAt, want)
	}
	// Outside them: at once.
	prefs.Quiet = &QuietHours{Start: 22 * 60, End: 6 * 60}
	if p := planDigest(at, scheduleRow{}, rec, prefs); !p.sendAt.Equal(at) {
		t.Fatalf("outside quiet hours: at %v", p.sendAt)
	}
	for _, tc := range []struct {
		q      QuietHours
		local  string
		inside bool
	}{
		{QuietHours{22 * 60, 7 * 60}, "23:30", true},
		{QuietHours{22 * 60, 7 * 60}, "06:59", true},
		{QuietHours{22 * 60, 7 * 60}, "07:00", false},
		{QuietHours{22 * 60, 7 * 60}, "21:59", false},
		{QuietHours{13 * 60, 14 * 60}, "13:00", true},
		{QuietHours{13 * 60, 14 * 60}, "14:00", false},
	} {
		tm, _ := time.Parse("15:04", tc.local)
		if got := tc.q.Contains(tm); got != tc.inside {
			t.Errorf("%s in %s–%s: %v", tc.local, FormatMinute(tc.q.Start), FormatMinute(tc.q.End), got)
		}
	}
}

// TestWeeklyBudgetFoldsDigestsIntoTheNextWeek: with a budget of two, the
// digests of Monday and Tuesday go out, the rest of the week's do not, and
// the next Monday's does (its steps, still open, are overdue by then).
func TestWeeklyBudgetFoldsDigestsIntoTheNextWeek(t *testing.T) {
	t.Parallel()
	rec := recipientRow{Timezone: "Asia/Tokyo"}
	prefs := Defaults
	prefs.WeeklyNudgeBudget = 2
	monday, _ := time.Parse(time.RFC3339, "2027-03-07T22:00:00Z") // Monday 8 March, 07:00 JST
	var sch scheduleRow
	var sent []string
	for day := range 8 {
		p := planDigest(monday.AddDate(0, 0, day), sch, rec, prefs)
		sch = p.schedule
		if p.send {
			sch.Nudges++ // as the batch does for a digest with something to say
			sent = append(sent, p.today.String())
		}
	}
	if want := []string{"2027-03-08", "2027-03-09", "2027-03-15"}; len(sent) != len(want) || sent[0] != want[0] || sent[1] != want[1] || sent[2] != want[2] {
		t.Fatalf("digests sent on %v, want %v", sent, want)
	}
	if ws := weekStart(date.Date{Year: 2027, Month: 3, Day: 14}); ws.String() != "2027-03-08" {
		t.Fatalf("the week of Sunday 14 March starts %s", ws)
	}
}

// TestLateDigestIsSkipped: a queue down past DigestGrace skips the
// morning's digest rather than send it in the evening.
func TestLateDigestIsSkipped(t *testing.T) {
	t.Parallel()
	rec := recipientRow{Timezone: "Europe/Berlin"}
	at, _ := time.Parse(time.RFC3339, "2027-06-01T05:00:00Z") // 07:00 CEST
	p := planDigest(at.Add(DigestGrace+time.Minute), scheduleRow{NextAt: at}, rec, Defaults)
	if p.send {
		t.Fatal("a digest sent past its grace")
	}
	if !p.schedule.NextAt.Equal(at.Add(24 * time.Hour)) {
		t.Fatalf("next = %v", p.schedule.NextAt)
	}
}
