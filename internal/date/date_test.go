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
