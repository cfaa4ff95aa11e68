package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/tandem-coach/tandem/api"
	"github.com/tandem-coach/tandem/internal/consent"
	"github.com/tandem-coach/tandem/internal/page"
)

func toAPIConsent(c consent.Consent) api.Consent {
	out := api.Consent{
		Id: c.ID, ClientId: c.ClientID, CoachId: c.CoachID, Status: api.ConsentStatus(c.Status),
		TherapistName: c.TherapistName, TherapistEmail: c.TherapistEmail, DataClasses: make([]api.DataClass, len(c.Classes)),
		Purpose: c.Purpose, ExpiresAt: c.ExpiresAt, TemplateVersion: c.TemplateVersion, TemplateSha256: c.TemplateSHA256,
		RequestId: c.RequestID, SupersedesId: c.SupersedesID,
		ActivatedAt: c.ActivatedAt, DeclinedAt: c.DeclinedAt, RevokedAt: c.RevokedAt, CreatedAt: c.CreatedAt,
	}
	for i, cl := range c.Classes {
		out.DataClasses[i] = api.DataClass(cl)
	}
	if c.Signature != nil {
		out.Signature = &api.Signature{Name: c.Signature.Name, SignedAt: c.Signature.SignedAt, AuthMethod: c.Signature.AuthMethod,
			AuthTime: c.Signature.AuthTime}
	}
	out.InvitationExpiresAt = c.InvitationExpiresAt
	return out
}

func toDomainNewConsent(b api.ConsentCreate) consent.NewConsent {
	in := consent.NewConsent{
		TherapistName: b.TherapistName, TherapistEmail: b.TherapistEmail, DataClasses: make([]string, len(b.DataClasses)),
		Purpose: b.Purpose, ExpiresAt: b.ExpiresAt, TemplateVersion: b.TemplateVersion, TemplateSHA256: b.TemplateSha256,
		SignatureName: b.SignatureName, RequestID: b.RequestId,
	}
	for i, c := range b.DataClasses {
		in.DataClasses[i] = string(c)
	}
	return in
}

// GetCurrentConsentTemplate returns the consent text clients sign now.
func (s *Server) GetCurrentConsentTemplate(ctx context.Context, _ api.GetCurrentConsentTemplateRequestObject) (api.GetCurrentConsentTemplateResponseObject, error) {
	t, err := s.consent.CurrentTemplate(ctx)
	if err != nil {
		return nil, err
	}
	return api.GetCurrentConsentTemplate200JSONResponse{Version: t.Version, Text: t.Text, Sha256: t.SHA256}, nil
}

// ListConsents lists a client's consents and consent requests.
func (s *Server) ListConsents(ctx context.Context, r api.ListConsentsRequestObject) (api.ListConsentsResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	pr, err := page.Parse(r.Params.Limit, r.Params.Cursor)
	if err != nil {
		return nil, err
	}
	list, next, err := s.consent.List(ctx, actor, r.ClientId, pr)
	if err != nil {
		return nil, err
	}
	out := api.ConsentList{Items: make([]api.Consent, len(list)), NextCursor: nullableOf(next)}
	for i, c := range list {
		out.Items[i] = toAPIConsent(c)
	}
	return api.ListConsents200JSONResponse(out), nil
}

// CreateConsent records the client's signed consent or a coach's request.
func (s *Server) CreateConsent(ctx context.Context, r api.CreateConsentRequestObject) (api.CreateConsentResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.consent.Create(ctx, actor, r.ClientId, toDomainNewConsent(*r.Body))
	if err != nil {
		return nil, err
	}
	return api.CreateConsent201JSONResponse{Body: toAPIConsent(c), Headers: api.CreateConsent201ResponseHeaders{Location: href("consents", c.ID)}}, nil
}

// GetConsent returns one consent, as JSON or as a FHIR R4 Consent resource.
func (s *Server) GetConsent(ctx context.Context, r api.GetConsentRequestObject) (api.GetConsentResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	if r.Params.Accept != nil && wantsFHIR(*r.Params.Accept) {
		resource, err := s.consent.FHIR(ctx, actor, r.ConsentId)
		if err != nil {
			return nil, err
		}
		return fhirConsentResponse(resource), nil
	}
	c, err := s.consent.Get(ctx, actor, r.ConsentId)
	if err != nil {
		return nil, err
	}
	return api.GetConsent200JSONResponse(toAPIConsent(c)), nil
}

// RevokeConsent lets the client revoke a consent they granted.
func (s *Server) RevokeConsent(ctx context.Context, r api.RevokeConsentRequestObject) (api.RevokeConsentResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.consent.Revoke(ctx, actor, r.ConsentId)
	if err != nil {
		return nil, err
	}
	return api.RevokeConsent200JSONResponse(toAPIConsent(c)), nil
}

// DeclineConsent lets the named therapist decline a consent.
func (s *Server) DeclineConsent(ctx context.Context, r api.DeclineConsentRequestObject) (api.DeclineConsentResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.consent.Decline(ctx, actor, r.ConsentId)
	if err != nil {
		return nil, err
	}
	return api.DeclineConsent200JSONResponse(toAPIConsent(c)), nil
}

// fhirMediaType is the media type of FHIR's JSON format.
const fhirMediaType = "application/fhir+json"

// fhirConsentResponse writes a FHIR Consent resource. The generated
// response type for application/fhir+json cannot: it is a type defined from
// api.FhirConsent, which keeps the struct but not its MarshalJSON, so every
// field but resourceType would be dropped.
type fhirConsentResponse consent.FHIRConsent

// VisitGetConsentResponse writes the resource with FHIR's media type.
func (r fhirConsentResponse) VisitGetConsentResponse(w http.ResponseWriter) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // the narrative's XHTML reads as written; FHIR JSON is no HTML page
	if err := enc.Encode(consent.FHIRConsent(r)); err != nil {
		return err
	}
	w.Header().Set("Content-Type", fhirMediaType)
	w.WriteHeader(http.StatusOK)
	_, err := buf.WriteTo(w)
	return err
}

// wantsFHIR reads an Accept header: FHIR when application/fhir+json is
// acceptable and not less preferred than plain JSON (application/json,
// application/* or */*). Ties go to FHIR, which a caller names only on
// purpose.
func wantsFHIR(accept string) bool {
	var fhir, plain float64
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(v, 64); err != nil {
				continue
			}
		}
		switch mt {
		case fhirMediaType:
			fhir = max(fhir, q)
		case "application/json", "application/*", "*/*":
			plain = max(plain, q)
		}
	}
	return fhir > 0 && fhir >= plain
}
