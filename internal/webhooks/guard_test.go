package webhooks

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestGuardRefusesNonPublicAddresses: what production refuses, and what
// it allows.
func TestGuardRefusesNonPublicAddresses(t *testing.T) {
	strict := Guard{HTTPSOnly: true}
	for _, tt := range []struct {
		addr, kind string // kind "" means allowed
	}{
		{"127.0.0.1", "loopback"}, {"127.8.9.10", "loopback"}, {"::1", "loopback"},
		{"::ffff:127.0.0.1", "loopback"}, {"10.0.0.1", "private"}, {"172.16.5.4", "private"},
		{"192.168.1.1", "private"}, {"fd12:3456::1", "private"}, {"169.254.169.254", "link-local"},
		{"fe80::1", "link-local"}, {"0.0.0.0", "unspecified"}, {"::", "unspecified"},
		{"239.1.2.3", "multicast"}, {"ff0e::1", "multicast"}, {"224.0.0.251", "link-local"}, {"255.255.255.255", "non-public"},
		{"100.64.1.1", "special-purpose"}, {"192.0.2.7", "special-purpose"}, {"64:ff9b::a00:1", "special-purpose"},
		{"2002:a00:1::", "special-purpose"}, {"0.1.2.3", "special-purpose"},
		{"93.184.215.14", ""}, {"8.8.8.8", ""}, {"2606:4700::6810:85e5", ""},
	} {
		err := strict.CheckAddr(netip.MustParseAddr(tt.addr))
		switch {
		case tt.kind == "" && err != nil:
			t.Errorf("%s refused: %v", tt.addr, err)
		case tt.kind != "" && (!errors.Is(err, ErrRefusedAddress) || !strings.Contains(err.Error(), tt.kind)):
			t.Errorf("%s: %v, want a refusal as %s", tt.addr, err, tt.kind)
		}
	}
	tests := Guard{Allow: Loopback}
	if err := tests.CheckAddr(netip.MustParseAddr("127.0.0.1")); err != nil {
		t.Errorf("loopback allowed explicitly: %v", err)
	}
	if err := tests.CheckAddr(netip.MustParseAddr("10.0.0.1")); err == nil {
		t.Error("allowing loopback allowed a private address")
	}
	dev := Guard{Allow: LocalNetworks}
	if err := dev.CheckAddr(netip.MustParseAddr("169.254.169.254")); err == nil {
		t.Error("development allows the cloud metadata address")
	}
}

func TestGuardCheckURL(t *testing.T) {
	strict := Guard{HTTPSOnly: true}
	for _, raw := range []string{"https://hooks.example.com/x", "https://hooks.example.com:8443/x?k=v", "https://[2606:4700::1]/"} {
		if msg := strict.CheckURL(raw); msg != "" {
			t.Errorf("%s: %s", raw, msg)
		}
	}
	for _, raw := range []string{"http://hooks.example.com/", "https://10.0.0.1/", "https://[::1]/", "https://u:p@hooks.example.com/",
		"https:///nohost", "hooks.example.com/x", "https://hooks.example.com/#frag", "mailto:x@example.com"} {
		if msg := strict.CheckURL(raw); msg == "" {
			t.Errorf("%s passes", raw)
		}
	}
	if msg := (Guard{}).CheckURL("http://hooks.example.com/"); msg != "" {
		t.Errorf("http outside production: %s", msg)
	}
}

// TestGuardDialerChecksTheResolvedAddress: the dialer refuses the address
// a name resolves to at connection time, so a name registered while
// public and pointed at a private address later is refused.
func TestGuardDialerChecksTheResolvedAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, host := range []string{"127.0.0.1", "localhost"} {
		_, err := Guard{HTTPSOnly: true}.dialContext(time.Second)(ctx, "tcp", net.JoinHostPort(host, port))
		if !errors.Is(err, ErrRefusedAddress) {
			t.Errorf("dial %s: %v, want a refusal", host, err)
		}
	}
	c, err := Guard{Allow: Loopback}.dialContext(time.Second)(ctx, "tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		t.Fatalf("loopback allowed explicitly: %v", err)
	}
	_ = c.Close()
}

func TestDelayDoublesUpToItsCap(t *testing.T) {
	d := NewDeliverer(DelivererConfig{Backoff: time.Second, MaxBackoff: 10 * time.Second})
	for attempt, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 4: 8 * time.Second, 5: 10 * time.Second, 40: 10 * time.Second} {
		if got := d.delay(attempt); got != want {
			t.Errorf("delay(%d) = %v, want %v", attempt, got, want)
		}
	}
	// The defaults reach three days in about twenty attempts, within River's bound.
	d = NewDeliverer(DelivererConfig{})
	var total time.Duration
	attempts := 1
	for total+d.delay(attempts) <= DefaultRetryWindow {
		total += d.delay(attempts)
		attempts++
	}
	if attempts < 15 || attempts >= maxJobAttempts {
		t.Errorf("%d attempts in three days, want between 15 and %d", attempts, maxJobAttempts)
	}
}
