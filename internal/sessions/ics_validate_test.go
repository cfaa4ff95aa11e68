package sessions

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"

	"github.com/tandem-coach/tandem/tools/validators"
)

// validationCalendars are calendars that exercise what rendering must get
// right: escaping, folding of multi-octet text, cancelled events, events
// without a location, and none at all.
func validationCalendars() map[string]Calendar {
	changed := time.Date(2026, 3, 1, 12, 0, 7, 0, time.FixedZone("", 3600))
	start := time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC)
	loc := "Room 4; 2nd floor, Main St\\Annex\nring twice"
	long := "https://zoom.example/j/1234567890?pwd=" + strings.Repeat("aBc9", 30)
	return map[string]Calendar{
		"sessions": {Name: feedName, Events: []Event{
			{UID: "0190-a@tandem", Start: start, End: start.Add(50 * time.Minute), Summary: "Coaching session with Zoë Ünal, Jr.",
				Location: &loc, Sequence: 3, Modified: changed},
			{UID: "0190-b@tandem", Start: start.Add(24 * time.Hour), End: start.Add(25 * time.Hour),
				Summary: "Coaching session with " + strings.Repeat("日本語 🙂 ", 12), Location: &long, Modified: changed.Add(time.Hour)},
			{UID: "0190-c@tandem", Start: start.Add(48 * time.Hour), End: start.Add(49 * time.Hour), Summary: "Coaching session with Ben",
				Cancelled: true, Sequence: 1, Modified: changed.Add(2 * time.Hour)},
		}},
		"empty": {Name: feedName},
	}
}

// TestRenderParsesWithGoICal reads rendered calendars back with
// github.com/emersion/go-ical, whose decoder is strict about content lines,
// folding and component nesting, and re-encodes them, which checks each
// event has exactly one UID and DTSTAMP and at most one of every other
// property RFC 5545 allows once. Every value must read back as written.
func TestRenderParsesWithGoICal(t *testing.T) {
	for name, cal := range validationCalendars() {
		t.Run(name, func(t *testing.T) {
			doc := cal.Render()
			parsed, err := ical.NewDecoder(bytes.NewReader(doc)).Decode()
			if err != nil {
				t.Fatalf("go-ical cannot decode the calendar: %v\n%s", err, doc)
			}
			for prop, want := range map[string]string{ical.PropVersion: "2.0", ical.PropProductID: icsProductID,
				ical.PropCalendarScale: "GREGORIAN", ical.PropMethod: "PUBLISH"} {
				if got, err := parsed.Props.Text(prop); err != nil || got != want {
					t.Errorf("%s = %q, %v; want %q", prop, got, err, want)
				}
			}
			if got, _ := parsed.Props.Text("X-WR-CALNAME"); got != cal.Name {
				t.Errorf("X-WR-CALNAME = %q, want %q", got, cal.Name)
			}
			events := parsed.Events()
			if len(events) != len(cal.Events) {
				t.Fatalf("%d events, want %d", len(events), len(cal.Events))
			}
			// RFC 5545 wants at least one component in a calendar, so the
			// encoder refuses an empty one; calendar apps take an empty feed.
			if len(events) > 0 {
				if err := ical.NewEncoder(new(bytes.Buffer)).Encode(parsed); err != nil {
					t.Fatalf("go-ical finds the calendar malformed: %v", err)
				}
			}
			for i, ev := range events {
				want := cal.Events[i]
				text := func(prop string) string {
					t.Helper()
					v, err := ev.Props.Text(prop)
					if err != nil {
						t.Fatalf("%s: %v", prop, err)
					}
					return v
				}
				instant := func(prop string) time.Time {
					t.Helper()
					p := ev.Props.Get(prop)
					if p == nil || !strings.HasSuffix(p.Value, "Z") {
						t.Fatalf("%s is %v, want a UTC DATE-TIME", prop, p)
					}
					v, err := p.DateTime(time.UTC)
					if err != nil {
						t.Fatalf("%s: %v", prop, err)
					}
					return v
				}
				status, err := ev.Status()
				if err != nil {
					t.Fatal(err)
				}
				wantStatus, wantTransp := ical.EventConfirmed, "OPAQUE"
				if want.Cancelled {
					wantStatus, wantTransp = ical.EventCancelled, "TRANSPARENT"
				}
				wantLocation := ""
				if want.Location != nil {
					wantLocation = *want.Location
				}
				switch {
				case text(ical.PropUID) != want.UID:
					t.Errorf("event %d: UID %q", i, text(ical.PropUID))
				case !instant(ical.PropDateTimeStart).Equal(want.Start) || !instant(ical.PropDateTimeEnd).Equal(want.End):
					t.Errorf("event %d: DTSTART %v, DTEND %v; want %v, %v", i, instant(ical.PropDateTimeStart),
						instant(ical.PropDateTimeEnd), want.Start, want.End)
				case !instant(ical.PropDateTimeStamp).Equal(want.Modified) || !instant(ical.PropLastModified).Equal(want.Modified):
					t.Errorf("event %d: DTSTAMP %v, LAST-MODIFIED %v; want the session's last change %v", i,
						instant(ical.PropDateTimeStamp), instant(ical.PropLastModified), want.Modified)
				case text(ical.PropSummary) != want.Summary:
					t.Errorf("event %d: SUMMARY %q, want %q", i, text(ical.PropSummary), want.Summary)
				case text(ical.PropLocation) != wantLocation:
					t.Errorf("event %d: LOCATION %q, want %q", i, text(ical.PropLocation), wantLocation)
				case status != wantStatus || text(ical.PropTransparency) != wantTransp:
					t.Errorf("event %d: STATUS %s, TRANSP %s; want %s, %s", i, status, text(ical.PropTransparency), wantStatus, wantTransp)
				}
			}
		})
	}
}

// TestRenderParsesWithICalJS reads rendered calendars back with ical.js
// (npm), the parser behind many web calendar clients, through
// tools/validators/ical-parse.mjs. Every value must read back as written.
func TestRenderParsesWithICalJS(t *testing.T) {
	jcal := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }
	for name, cal := range validationCalendars() {
		t.Run(name, func(t *testing.T) {
			got := validators.ICal(t, cal.Render())
			if got.Version != "2.0" || got.ProdID != icsProductID || got.CalScale == nil || *got.CalScale != "GREGORIAN" ||
				got.Method == nil || *got.Method != "PUBLISH" || got.Name == nil || *got.Name != cal.Name {
				t.Fatalf("calendar = %+v", got)
			}
			if len(got.Events) != len(cal.Events) {
				t.Fatalf("%d events, want %d", len(got.Events), len(cal.Events))
			}
			for i, ev := range got.Events {
				want := cal.Events[i]
				wantStatus, wantTransp := "CONFIRMED", "OPAQUE"
				if want.Cancelled {
					wantStatus, wantTransp = "CANCELLED", "TRANSPARENT"
				}
				switch {
				case ev.UID != want.UID:
					t.Errorf("event %d: UID %q", i, ev.UID)
				case ev.Start != jcal(want.Start) || ev.End == nil || *ev.End != jcal(want.End) ||
					ev.StartUnix != want.Start.Unix() || ev.EndUnix != want.End.Unix():
					t.Errorf("event %d: start %s (%d), end %v (%d); want %s, %s", i, ev.Start, ev.StartUnix, ev.End, ev.EndUnix,
						jcal(want.Start), jcal(want.End))
				case ev.DTStamp != jcal(want.Modified) || ev.LastModified == nil || *ev.LastModified != jcal(want.Modified):
					t.Errorf("event %d: DTSTAMP %s, LAST-MODIFIED %v; want %s", i, ev.DTStamp, ev.LastModified, jcal(want.Modified))
				case ev.Sequence == nil || *ev.Sequence != want.Sequence:
					t.Errorf("event %d: SEQUENCE %v, want %d", i, ev.Sequence, want.Sequence)
				case ev.Summary == nil || *ev.Summary != want.Summary:
					t.Errorf("event %d: SUMMARY %v, want %q", i, ev.Summary, want.Summary)
				case (ev.Location == nil) != (want.Location == nil) || want.Location != nil && *ev.Location != *want.Location:
					t.Errorf("event %d: LOCATION %v, want %v", i, ev.Location, want.Location)
				case ev.Status == nil || *ev.Status != wantStatus || ev.Transp == nil || *ev.Transp != wantTransp:
					t.Errorf("event %d: STATUS %v, TRANSP %v; want %s, %s", i, ev.Status, ev.Transp, wantStatus, wantTransp)
				}
			}
		})
	}
}
