package sessions

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/audit"
	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/clients"
)

// FeedPath is where calendar feeds are served; the token and ".ics" follow.
const FeedPath = "/api/v1/calendar/"

// FeedHistory is how far back a feed reaches: calendars keep recent
// sessions visible, and the feed stays small however long a coach works.
const FeedHistory = 90 * 24 * time.Hour

// maxFeedEvents bounds one feed's size; far more than a year of sessions.
const maxFeedEvents = 5000

// errFeedNotFound answers an unknown, revoked or orphaned feed alike.
var errFeedNotFound = apperr.New(apperr.NotFound, "Calendar feed not found.")

// RegenerateFeed creates the actor's calendar feed for their practice and
// returns its URL. The URL's token is the credential, so only its hash is
// stored, and any earlier feed of the actor in the practice stops working.
func (s *Service) RegenerateFeed(ctx context.Context, a auth.Actor) (string, error) {
	if !a.IsStaff() && !a.IsClient() {
		return "", apperr.New(apperr.Forbidden, "Only members of a practice have a calendar feed.")
	}
	token, hash := auth.NewOpaqueToken()
	err := s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		now := s.c.Clock.Now()
		if err := tx.Model(&feedRow{}).Where("practice_id = ? AND user_id = ? AND revoked_at IS NULL", a.PracticeID, a.UserID).
			Update("revoked_at", now).Error; err != nil {
			return err
		}
		f := feedRow{ID: newID(), PracticeID: a.PracticeID, UserID: a.UserID, TokenHash: hash, CreatedAt: now}
		if err := tx.Create(&f).Error; err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{PracticeID: a.PracticeID, Actor: a.UserID, Action: "calendar_feed.created",
			RecordType: "calendar_feed", RecordID: f.ID, At: now})
	})
	if err != nil {
		return "", err
	}
	return s.c.BaseURL + FeedPath + token + ".ics", nil
}

// Feed renders the calendar behind a feed name ("<token>.ics"): the
// sessions of the feed's owner from FeedHistory ago onwards — a coach's (and
// the owner's) sessions as the coach, a client's own. The owner must still
// be a member of the practice (an archived client is not). Times, status,
// the other party's name and the location only: never the agenda, the
// shared summary or the private note.
func (s *Service) Feed(ctx context.Context, feed string) ([]byte, error) {
	token, ok := strings.CutSuffix(feed, ".ics")
	if !ok || len(token) != 43 {
		return nil, errFeedNotFound
	}
	db := s.c.Store.DB.WithContext(ctx)
	var f feedRow
	err := db.Where("token_hash = ? AND revoked_at IS NULL", auth.HashOpaqueToken(token)).Take(&f).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errFeedNotFound
	}
	if err != nil {
		return nil, err
	}
	owner, err := feedOwner(db, f)
	if err != nil {
		return nil, err
	}
	now := s.c.Clock.Now()
	q := visible(db, owner).
		Joins("JOIN users coach ON coach.id = coaching_sessions.coach_id").
		Where("coaching_sessions.starts_at >= ?", now.Add(-FeedHistory).UTC())
	if owner.IsStaff() {
		q = q.Where("coaching_sessions.coach_id = ?", owner.UserID)
	}
	var rows []feedEventRow
	if err := q.Select("coaching_sessions.id, coaching_sessions.starts_at, coaching_sessions.ends_at, coaching_sessions.location, " +
		"coaching_sessions.status, coaching_sessions.version, coaching_sessions.updated_at, " +
		"clients.name AS client_name, coach.name AS coach_name").
		Order("coaching_sessions.starts_at, coaching_sessions.id").Limit(maxFeedEvents).Find(&rows).Error; err != nil {
		return nil, err
	}
	cal := Calendar{Name: "Tandem coaching sessions", Stamp: now}
	for _, r := range rows {
		with := r.ClientName
		if !owner.IsStaff() {
			with = r.CoachName
		}
		cal.Events = append(cal.Events, Event{
			UID: r.ID.String() + "@tandem", Start: r.StartsAt, End: r.EndsAt,
			Summary: "Coaching session with " + with, Location: r.Location,
			Cancelled: r.Status == StatusCancelled, Sequence: r.Version - 1, Modified: r.UpdatedAt,
		})
	}
	return cal.Render(), nil
}

type feedEventRow struct {
	ID         uuid.UUID
	StartsAt   time.Time
	EndsAt     time.Time
	Location   *string
	Status     string
	Version    int64
	UpdatedAt  time.Time
	ClientName string
	CoachName  string
}

// feedOwner is the actor a feed reads as, loaded afresh like a signed-in
// user: their staff roles in the feed's practice, or else the client record
// their portal account is linked to, unless it is archived.
func feedOwner(db *gorm.DB, f feedRow) (auth.Actor, error) {
	a := auth.Actor{UserID: f.UserID, PracticeID: f.PracticeID}
	var roles []string
	if err := db.Table("memberships").Where("practice_id = ? AND user_id = ?", f.PracticeID, f.UserID).
		Pluck("role", &roles).Error; err != nil {
		return auth.Actor{}, err
	}
	for _, r := range roles {
		a.Roles = append(a.Roles, auth.Role(r))
	}
	if a.IsStaff() {
		return a, nil
	}
	var ids []uuid.UUID
	if err := db.Table("clients").Where("practice_id = ? AND user_id = ? AND status <> ?", f.PracticeID, f.UserID, clients.StatusArchived).
		Limit(1).Pluck("id", &ids).Error; err != nil {
		return auth.Actor{}, err
	}
	if len(ids) == 0 {
		return auth.Actor{}, errFeedNotFound
	}
	a.Roles, a.ClientID = []auth.Role{auth.RoleClient}, ids[0]
	return a, nil
}
