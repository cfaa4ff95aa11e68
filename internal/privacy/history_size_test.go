package privacy_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/clock"
	"github.com/tandem-coach/tandem/internal/privacy"
	"github.com/tandem-coach/tandem/internal/store/storetest"
)

// TestHistoryTooLargeForOneBundleIsRefused: a history whose payload would
// pass the import's limit (privacy.MaxBundlePayload) is not issued, with a
// problem that points to the export, rather than signed into a bundle that
// no Tandem would take.
func TestHistoryTooLargeForOneBundleIsRefused(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	// About 440 base64 characters a step: 25,000 steps pass 10,000,000.
	practice, client, _ := seedClient(t, st, 25_000)
	user := uuid.Must(uuid.NewV7())
	now := time.Now().UTC()
	if err := st.DB.Exec(`INSERT INTO users (id, email, name, password_hash, created_at, updated_at) VALUES (?, ?, 'Bench Client', 'x', ?, ?)`,
		user, "client-"+user.String()+"@example.com", now, now).Error; err != nil {
		t.Fatal(err)
	}
	if err := st.DB.Exec(`UPDATE clients SET user_id = ? WHERE id = ?`, user, client).Error; err != nil {
		t.Fatal(err)
	}
	key := privacy.BundleKey{ID: "hb-size", Private: ed25519.NewKeyFromSeed([]byte(strings.Repeat("k", 32)))}
	svc := privacy.NewService(privacy.Config{Store: st, Clock: clock.System{}, BaseURL: "https://tandem.example", BundleKeys: []privacy.BundleKey{key}})
	actor := auth.Actor{UserID: user, PracticeID: practice, Roles: []auth.Role{auth.RoleClient}, ClientID: client,
		EmailVerified: true, AuthTime: now, AuthMethod: auth.MethodPassword}
	if _, err := svc.HistoryBundle(context.Background(), actor); !errors.Is(err, privacy.ErrHistoryTooLarge) {
		t.Fatalf("a history of 25,000 steps: %v, want ErrHistoryTooLarge", err)
	}
	// The same client, with their steps gone, gets a bundle.
	if err := st.DB.Exec(`DELETE FROM action_steps WHERE client_id = ?`, client).Error; err != nil {
		t.Fatal(err)
	}
	if b, err := svc.HistoryBundle(context.Background(), actor); err != nil || b.Payload == "" {
		t.Fatalf("a history of one goal: %v", err)
	}
}
