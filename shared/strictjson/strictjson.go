// Package strictjson reads outside JSON the strict way every chatcards parser
// must: field names matched exactly (no case folding), duplicate names refused,
// invalid UTF-8 refused. Unknown fields are ignored (forward compatible).
//
// It is a thin wrapper over github.com/go-json-experiment/json, the reference
// implementation of Go's encoding/json/v2 (still behind GOEXPERIMENT=jsonv2 in
// Go 1.26), whose defaults are exactly these rules.
package strictjson

import (
	"github.com/go-json-experiment/json"
)

// Unmarshal decodes data into v with exact-case names, no duplicate names and
// valid UTF-8 only.
func Unmarshal(data []byte, v any) error {
	return json.Unmarshal(data, v)
}
