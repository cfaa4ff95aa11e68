package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Guard decides which URLs endpoints may have and which addresses a
// delivery may connect to, against server-side request forgery: an
// endpoint must not make Tandem reach its own network. The name is
// resolved when a delivery is sent, and the address checked as the
// connection is made (net.Dialer.Control), so a name that resolves to a
// public address when registered and to a private one later (DNS
// rebinding) is refused too.
type Guard struct {
	// HTTPSOnly refuses http:// endpoints (production).
	HTTPSOnly bool
	// Allow lists the ranges allowed although they are not public: in
	// development the local networks (LocalNetworks), in tests loopback.
	// Production allows none.
	Allow []netip.Prefix
}

// LocalNetworks are loopback and the private ranges (RFC 1918, RFC 4193):
// what a development install may post to. Link-local addresses, where
// cloud metadata services answer, are not among them.
var LocalNetworks = []netip.Prefix{
	netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128"),
	netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"), netip.MustParsePrefix("fc00::/7"),
}

// Loopback is the loopback ranges, which tests allow for a local receiver.
var Loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// specialPurpose are ranges that are not public although Go's address
// predicates do not say so: shared, documentation, benchmarking, reserved
// and translation ranges (which may embed a private IPv4 address).
var specialPurpose = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"), netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"), netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"), netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"), netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("100::/64"), netip.MustParsePrefix("2001:db8::/32"),
	netip.MustParsePrefix("2002::/16"),
}

// ErrRefusedAddress is the error of a delivery to an address the guard refuses.
var ErrRefusedAddress = errors.New("address refused")

// CheckAddr returns nil for an address a delivery may connect to, and an
// error saying why not otherwise.
func (g Guard) CheckAddr(ip netip.Addr) error {
	if kind := g.refusal(ip); kind != "" {
		return fmt.Errorf("%w: %s is a %s address", ErrRefusedAddress, ip.Unmap(), kind)
	}
	return nil
}

// refusal names the kind of address ip is when the guard refuses it, and
// is "" when it allows it.
func (g Guard) refusal(ip netip.Addr) string {
	ip = ip.Unmap()
	for _, p := range g.Allow {
		if p.Contains(ip) {
			return ""
		}
	}
	var kind string
	switch {
	case !ip.IsValid():
		kind = "invalid"
	case ip.IsUnspecified():
		kind = "unspecified"
	case ip.IsLoopback():
		kind = "loopback"
	case ip.IsPrivate():
		kind = "private"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		kind = "link-local"
	case ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		kind = "multicast"
	case !ip.IsGlobalUnicast():
		kind = "non-public"
	}
	if kind == "" {
		for _, p := range specialPurpose {
			if p.Contains(ip) {
				kind = "special-purpose"
				break
			}
		}
	}
	return kind
}

// maxURLChars bounds an endpoint's URL.
const maxURLChars = 2000

// CheckURL checks an endpoint URL as registered: absolute http(s) (https
// only when HTTPSOnly), a host, no credentials and no fragment; a literal
// IP address must pass CheckAddr. Names are checked when resolved, at
// send time. It returns a message for the url field, or "" when it passes.
func (g Guard) CheckURL(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case len(raw) > maxURLChars:
		return fmt.Sprintf("must be at most %d characters", maxURLChars)
	case err != nil || !u.IsAbs() || u.Opaque != "":
		return "must be an absolute URL"
	case g.HTTPSOnly && u.Scheme != "https":
		return "must be an https:// URL"
	case u.Scheme != "https" && u.Scheme != "http":
		return "must be an https:// or http:// URL"
	case u.Hostname() == "":
		return "must name a host"
	case u.User != nil:
		return "must not carry credentials; authenticate deliveries by their signature"
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return "must not have a fragment"
	}
	if ip, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil {
		if kind := g.refusal(ip); kind != "" {
			return "must not point to a " + kind + " address"
		}
	}
	return ""
}

// dialer connects only to addresses CheckAddr allows: the check runs on
// the address about to be connected, after resolution, for every address
// tried.
func (g Guard) dialer(timeout time.Duration) *net.Dialer {
	return &net.Dialer{
		Timeout: timeout,
		Control: func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			ip, err := netip.ParseAddr(host)
			if err != nil {
				return fmt.Errorf("%w: %q is not an IP address", ErrRefusedAddress, host)
			}
			return g.CheckAddr(ip)
		},
	}
}

// dialContext is the dialer as an http.Transport's DialContext.
func (g Guard) dialContext(timeout time.Duration) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return g.dialer(timeout).DialContext
}
