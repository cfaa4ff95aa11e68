package consent

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/clients"
	"github.com/tandem-coach/tandem/internal/goals"
	"github.com/tandem-coach/tandem/internal/page"
	"github.com/tandem-coach/tandem/internal/sessions"
)

// SharedClient is a client who shares data with the calling therapist under
// an active consent.
type SharedClient struct {
	ClientID  uuid.UUID
	Name      string
	ConsentID uuid.UUID
	Classes   Classes
	ExpiresAt time.Time
}

type sharedClientRow struct {
	ConsentID   uuid.UUID
	ClientID    uuid.UUID
	Name        string
	DataClasses string
	ExpiresAt   time.Time
}

// SharedClients lists, by client ID, the clients whose active consent names
// the therapist, each with the newest such consent — the one Check would
// find. No disclosure is written: the list carries the client's name and
// the terms of a consent the therapist is a party to, both of which the
// consent itself already told them, and nothing of the coaching record. A
// disclosure per listed client on every visit would bury the reads that do
// matter in the client's log.
func (s *Service) SharedClients(ctx context.Context, a auth.Actor, pr page.Request) ([]SharedClient, *string, error) {
	now := s.c.Clock.Now().UTC()
	// The list tolerates the read replica's lag; what it leads to, a
	// client's shared view, checks the consent on the primary.
	q := s.c.Store.Lagging(ctx).Table("consents").
		Select("consents.id AS consent_id, consents.client_id, clients.name, consents.data_classes, consents.expires_at").
		Joins("JOIN clients ON clients.practice_id = consents.practice_id AND clients.id = consents.client_id").
		Where("consents.therapist_user_id = ? AND consents.status = ? AND consents.expires_at > ?", a.UserID, StatusActive, now).
		// An archived client's consents are suspended.
		Where("clients.status <> ?", clients.StatusArchived).
		// The newest active consent per client, as Check orders them.
		Where(`NOT EXISTS (SELECT 1 FROM consents newer WHERE newer.therapist_user_id = consents.therapist_user_id
			AND newer.client_id = consents.client_id AND newer.status = ? AND newer.expires_at > ?
			AND (newer.signed_at > consents.signed_at OR (newer.signed_at = consents.signed_at AND newer.id > consents.id)))`,
			StatusActive, now)
	if pr.After != uuid.Nil {
		q = q.Where("consents.client_id > ?", pr.After)
	}
	var rows []sharedClientRow
	if err := q.Order("consents.client_id").Limit(pr.Limit + 1).Find(&rows).Error; err != nil {
		return nil, nil, err
	}
	rows, next := page.Trim(rows, pr.Limit, func(r sharedClientRow) uuid.UUID { return r.ClientID })
	out := make([]SharedClient, len(rows))
	for i, r := range rows {
		out[i] = SharedClient{ClientID: r.ClientID, Name: r.Name, ConsentID: r.ConsentID,
			Classes: decodeClasses(r.DataClasses), ExpiresAt: r.ExpiresAt.UTC()}
	}
	return out, next, nil
}

// progressClasses are the classes the progress view carries, in the order
// it reads them. Coordination notes have their own thread.
var progressClasses = Classes{Goals, ActionSteps, SessionAttendance, SessionSummaries}

// Progress is a client's progress as a consented therapist sees it. A
// class's data is read only when Returned has it; the others stay nil.
type Progress struct {
	Grant     Grant
	Returned  Classes // the classes whose data this view carries
	Goals     []goals.SharedGoal
	Steps     []goals.SharedStep
	Sessions  []sessions.Attendance
	Summaries []sessions.Summary
}

// SharedProgress reads the client's progress for the calling therapist:
// the consent check, the read of exactly the consented classes and the
// disclosure that records it happen in one transaction, so a revocation or
// expiry applies to the very next request and no read goes unrecorded. It
// costs the same few queries however much data the client has.
func (s *Service) SharedProgress(ctx context.Context, a auth.Actor, clientID uuid.UUID) (Progress, error) {
	var p Progress
	err := s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		now := s.c.Clock.Now().UTC()
		g, err := Check(tx, a.UserID, clientID, "", now)
		if err != nil {
			return err
		}
		p = Progress{Grant: g, Returned: Classes{}}
		for _, class := range progressClasses {
			if !g.Classes.Has(class) {
				continue
			}
			if err := p.read(tx, class); err != nil {
				return err
			}
			p.Returned = append(p.Returned, class)
		}
		return disclose(ctx, tx, a.UserID, g, p.Returned, now)
	})
	return p, err
}

// read fills in one class's data.
func (p *Progress) read(tx *gorm.DB, class Class) error {
	practiceID, clientID := p.Grant.PracticeID, p.Grant.ClientID
	var err error
	switch class {
	case Goals:
		p.Goals, err = goals.SharedGoals(tx, practiceID, clientID)
	case ActionSteps:
		p.Steps, err = goals.SharedSteps(tx, practiceID, clientID)
	case SessionAttendance:
		p.Sessions, err = sessions.SharedAttendance(tx, practiceID, clientID)
	case SessionSummaries:
		p.Summaries, err = sessions.SharedSummaries(tx, practiceID, clientID)
	}
	return err
}
