package consent

import (
	"context"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/tandem-coach/tandem/internal/auth"
)

// FHIR code systems and Tandem's own URIs. Tandem's URIs live under the
// same reserved host as its problem types: they name things, nobody
// resolves them.
const (
	fhirConsentScope  = "http://terminology.hl7.org/CodeSystem/consentscope"
	fhirLOINC         = "http://loinc.org"
	fhirParticipation = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
	fhirActReason     = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
	fhirURI           = "urn:ietf:rfc:3986"

	tandemFHIR = "https://tandem.invalid/fhir/"
	// tandemDataClasses is the code system of the data classes.
	tandemDataClasses = tandemFHIR + "CodeSystem/data-class"
	// tandemTextSHA256 is the extension on Consent.sourceAttachment that
	// carries the lower-case hex SHA-256 of the consent text signed. FHIR's
	// own Attachment.hash is a base64 SHA-1, which is not what the client
	// signed.
	tandemTextSHA256 = tandemFHIR + "StructureDefinition/consent-text-sha256"
	// tandemTextVersion is the extension on Consent.sourceAttachment that
	// carries the version of the consent text signed.
	tandemTextVersion = tandemFHIR + "StructureDefinition/consent-text-version"
	// tandemConsentText is the policy URI of Tandem's consent text; a signed
	// consent's policy adds "/v" and the version.
	tandemConsentText = tandemFHIR + "consent-text"
)

// FHIRConsent is a FHIR R4 Consent resource.
type FHIRConsent struct {
	ResourceType     string                `json:"resourceType"`
	ID               string                `json:"id"`
	Identifier       []FHIRIdentifier      `json:"identifier"`
	Status           string                `json:"status"`
	Scope            FHIRCodeableConcept   `json:"scope"`
	Category         []FHIRCodeableConcept `json:"category"`
	Patient          FHIRReference         `json:"patient"`
	DateTime         string                `json:"dateTime"`
	Performer        []FHIRReference       `json:"performer"`
	Organization     []FHIRReference       `json:"organization"`
	SourceAttachment *FHIRAttachment       `json:"sourceAttachment,omitempty"`
	Policy           []FHIRPolicy          `json:"policy"`
	Provision        FHIRProvision         `json:"provision"`
}

// FHIRCoding is a FHIR Coding.
type FHIRCoding struct {
	System  string `json:"system"`
	Code    string `json:"code"`
	Display string `json:"display,omitempty"`
}

// FHIRCodeableConcept is a FHIR CodeableConcept.
type FHIRCodeableConcept struct {
	Coding []FHIRCoding `json:"coding"`
	Text   string       `json:"text,omitempty"`
}

// FHIRIdentifier is a FHIR Identifier.
type FHIRIdentifier struct {
	System string `json:"system"`
	Value  string `json:"value"`
}

// FHIRReference is a FHIR Reference: to a resource by relative URL, or by
// identifier when the party has no resource (a therapist known by e-mail).
type FHIRReference struct {
	Reference  string          `json:"reference,omitempty"`
	Identifier *FHIRIdentifier `json:"identifier,omitempty"`
	Display    string          `json:"display,omitempty"`
}

// FHIRExtension is a FHIR extension with a string or integer value.
type FHIRExtension struct {
	URL          string `json:"url"`
	ValueString  string `json:"valueString,omitempty"`
	ValueInteger *int   `json:"valueInteger,omitempty"`
}

// FHIRAttachment is a FHIR Attachment: here, the consent text signed.
type FHIRAttachment struct {
	Extension   []FHIRExtension `json:"extension,omitempty"`
	ContentType string          `json:"contentType"`
	Language    string          `json:"language,omitempty"`
	Title       string          `json:"title"`
}

// FHIRPolicy is a Consent.policy entry.
type FHIRPolicy struct {
	URI string `json:"uri"`
}

// FHIRPeriod is a FHIR Period.
type FHIRPeriod struct {
	Start string `json:"start,omitempty"`
	End   string `json:"end,omitempty"`
}

// FHIRProvisionActor is a Consent.provision.actor entry.
type FHIRProvisionActor struct {
	Role      FHIRCodeableConcept `json:"role"`
	Reference FHIRReference       `json:"reference"`
}

// FHIRProvision is the Consent's provision: what it permits, to whom, for
// what, from when until when.
type FHIRProvision struct {
	Type    string               `json:"type"`
	Period  FHIRPeriod           `json:"period"`
	Actor   []FHIRProvisionActor `json:"actor"`
	Purpose []FHIRCoding         `json:"purpose"`
	Class   []FHIRCoding         `json:"class"`
}

// fhirStatus maps an effective status to FHIR's ConsentState.
var fhirStatus = map[string]string{
	StatusRequested: "draft",
	StatusPending:   "proposed",
	StatusActive:    "active",
	StatusDeclined:  "rejected",
	StatusRevoked:   "inactive",
	StatusExpired:   "inactive",
}

func fhirTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// ToFHIR maps a consent to a FHIR R4 Consent resource. The client is the
// patient and the performer who consents; the practice is the organization;
// the provision permits the therapist (information recipient, IRCP) to
// receive the data classes from the disclosing coach (custodian, CST) for
// coordination of care (v3-ActReason COC, displayed with the client's own
// purpose text), over the consent's period. The consent text signed is the
// source attachment, with its version and SHA-256 in Tandem extensions, and
// the policy.
func ToFHIR(c Consent, p Parties) FHIRConsent {
	client := FHIRReference{Reference: "Patient/" + c.ClientID.String(), Display: p.ClientName}
	out := FHIRConsent{
		ResourceType: "Consent",
		ID:           c.ID.String(),
		Identifier:   []FHIRIdentifier{{System: fhirURI, Value: "urn:uuid:" + c.ID.String()}},
		Status:       fhirStatus[c.Status],
		Scope: FHIRCodeableConcept{Coding: []FHIRCoding{
			{System: fhirConsentScope, Code: "patient-privacy", Display: "Privacy Consent"},
		}},
		Category: []FHIRCodeableConcept{{Coding: []FHIRCoding{
			{System: fhirLOINC, Code: "59284-0", Display: "Patient Consent"},
		}}},
		Patient:      client,
		DateTime:     fhirTime(c.CreatedAt),
		Performer:    []FHIRReference{client},
		Organization: []FHIRReference{{Reference: "Organization/" + c.PracticeID.String(), Display: p.PracticeName}},
		Policy:       []FHIRPolicy{{URI: tandemConsentText}},
		Provision: FHIRProvision{
			Type:   "permit",
			Period: FHIRPeriod{End: fhirTime(c.ExpiresAt)},
			Actor: []FHIRProvisionActor{
				{
					Role: FHIRCodeableConcept{Coding: []FHIRCoding{{System: fhirParticipation, Code: "IRCP", Display: "information recipient"}}},
					Reference: FHIRReference{Identifier: &FHIRIdentifier{System: fhirURI, Value: "mailto:" + c.TherapistEmail},
						Display: c.TherapistName},
				},
				{
					Role:      FHIRCodeableConcept{Coding: []FHIRCoding{{System: fhirParticipation, Code: "CST", Display: "custodian"}}},
					Reference: FHIRReference{Reference: "Practitioner/" + c.CoachID.String(), Display: p.CoachName},
				},
			},
			Purpose: []FHIRCoding{{System: fhirActReason, Code: "COC", Display: c.Purpose}},
		},
	}
	for _, cl := range c.Classes {
		out.Provision.Class = append(out.Provision.Class, FHIRCoding{System: tandemDataClasses, Code: string(cl), Display: classTitles[cl]})
	}
	if c.Signature != nil {
		out.DateTime = fhirTime(c.Signature.SignedAt)
		out.Provision.Period.Start = fhirTime(c.Signature.SignedAt)
	}
	if c.TemplateVersion != nil && c.TemplateSHA256 != nil {
		v := *c.TemplateVersion
		out.Policy = []FHIRPolicy{{URI: tandemConsentText + "/v" + strconv.Itoa(v)}}
		out.SourceAttachment = &FHIRAttachment{
			Extension: []FHIRExtension{
				{URL: tandemTextVersion, ValueInteger: &v},
				{URL: tandemTextSHA256, ValueString: *c.TemplateSHA256},
			},
			ContentType: "text/plain; charset=utf-8",
			Language:    "en",
			Title:       "Tandem consent to share coaching information with a therapist, version " + strconv.Itoa(v),
		}
	}
	return out
}

// FHIR returns a consent the actor may see as a FHIR R4 Consent resource.
func (s *Service) FHIR(ctx context.Context, a auth.Actor, id uuid.UUID) (FHIRConsent, error) {
	db := s.c.Store.DB.WithContext(ctx)
	r, err := loadVisible(db, a, id)
	if err != nil {
		return FHIRConsent{}, err
	}
	p, err := loadParties(db, r)
	if err != nil {
		return FHIRConsent{}, err
	}
	return ToFHIR(toConsent(r, s.c.Clock.Now()), p), nil
}
