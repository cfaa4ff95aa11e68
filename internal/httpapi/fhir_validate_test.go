package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tandem-coach/tandem/tools/validators"
)

// TestConsentFHIRValidates reads a consent as FHIR the way a therapist's
// record system would, active and then revoked, and runs both through FHIR.js
// (the npm "fhir" package, R4) and the receiver checks of
// tools/validators/fhir-validate.cjs: no errors, and no findings but those
// validators.ExplainedConsentFinding explains. A revoked consent's period ends at the
// revocation; every party is a contained resource; Tandem's URIs start with
// the configured base URL.
func TestConsentFHIRValidates(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("p")
	env.roundClock()
	c := env.grant(f.client.AccessToken, f.clientRec.ID, env.signedBody(f, "thea@therapy.example"))
	env.accept(env.mailToken("thea@therapy.example"), newTherapist).tokens(t, http.StatusCreated)

	read := func() []byte {
		return env.do(request{method: "GET", path: "/api/v1/consents/" + c.ID, token: f.client.AccessToken,
			headers: map[string]string{"Accept": "application/fhir+json"}}).want(t, http.StatusOK).Body
	}
	active := read()
	env.setClock(env.clock.Now().Add(5 * time.Minute)) // within the access token's life
	env.consentAction(f.client.AccessToken, c.ID, "revoke").want(t, http.StatusOK)
	var revokedDoc grantDoc
	env.getConsent(f.client.AccessToken, c.ID).want(t, http.StatusOK).decode(t, &revokedDoc)
	revoked := read()

	type reference struct{ Reference, Display string }
	var res []struct {
		Status    string `json:"status"`
		Contained []struct {
			ResourceType string `json:"resourceType"`
			ID           string `json:"id"`
		} `json:"contained"`
		Patient    reference              `json:"patient"`
		Policy     []struct{ URI string } `json:"policy"`
		PolicyRule struct {
			Coding []struct{ System, Code string } `json:"coding"`
		} `json:"policyRule"`
		Provision struct {
			Extension []struct {
				URL         string `json:"url"`
				ValueString string `json:"valueString"`
			} `json:"extension"`
			Period struct {
				Start time.Time `json:"start"`
				End   time.Time `json:"end"`
			} `json:"period"`
			Purpose []struct{ System, Code, Display string } `json:"purpose"`
			Actor   []struct {
				Reference reference `json:"reference"`
			} `json:"actor"`
		} `json:"provision"`
	}
	if err := json.Unmarshal([]byte("["+string(active)+","+string(revoked)+"]"), &res); err != nil {
		t.Fatal(err)
	}
	base := env.cfg.BaseURL + "/fhir/"
	for i, r := range res {
		var contained []string
		for _, c := range r.Contained {
			contained = append(contained, c.ResourceType+"#"+c.ID)
		}
		switch {
		case strings.Join(contained, " ") != "Patient#client Practitioner#coach Practitioner#therapist Organization#practice":
			t.Errorf("resource %d contains %v", i, contained)
		case r.Patient != reference{"#client", f.clientRec.Name}:
			t.Errorf("resource %d: patient %+v", i, r.Patient)
		case len(r.Provision.Actor) != 2 || r.Provision.Actor[0].Reference.Reference != "#therapist" || r.Provision.Actor[1].Reference.Reference != "#coach":
			t.Errorf("resource %d: actors %+v", i, r.Provision.Actor)
		case len(r.Policy) != 1 || r.Policy[0].URI != base+"consent-text/v1":
			t.Errorf("resource %d: policy %+v, want under %s", i, r.Policy, base)
		case len(r.PolicyRule.Coding) != 1 || r.PolicyRule.Coding[0].Code != "hipaa-auth":
			t.Errorf("resource %d: policyRule %+v", i, r.PolicyRule)
		case len(r.Provision.Purpose) != 1 || r.Provision.Purpose[0] != struct{ System, Code, Display string }{
			"http://terminology.hl7.org/CodeSystem/v3-ActReason", "COC", "coordination of care"}:
			t.Errorf("resource %d: purpose %+v", i, r.Provision.Purpose)
		case len(r.Provision.Extension) != 1 || r.Provision.Extension[0].URL != base+"StructureDefinition/consent-purpose-text" ||
			r.Provision.Extension[0].ValueString != consentPurpose:
			t.Errorf("resource %d: provision extension %+v", i, r.Provision.Extension)
		}
	}
	if res[0].Status != "active" || !res[0].Provision.Period.End.Equal(c.ExpiresAt) {
		t.Errorf("active consent: status %s, period ends %v, want the expiry %v", res[0].Status, res[0].Provision.Period.End, c.ExpiresAt)
	}
	if revokedDoc.RevokedAt == nil || res[1].Status != "inactive" || !res[1].Provision.Period.End.Equal(*revokedDoc.RevokedAt) ||
		!res[1].Provision.Period.Start.Equal(c.Signature.SignedAt) {
		t.Errorf("revoked consent: status %s, period %+v; want inactive, from %v to the revocation at %v",
			res[1].Status, res[1].Provision.Period, c.Signature.SignedAt, revokedDoc.RevokedAt)
	}
	for _, body := range [][]byte{active, revoked} {
		if bytes.Contains(body, []byte("tandem.invalid")) || bytes.Contains(body, []byte(`"Patient/`)) {
			t.Errorf("the resource names a placeholder host or a relative reference: %s", body)
		}
	}

	for i, findings := range validators.FHIR(t, json.RawMessage(active), json.RawMessage(revoked)) {
		for _, f := range findings {
			if !validators.ExplainedConsentFinding(f, env.cfg.BaseURL) {
				t.Errorf("%s consent: %s at %s: %s", []string{"active", "revoked"}[i], f.Severity, f.Location, f.Message)
			}
		}
	}
}
