package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tandem-coach/tandem/api"
	"github.com/tandem-coach/tandem/internal/date"
	"github.com/tandem-coach/tandem/internal/goals"
)

// generatedStepList is what the generated handler would send for a page of
// steps: the reference stepListResponse must match byte for byte.
func generatedStepList(t testing.TB, steps []goals.Step, next *string) []byte {
	t.Helper()
	out := api.ActionStepList{Items: make([]api.ActionStep, len(steps)), NextCursor: nullableOf(next)}
	for i, s := range steps {
		out.Items[i] = toAPIStep(s)
	}
	rec := httptest.NewRecorder()
	if err := api.ListClientActionSteps200JSONResponse(out).VisitListClientActionStepsResponse(rec); err != nil {
		t.Fatal(err)
	}
	return rec.Body.Bytes()
}

func handEncodedStepList(t testing.TB, steps []goals.Step, next *string) []byte {
	t.Helper()
	rec := httptest.NewRecorder()
	if err := (stepListResponse{steps: steps, next: next}).VisitListClientActionStepsResponse(rec); err != nil {
		t.Fatal(err)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" || rec.Code != 200 {
		t.Fatalf("status %d, Content-Type %q", rec.Code, ct)
	}
	return rec.Body.Bytes()
}

func sampleStep(title, details, reflection string, withOptional bool, at time.Time) goals.Step {
	s := goals.Step{ID: uuid.Must(uuid.NewV7()), GoalID: uuid.Must(uuid.NewV7()), ClientID: uuid.Must(uuid.NewV7()),
		Title: title, Recurrence: goals.RecurWeekly, Status: goals.StepOpen, Overdue: withOptional, Version: 3,
		CreatedAt: at, UpdatedAt: at.Add(1500 * time.Millisecond)}
	if withOptional {
		due, next, done := date.Of(at), uuid.Must(uuid.NewV7()), at.Add(time.Hour+7*time.Nanosecond)
		s.Details, s.Reflection, s.DueDate, s.NextOccurrenceID, s.CompletedAt = &details, &reflection, &due, &next, &done
	}
	return s
}

// TestStepListJSONMatchesEncodingJSON: the hand encoding of a page of
// steps is the generated handler's, byte for byte, for text that needs
// every kind of escaping, absent optional fields and times with and without
// fractions of a second and offsets.
func TestStepListJSONMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	berlin := time.FixedZone("CET", 3600)
	cursor := "djE6MDE5MGE2YzQtNWEzZS03YjJjLTlkMWUtMmYzYTRiNWM2ZDdl"
	cases := map[string]struct {
		steps []goals.Step
		next  *string
	}{
		"empty":   {nil, nil},
		"minimal": {[]goals.Step{sampleStep("Walk", "", "", false, time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))}, nil},
		"full": {[]goals.Step{
			sampleStep(`Say "no" <kindly> & mean it`, "Tab\there\nand\r\b\f\x00\x1f", "Line\u2028sep\u2029para \xff\xfe é 🌱", true,
				time.Date(2026, 3, 1, 9, 0, 0, 123456789, time.UTC)),
			sampleStep("Second", `back\slash`, "", true, time.Date(2199, 12, 31, 23, 59, 59, 0, berlin)),
		}, &cursor},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			want, got := generatedStepList(t, c.steps, c.next), handEncodedStepList(t, c.steps, c.next)
			if !bytes.Equal(got, want) {
				t.Fatalf("hand encoding differs:\n got %s\nwant %s", got, want)
			}
			if !json.Valid(got) {
				t.Fatal("not valid JSON")
			}
		})
	}
}

// FuzzStepListJSON holds the hand encoding to encoding/json's for any text.
func FuzzStepListJSON(f *testing.F) {
	f.Add("Walk", "details", "reflection", true, int64(0))
	f.Add(`<a href="x">&amp;</a>`, "\u2028\u2029", "\xff", false, int64(999999999))
	f.Add("\x00\x01\x7f", "ü€😀", "\\\"", true, int64(1))
	f.Fuzz(func(t *testing.T, title, details, reflection string, optional bool, nanos int64) {
		at := time.Date(2026, 5, 17, 8, 30, 0, int(uint64(nanos)%1e9), time.UTC)
		steps := []goals.Step{sampleStep(title, details, reflection, optional, at)}
		if want, got := generatedStepList(t, steps, &title), handEncodedStepList(t, steps, &title); !bytes.Equal(got, want) {
			t.Fatalf("hand encoding differs:\n got %q\nwant %q", got, want)
		}
	})
}
