package consent

import (
	"context"
	"html"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tandem-coach/tandem/internal/auth"
)

// FHIR code systems, with the codes Tandem uses and their own displays.
const (
	fhirConsentScope  = "http://terminology.hl7.org/CodeSystem/consentscope"
	fhirLOINC         = "http://loinc.org"
	fhirParticipation = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
	fhirActReason     = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
	fhirPolicyCodes   = "http://terminology.hl7.org/CodeSystem/consentpolicycodes"
	fhirURI           = "urn:ietf:rfc:3986"
	fhirXHTML         = "http://www.w3.org/1999/xhtml"

	purposeCode    = "COC"
	purposeDisplay = "coordination of care"
)

// Tandem's own FHIR URIs, under the service's base URL, so that a receiving
// system can tell which Tandem a consent came from. They name things; the
// service does not serve them.
const (
	// fhirDataClasses is the code system of the data classes.
	fhirDataClasses = "/fhir/CodeSystem/data-class"
	// fhirTextSHA256 is the extension on Consent.sourceAttachment that
	// carries the lower-case hex SHA-256 of the consent text signed. FHIR's
	// own Attachment.hash is a base64 SHA-1, which is not what the client
	// signed.
	fhirTextSHA256 = "/fhir/StructureDefinition/consent-text-sha256"
	// fhirTextVersion is the extension on Consent.sourceAttachment that
	// carries the version of the consent text signed.
	fhirTextVersion = "/fhir/StructureDefinition/consent-text-version"
	// fhirPurposeText is the extension on Consent.provision that carries the
	// client's purpose in their own words; provision.purpose is the code.
	fhirPurposeText = "/fhir/StructureDefinition/consent-purpose-text"
	// fhirConsentText is the policy URI of Tandem's consent text; a signed
	// consent's policy adds "/v" and the version.
	fhirConsentText = "/fhir/consent-text"
)

// fallbackBaseURL stands in for a service configured without a base URL, so
// that the URIs stay absolute. Nothing on it resolves.
const fallbackBaseURL = "https://tandem.invalid"

// The ids of the contained resources, referenced as "#id".
const (
	containedClient    = "client"
	containedCoach     = "coach"
	containedTherapist = "therapist"
	containedPractice  = "practice"
)

// FHIRConsent is a FHIR R4 Consent resource. The parties are resources
// contained in it and referenced by "#id": a receiving system has no
// Tandem server to resolve "Patient/…" against.
type FHIRConsent struct {
	ResourceType     string                `json:"resourceType"`
	ID               string                `json:"id"`
	Text             FHIRNarrative         `json:"text"`
	Contained        []FHIRParty           `json:"contained"`
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
	PolicyRule       FHIRCodeableConcept   `json:"policyRule"`
	Provision        FHIRProvision         `json:"provision"`
}

// FHIRNarrative is a resource's human-readable summary: an XHTML div.
type FHIRNarrative struct {
	Status string `json:"status"`
	Div    string `json:"div"`
}

// FHIRParty is a resource contained in the Consent: the client as Patient,
// the coach and the therapist as Practitioner, the practice as Organization.
type FHIRParty struct {
	ResourceType string           `json:"resourceType"`
	ID           string           `json:"id"`
	Identifier   []FHIRIdentifier `json:"identifier"`
	// Name is a person's ([]FHIRHumanName) or an organization's (string).
	Name    any                `json:"name,omitempty"`
	Telecom []FHIRContactPoint `json:"telecom,omitempty"`
}

// FHIRHumanName is a FHIR HumanName, as the full name people gave.
type FHIRHumanName struct {
	Text string `json:"text"`
}

// FHIRContactPoint is a FHIR ContactPoint.
type FHIRContactPoint struct {
	System string `json:"system"`
	Value  string `json:"value"`
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

// FHIRReference is a FHIR Reference to a contained resource ("#id").
type FHIRReference struct {
	Reference string `json:"reference"`
	Display   string `json:"display,omitempty"`
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
	Extension []FHIRExtension      `json:"extension,omitempty"`
	Type      string               `json:"type"`
	Period    FHIRPeriod           `json:"period"`
	Actor     []FHIRProvisionActor `json:"actor"`
	Purpose   []FHIRCoding         `json:"purpose"`
	Class     []FHIRCoding         `json:"class"`
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

// fhirString makes s a valid FHIR string, and valid in the XHTML
// narrative: FHIR forbids the control characters below U+0020 other than
// tab, CR and LF, and XML also U+FFFE and U+FFFF.
func fhirString(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0xFFFE || r == 0xFFFF {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

func uuidIdentifier(id uuid.UUID) []FHIRIdentifier {
	return []FHIRIdentifier{{System: fhirURI, Value: "urn:uuid:" + id.String()}}
}

// person is a contained Patient or Practitioner.
func person(resourceType, id string, identifier []FHIRIdentifier, name string) FHIRParty {
	p := FHIRParty{ResourceType: resourceType, ID: id, Identifier: identifier}
	if name = fhirString(name); name != "" {
		p.Name = []FHIRHumanName{{Text: name}}
	}
	return p
}

// ToFHIR maps a consent to a FHIR R4 Consent resource; baseURL is the
// service's public URL, under which Tandem's own URIs live. The client is
// the patient and the performer who consents; the practice is the
// organization; the provision permits the therapist (information
// recipient, IRCP) to receive the data classes from the disclosing coach
// (custodian, CST) for coordination of care (v3-ActReason COC, with the
// client's own words in an extension and the narrative), from signing until
// the expiry, or until the revocation when that came first. The parties are
// contained resources with identifiers. The consent text signed is the
// source attachment, with its version and SHA-256 in Tandem extensions,
// and the policy; the policy rule is a HIPAA authorization, the kind of
// permission the consent is modelled on.
func ToFHIR(c Consent, p Parties, baseURL string) FHIRConsent {
	base := strings.TrimRight(baseURL, "/")
	if base == "" {
		base = fallbackBaseURL
	}
	therapistName, therapistEmail := fhirString(c.TherapistName), fhirString(c.TherapistEmail)
	therapist := person("Practitioner", containedTherapist,
		[]FHIRIdentifier{{System: fhirURI, Value: "mailto:" + therapistEmail}}, therapistName)
	therapist.Telecom = []FHIRContactPoint{{System: "email", Value: therapistEmail}}
	practice := FHIRParty{ResourceType: "Organization", ID: containedPractice, Identifier: uuidIdentifier(c.PracticeID)}
	if name := fhirString(p.PracticeName); name != "" {
		practice.Name = name
	}
	client := FHIRReference{Reference: "#" + containedClient, Display: fhirString(p.ClientName)}

	out := FHIRConsent{
		ResourceType: "Consent",
		ID:           c.ID.String(),
		Contained: []FHIRParty{
			person("Patient", containedClient, uuidIdentifier(c.ClientID), p.ClientName),
			person("Practitioner", containedCoach, uuidIdentifier(c.CoachID), p.CoachName),
			therapist,
			practice,
		},
		Identifier: uuidIdentifier(c.ID),
		Status:     fhirStatus[c.Status],
		Scope: FHIRCodeableConcept{Coding: []FHIRCoding{
			{System: fhirConsentScope, Code: "patient-privacy", Display: "Privacy Consent"},
		}},
		Category: []FHIRCodeableConcept{{Coding: []FHIRCoding{
			{System: fhirLOINC, Code: "59284-0", Display: "Patient Consent"},
		}}},
		Patient:      client,
		DateTime:     fhirTime(c.CreatedAt),
		Performer:    []FHIRReference{client},
		Organization: []FHIRReference{{Reference: "#" + containedPractice, Display: fhirString(p.PracticeName)}},
		Policy:       []FHIRPolicy{{URI: base + fhirConsentText}},
		PolicyRule: FHIRCodeableConcept{Coding: []FHIRCoding{
			{System: fhirPolicyCodes, Code: "hipaa-auth", Display: "HIPAA Authorization"},
		}},
		Provision: FHIRProvision{
			Type:   "permit",
			Period: FHIRPeriod{End: fhirTime(c.ExpiresAt)},
			Actor: []FHIRProvisionActor{
				{
					Role:      FHIRCodeableConcept{Coding: []FHIRCoding{{System: fhirParticipation, Code: "IRCP", Display: "information recipient"}}},
					Reference: FHIRReference{Reference: "#" + containedTherapist, Display: therapistName},
				},
				{
					Role:      FHIRCodeableConcept{Coding: []FHIRCoding{{System: fhirParticipation, Code: "CST", Display: "custodian"}}},
					Reference: FHIRReference{Reference: "#" + containedCoach, Display: fhirString(p.CoachName)},
				},
			},
			Purpose: []FHIRCoding{{System: fhirActReason, Code: purposeCode, Display: purposeDisplay}},
		},
	}
	if purpose := fhirString(c.Purpose); purpose != "" {
		out.Provision.Extension = []FHIRExtension{{URL: base + fhirPurposeText, ValueString: purpose}}
	}
	for _, cl := range c.Classes {
		out.Provision.Class = append(out.Provision.Class, FHIRCoding{System: base + fhirDataClasses, Code: string(cl), Display: classTitles[cl]})
	}
	if c.Signature != nil {
		out.DateTime = fhirTime(c.Signature.SignedAt)
		out.Provision.Period.Start = fhirTime(c.Signature.SignedAt)
	}
	if c.RevokedAt != nil && c.RevokedAt.Before(c.ExpiresAt) {
		out.Provision.Period.End = fhirTime(*c.RevokedAt)
	}
	if c.TemplateVersion != nil && c.TemplateSHA256 != nil {
		v := *c.TemplateVersion
		out.Policy = []FHIRPolicy{{URI: base + fhirConsentText + "/v" + strconv.Itoa(v)}}
		out.SourceAttachment = &FHIRAttachment{
			Extension: []FHIRExtension{
				{URL: base + fhirTextVersion, ValueInteger: &v},
				{URL: base + fhirTextSHA256, ValueString: *c.TemplateSHA256},
			},
			ContentType: "text/plain; charset=utf-8",
			Language:    "en",
			Title:       "Tandem consent to share coaching information with a therapist, version " + strconv.Itoa(v),
		}
	}
	out.Text = FHIRNarrative{Status: "generated", Div: fhirNarrative(c, p, out.Provision.Period)}
	return out
}

// fhirNarrative is the consent in a few sentences, for people who read the
// resource in a system that does not understand every element: who shares
// what with whom and why, in the client's words, its status and period.
func fhirNarrative(c Consent, p Parties, period FHIRPeriod) string {
	var b strings.Builder
	text := func(s string) { b.WriteString(html.EscapeString(fhirString(s))) }
	b.WriteString(`<div xmlns="` + fhirXHTML + `"><p>`)
	text("Consent of " + p.ClientName + " for " + p.CoachName + " of " + p.PracticeName + " to share " +
		describeClasses(c.Classes) + " with " + c.TherapistName + " (" + c.TherapistEmail + "), for " + purposeDisplay + ".")
	b.WriteString(`</p><p>`)
	text("Purpose, in " + p.ClientName + "'s words: " + c.Purpose)
	b.WriteString(`</p><p>`)
	start := period.Start
	if start == "" {
		start = "signing"
	}
	text("Status: " + c.Status + ". Period: from " + start + " to " + period.End + ".")
	b.WriteString(`</p></div>`)
	return b.String()
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
	return ToFHIR(toConsent(r, s.c.Clock.Now()), p, s.c.BaseURL), nil
}
