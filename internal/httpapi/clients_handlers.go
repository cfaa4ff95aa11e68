package httpapi

import (
	"context"

	"github.com/oapi-codegen/nullable"

	"github.com/tandem-coach/tandem/api"
	"github.com/tandem-coach/tandem/internal/clients"
	"github.com/tandem-coach/tandem/internal/page"
	"github.com/tandem-coach/tandem/internal/patch"
)

func toAPIClient(c clients.Client) api.Client {
	return api.Client{
		Id: c.ID, CoachId: c.CoachID, Name: c.Name, Email: nullableOf(c.Email), Phone: nullableOf(c.Phone),
		Timezone: c.Timezone, Status: api.ClientStatus(c.Status), Portal: api.ClientPortal(c.Portal),
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
}

// nullableOf turns an optional value into an explicit JSON value or null.
func nullableOf[T any](p *T) nullable.Nullable[T] {
	if p == nil {
		return nullable.NewNullNullable[T]()
	}
	return nullable.NewNullableWithValue(*p)
}

// ListClients lists the caller's clients.
func (s *Server) ListClients(ctx context.Context, r api.ListClientsRequestObject) (api.ListClientsResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	pr, err := page.Parse(r.Params.Limit, r.Params.Cursor)
	if err != nil {
		return nil, err
	}
	var status *string
	if r.Params.Status != nil {
		st := string(*r.Params.Status)
		status = &st
	}
	list, next, err := s.clients.List(ctx, actor, status, pr)
	if err != nil {
		return nil, err
	}
	out := api.ClientList{Items: make([]api.Client, len(list)), NextCursor: nullableOf(next)}
	for i, c := range list {
		out.Items[i] = toAPIClient(c)
	}
	return api.ListClients200JSONResponse(out), nil
}

// CreateClient adds a client.
func (s *Server) CreateClient(ctx context.Context, r api.CreateClientRequestObject) (api.CreateClientResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.clients.Create(ctx, actor, clients.NewClient{
		Name: r.Body.Name, Email: r.Body.Email, Phone: r.Body.Phone, Timezone: r.Body.Timezone, CoachID: r.Body.CoachId,
	})
	if err != nil {
		return nil, err
	}
	etag := c.ETag()
	return api.CreateClient201JSONResponse{Body: toAPIClient(c), Headers: api.CreateClient201ResponseHeaders{ETag: &etag, Location: href("clients", c.ID)}}, nil
}

// GetClient returns one client.
func (s *Server) GetClient(ctx context.Context, r api.GetClientRequestObject) (api.GetClientResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.clients.Get(ctx, actor, r.ClientId)
	if err != nil {
		return nil, err
	}
	etag := c.ETag()
	return api.GetClient200JSONResponse{Body: toAPIClient(c), Headers: api.GetClient200ResponseHeaders{ETag: &etag}}, nil
}

// UpdateClient changes a client.
func (s *Server) UpdateClient(ctx context.Context, r api.UpdateClientRequestObject) (api.UpdateClientResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	change := clients.Change{
		Name:     patch.FromPtr(r.Body.Name),
		Email:    patch.FromNullable(r.Body.Email),
		Phone:    patch.FromNullable(r.Body.Phone),
		Timezone: patch.FromPtr(r.Body.Timezone),
		CoachID:  patch.FromPtr(r.Body.CoachId),
		IfMatch:  &r.Params.IfMatch,
	}
	if r.Body.Status != nil {
		change.Status = patch.Of(string(*r.Body.Status))
	}
	c, err := s.clients.Update(ctx, actor, r.ClientId, change)
	if err != nil {
		return nil, err
	}
	etag := c.ETag()
	return api.UpdateClient200JSONResponse{Body: toAPIClient(c), Headers: api.UpdateClient200ResponseHeaders{ETag: &etag}}, nil
}

// ArchiveClient archives a client.
func (s *Server) ArchiveClient(ctx context.Context, r api.ArchiveClientRequestObject) (api.ArchiveClientResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.clients.Archive(ctx, actor, r.ClientId, &r.Params.IfMatch); err != nil {
		return nil, err
	}
	return api.ArchiveClient204Response{}, nil
}

// InviteClient invites a client to the portal.
func (s *Server) InviteClient(ctx context.Context, r api.InviteClientRequestObject) (api.InviteClientResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	inv, err := s.clients.Invite(ctx, actor, r.ClientId)
	if err != nil {
		return nil, err
	}
	return api.InviteClient201JSONResponse{Body: toAPIClientInvitation(inv), Headers: api.InviteClient201ResponseHeaders{Location: href("clients", r.ClientId) + "/invitation"}}, nil
}

func toAPIClientInvitation(inv clients.Invitation) api.ClientInvitation {
	return api.ClientInvitation{Id: inv.ID, Email: inv.Email, Status: api.InvitationStatus(inv.Status), SentAt: inv.SentAt,
		ExpiresAt: inv.ExpiresAt, AcceptedAt: inv.AcceptedAt}
}

// GetClientInvitation returns the client's latest portal invitation.
func (s *Server) GetClientInvitation(ctx context.Context, r api.GetClientInvitationRequestObject) (api.GetClientInvitationResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	inv, err := s.clients.LatestInvitation(ctx, actor, r.ClientId)
	if err != nil {
		return nil, err
	}
	return api.GetClientInvitation200JSONResponse(toAPIClientInvitation(inv)), nil
}
