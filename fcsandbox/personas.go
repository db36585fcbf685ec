package fcsandbox

import (
	"embed"
	"io/fs"
)

// samples holds the sample personas: the manifest personas.json and one ledger file per
// persona, written by cmd/personagen (go generate ./fcsandbox/).
//
//go:embed personas/*.json
var samples embed.FS

//go:generate go run ../cmd/personagen -out personas

// SamplePersonas returns the sample personas built into the binary, so that the sandbox
// and `underwriter dev` serve them from any working directory.
func SamplePersonas() fs.FS {
	sub, err := fs.Sub(samples, "personas")
	if err != nil {
		panic("fcsandbox: embedded personas: " + err.Error()) // the pattern above is fixed
	}
	return sub
}
