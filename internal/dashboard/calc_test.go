package dashboard

import (
	"testing"
	"time"

	"github.com/tandem-coach/tandem/internal/date"
)

func TestProgressPercent(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	tests := []struct {
		name                     string
		baseline, target, latest *float64
		open, done               int
		want                     float64
	}{
		{"metric halfway", f(10), f(20), f(15), 3, 9, 50},
		{"metric ignores steps", f(0), f(4), f(1), 0, 10, 25},
		{"metric before any entry", f(10), f(20), nil, 0, 4, 0},
		{"metric aiming down", f(100), f(80), f(95), 0, 0, 25},
		{"metric below baseline clamps to 0", f(100), f(80), f(120), 0, 0, 0},
		{"metric past target clamps to 100", f(0), f(10), f(12), 0, 0, 100},
		{"metric with target at baseline", f(5), f(5), f(5), 0, 0, 0},
		{"steps", nil, nil, nil, 3, 1, 25},
		{"all steps done", nil, nil, nil, 0, 2, 100},
		{"no steps", nil, nil, nil, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := progressPercent(tt.baseline, tt.target, tt.latest, tt.open, tt.done); got != tt.want {
				t.Fatalf("progressPercent = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestOverdueBucketByClientToday(t *testing.T) {
	utcToday := date.Date{Year: 2030, Month: time.March, Day: 10}
	r := stepCountRow{DueBeforeUTCYesterday: 1, DueBeforeUTCToday: 3, DueBeforeUTCTomorrow: 6}
	tests := []struct {
		clientToday date.Date
		want        int
	}{
		{utcToday.AddDays(-1), 1},
		{utcToday, 3},
		{utcToday.AddDays(1), 6},
	}
	for _, tt := range tests {
		if got := r.overdue(tt.clientToday, utcToday); got != tt.want {
			t.Errorf("overdue with client today %s = %d, want %d", tt.clientToday, got, tt.want)
		}
	}
}

func TestDBTimeReadsBothDrivers(t *testing.T) {
	want := time.Date(2030, time.March, 10, 9, 30, 0, 500_000_000, time.UTC)
	for _, src := range []any{
		want.In(time.FixedZone("CET", 3600)),
		"2030-03-10 09:30:00.5+00:00",
		[]byte("2030-03-10 09:30:00.5+00:00"),
		"2030-03-10 10:30:00.5+01:00",
		"2030-03-10T09:30:00.5Z",
		"2030-03-10 09:30:00.5",
	} {
		var got dbTime
		if err := got.Scan(src); err != nil {
			t.Fatalf("Scan(%v): %v", src, err)
		}
		if !got.Valid || !got.Time.Equal(want) || got.Time.Location() != time.UTC {
			t.Errorf("Scan(%v) = %v (valid %v), want %v in UTC", src, got.Time, got.Valid, want)
		}
	}
	var null dbTime
	if err := null.Scan(nil); err != nil || null.Valid || null.ptr() != nil {
		t.Errorf("Scan(nil) = %+v, %v; want an invalid time", null, err)
	}
	var bad dbTime
	if err := bad.Scan("yesterday"); err == nil {
		t.Error("Scan(\"yesterday\") succeeded")
	}
	if err := bad.Scan(42); err == nil {
		t.Error("Scan(42) succeeded")
	}
}
