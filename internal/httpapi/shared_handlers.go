package httpapi

import (
	"context"

	"github.com/tandem-coach/tandem/api"
	"github.com/tandem-coach/tandem/internal/consent"
	"github.com/tandem-coach/tandem/internal/goals"
	"github.com/tandem-coach/tandem/internal/page"
	"github.com/tandem-coach/tandem/internal/sessions"
)

// toAPIClassList converts a set of data classes; an empty set is [], never null.
func toAPIClassList(cs consent.Classes) []api.DataClass {
	out := make([]api.DataClass, len(cs))
	for i, c := range cs {
		out[i] = api.DataClass(c)
	}
	return out
}

func toAPISharedClient(c consent.SharedClient) api.SharedClient {
	return api.SharedClient{ClientId: c.ClientID, Name: c.Name, ConsentId: c.ConsentID,
		DataClasses: toAPIClassList(c.Classes), ExpiresAt: c.ExpiresAt}
}

// toAPISharedProgress puts in exactly the classes the view returned: a class
// outside the consent is absent from the document, not an empty list.
func toAPISharedProgress(p consent.Progress) api.SharedProgress {
	g := p.Grant
	out := api.SharedProgress{ClientId: g.ClientID, Name: g.ClientName, ConsentId: g.ConsentID,
		DataClasses: toAPIClassList(g.Classes), ExpiresAt: g.ExpiresAt.UTC()}
	if p.Returned.Has(consent.Goals) {
		list := convertEach(p.Goals, func(g goals.SharedGoal) api.SharedGoal {
			return api.SharedGoal{Id: g.ID, Title: g.Title, Why: g.Why, Status: api.GoalStatus(g.Status),
				TargetDate: nullableDate(g.TargetDate), ProgressPercent: g.ProgressPercent}
		})
		out.Goals = &list
	}
	if p.Returned.Has(consent.ActionSteps) {
		list := convertEach(p.Steps, func(s goals.SharedStep) api.SharedActionStep {
			return api.SharedActionStep{Id: s.ID, GoalId: s.GoalID, Title: s.Title, Status: api.ActionStepStatus(s.Status),
				DueDate: nullableDate(s.DueDate), CompletedAt: nullableOf(s.CompletedAt)}
		})
		out.ActionSteps = &list
	}
	if p.Returned.Has(consent.SessionAttendance) {
		list := convertEach(p.Sessions, func(s sessions.Attendance) api.SharedSession {
			return api.SharedSession{Id: s.ID, StartsAt: s.StartsAt, DurationMinutes: s.DurationMinutes,
				Status: api.SessionStatus(s.Status)}
		})
		out.Sessions = &list
	}
	if p.Returned.Has(consent.SessionSummaries) {
		list := convertEach(p.Summaries, func(s sessions.Summary) api.SharedSummary {
			return api.SharedSummary{SessionId: s.SessionID, StartsAt: s.StartsAt, Summary: s.Summary}
		})
		out.SessionSummaries = &list
	}
	return out
}

// convertEach converts every element; an empty input gives [], never null.
func convertEach[A, B any](in []A, conv func(A) B) []B {
	out := make([]B, len(in))
	for i, a := range in {
		out[i] = conv(a)
	}
	return out
}

func toAPIDisclosure(d consent.Disclosure) api.Disclosure {
	return api.Disclosure{Id: d.ID, ClientId: d.ClientID, ConsentId: d.ConsentID, TherapistId: d.TherapistID,
		TherapistName: d.TherapistName, DataClasses: toAPIClassList(d.Classes), TemplateVersion: d.TemplateVersion,
		Purpose: d.Purpose, RequestId: d.RequestID, DisclosedAt: d.DisclosedAt}
}

func toAPICoordinationNote(n consent.CoordinationNote) api.CoordinationNote {
	return api.CoordinationNote{Id: n.ID, ClientId: n.ClientID, TherapistId: n.TherapistID, TherapistName: n.TherapistName,
		AuthorId: n.AuthorID, AuthorName: n.AuthorName, AuthorRole: api.CoordinationNoteAuthorRole(n.AuthorRole),
		Body: n.Body, CreatedAt: n.CreatedAt}
}

// ListDisclosures lists every read a therapist made of the client's data.
func (s *Server) ListDisclosures(ctx context.Context, r api.ListDisclosuresRequestObject) (api.ListDisclosuresResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	pr, err := page.Parse(r.Params.Limit, r.Params.Cursor)
	if err != nil {
		return nil, err
	}
	list, next, err := s.consent.Disclosures(ctx, actor, r.ClientId, pr)
	if err != nil {
		return nil, err
	}
	return api.ListDisclosures200JSONResponse{Items: convertEach(list, toAPIDisclosure), NextCursor: nullableOf(next)}, nil
}

// ListSharedClients lists the clients whose active consent names the caller.
func (s *Server) ListSharedClients(ctx context.Context, r api.ListSharedClientsRequestObject) (api.ListSharedClientsResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	pr, err := page.Parse(r.Params.Limit, r.Params.Cursor)
	if err != nil {
		return nil, err
	}
	list, next, err := s.consent.SharedClients(ctx, actor, pr)
	if err != nil {
		return nil, err
	}
	return api.ListSharedClients200JSONResponse{Items: convertEach(list, toAPISharedClient), NextCursor: nullableOf(next)}, nil
}

// GetSharedClient returns a client's progress, only the consented classes.
func (s *Server) GetSharedClient(ctx context.Context, r api.GetSharedClientRequestObject) (api.GetSharedClientResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	p, err := s.consent.SharedProgress(ctx, actor, r.ClientId)
	if err != nil {
		return nil, err
	}
	return api.GetSharedClient200JSONResponse(toAPISharedProgress(p)), nil
}

// ListCoordinationNotes lists the client's coordination notes.
func (s *Server) ListCoordinationNotes(ctx context.Context, r api.ListCoordinationNotesRequestObject) (api.ListCoordinationNotesResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	pr, err := page.Parse(r.Params.Limit, r.Params.Cursor)
	if err != nil {
		return nil, err
	}
	list, next, err := s.consent.CoordinationNotes(ctx, actor, r.ClientId, pr)
	if err != nil {
		return nil, err
	}
	return api.ListCoordinationNotes200JSONResponse{Items: convertEach(list, toAPICoordinationNote), NextCursor: nullableOf(next)}, nil
}

// PostCoordinationNote writes a coordination note.
func (s *Server) PostCoordinationNote(ctx context.Context, r api.PostCoordinationNoteRequestObject) (api.PostCoordinationNoteResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	n, err := s.consent.PostCoordinationNote(ctx, actor, r.ClientId,
		consent.NewCoordinationNote{Body: r.Body.Body, TherapistID: r.Body.TherapistId})
	if err != nil {
		return nil, err
	}
	return api.PostCoordinationNote201JSONResponse(toAPICoordinationNote(n)), nil
}
