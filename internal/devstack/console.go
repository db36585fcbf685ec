package devstack

import (
	"net/http"
	"strings"

	"github.com/cashflow-underwriting/underwriter/internal/console"
)

// ConsoleURL is the quickstart console's page, served at the API's address.
func (s *Stack) ConsoleURL() string { return s.APIURL + console.Prefix + "/" }

// withConsole serves the quickstart console (internal/console) under /console beside the
// API handler api: dev's own addition, which the production `api` command does not make.
// The console calls the API over HTTP as the development lender, with this run's key.
func (s *Stack) withConsole(api http.Handler) http.Handler {
	c := console.Handler(console.Config{
		APIURL: s.APIURL, LenderKey: s.LenderKey, SandboxURL: s.SandboxURL,
		UIURL: s.UIURL, Namespace: s.Namespace, Logger: s.logger.With("component", "console"),
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == console.Prefix || strings.HasPrefix(r.URL.Path, console.Prefix+"/") {
			c.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}
