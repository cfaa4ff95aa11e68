package dashboard

import (
	"maps"
	"slices"
	"testing"
	"time"
)

func TestZoneShifts(t *testing.T) {
	zones := []string{"UTC", "America/Los_Angeles", "Europe/Berlin", "Pacific/Kiritimati", "Not/A_Zone"}
	tests := []struct {
		now  time.Time
		want map[string]int
	}{
		// 00:30 UTC: still yesterday in Los Angeles, today in Berlin.
		{time.Date(2030, time.March, 10, 0, 30, 0, 0, time.UTC),
			map[string]int{"UTC": 0, "America/Los_Angeles": -1, "Europe/Berlin": 0, "Pacific/Kiritimati": 0, "Not/A_Zone": 0}},
		// 12:00 UTC: everyone's today but Kiritimati's, at UTC+14.
		{time.Date(2030, time.March, 10, 12, 0, 0, 0, time.UTC),
			map[string]int{"UTC": 0, "America/Los_Angeles": 0, "Europe/Berlin": 0, "Pacific/Kiritimati": 1, "Not/A_Zone": 0}},
		// 23:30 UTC: already tomorrow in Berlin.
		{time.Date(2030, time.March, 10, 23, 30, 0, 0, time.UTC),
			map[string]int{"UTC": 0, "America/Los_Angeles": 0, "Europe/Berlin": 1, "Pacific/Kiritimati": 1, "Not/A_Zone": 0}},
	}
	for _, tt := range tests {
		if got := zoneShifts(tt.now, zones); !maps.Equal(got, tt.want) {
			t.Errorf("at %s: shifts %v, want %v", tt.now, got, tt.want)
		}
	}
}

func TestOverdueColumnPicksEachZonesBucket(t *testing.T) {
	expr, args := overdueColumn(map[string]int{"A": -1, "B": 0, "C": 1, "D": -1})
	want := "CASE WHEN clients.timezone IN ? THEN COALESCE(o.due_before_utc_yesterday, 0)" +
		" WHEN clients.timezone IN ? THEN COALESCE(o.due_before_utc_tomorrow, 0)" +
		" ELSE COALESCE(o.due_before_utc_today, 0) END"
	if expr != want || len(args) != 2 {
		t.Fatalf("overdueColumn = %q %v, want %q with two lists", expr, args, want)
	}
	behind, ahead := args[0].([]string), args[1].([]string)
	slices.Sort(behind)
	if !slices.Equal(behind, []string{"A", "D"}) || !slices.Equal(ahead, []string{"C"}) {
		t.Errorf("zones behind %v and ahead %v, want [A D] and [C]", behind, ahead)
	}
	if expr, args := overdueColumn(map[string]int{"B": 0}); expr != "COALESCE(o.due_before_utc_today, 0)" || len(args) != 0 {
		t.Errorf("every zone on UTC's day: %q %v", expr, args)
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
