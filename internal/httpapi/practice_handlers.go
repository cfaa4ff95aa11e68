package httpapi

import (
	"context"

	"github.com/oapi-codegen/nullable"

	"github.com/tandem-coach/tandem/api"
	"github.com/tandem-coach/tandem/internal/account"
	"github.com/tandem-coach/tandem/internal/page"
)

func toAPIPractice(p account.Practice) api.Practice {
	return api.Practice{Id: p.ID, Name: p.Name, RequireMfa: p.RequireMFA, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

// GetPractice returns the caller's practice with its ETag.
func (s *Server) GetPractice(ctx context.Context, _ api.GetPracticeRequestObject) (api.GetPracticeResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	p, err := s.accounts.Practice(ctx, actor)
	if err != nil {
		return nil, err
	}
	etag := p.ETag()
	return api.GetPractice200JSONResponse{Body: toAPIPractice(p), Headers: api.GetPractice200ResponseHeaders{ETag: &etag}}, nil
}

// UpdatePractice changes practice settings.
func (s *Server) UpdatePractice(ctx context.Context, r api.UpdatePracticeRequestObject) (api.UpdatePracticeResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	p, err := s.accounts.UpdatePractice(ctx, actor, account.PracticeChange{Name: r.Body.Name, RequireMFA: r.Body.RequireMfa, IfMatch: &r.Params.IfMatch})
	if err != nil {
		return nil, err
	}
	etag := p.ETag()
	return api.UpdatePractice200JSONResponse{Body: toAPIPractice(p), Headers: api.UpdatePractice200ResponseHeaders{ETag: &etag}}, nil
}

// ListMembers lists the practice's owner and coaches.
func (s *Server) ListMembers(ctx context.Context, r api.ListMembersRequestObject) (api.ListMembersResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	pr, err := page.Parse(r.Params.Limit, r.Params.Cursor)
	if err != nil {
		return nil, err
	}
	members, next, err := s.accounts.Members(ctx, actor, pr)
	if err != nil {
		return nil, err
	}
	out := api.MemberList{Items: make([]api.Member, len(members)), NextCursor: nullableOf(next)}
	for i, m := range members {
		out.Items[i] = api.Member{UserId: m.UserID, Name: m.Name, Email: m.Email, Role: api.Role(m.Role), JoinedAt: m.JoinedAt}
	}
	return api.ListMembers200JSONResponse(out), nil
}

// InviteCoach invites a coach to the practice.
func (s *Server) InviteCoach(ctx context.Context, r api.InviteCoachRequestObject) (api.InviteCoachResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	inv, err := s.accounts.InviteCoach(ctx, actor, string(r.Body.Email))
	if err != nil {
		return nil, err
	}
	return api.InviteCoach201JSONResponse(toAPIInvitation(inv)), nil
}

func toAPIInvitation(inv account.Invitation) api.Invitation {
	return api.Invitation{Id: inv.ID, Email: inv.Email, Role: api.Role(inv.Role), Status: api.InvitationStatus(inv.Status),
		SentAt: inv.SentAt, ExpiresAt: inv.ExpiresAt, AcceptedAt: inv.AcceptedAt}
}

// ListInvitations lists the practice's coach invitations.
func (s *Server) ListInvitations(ctx context.Context, r api.ListInvitationsRequestObject) (api.ListInvitationsResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	pr, err := page.Parse(r.Params.Limit, r.Params.Cursor)
	if err != nil {
		return nil, err
	}
	invs, next, err := s.accounts.ListInvitations(ctx, actor, pr)
	if err != nil {
		return nil, err
	}
	out := api.InvitationList{Items: make([]api.Invitation, len(invs)), NextCursor: nullableOf(next)}
	for i, inv := range invs {
		out.Items[i] = toAPIInvitation(inv)
	}
	return api.ListInvitations200JSONResponse(out), nil
}

func toAPIAuditEvent(e account.AuditEvent) api.AuditEvent {
	out := api.AuditEvent{Id: e.ID, CreatedAt: e.CreatedAt, Action: e.Action, RecordType: e.RecordType,
		RecordId: nullableOf(e.RecordID), Actor: nullable.NewNullNullable[api.AuditActor](), Ip: e.IP, RequestId: e.RequestID}
	if e.Actor != nil {
		actor := api.AuditActor{UserId: e.Actor.UserID, Name: nullableOf(e.Actor.Name),
			Role: nullable.NewNullNullable[api.AuditActorRole]()}
		if e.Actor.Role != nil {
			actor.Role = nullable.NewNullableWithValue(api.AuditActorRole(*e.Actor.Role))
		}
		out.Actor = nullable.NewNullableWithValue(actor)
	}
	return out
}

// ListAuditEvents returns one page of the practice's audit log, for the owner.
func (s *Server) ListAuditEvents(ctx context.Context, r api.ListAuditEventsRequestObject) (api.ListAuditEventsResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	pr, err := page.Parse(r.Params.Limit, r.Params.Cursor)
	if err != nil {
		return nil, err
	}
	f := account.AuditFilter{Action: r.Params.Action, RecordType: r.Params.RecordType, ActorUserID: r.Params.ActorUserId,
		Since: r.Params.Since, Until: r.Params.Until}
	events, next, err := s.accounts.AuditEvents(ctx, actor, f, pr)
	if err != nil {
		return nil, err
	}
	out := api.AuditEventList{Items: make([]api.AuditEvent, len(events)), NextCursor: nullableOf(next)}
	for i, e := range events {
		out.Items[i] = toAPIAuditEvent(e)
	}
	return api.ListAuditEvents200JSONResponse(out), nil
}
