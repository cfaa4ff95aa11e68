package httpapi

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/tandem-coach/tandem/api"
	"github.com/tandem-coach/tandem/internal/page"
	"github.com/tandem-coach/tandem/internal/patch"
	"github.com/tandem-coach/tandem/internal/sessions"
)

func toAPISession(s sessions.Session) api.Session {
	return api.Session{
		Id: s.ID, ClientId: s.ClientID, CoachId: s.CoachID,
		StartsAt: s.StartsAt, EndsAt: s.EndsAt, DurationMinutes: s.DurationMinutes,
		Location: nullableOf(s.Location), Agenda: nullableOf(s.Agenda),
		Status: api.SessionStatus(s.Status), Summary: nullableOf(s.Summary),
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
	}
}

func toAPISessionList(list []sessions.Session, next *string) api.SessionList {
	out := api.SessionList{Items: make([]api.Session, len(list)), NextCursor: nullableOf(next)}
	for i, s := range list {
		out.Items[i] = toAPISession(s)
	}
	return out
}

func toAPIPrivateNote(n sessions.PrivateNote) api.PrivateNote {
	return api.PrivateNote{Body: n.Body, UpdatedAt: nullableOf(n.UpdatedAt)}
}

// ListClientSessions lists a client's sessions by start time.
func (s *Server) ListClientSessions(ctx context.Context, r api.ListClientSessionsRequestObject) (api.ListClientSessionsResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	pr, err := page.ParseTimed(r.Params.Limit, r.Params.Cursor)
	if err != nil {
		return nil, err
	}
	list, next, err := s.sessions.ListForClient(ctx, actor, r.ClientId, pr)
	if err != nil {
		return nil, err
	}
	return api.ListClientSessions200JSONResponse(toAPISessionList(list, next)), nil
}

// ScheduleSession books a session with a client.
func (s *Server) ScheduleSession(ctx context.Context, r api.ScheduleSessionRequestObject) (api.ScheduleSessionResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	sess, err := s.sessions.Schedule(ctx, actor, r.ClientId, sessions.NewSession{
		StartsAt: r.Body.StartsAt, DurationMinutes: r.Body.DurationMinutes, Location: r.Body.Location, Agenda: r.Body.Agenda,
	})
	if err != nil {
		return nil, err
	}
	etag := sess.ETag()
	return api.ScheduleSession201JSONResponse{Body: toAPISession(sess), Headers: api.ScheduleSession201ResponseHeaders{ETag: &etag, Location: href("sessions", sess.ID)}}, nil
}

// ListMySessions lists the caller's sessions in an optional time window.
func (s *Server) ListMySessions(ctx context.Context, r api.ListMySessionsRequestObject) (api.ListMySessionsResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	pr, err := page.ParseTimed(r.Params.Limit, r.Params.Cursor)
	if err != nil {
		return nil, err
	}
	list, next, err := s.sessions.ListMine(ctx, actor, sessions.Window{From: r.Params.From, To: r.Params.To}, pr)
	if err != nil {
		return nil, err
	}
	return api.ListMySessions200JSONResponse(toAPISessionList(list, next)), nil
}

// GetSession returns one session.
func (s *Server) GetSession(ctx context.Context, r api.GetSessionRequestObject) (api.GetSessionResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	sess, err := s.sessions.Get(ctx, actor, r.SessionId)
	if err != nil {
		return nil, err
	}
	etag := sess.ETag()
	return api.GetSession200JSONResponse{Body: toAPISession(sess), Headers: api.GetSession200ResponseHeaders{ETag: &etag}}, nil
}

// UpdateSession reschedules a session, changes its status or edits it.
func (s *Server) UpdateSession(ctx context.Context, r api.UpdateSessionRequestObject) (api.UpdateSessionResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	change := sessions.Change{
		StartsAt:        patch.FromPtr(r.Body.StartsAt),
		DurationMinutes: patch.FromPtr(r.Body.DurationMinutes),
		Location:        patch.FromNullable(r.Body.Location),
		Agenda:          patch.FromNullable(r.Body.Agenda),
		Summary:         patch.FromNullable(r.Body.Summary),
		IfMatch:         &r.Params.IfMatch,
	}
	if r.Body.Status != nil {
		change.Status = patch.Of(string(*r.Body.Status))
	}
	sess, err := s.sessions.Update(ctx, actor, r.SessionId, change)
	if err != nil {
		return nil, err
	}
	etag := sess.ETag()
	return api.UpdateSession200JSONResponse{Body: toAPISession(sess), Headers: api.UpdateSession200ResponseHeaders{ETag: &etag}}, nil
}

// GetPrivateNote returns the coach's private note on a session.
func (s *Server) GetPrivateNote(ctx context.Context, r api.GetPrivateNoteRequestObject) (api.GetPrivateNoteResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	note, err := s.sessions.PrivateNote(ctx, actor, r.SessionId)
	if err != nil {
		return nil, err
	}
	return api.GetPrivateNote200JSONResponse(toAPIPrivateNote(note)), nil
}

// PutPrivateNote writes the coach's private note on a session.
func (s *Server) PutPrivateNote(ctx context.Context, r api.PutPrivateNoteRequestObject) (api.PutPrivateNoteResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	note, err := s.sessions.WritePrivateNote(ctx, actor, r.SessionId, r.Body.Body)
	if err != nil {
		return nil, err
	}
	return api.PutPrivateNote200JSONResponse(toAPIPrivateNote(note)), nil
}

// calendarResponse is a calendar feed: the iCalendar document, declared as
// UTF-8 (RFC 5545's default, stated for clients that assume otherwise), or,
// when the caller's copy is current, 304 with the validators only. A HEAD
// request gets the same headers; net/http drops the body.
type calendarResponse struct {
	doc         sessions.FeedDocument
	notModified bool
}

func (c calendarResponse) VisitGetCalendarFeedResponse(w http.ResponseWriter) error {
	h := w.Header()
	h.Set("ETag", c.doc.ETag)
	h.Set("Last-Modified", c.doc.LastModified.UTC().Format(http.TimeFormat))
	// The URL is a credential, so no shared cache may keep the feed; a
	// calendar app may keep its copy and check it with the validators above
	// (no-store, set for every other response, would rule that out).
	h.Set("Cache-Control", "private, no-cache")
	if c.notModified {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	h.Set("Content-Type", "text/calendar; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(c.doc.Body)))
	w.WriteHeader(http.StatusOK)
	_, err := bytes.NewReader(c.doc.Body).WriteTo(w)
	return err
}

// feedConditions are the conditional headers of a feed request.
type feedConditions struct {
	IfNoneMatch     *string
	IfModifiedSince *string
}

// notModified evaluates the conditions for a GET or HEAD of doc as RFC 9110
// §13.2.2 orders them: If-None-Match when present (weak comparison, or *),
// else If-Modified-Since when it is a valid HTTP-date. True means 304.
func (fc feedConditions) notModified(doc sessions.FeedDocument) bool {
	if fc.IfNoneMatch != nil {
		return etagListMatches(*fc.IfNoneMatch, doc.ETag)
	}
	if fc.IfModifiedSince != nil {
		since, err := http.ParseTime(strings.TrimSpace(*fc.IfModifiedSince))
		return err == nil && !doc.LastModified.After(since)
	}
	return false
}

// GetCalendarFeed serves a calendar feed; the token in its name is the credential.
func (s *Server) GetCalendarFeed(ctx context.Context, r api.GetCalendarFeedRequestObject) (api.GetCalendarFeedResponseObject, error) {
	doc, err := s.sessions.Feed(ctx, r.Feed)
	if err != nil {
		return nil, err
	}
	cond := feedConditions{IfNoneMatch: r.Params.IfNoneMatch, IfModifiedSince: r.Params.IfModifiedSince}
	return calendarResponse{doc: doc, notModified: cond.notModified(doc)}, nil
}

// RegenerateCalendarFeed creates the caller's calendar feed URL, revoking the previous one.
func (s *Server) RegenerateCalendarFeed(ctx context.Context, r api.RegenerateCalendarFeedRequestObject) (api.RegenerateCalendarFeedResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	url, err := s.sessions.RegenerateFeed(ctx, actor)
	if err != nil {
		return nil, err
	}
	return api.RegenerateCalendarFeed201JSONResponse(api.CalendarFeed{Url: url}), nil
}
