package consent

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/clients"
	"github.com/tandem-coach/tandem/internal/page"
	"github.com/tandem-coach/tandem/internal/reqinfo"
)

// Disclosure is one read a therapist made of a client's data.
type Disclosure struct {
	ID              uuid.UUID
	ClientID        uuid.UUID
	ConsentID       uuid.UUID
	TherapistID     uuid.UUID
	TherapistName   string // as the client named them in the consent
	Classes         Classes
	TemplateVersion int
	Purpose         string
	RequestID       string
	DisclosedAt     time.Time
}

// disclose records, in tx, that the therapist read the given classes of the
// client's data under the grant. Call it in the transaction of the read:
// the read and its record land together or not at all. The database keeps
// disclosures append-only.
func disclose(ctx context.Context, tx *gorm.DB, therapistID uuid.UUID, g Grant, classes Classes, now time.Time) error {
	return tx.Create(&disclosureRow{
		ID: newID(), PracticeID: g.PracticeID, ClientID: g.ClientID, ConsentID: g.ConsentID,
		TherapistUserID: therapistID, DataClasses: classes.encode(), TemplateVersion: g.TemplateVersion,
		Purpose: g.Purpose, RequestID: reqinfo.From(ctx).RequestID,
		// Microseconds: what PostgreSQL keeps.
		CreatedAt: now.Truncate(time.Microsecond),
	}).Error
}

type disclosureListRow struct {
	ID              uuid.UUID
	ClientID        uuid.UUID
	ConsentID       uuid.UUID
	TherapistUserID uuid.UUID
	TherapistName   string
	DataClasses     string
	TemplateVersion int
	Purpose         string
	RequestID       string
	CreatedAt       time.Time
}

// Disclosures lists, oldest first, every read a therapist made of the
// client's data, for the client and the staff who see the client (404 for
// anyone else).
func (s *Service) Disclosures(ctx context.Context, a auth.Actor, clientID uuid.UUID, pr page.Request) ([]Disclosure, *string, error) {
	db := s.c.Store.DB.WithContext(ctx)
	ref, err := clients.Visible(db, a, clientID)
	if err != nil {
		return nil, nil, err
	}
	q := db.Table("disclosures").
		Select("disclosures.id, disclosures.client_id, disclosures.consent_id, disclosures.therapist_user_id, "+
			"consents.therapist_name, disclosures.data_classes, disclosures.template_version, disclosures.purpose, "+
			"disclosures.request_id, disclosures.created_at").
		Joins("JOIN consents ON consents.practice_id = disclosures.practice_id AND consents.id = disclosures.consent_id").
		Where("disclosures.practice_id = ? AND disclosures.client_id = ?", ref.PracticeID, ref.ID)
	if pr.After != uuid.Nil {
		q = q.Where("disclosures.id > ?", pr.After)
	}
	var rows []disclosureListRow
	if err := q.Order("disclosures.id").Limit(pr.Limit + 1).Find(&rows).Error; err != nil {
		return nil, nil, err
	}
	rows, next := page.Trim(rows, pr.Limit, func(r disclosureListRow) uuid.UUID { return r.ID })
	out := make([]Disclosure, len(rows))
	for i, r := range rows {
		out[i] = Disclosure{ID: r.ID, ClientID: r.ClientID, ConsentID: r.ConsentID, TherapistID: r.TherapistUserID,
			TherapistName: r.TherapistName, Classes: decodeClasses(r.DataClasses), TemplateVersion: r.TemplateVersion,
			Purpose: r.Purpose, RequestID: r.RequestID, DisclosedAt: r.CreatedAt.UTC()}
	}
	return out, next, nil
}
