package dashboard

import (
	"testing"
	"time"

	"github.com/tandem-coach/tandem/internal/date"
)

func TestOverdueBucketByClientZone(t *testing.T) {
	utcToday := date.Date{Year: 2030, Month: time.March, Day: 10}
	r := clientRow{DueBeforeUTCYesterday: 1, DueBeforeUTCToday: 3, DueBeforeUTCTomorrow: 6}
	tests := []struct {
		clientToday date.Date
		want        int
	}{
		{utcToday.AddDays(-1), 1},
		{utcToday, 3},
		{utcToday.AddDays(1), 6},
	}
	for _, tt := range tests {
		if got := r.overdue(dayShift(tt.clientToday, utcToday)); got != tt.want {
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
