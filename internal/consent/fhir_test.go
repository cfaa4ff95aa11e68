package consent

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tandem-coach/tandem/internal/auth"
)

func fhirFixture() (Consent, Parties) {
	signed := time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC)
	c := Consent{
		ID: uuid.MustParse("01900000-0000-7000-8000-000000000001"), PracticeID: uuid.MustParse("01900000-0000-7000-8000-000000000002"),
		ClientID: uuid.MustParse("01900000-0000-7000-8000-000000000003"), CoachID: uuid.MustParse("01900000-0000-7000-8000-000000000004"),
		Status: StatusActive, TherapistName: "Thea Rapist", TherapistEmail: "thea@therapy.example",
		Classes: Classes{ActionSteps, Goals}, Purpose: "Coordinate my return to work.",
		ExpiresAt: signed.Add(90 * 24 * time.Hour), TemplateVersion: ptr(1), TemplateSHA256: ptr(strings.Repeat("ab", 32)),
		Signature: &Signature{Name: "Ada Lovelace", SignedAt: signed, AuthMethod: auth.MethodPasswordTOTP},
		CreatedAt: signed,
	}
	return c, Parties{ClientName: "Ada Lovelace", PracticeName: "Calm Coaching", CoachName: "Cleo Coach"}
}

func TestToFHIRSignedConsent(t *testing.T) {
	c, p := fhirFixture()
	got := ToFHIR(c, p)

	checks := []struct {
		name      string
		got, want any
	}{
		{"resourceType", got.ResourceType, "Consent"},
		{"id", got.ID, c.ID.String()},
		{"identifier", got.Identifier[0], FHIRIdentifier{System: "urn:ietf:rfc:3986", Value: "urn:uuid:" + c.ID.String()}},
		{"status", got.Status, "active"},
		{"scope", got.Scope.Coding[0], FHIRCoding{System: "http://terminology.hl7.org/CodeSystem/consentscope", Code: "patient-privacy", Display: "Privacy Consent"}},
		{"category", got.Category[0].Coding[0], FHIRCoding{System: "http://loinc.org", Code: "59284-0", Display: "Patient Consent"}},
		{"patient", got.Patient, FHIRReference{Reference: "Patient/" + c.ClientID.String(), Display: "Ada Lovelace"}},
		{"dateTime", got.DateTime, "2026-03-01T12:30:00Z"},
		{"performer", got.Performer[0], got.Patient},
		{"organization", got.Organization[0], FHIRReference{Reference: "Organization/" + c.PracticeID.String(), Display: "Calm Coaching"}},
		{"policy", got.Policy[0].URI, "https://tandem.invalid/fhir/consent-text/v1"},
		{"text version", *got.SourceAttachment.Extension[0].ValueInteger, 1},
		{"text version extension", got.SourceAttachment.Extension[0].URL, "https://tandem.invalid/fhir/StructureDefinition/consent-text-version"},
		{"text sha256", got.SourceAttachment.Extension[1], FHIRExtension{URL: "https://tandem.invalid/fhir/StructureDefinition/consent-text-sha256", ValueString: *c.TemplateSHA256}},
		{"provision type", got.Provision.Type, "permit"},
		{"period", got.Provision.Period, FHIRPeriod{Start: "2026-03-01T12:30:00Z", End: "2026-05-30T12:30:00Z"}},
		{"recipient role", got.Provision.Actor[0].Role.Coding[0].Code, "IRCP"},
		{"recipient", got.Provision.Actor[0].Reference, FHIRReference{Identifier: &FHIRIdentifier{System: "urn:ietf:rfc:3986", Value: "mailto:thea@therapy.example"}, Display: "Thea Rapist"}},
		{"discloser role", got.Provision.Actor[1].Role.Coding[0], FHIRCoding{System: "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", Code: "CST", Display: "custodian"}},
		{"discloser", got.Provision.Actor[1].Reference, FHIRReference{Reference: "Practitioner/" + c.CoachID.String(), Display: "Cleo Coach"}},
		{"purpose", got.Provision.Purpose, []FHIRCoding{{System: "http://terminology.hl7.org/CodeSystem/v3-ActReason", Code: "COC", Display: c.Purpose}}},
		{"classes", len(got.Provision.Class), 2},
		{"class 1", got.Provision.Class[0], FHIRCoding{System: "https://tandem.invalid/fhir/CodeSystem/data-class", Code: "action_steps", Display: classTitles[ActionSteps]}},
		{"class 2", got.Provision.Class[1].Code, "goals"},
	}
	for _, ch := range checks {
		gotJSON, _ := json.Marshal(ch.got)
		wantJSON, _ := json.Marshal(ch.want)
		if string(gotJSON) != string(wantJSON) {
			t.Errorf("%s = %s, want %s", ch.name, gotJSON, wantJSON)
		}
	}
}

func TestToFHIRStatus(t *testing.T) {
	for status, want := range map[string]string{
		StatusRequested: "draft", StatusPending: "proposed", StatusActive: "active",
		StatusDeclined: "rejected", StatusRevoked: "inactive", StatusExpired: "inactive",
	} {
		c, p := fhirFixture()
		c.Status = status
		if got := ToFHIR(c, p).Status; got != want {
			t.Errorf("%s maps to %q, want %q", status, got, want)
		}
	}
}

// TestToFHIRRequest maps a coach's request: a draft with no signature, so
// no start, no signed text, and the policy without a version.
func TestToFHIRRequest(t *testing.T) {
	c, p := fhirFixture()
	c.Status, c.Signature, c.TemplateVersion, c.TemplateSHA256 = StatusRequested, nil, nil, nil
	c.CreatedAt = time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)
	got := ToFHIR(c, p)
	if got.Status != "draft" || got.DateTime != "2026-02-01T09:00:00Z" || got.Provision.Period.Start != "" ||
		got.SourceAttachment != nil || got.Policy[0].URI != "https://tandem.invalid/fhir/consent-text" {
		t.Fatalf("request as FHIR = %+v", got)
	}
	raw, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "sourceAttachment") || !strings.Contains(string(raw), `"resourceType":"Consent"`) {
		t.Fatalf("JSON = %s", raw)
	}
}
