package consent

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/tools/validators"
)

const testBaseURL = "https://coach.example"

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
	got := ToFHIR(c, p, testBaseURL+"/")

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
		{"contained", got.Contained, []FHIRParty{
			{ResourceType: "Patient", ID: "client", Identifier: []FHIRIdentifier{{System: "urn:ietf:rfc:3986", Value: "urn:uuid:" + c.ClientID.String()}},
				Name: []FHIRHumanName{{Text: "Ada Lovelace"}}},
			{ResourceType: "Practitioner", ID: "coach", Identifier: []FHIRIdentifier{{System: "urn:ietf:rfc:3986", Value: "urn:uuid:" + c.CoachID.String()}},
				Name: []FHIRHumanName{{Text: "Cleo Coach"}}},
			{ResourceType: "Practitioner", ID: "therapist", Identifier: []FHIRIdentifier{{System: "urn:ietf:rfc:3986", Value: "mailto:thea@therapy.example"}},
				Name: []FHIRHumanName{{Text: "Thea Rapist"}}, Telecom: []FHIRContactPoint{{System: "email", Value: "thea@therapy.example"}}},
			{ResourceType: "Organization", ID: "practice", Identifier: []FHIRIdentifier{{System: "urn:ietf:rfc:3986", Value: "urn:uuid:" + c.PracticeID.String()}},
				Name: "Calm Coaching"},
		}},
		{"patient", got.Patient, FHIRReference{Reference: "#client", Display: "Ada Lovelace"}},
		{"dateTime", got.DateTime, "2026-03-01T12:30:00Z"},
		{"performer", got.Performer, []FHIRReference{got.Patient}},
		{"organization", got.Organization, []FHIRReference{{Reference: "#practice", Display: "Calm Coaching"}}},
		{"policy", got.Policy, []FHIRPolicy{{URI: "https://coach.example/fhir/consent-text/v1"}}},
		{"policyRule", got.PolicyRule, FHIRCodeableConcept{Coding: []FHIRCoding{
			{System: "http://terminology.hl7.org/CodeSystem/consentpolicycodes", Code: "hipaa-auth", Display: "HIPAA Authorization"}}}},
		{"text extensions", got.SourceAttachment.Extension, []FHIRExtension{
			{URL: "https://coach.example/fhir/StructureDefinition/consent-text-version", ValueInteger: ptr(1)},
			{URL: "https://coach.example/fhir/StructureDefinition/consent-text-sha256", ValueString: *c.TemplateSHA256}}},
		{"provision type", got.Provision.Type, "permit"},
		{"period", got.Provision.Period, FHIRPeriod{Start: "2026-03-01T12:30:00Z", End: "2026-05-30T12:30:00Z"}},
		{"recipient", got.Provision.Actor[0], FHIRProvisionActor{
			Role:      FHIRCodeableConcept{Coding: []FHIRCoding{{System: "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", Code: "IRCP", Display: "information recipient"}}},
			Reference: FHIRReference{Reference: "#therapist", Display: "Thea Rapist"}}},
		{"discloser", got.Provision.Actor[1], FHIRProvisionActor{
			Role:      FHIRCodeableConcept{Coding: []FHIRCoding{{System: "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", Code: "CST", Display: "custodian"}}},
			Reference: FHIRReference{Reference: "#coach", Display: "Cleo Coach"}}},
		// The code's own display; the client's words are in the extension.
		{"purpose", got.Provision.Purpose, []FHIRCoding{{System: "http://terminology.hl7.org/CodeSystem/v3-ActReason", Code: "COC", Display: "coordination of care"}}},
		{"purpose text", got.Provision.Extension, []FHIRExtension{
			{URL: "https://coach.example/fhir/StructureDefinition/consent-purpose-text", ValueString: c.Purpose}}},
		{"classes", got.Provision.Class, []FHIRCoding{
			{System: "https://coach.example/fhir/CodeSystem/data-class", Code: "action_steps", Display: classTitles[ActionSteps]},
			{System: "https://coach.example/fhir/CodeSystem/data-class", Code: "goals", Display: classTitles[Goals]}}},
		{"narrative status", got.Text.Status, "generated"},
	}
	for _, ch := range checks {
		gotJSON, _ := json.Marshal(ch.got)
		wantJSON, _ := json.Marshal(ch.want)
		if string(gotJSON) != string(wantJSON) {
			t.Errorf("%s = %s, want %s", ch.name, gotJSON, wantJSON)
		}
	}
	for _, want := range []string{`<div xmlns="http://www.w3.org/1999/xhtml">`, "Consent of Ada Lovelace for Cleo Coach of Calm Coaching",
		"Coordinate my return to work.", "Thea Rapist (thea@therapy.example)", "Status: active.",
		"from 2026-03-01T12:30:00Z to 2026-05-30T12:30:00Z"} {
		if !strings.Contains(got.Text.Div, want) {
			t.Errorf("narrative %q lacks %q", got.Text.Div, want)
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
		if got := ToFHIR(c, p, testBaseURL).Status; got != want {
			t.Errorf("%s maps to %q, want %q", status, got, want)
		}
	}
}

// TestToFHIRRevokedEndsAtRevocation: a revoked consent's period ends when
// it was revoked, not at the expiry it never reached.
func TestToFHIRRevokedEndsAtRevocation(t *testing.T) {
	c, p := fhirFixture()
	revoked := time.Date(2026, 4, 1, 8, 15, 0, 0, time.FixedZone("", 2*3600))
	c.Status, c.RevokedAt = StatusRevoked, &revoked
	got := ToFHIR(c, p, testBaseURL)
	if got.Status != "inactive" || got.Provision.Period != (FHIRPeriod{Start: "2026-03-01T12:30:00Z", End: "2026-04-01T06:15:00Z"}) {
		t.Fatalf("revoked: status %s, period %+v", got.Status, got.Provision.Period)
	}
	if !strings.Contains(got.Text.Div, "Status: revoked. Period: from 2026-03-01T12:30:00Z to 2026-04-01T06:15:00Z.") {
		t.Fatalf("narrative = %s", got.Text.Div)
	}
}

// TestToFHIRRequest maps a coach's request: a draft with no signature, so
// no start, no signed text, and the policy without a version.
func TestToFHIRRequest(t *testing.T) {
	c, p := fhirFixture()
	c.Status, c.Signature, c.TemplateVersion, c.TemplateSHA256 = StatusRequested, nil, nil, nil
	c.CreatedAt = time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)
	got := ToFHIR(c, p, testBaseURL)
	if got.Status != "draft" || got.DateTime != "2026-02-01T09:00:00Z" || got.Provision.Period.Start != "" ||
		got.SourceAttachment != nil || got.Policy[0].URI != "https://coach.example/fhir/consent-text" {
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

// TestToFHIRWithoutBaseURL: a service configured without a base URL still
// writes absolute URIs.
func TestToFHIRWithoutBaseURL(t *testing.T) {
	c, p := fhirFixture()
	if got := ToFHIR(c, p, "").Policy[0].URI; got != "https://tandem.invalid/fhir/consent-text/v1" {
		t.Fatalf("policy = %q", got)
	}
}

// TestToFHIRHostileText: whatever people typed, the resource holds valid
// FHIR strings and a narrative that is well-formed XHTML without markup of
// theirs.
func TestToFHIRHostileText(t *testing.T) {
	c, p := fhirFixture()
	c.Purpose = "<script>alert(1)</script> & \"quotes\"\x00\x07 \u2028 \xff 🙂\uFFFE"
	c.TherapistName = "Dr. <b>Bold</b>"
	p.ClientName, p.PracticeName = "Zoë & Co", "Ünïcode\tPractice"
	got := ToFHIR(c, p, testBaseURL)
	raw, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{`\u0000`, `\u0007`, `<script>`, `<b>`, "\uFFFE"} {
		if strings.Contains(string(raw), bad) {
			t.Errorf("JSON holds %q: %s", bad, raw)
		}
	}
	if !strings.Contains(got.Text.Div, "&lt;script&gt;") || !strings.Contains(got.Provision.Extension[0].ValueString, "<script>") {
		t.Errorf("narrative %q, purpose %q", got.Text.Div, got.Provision.Extension[0].ValueString)
	}
}

// TestFHIRValidates runs the resource, in every state and with hostile text,
// through FHIR.js (npm "fhir", the R4 definitions) and the receiver checks of
// tools/validators/fhir-validate.cjs: no errors, and no findings but those
// validators.ExplainedConsentFinding explains.
func TestFHIRValidates(t *testing.T) {
	var resources []any
	var names []string
	add := func(name string, c Consent, p Parties) {
		names = append(names, name)
		resources = append(resources, ToFHIR(c, p, testBaseURL))
	}
	c, p := fhirFixture()
	add("active", c, p)
	for _, status := range []string{StatusPending, StatusDeclined, StatusExpired} {
		c, p := fhirFixture()
		c.Status = status
		add(status, c, p)
	}
	c, p = fhirFixture()
	revoked := c.Signature.SignedAt.Add(72 * time.Hour)
	c.Status, c.RevokedAt = StatusRevoked, &revoked
	add("revoked", c, p)
	c, p = fhirFixture()
	c.Status, c.Signature, c.TemplateVersion, c.TemplateSHA256 = StatusRequested, nil, nil, nil
	add("requested", c, p)
	c, p = fhirFixture()
	c.Classes = Classes{CoordinationNotes, SessionSummaries, SessionAttendance, ActionSteps, Goals}
	c.Purpose, p.ClientName = "<script>alert(1)</script> & \"x\"\x00\x1b 🙂", "Zoë & <Co>"
	add("every class, hostile text", c, p)

	for i, findings := range validators.FHIR(t, resources...) {
		for _, f := range findings {
			if !validators.ExplainedConsentFinding(f, testBaseURL) {
				t.Errorf("%s: %s at %s: %s", names[i], f.Severity, f.Location, f.Message)
			}
		}
	}
}
