// Package strictjson decodes the JSON files a node reads from its home
// (config.json, genesis.json) strictly: a misspelt field is an error, not
// a default silently kept.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
)

// Decode decodes one JSON value from b into v, refusing unknown fields and
// anything after the value.
func Decode(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}
