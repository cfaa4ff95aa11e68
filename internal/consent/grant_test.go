package consent

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tandem-coach/tandem/internal/apperr"
)

// onlyField fails unless f holds exactly one error, for field.
func onlyField(t *testing.T, f apperr.Fields, field string) {
	t.Helper()
	if len(f) != 1 || f[0].Field != field {
		t.Fatalf("field errors = %+v, want exactly one, for %s", f, field)
	}
}

func TestCheckClasses(t *testing.T) {
	for _, tt := range []struct {
		name string
		raw  []string
		want Classes // nil: refused
	}{
		{"one", []string{"goals"}, Classes{Goals}},
		{"every class", []string{"coordination_notes", "session_summaries", "session_attendance", "action_steps", "goals"},
			Classes{CoordinationNotes, SessionSummaries, SessionAttendance, ActionSteps, Goals}},
		{"none", nil, nil},
		{"empty", []string{}, nil},
		{"unknown", []string{"goals", "billing"}, nil},
		{"private notes are no class", []string{"private_notes"}, nil},
		{"case matters", []string{"Goals"}, nil},
		{"duplicate", []string{"goals", "action_steps", "goals"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var f apperr.Fields
			got := checkClasses(tt.raw, &f)
			if tt.want == nil {
				onlyField(t, f, "data_classes")
				return
			}
			if len(f) != 0 || !slices.Equal(got, tt.want) {
				t.Fatalf("checkClasses = %v, %+v; want %v", got, f, tt.want)
			}
		})
	}
	if got := (Classes{SessionSummaries, Goals, ActionSteps}).encode(); got != "action_steps,goals,session_summaries" {
		t.Fatalf("encode = %q, want sorted", got)
	}
}

func TestCheckExpiry(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name string
		at   time.Time
		ok   bool
	}{
		{"missing", time.Time{}, false},
		{"past", now.Add(-time.Second), false},
		{"now", now, false},
		{"a second ahead", now.Add(time.Second), true},
		{"the longest period", LatestExpiry(now), true},
		{"past the longest period", LatestExpiry(now).Add(time.Second), false},
		{"366 days across a common year", now.AddDate(0, 0, 366), false},
		{"another zone", now.Add(24 * time.Hour).In(time.FixedZone("", -5*3600)), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var f apperr.Fields
			got := checkExpiry(tt.at, now, &f)
			if !tt.ok {
				onlyField(t, f, "expires_at")
				return
			}
			if len(f) != 0 || !got.Equal(tt.at) || got.Location() != time.UTC {
				t.Fatalf("checkExpiry = %v, %+v; want %v in UTC", got, f, tt.at)
			}
		})
	}
}

func TestCheckSignature(t *testing.T) {
	const recorded = "Ada  Lovelace"
	for _, tt := range []struct {
		name string
		raw  *string
		ok   bool
	}{
		{"exact", ptr("Ada Lovelace"), true},
		{"case and spacing differ", ptr("  ada   LOVELACE "), true},
		{"missing", nil, false},
		{"blank", ptr("   "), false},
		{"another name", ptr("Ada Byron"), false},
		{"part of the name", ptr("Ada"), false},
		{"words run together", ptr("AdaLovelace"), false},
		{"two lines", ptr("Ada\nLovelace"), false},
		{"too long", ptr(strings.Repeat("a", 201)), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var f apperr.Fields
			got := checkSignature(tt.raw, recorded, &f)
			if !tt.ok {
				onlyField(t, f, "signature_name")
				return
			}
			if len(f) != 0 || got != strings.TrimSpace(*tt.raw) {
				t.Fatalf("checkSignature = %q, %+v", got, f)
			}
		})
	}
}

func TestEffectiveStatus(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		stored  string
		expires time.Time
		want    string
	}{
		{StatusActive, now.Add(time.Second), StatusActive},
		{StatusActive, now, StatusExpired},
		{StatusPending, now.Add(-time.Hour), StatusExpired},
		{StatusRevoked, now.Add(-time.Hour), StatusRevoked},
		{StatusDeclined, now.Add(-time.Hour), StatusDeclined},
		{StatusRequested, now.Add(-time.Hour), StatusRequested},
	} {
		if got := effectiveStatus(consentRow{Status: tt.stored, ExpiresAt: tt.expires}, now); got != tt.want {
			t.Errorf("effectiveStatus(%s, expires %v) = %s, want %s", tt.stored, tt.expires.Sub(now), got, tt.want)
		}
	}
}

// TestCoachMailsCarryNoPurpose checks the e-mails about a consent name the
// parties and the classes, and never the purpose the client wrote.
func TestCoachMailsCarryNoPurpose(t *testing.T) {
	p := Parties{ClientName: "Ada", PracticeName: "Calm Coaching", CoachName: "Cleo", CurrentCoachName: "Cleo", CurrentCoachEmail: "cleo@example.com"}
	c := Consent{Status: StatusPending, TherapistName: "Thea", TherapistEmail: "thea@example.com", Classes: Classes{Goals},
		Purpose: "a private reason", ExpiresAt: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)}
	for _, m := range []struct {
		name string
		to   string
		text string
	}{
		{"signed", p.CurrentCoachEmail, signedMail(p, c, true).Text},
		{"activated", p.CurrentCoachEmail, activatedMail(p, c).Text},
		{"revoked", p.CurrentCoachEmail, revokedMail(p, c).Text},
		{"declined", p.CurrentCoachEmail, declinedMail(p, c).Text},
		{"invitation", c.TherapistEmail, invitationMail(p, c, "https://tandem.example/accept#token=x", c.ExpiresAt).Text},
	} {
		if strings.Contains(m.text, c.Purpose) || !strings.Contains(m.text, "Ada") || !strings.Contains(m.text, "Thea") {
			t.Errorf("%s mail names the purpose or misses a party:\n%s", m.name, m.text)
		}
	}
	if s := signedMail(p, c, true).Text; !strings.Contains(s, "replaces") || !strings.Contains(s, "goals and their progress") {
		t.Errorf("signed mail does not say it replaces a consent, or what it shares:\n%s", s)
	}
}
