package fcsandbox

import (
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"time"
)

// Defaults for the zero values of Config.
const (
	// DefaultRefreshDelay is how long a refresh stays pending: long enough for a
	// client to observe the pending state, short enough for demos.
	DefaultRefreshDelay = 2 * time.Second
	// DefaultRefreshCooldown is the gap between the end of a refresh and
	// next_refresh_available_at. Stripe does not publish its value.
	DefaultRefreshCooldown = time.Minute
	// DefaultWebhookMaxAttempts bounds the delivery attempts per event; with
	// DefaultWebhookRetryBase doubling up to DefaultWebhookRetryMax, the last
	// attempt happens about 17 minutes after the first.
	DefaultWebhookMaxAttempts = 10
	// DefaultWebhookRetryBase is the wait before the first retry; it doubles per attempt.
	DefaultWebhookRetryBase = time.Second
	// DefaultWebhookRetryMax caps the wait between two attempts.
	DefaultWebhookRetryMax = 5 * time.Minute
	// DefaultWebhookTimeout bounds one delivery attempt.
	DefaultWebhookTimeout = 10 * time.Second
	// DefaultRateLimit is Stripe's test-mode limit: 25 requests per second.
	DefaultRateLimit = 25
)

// Environment variable names read by ConfigFromEnv.
const (
	EnvAPIKey          = "STRIPE_SECRET_KEY"
	EnvWebhookSecret   = "STRIPE_WEBHOOK_SECRET"
	EnvWebhookURL      = "FCSANDBOX_WEBHOOK_URL"
	EnvRefreshDelay    = "FCSANDBOX_REFRESH_DELAY"
	EnvRefreshCooldown = "FCSANDBOX_REFRESH_COOLDOWN"
	EnvPersonaDir      = "FCSANDBOX_PERSONAS"
	EnvPostPending     = "FCSANDBOX_POST_PENDING"
	EnvRateLimit       = "FCSANDBOX_RATE_LIMIT"
)

// Config configures a Server. The zero value of every field except Personas and
// PersonaDir has a working default; with neither set the server has no personas, so
// linking fails.
type Config struct {
	// APIKey is the secret key clients must send (Authorization: Bearer, or
	// HTTP Basic with the key as user). "" accepts any sk_test_… or rk_test_… key.
	// Env STRIPE_SECRET_KEY.
	APIKey string
	// WebhookURL receives the signed events; "" disables delivery.
	// Env FCSANDBOX_WEBHOOK_URL.
	WebhookURL string
	// WebhookSecret signs the events (whsec_…). "" generates one; read it with
	// Server.WebhookSecret. Env STRIPE_WEBHOOK_SECRET.
	WebhookSecret string
	// RefreshDelay is how long a refresh stays pending (0 = DefaultRefreshDelay).
	// Env FCSANDBOX_REFRESH_DELAY.
	RefreshDelay time.Duration
	// RefreshCooldown is added to the completion time to give
	// next_refresh_available_at (0 = DefaultRefreshCooldown; negative = none,
	// next_refresh_available_at equals the completion time).
	// Env FCSANDBOX_REFRESH_COOLDOWN.
	RefreshCooldown time.Duration
	// Personas holds personas.json and the ledger files: SamplePersonas() for the
	// samples built into the binary, or any other file system.
	Personas fs.FS
	// PersonaDir is a directory holding personas.json and the ledger files, read when
	// Personas is nil. Env FCSANDBOX_PERSONAS.
	PersonaDir string
	// PostPendingOnRefresh makes every succeeded transaction refresh after the
	// link post the account's pending transactions (status posted, updated and
	// transaction_refresh set, balance.current moved by their amounts), so that
	// clients can exercise transaction updates. Off by default: persona outcomes
	// are calibrated on the ledgers as written. Env FCSANDBOX_POST_PENDING=true.
	PostPendingOnRefresh bool
	// RateLimit is the number of API requests per second each API key may
	// make (a token bucket holding one second's worth); more are answered
	// with Stripe's 429 rate_limit error. 0 = DefaultRateLimit (Stripe's
	// test mode), negative = no limit. The /sandbox/ paths are not limited.
	// Env FCSANDBOX_RATE_LIMIT (an integer; "off" or a negative number = no limit).
	RateLimit int
	// FaultRates injects faults at random, by rate, for the server's whole life
	// (the zero value injects none); Server.FaultCounts counts them. Set from Go
	// only: a chaos run's setting, not a command's.
	FaultRates FaultRates
	// LinkAnchor, when set, is where a link moves a persona's ledger: its newest
	// balance.as_of lands on LinkAnchor instead of on Now at the link, every other
	// ledger time moving by the same delta. Two runs that link the same persona minutes
	// apart then serve the same dates, which a chaos run needs to compare its decisions
	// with a fault-free run's (features count UTC days, so a ledger moved by the minutes
	// between two links can put a transaction on the other side of a midnight). Every
	// other timestamp still follows Now. It must not be after Now; an anchor on the same
	// time of day as the ledgers' keeps their transactions' times of day.
	LinkAnchor time.Time
	// Now is the clock for every timestamp in objects (nil = time.Now), moved
	// forward by the days Server.Advance added (the simulated clock). Timers
	// (RefreshDelay, webhook backoff) and webhook signatures use the wall clock.
	Now func() time.Time
	// Logger receives structured logs with ids only (nil = discard).
	Logger *slog.Logger

	// WebhookClient sends the webhooks (nil = a client with DefaultWebhookTimeout).
	WebhookClient *http.Client
	// WebhookMaxAttempts bounds delivery attempts per event (0 = DefaultWebhookMaxAttempts).
	WebhookMaxAttempts int
	// WebhookRetryBase is the first retry wait, doubled per attempt (0 = DefaultWebhookRetryBase).
	WebhookRetryBase time.Duration
	// WebhookRetryMax caps the retry wait (0 = DefaultWebhookRetryMax).
	WebhookRetryMax time.Duration
}

// personas returns the persona file system the config names, nil for none.
func (c Config) personas() fs.FS {
	switch {
	case c.Personas != nil:
		return c.Personas
	case c.PersonaDir != "":
		return os.DirFS(c.PersonaDir)
	}
	return nil
}

// personaSource describes where the personas come from, for the start-up log.
func (c Config) personaSource() string {
	switch {
	case c.Personas != nil && c.PersonaDir == "":
		return "built-in samples"
	case c.Personas != nil:
		return "file system"
	}
	return c.PersonaDir
}

// ConfigFromEnv builds a Config from environment variables (see the package
// documentation); getenv is usually os.Getenv. Unset variables keep defaults, and
// without FCSANDBOX_PERSONAS the server serves the sample personas built into the binary.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	cfg := Config{
		APIKey:        getenv(EnvAPIKey),
		WebhookSecret: getenv(EnvWebhookSecret),
		WebhookURL:    getenv(EnvWebhookURL),
		PersonaDir:    getenv(EnvPersonaDir),
	}
	if cfg.PersonaDir == "" {
		cfg.Personas = SamplePersonas()
	}
	var err error
	if v := getenv(EnvPostPending); v != "" {
		if cfg.PostPendingOnRefresh, err = strconv.ParseBool(v); err != nil {
			return Config{}, fmt.Errorf("parse %s: %w", EnvPostPending, err)
		}
	}
	if v := getenv(EnvRateLimit); v != "" {
		if v == "off" {
			cfg.RateLimit = -1
		} else if cfg.RateLimit, err = strconv.Atoi(v); err != nil {
			return Config{}, fmt.Errorf("parse %s: %w", EnvRateLimit, err)
		} else if cfg.RateLimit == 0 {
			return Config{}, fmt.Errorf("parse %s: 0 is not a rate; use a positive number, or off", EnvRateLimit)
		}
	}
	if cfg.RefreshDelay, err = envDuration(getenv, EnvRefreshDelay); err != nil {
		return Config{}, err
	}
	if cfg.RefreshCooldown, err = envDuration(getenv, EnvRefreshCooldown); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

func envDuration(getenv func(string) string, name string) (time.Duration, error) {
	s := getenv(name)
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		// Accept plain seconds too ("5").
		n, nerr := strconv.Atoi(s)
		if nerr != nil {
			return 0, fmt.Errorf("parse %s: %w", name, err)
		}
		d = time.Duration(n) * time.Second
	}
	if d < 0 {
		return 0, fmt.Errorf("parse %s: negative duration %s", name, d)
	}
	return d, nil
}

// LogValue implements slog.LogValuer; secrets are redacted.
func (c Config) LogValue() slog.Value {
	redact := func(s string) string {
		if s == "" {
			return ""
		}
		return "[redacted]"
	}
	return slog.GroupValue(
		slog.String("api_key", redact(c.APIKey)),
		slog.String("webhook_secret", redact(c.WebhookSecret)),
		slog.String("webhook_url", c.WebhookURL),
		slog.Duration("refresh_delay", c.RefreshDelay),
		slog.Duration("refresh_cooldown", c.RefreshCooldown),
		slog.String("persona_dir", c.personaSource()),
		slog.Bool("post_pending_on_refresh", c.PostPendingOnRefresh),
		slog.Int("rate_limit", c.RateLimit),
		slog.Group("fault_rates",
			slog.Float64("server_error", c.FaultRates.ServerError), slog.Float64("rate_limit", c.FaultRates.RateLimit),
			slog.Duration("max_latency", c.FaultRates.MaxLatency), slog.Float64("drop_webhook", c.FaultRates.DropWebhook),
			slog.Float64("duplicate_webhook", c.FaultRates.DuplicateWebhook)),
	)
}

// withDefaults returns c with zero values replaced by defaults.
func (c Config) withDefaults() Config {
	if c.RefreshDelay <= 0 {
		c.RefreshDelay = DefaultRefreshDelay
	}
	if c.RefreshCooldown == 0 {
		c.RefreshCooldown = DefaultRefreshCooldown
	} else if c.RefreshCooldown < 0 {
		c.RefreshCooldown = 0
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.RateLimit == 0 {
		c.RateLimit = DefaultRateLimit
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.WebhookClient == nil {
		c.WebhookClient = &http.Client{Timeout: DefaultWebhookTimeout}
	}
	if c.WebhookMaxAttempts <= 0 {
		c.WebhookMaxAttempts = DefaultWebhookMaxAttempts
	}
	if c.WebhookRetryBase <= 0 {
		c.WebhookRetryBase = DefaultWebhookRetryBase
	}
	if c.WebhookRetryMax <= 0 {
		c.WebhookRetryMax = DefaultWebhookRetryMax
	}
	if c.WebhookSecret == "" {
		c.WebhookSecret = newID("whsec_", 32)
	}
	return c
}
