package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cashflow-underwriting/underwriter/internal/codec"
	"github.com/cashflow-underwriting/underwriter/internal/devstack"
	"github.com/cashflow-underwriting/underwriter/internal/wiring"
	"github.com/cashflow-underwriting/underwriter/store"
)

func devCommand() command {
	return command{
		name:    "dev",
		summary: "Run the whole pipeline on embedded defaults (Temporal server + Web UI, throwaway Postgres, Stripe sandbox, worker, API) and underwrite the sample personas.",
		env:     []envVar{envDatabaseURL, envLogFormat, envLogLevel, envAlertWebhookURL, envAlertSigningKey},
		flags: func(fs *flag.FlagSet, getenv func(string) string) func(context.Context, io.Writer, io.Writer) error {
			var (
				exit         = fs.Bool("exit", false, "exit after the table: status 0 when every application was decided as its persona expects, 1 otherwise")
				dbURL        = fs.String("database-url", getenv(envDatabaseURL.name), "Postgres URL; empty starts a throwaway cluster from the machine's PostgreSQL binaries, removed on exit")
				apiAddr      = fs.String("api-addr", "127.0.0.1:8080", "API listen address")
				sandboxAddr  = fs.String("sandbox-addr", "127.0.0.1:12110", "Stripe sandbox listen address")
				temporalPort = fs.Int("temporal-port", 7233, "Temporal frontend gRPC port on 127.0.0.1")
				uiPort       = fs.Int("ui-port", 8233, "Temporal Web UI port on 127.0.0.1 (-1: no UI)")
				temporalDB   = fs.String("temporal-db", "", "Temporal SQLite file to keep workflows across restarts; empty keeps them in memory")
				personas     = fs.String("personas", "", "directory with personas.json and the persona ledgers (default: the samples built into the binary)")
				refreshDelay = fs.Duration("refresh-delay", 300*time.Millisecond, "how long a sandbox refresh stays pending")
				timeout      = fs.Duration("timeout", 2*time.Minute, "how long to wait for each sample decision")
				samples      = fs.Bool("samples", true, "underwrite the sample personas at start, and book the approved ones' loans (one watcher each)")
				afterDays    = fs.Int("after-loan-days", 0, "after booking the sample loans, let the sandbox's clock run this many days, one at a time, and print each loan's alerts (0: none)")
				encrypt      = fs.Bool("encrypt-payloads", false, "encrypt workflow payloads with a random key for this run, and serve the codec endpoint the Web UI decodes them with")
				cardAddr     = fs.String("card-addr", "127.0.0.1:8235", "decision card listen address (https, a certificate made for the run), shown in the Web UI on each workflow page; \"off\": no card")
				logs         logConfig
			)
			logs.flags(fs, getenv, "text", "warn")
			return func(ctx context.Context, stdout, stderr io.Writer) error {
				start := time.Now()
				if *afterDays < 0 || *afterDays > 3650 {
					return fmt.Errorf("after-loan-days: %d is not a number of days in 0…3650", *afterDays)
				}
				logger, err := logs.logger(stderr)
				if err != nil {
					return err
				}
				if err := checkDevSettings(*dbURL, *apiAddr, *sandboxAddr, *temporalPort, *uiPort, *refreshDelay, *timeout); err != nil {
					return err
				}
				// The alert master key is made for the run unless set (to keep a receiver's
				// secret across runs).
				alertKey, alertKeyErr := alertSigningKey(getenv, false)
				alertURL, alertURLErr := alertWebhookURL(getenv)
				if err := errors.Join(alertKeyErr, alertURLErr); err != nil {
					return err
				}
				fmt.Fprintln(stdout, "starting Temporal server + UI, Postgres, Stripe sandbox, worker and API ...")
				dcfg := devstack.Config{
					DatabaseURL: *dbURL, TemporalDBPath: *temporalDB, TemporalPort: *temporalPort, UIPort: *uiPort,
					APIAddr: *apiAddr, SandboxAddr: *sandboxAddr, PersonaDir: *personas, RefreshDelay: *refreshDelay,
					Logger: logger, BuildVersion: buildVersion(), AlertSigningKey: alertKey, AlertWebhookURL: alertURL,
					// The sandbox allows Stripe's test-mode 25 requests a second; the worker
					// and the API stay under it together, as production processes do with
					// their shares (--stripe-rate-limit), instead of retrying 429s.
					StripeRateLimit: devStripeShare * wiring.StripeTestModeRateLimit,
				}
				var dc *devCodec
				if *encrypt {
					if dc, err = newDevCodec(*uiPort != -1); err != nil {
						return err
					}
					defer dc.close()
					dcfg.PayloadCodec, dcfg.UICodecEndpoint = dc.codec, dc.endpoint
				}
				dcard, err := openDevCard(*cardAddr, *uiPort != -1)
				if err != nil {
					return err
				}
				if dcard != nil {
					defer dcard.Close()
					dcfg.UIExtensions = append(dcfg.UIExtensions, dcard.Extension())
				}
				stack, err := devstack.Start(ctx, dcfg)
				if err != nil {
					return err
				}
				defer stack.Close()
				if dcard != nil {
					if err := dcard.Serve(stack); err != nil {
						return err
					}
				}
				if dc != nil {
					if err := dc.serve(stack.UIURL, stdout); err != nil {
						return err
					}
				}
				ready := time.Since(start)
				fmt.Fprintf(stdout, "ready in %s\n\n", ready.Round(time.Millisecond))
				ok := true
				if *samples {
					results := stack.UnderwriteSamples(ctx, "demo-"+shortID(), *timeout)
					ok = printResults(stdout, results)
					fmt.Fprintf(stdout, "\n%d applications in %s (start to table %s)\n", len(results),
						(time.Since(start) - ready).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
					loans := stack.BookSampleLoans(ctx, results)
					if !printLoans(stdout, loans) {
						ok = false
					}
					if *afterDays > 0 && len(loans) > 0 {
						playCtx, cancel := context.WithTimeout(ctx, time.Duration(*afterDays)*time.Minute)
						err := stack.PlayDays(playCtx, loans, *afterDays)
						cancel()
						if err != nil {
							return fmt.Errorf("after-loan-days: %w", err)
						}
						if err := printAlerts(ctx, stdout, stack, loans, *afterDays); err != nil {
							return err
						}
					}
				}
				printEndpoints(stdout, stack)
				printDevCard(stdout, dcard)
				if *exit {
					if !ok {
						return fmt.Errorf("not every sample application was decided as expected")
					}
					return nil
				}
				fmt.Fprintln(stdout, "\nserving until interrupted (Ctrl-C)")
				<-ctx.Done()
				return nil
			}
		},
	}
}

// checkDevSettings refuses bad settings before anything starts, naming the flag or
// variable: a stack half started on them would only fail later, further from the cause.
func checkDevSettings(dbURL, apiAddr, sandboxAddr string, temporalPort, uiPort int, refreshDelay, timeout time.Duration) error {
	var errs []error
	if dbURL != "" {
		errs = append(errs, checkDatabaseURL(dbURL))
	}
	if err := checkListenAddr(apiAddr); err != nil {
		errs = append(errs, fmt.Errorf("api-addr: %w", err))
	}
	if err := checkListenAddr(sandboxAddr); err != nil {
		errs = append(errs, fmt.Errorf("sandbox-addr: %w", err))
	}
	if temporalPort < 0 || temporalPort > 65535 {
		errs = append(errs, fmt.Errorf("temporal-port: %d is not a port in 0…65535 (0: a free one)", temporalPort))
	}
	if uiPort < -1 || uiPort > 65535 {
		errs = append(errs, fmt.Errorf("ui-port: %d is not a port in 0…65535, or -1 for no UI", uiPort))
	}
	if refreshDelay < 0 {
		errs = append(errs, fmt.Errorf("refresh-delay: %s is negative", refreshDelay))
	}
	if timeout <= 0 {
		errs = append(errs, fmt.Errorf("timeout: %s is not a positive duration", timeout))
	}
	return errors.Join(errs...)
}

func printResults(w io.Writer, results []devstack.Result) bool {
	ok := true
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "APPLICATION\tPERSONA\tOUTCOME\tSCORE\tTOP REASONS\tTIME TO DECISION\tEXPECTED")
	for _, r := range results {
		outcome, score, reasons := r.Outcome, "-", strings.Join(r.ReasonCodes, ", ")
		if r.Score != nil {
			score = fmt.Sprint(*r.Score)
		}
		if r.Err != nil {
			outcome, reasons = "NO DECISION", r.Err.Error()
		}
		if reasons == "" {
			reasons = "-"
		}
		check := "ok"
		if !r.Correct() {
			check, ok = "MISMATCH: expected "+r.Expected, false
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ApplicationID, r.Persona, outcome, score, reasons,
			r.Elapsed.Round(time.Millisecond), check)
	}
	tw.Flush()
	return ok
}

// devStripeShare is the share of the sandbox's rate limit dev's in-process worker and API
// use together: a little under the worker's and the API's defaults added up (0.8 and 0.2,
// --stripe-rate-limit), so that the two together never reach it.
const devStripeShare = 0.9

// printLoans lists the loans booked on the approved samples, each with its watcher.
func printLoans(w io.Writer, loans []devstack.BookedLoan) bool {
	if len(loans) == 0 {
		return true
	}
	ok := true
	fmt.Fprintln(w, "\nBooked the approved samples' loans (POST /v1/loans), each watched after the loan:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "LOAN\tPERSONA\tWATCHER")
	for _, l := range loans {
		watcher := l.WorkflowID
		if l.Err != nil {
			watcher, ok = "NOT BOOKED: "+l.Err.Error(), false
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", l.ApplicationID, l.Persona, watcher)
	}
	tw.Flush()
	return ok
}

// printAlerts lists each booked loan's alerts after days simulated days.
func printAlerts(ctx context.Context, w io.Writer, s *devstack.Stack, loans []devstack.BookedLoan, days int) error {
	c := s.Client(&http.Client{Timeout: 30 * time.Second})
	fmt.Fprintf(w, "\nAlerts after %d simulated days (GET /v1/loans/{id}/alerts):\n", days)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "LOAN\tDATE\tEVENT\tDELIVERED\tWHAT HAPPENED")
	for _, l := range loans {
		if l.Err != nil {
			continue
		}
		alerts, err := c.LoanAlerts(ctx, l.ApplicationID)
		if err != nil {
			return err
		}
		if len(alerts) == 0 {
			fmt.Fprintf(tw, "%s\t-\tnone\t-\t-\n", l.ApplicationID)
		}
		for _, a := range alerts {
			delivered := "not sent: no alert webhook URL"
			switch {
			case a.DeliveredAt != nil:
				delivered = "yes"
			case a.LastDeliveryError != "":
				delivered = "retrying: " + a.LastDeliveryError
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", l.ApplicationID, a.Event.Date, a.Event.Type, delivered, a.Event.Text)
		}
	}
	return tw.Flush()
}

func printEndpoints(w io.Writer, s *devstack.Stack) {
	fmt.Fprintln(w)
	if s.UIURL != "" {
		fmt.Fprintf(w, "Temporal Web UI:  %s/namespaces/%s/workflows\n", s.UIURL, s.Namespace)
	}
	fmt.Fprintf(w, "Console:          %s (create an application, link a persona, watch it decided)\n", s.ConsoleURL())
	fmt.Fprintf(w, "Temporal server:  %s (namespace %s)\n", s.TemporalAddress, s.Namespace)
	fmt.Fprintf(w, "API:              %s/v1/applications\n", s.APIURL)
	fmt.Fprintf(w, "API key:          %s (lender %s, key id %s; send it as Authorization: Bearer)\n", s.LenderKey, store.DevLender, s.LenderKeyID)
	fmt.Fprintf(w, "Stripe sandbox:   %s\n", s.SandboxURL)
	fmt.Fprintf(w, "Alert webhooks:   lender %s signs with %s (this run; %s sets its URL)\n",
		store.DevLender, s.AlertSecret(store.DevLender), envAlertWebhookURL.name)
}

func shortID() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// devCodec is dev's payload encryption: a random key for the run and, with the Web UI,
// the codec endpoint on its own loopback listener, opened before the stack so the UI is
// configured with its address.
type devCodec struct {
	codec    *codec.Codec
	ln       net.Listener // nil without the UI
	endpoint string
	hs       *http.Server
}

func newDevCodec(withUI bool) (*devCodec, error) {
	pc, err := codec.ParseKeys("dev:" + codec.GenerateKey())
	if err != nil {
		return nil, err
	}
	d := &devCodec{codec: pc}
	if withUI {
		if d.ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("listen for the codec endpoint: %w", err)
		}
		d.endpoint = "http://" + d.ln.Addr().String()
	}
	return d, nil
}

// serve starts the codec endpoint for the UI at uiURL and prints its login URL.
func (d *devCodec) serve(uiURL string, stdout io.Writer) error {
	if d.ln == nil {
		fmt.Fprintln(stdout, "payloads encrypted with a random key for this run (no Web UI, no codec endpoint)")
		return nil
	}
	token := codec.NewLoginToken()
	h, err := codec.NewHandler(codec.ServerConfig{Codec: d.codec, Origin: uiURL, LoginToken: token})
	if err != nil {
		return err
	}
	d.hs = &http.Server{Handler: h, ReadHeaderTimeout: codecReadHeaderTimeout}
	go func() { _ = d.hs.Serve(d.ln) }() // returns at close
	fmt.Fprintf(stdout, "payloads encrypted with a random key for this run; the Web UI decodes them through %s\n"+
		"log in once, in the browser you open the UI with:\n  %s/login?token=%s\n\n", d.endpoint, d.endpoint, token)
	return nil
}

func (d *devCodec) close() {
	if d.hs != nil {
		_ = d.hs.Close()
	} else if d.ln != nil {
		_ = d.ln.Close()
	}
}

// openDevCard opens the decision card's listener at addr ("off", or no Web UI: none),
// before the stack starts, so that the UI is configured with it.
func openDevCard(addr string, withUI bool) (*devstack.Card, error) {
	if addr == "off" || !withUI {
		return nil, nil
	}
	if err := checkListenAddr(addr); err != nil {
		return nil, fmt.Errorf("card-addr: %w", err)
	}
	c, err := devstack.OpenCard(addr)
	if err != nil {
		return nil, fmt.Errorf("card-addr: %w", err)
	}
	return c, nil
}

// printDevCard says how a browser trusts the card's certificate and logs in. The login
// token is how the operator gets in, as the codec's login URL is: it starts a session of
// short-lived tokens and never travels in a URL.
func printDevCard(w io.Writer, c *devstack.Card) {
	if c == nil {
		return
	}
	fmt.Fprintf(w, "Decision card:    %s (on each workflow page of the Web UI)\n", c.URL)
	fmt.Fprintf(w, "  its certificate is made for this run: open %s once and accept it, or start Chromium with\n"+
		"  --ignore-certificate-errors-spki-list=%s; then paste this login token into the card:\n  %s\n",
		c.URL, c.Cert.SPKIHash, c.LoginToken)
}
