package httpapi

import (
	"strings"
	"testing"
)

// TestRefreshCookieFor checks that only plain-http development on a loopback
// host drops the __Host- prefix and Secure, which a browser would refuse there.
func TestRefreshCookieFor(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		baseURL string
		name    string
		secure  bool
	}{
		{"https://tandem.example", "__Host-tandem_refresh", true},
		{"https://127.0.0.1:8443", "__Host-tandem_refresh", true},
		{"http://tandem.example", "__Host-tandem_refresh", true}, // never weaker off loopback
		{"http://127.0.0.1:8080", "tandem_refresh", false},
		{"http://localhost:8080", "tandem_refresh", false},
		{"http://[::1]:8080", "tandem_refresh", false},
	} {
		rc := refreshCookieFor(tc.baseURL)
		if rc.name != tc.name || rc.secure != tc.secure {
			t.Errorf("%s: cookie %s secure=%v, want %s secure=%v", tc.baseURL, rc.name, rc.secure, tc.name, tc.secure)
		}
		set := rc.set("tok")
		for _, attr := range []string{"HttpOnly", "SameSite=Strict", "Path=/"} {
			if !strings.Contains(set, attr) {
				t.Errorf("%s: Set-Cookie %q lacks %s", tc.baseURL, set, attr)
			}
		}
		if strings.Contains(set, "Secure") != tc.secure {
			t.Errorf("%s: Set-Cookie %q, want Secure=%v", tc.baseURL, set, tc.secure)
		}
	}
}
