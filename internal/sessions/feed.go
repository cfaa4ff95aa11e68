package sessions

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
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

// feedName is what calendar apps call a subscribed feed. It holds none of
// the characters TEXT escapes (backslash, comma, semicolon): ical.js, like
// other parsers, reads an X- property such as X-WR-CALNAME unescaped.
const feedName = "Tandem coaching sessions"

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

// FeedDocument is a rendered calendar feed and the validators HTTP
// conditional requests compare (RFC 9110 §8.8).
type FeedDocument struct {
	Body []byte
	// ETag is a strong entity tag derived from Body: it changes exactly when
	// a byte of the feed does, including when a session leaves the feed.
	ETag string
	// LastModified is the newest change among the feed's events, the names
	// they show, and the feed itself, to the second (an HTTP-date's
	// precision). It cannot see a session leave the feed (falling out of
	// FeedHistory, or its client archived or reassigned); If-None-Match,
	// which takes precedence over If-Modified-Since, does.
	LastModified time.Time
}

// Feed renders the calendar behind a feed name ("<token>.ics"): the
// sessions of the feed's owner from FeedHistory ago onwards — a coach's (and
// the owner's) sessions as the coach, a client's own. The owner must still
// be a member of the practice (an archived client is not). Times, status,
// the other party's name and the location only: never the agenda, the
// shared summary or the private note. Nothing in it depends on when it is
// rendered, so an unchanged feed is byte-identical from one request to the
// next.
func (s *Service) Feed(ctx context.Context, feed string) (FeedDocument, error) {
	token, ok := strings.CutSuffix(feed, ".ics")
	if !ok || len(token) != 43 {
		return FeedDocument{}, errFeedNotFound
	}
	// A calendar app polls the feed: it tolerates the read replica's lag.
	db := s.c.Store.Lagging(ctx)
	var f feedRow
	err := db.Where("token_hash = ? AND revoked_at IS NULL", auth.HashOpaqueToken(token)).Take(&f).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return FeedDocument{}, errFeedNotFound
	}
	if err != nil {
		return FeedDocument{}, err
	}
	owner, err := feedOwner(db, f)
	if err != nil {
		return FeedDocument{}, err
	}
	q := visible(db, owner).
		Joins("JOIN users coach ON coach.id = coaching_sessions.coach_id").
		Where("coaching_sessions.starts_at >= ?", s.c.Clock.Now().Add(-FeedHistory).UTC())
	if owner.IsStaff() {
		q = q.Where("coaching_sessions.coach_id = ?", owner.UserID)
	}
	var rows []feedEventRow
	if err := q.Select("coaching_sessions.id, coaching_sessions.starts_at, coaching_sessions.ends_at, coaching_sessions.location, " +
		"coaching_sessions.status, coaching_sessions.version, coaching_sessions.updated_at, " +
		"clients.name AS client_name, clients.updated_at AS client_updated_at, coach.name AS coach_name").
		Order("coaching_sessions.starts_at, coaching_sessions.id").Limit(maxFeedEvents).Find(&rows).Error; err != nil {
		return FeedDocument{}, err
	}
	cal := Calendar{Name: feedName}
	lastModified := f.CreatedAt
	for _, r := range rows {
		with := r.ClientName
		if owner.IsStaff() {
			// A renamed client renames the event without changing the session.
			lastModified = latest(lastModified, r.ClientUpdatedAt)
		} else {
			// A coach's name cannot change; their account's updated_at moves
			// with password and MFA changes, which are no client's business.
			with = r.CoachName
		}
		lastModified = latest(lastModified, r.UpdatedAt)
		cal.Events = append(cal.Events, Event{
			UID: r.ID.String() + "@tandem", Start: r.StartsAt, End: r.EndsAt,
			Summary: "Coaching session with " + with, Location: r.Location,
			Cancelled: r.Status == StatusCancelled, Sequence: r.Version - 1, Modified: r.UpdatedAt,
		})
	}
	body := cal.Render()
	sum := sha256.Sum256(body)
	return FeedDocument{
		Body:         body,
		ETag:         `"` + base64.RawURLEncoding.EncodeToString(sum[:]) + `"`,
		LastModified: lastModified.UTC().Truncate(time.Second),
	}, nil
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

type feedEventRow struct {
	ID              uuid.UUID
	StartsAt        time.Time
	EndsAt          time.Time
	Location        *string
	Status          string
	Version         int64
	UpdatedAt       time.Time
	ClientName      string
	ClientUpdatedAt time.Time
	CoachName       string
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
