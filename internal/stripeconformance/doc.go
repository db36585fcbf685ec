// Package stripeconformance holds the tests that prove underwriter talks
// Stripe's API version 2023-10-16 (the one stripe-go v76 pins):
//
//   - TestProjectRequestsAgainstStripeMock runs every Stripe request the
//     project makes through the project's own code (wiring.NewStripe and the
//     activities) against stripe-mock v0.183.0, started as a subprocess with
//     -strict-version-check on loopback ports, behind a recording proxy that
//     requires a 2xx answer to every request.
//   - TestSandboxResponsesMatchSpec drives fcsandbox through every endpoint
//     and error the pipeline meets and validates each response against the
//     OpenAPI spec shipped inside the stripe-mock v0.183.0 module
//     (embedded/openapi/spec3.json), and decodes it into the stripe-go v76
//     types without losing a field.
//
// stripe-mock must be installed (CI does it):
//
//	go install github.com/stripe/stripe-mock@v0.183.0
//
// The tests look for it on PATH, then in $(go env GOPATH)/bin, and fail with
// that command when it is missing. The spec is read from the module cache
// (go mod download, which the same install fills).
package stripeconformance
