package devstack

import (
	"fmt"
	"net"
	"net/http"
	"time"

	uiconfig "github.com/temporalio/ui-server/v2/server/config"

	"github.com/cashflow-underwriting/underwriter/api"
	"github.com/cashflow-underwriting/underwriter/internal/card"
)

// cardHeight is the card's height in the UI until it asks for the height it needs (the
// slot allows 32…640 pixels).
const cardHeight = 320

// Card is the decision card (internal/card) of a dev stack: a TLS listener on loopback with
// a certificate made for this run, opened before the stack so that the Web UI is
// configured with its address, and served once the stack's Postgres is up.
type Card struct {
	// URL is the card's origin, https://127.0.0.1:<port>.
	URL string
	// Cert is the certificate made for this run: a browser must trust it (or the operator
	// accept it once, by opening URL) before the UI can frame the card.
	Cert card.Cert
	// LoginToken is the token the card asks for once per browser session, for this run.
	LoginToken string
	ln         net.Listener
}

// OpenCard makes the card's certificate and listens on addr (default 127.0.0.1:0).
func OpenCard(addr string) (*Card, error) {
	cert, err := card.SelfSigned(time.Now())
	if err != nil {
		return nil, err
	}
	ln, err := listen(addr)
	if err != nil {
		return nil, fmt.Errorf("listen for the decision card: %w", err)
	}
	c := &Card{URL: "https://" + ln.Addr().String(), Cert: cert, LoginToken: card.NewLoginToken(), ln: cert.Listen(ln)}
	if err := (uiconfig.CustomUI{Enabled: true, IframeExtensions: []uiconfig.IframeExtension{c.Extension()}}).Validate(false); err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("decision card extension: %w", err)
	}
	return c, nil
}

// Extension is the card as ui-server's iframe extension on the workflow page: privileged
// (context:workflow, so the UI sends it the workflow's id), which ui-server allows only
// on an HTTPS origin of its own, framed with allow-same-origin so that the card's
// own cookie and fetches work.
func (c *Card) Extension() uiconfig.IframeExtension {
	return uiconfig.IframeExtension{
		ID:            card.ExtensionID,
		Title:         "Decision",
		Slot:          "workflow.header.after-details",
		Src:           c.URL + "/",
		AllowedOrigin: c.URL,
		Sandbox:       uiconfig.IframeSandbox{AllowSameOrigin: true},
		Sizing:        uiconfig.IframeExtensionSizing{DefaultHeight: cardHeight},
		Permissions:   []string{"context:workflow"},
	}
}

// Serve serves the card for s's Web UI from s's Postgres until s closes.
func (c *Card) Serve(s *Stack) error {
	h, err := card.New(card.Config{Store: s.Store, UIOrigin: s.UIURL, LoginToken: c.LoginToken})
	if err != nil {
		_ = c.ln.Close()
		return err
	}
	s.serve(c.ln, &http.Server{Handler: h, ReadHeaderTimeout: api.ReadHeaderTimeout})
	return nil
}

// Close closes the card's listener when it was never served.
func (c *Card) Close() { _ = c.ln.Close() }
