package date

import (
	"testing"
	"time"
)

func TestParseFormatAndArithmetic(t *testing.T) {
	d, err := Parse("2024-02-28")
	if err != nil {
		t.Fatal(err)
	}
	if got := d.AddDays(1).String(); got != "2024-02-29" {
		t.Fatalf("leap day: %s", got)
	}
	if got := d.AddDays(7).String(); got != "2024-03-06" {
		t.Fatalf("a week later: %s", got)
	}
	if !d.Before(d.AddDays(1)) || d.Before(d) {
		t.Fatal("Before is wrong")
	}
	for _, bad := range []string{"", "2024-2-28", "2024-02-30", "28.02.2024", "2024-02-28T00:00:00Z"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestTodayDependsOnTheZone(t *testing.T) {
	now := time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC)
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	la, _ := time.LoadLocation("America/Los_Angeles")
	if got := Today(now, tokyo).String(); got != "2026-03-02" {
		t.Fatalf("Tokyo today = %s", got)
	}
	if got := Today(now, la).String(); got != "2026-03-01" {
		t.Fatalf("Los Angeles today = %s", got)
	}
}

func TestScan(t *testing.T) {
	var d Date
	for _, src := range []any{"2026-11-29", []byte("2026-11-29"), time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC), "2026-11-29 00:00:00+00:00"} {
		if err := d.Scan(src); err != nil || d.String() != "2026-11-29" {
			t.Errorf("Scan(%v) = %v, %v", src, d, err)
		}
	}
	if err := d.Scan(42); err == nil {
		t.Error("scanned an int")
	}
}

func TestParseKeepsToTheRange(t *testing.T) {
	for _, ok := range []string{"1900-01-01", "2199-12-31", "2026-03-01"} {
		if _, err := Parse(ok); err != nil {
			t.Errorf("Parse(%q): %v", ok, err)
		}
	}
	for _, out := range []string{"0000-01-01", "0001-01-01", "1899-12-31", "2200-01-01", "9999-12-31"} {
		if _, err := Parse(out); err == nil {
			t.Errorf("Parse(%q) accepted a date out of range", out)
		}
	}
	if !Earliest.InRange() || !Latest.InRange() || Earliest.AddDays(-1).InRange() || Latest.AddDays(1).InRange() {
		t.Fatal("InRange is wrong at the edges")
	}
	// A stored date is read back even when it is out of range.
	var d Date
	if err := d.Scan("9999-12-31"); err != nil || d.String() != "9999-12-31" {
		t.Fatalf("Scan of a stored out-of-range date = %v, %v", d, err)
	}
}

func TestBeforeFollowsTheCalendarPastYear9999(t *testing.T) {
	d := Date{9999, time.December, 31}
	if next := d.AddDays(1); !d.Before(next) || next.Before(d) {
		t.Fatalf("%s is not before %s", d, next)
	}
}

func TestValidZone(t *testing.T) {
	for name, want := range map[string]bool{
		"Europe/Berlin": true, " Australia/Sydney ": true, "UTC": true,
		"": false, "   ": false, "Local": false, "Mars/Olympus_Mons": false, "../etc/passwd": false,
	} {
		if _, ok := ValidZone(name); ok != want {
			t.Errorf("ValidZone(%q) = %v, want %v", name, ok, want)
		}
	}
	if got, _ := ValidZone(" Australia/Sydney "); got != "Australia/Sydney" {
		t.Errorf("ValidZone trims to %q", got)
	}
}
