package api

import _ "embed"

// SpecYAML is api/openapi.yaml as written, served at /api/v1/openapi.yaml.
//
//go:embed openapi.yaml
var SpecYAML []byte
