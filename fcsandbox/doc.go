// Package fcsandbox is a Stripe-compatible Financial Connections server for
// development, demos and tests.
//
// It answers like Stripe's API version 2023-10-16 (the version stripe-go v76
// pins) on the endpoints the underwriting pipeline uses, with the same paths,
// form-encoded parameters, JSON shapes, error bodies and status codes:
//
//	POST /v1/customers
//	GET  /v1/customers/{id}
//	POST /v1/financial_connections/sessions
//	GET  /v1/financial_connections/sessions/{id}
//	GET  /v1/financial_connections/accounts
//	GET  /v1/financial_connections/accounts/{id}
//	POST /v1/financial_connections/accounts/{id}/refresh
//	POST /v1/financial_connections/accounts/{id}/disconnect
//	POST /v1/financial_connections/accounts/{id}/subscribe    features[]=transactions
//	POST /v1/financial_connections/accounts/{id}/unsubscribe  features[]=transactions
//	GET  /v1/financial_connections/transactions
//	GET  /v1/financial_connections/transactions/{id}
//
// Point stripe-go at it with stripe.BackendConfig.URL. Every response carries a
// Request-Id header; POSTs honour Idempotency-Key the way Stripe does.
//
// Two paths stand in for Stripe.js and are not Stripe paths:
//
//	POST /sandbox/v1/link      {"client_secret":"…","persona":"steady_salaried"}
//	GET  /sandbox/v1/personas  the loaded personas (name, story, expected outcome)
//	POST /sandbox/v1/faults    a Fault as JSON, with the API key (see InjectFault)
//	POST /sandbox/v1/accounts/{id}/status  {"status":"inactive"}, with the API key (see SetAccountStatus)
//	GET  /sandbox/v1/clock                 the simulated clock, with the API key (a Clock)
//	POST /sandbox/v1/clock/advance         {"days":7}, with the API key (see Server.Advance, AdvanceClock)
//	GET  /sandbox/v1/stories               the stories after the loan (Stories)
//
// Faults (5xx, 429, 409 answers, latency, dropped, duplicated and delayed
// webhooks) are armed with Server.InjectFault or the faults path and consumed
// by the next matching requests or events. A latency fault holds a POST after
// its Idempotency-Key is marked in flight, so a concurrent request with the
// same key gets Stripe's 409 idempotency_key_in_use. A delayed webhook is
// overtaken by later events, as Stripe allows (at least once, any order).
//
// A link request can also make its own accounts awkward, leaving other links
// alone: "refresh_outcome":"failed" fails their refreshes,
// "drop_refresh_webhooks":true records their refresh events without delivering
// them (the platform must poll), and "account_status_at_refresh" deactivates
// them (below). "ledger":{…} instead of "persona" links a ledger file of the
// applicant's own as a one-off persona named "uploaded".
//
// # Fault rates
//
// Config.FaultRates injects faults at random for the server's whole life, from
// one random stream seeded with FaultRates.Seed: a share of API requests (the
// /v1 paths; never /sandbox/) answered 500 api_error or 429 rate_limit before
// they run, so nothing is stored under their Idempotency-Key; latency jitter,
// uniform in [0, MaxLatency), on the others; a share of webhook delivery
// attempts dropped and a share of events delivered twice. Server.FaultCounts
// counts every injected fault, armed or drawn. An armed Fault that matches a
// request or an event takes precedence over the rates.
//
// A dropped webhook models an event lost in transit on one attempt, as it
// happens at Stripe: the endpoint never got the request, Stripe sees the
// attempt time out and retries the event with its backoff
// (Config.WebhookRetryBase doubling up to WebhookRetryMax, at most
// WebhookMaxAttempts attempts, each drawn again). An event is lost for good only
// when every attempt is, which at a rate of 0.2 and 10 attempts is one event in
// ten million. (An armed FaultDropWebhook, by contrast, drops an event outright,
// to test what a receiver does when a webhook never comes.)
//
// # Restarting with the state kept
//
// SuspendWebhooks holds every delivery until ResumeWebhooks. A host that closes
// the listener serving Handler, suspends webhooks, and later serves Handler
// again on the same address and resumes them has restarted the sandbox's API
// and delivery with its state intact: objects, idempotency keys, pending
// refreshes (which complete on time meanwhile) and undelivered events (sent on
// resume, as Stripe's retries would after an outage).
//
// # Account status
//
// SetAccountStatus (the Go helper, Server.SetAccountStatus, or the status
// path) moves an account between active and inactive, or to disconnected
// (final), and sends financial_connections.account.deactivated, .reactivated
// or .disconnected. Refreshing an account that is not active answers 400
// financial_connections_account_inactive; a refresh pending when it stops
// being active ends as failed; data already refreshed stays readable. The
// persona manifest field "account_status_at_refresh" ("inactive" or
// "disconnected"), or the same field of a link request, makes the linked
// accounts switch to that status at the first refresh request, which is then
// refused the same way.
//
// # Rate limit
//
// Each API key may make Config.RateLimit API requests per second (default 25,
// Stripe's test-mode limit; negative = off), as a token bucket holding one
// second's worth. Beyond it the answer is Stripe's 429
// {"error":{"type":"invalid_request_error","code":"rate_limit",…}} without a
// Stripe-Should-Retry header; stripe-go does not retry it.
//
// Linking attaches the accounts of a persona's ledger file to the session with
// new random ids, rebases every ledger timestamp by one delta so that the newest
// balance.as_of equals Config.Now at link time (or Config.LinkAnchor, when set,
// so that links at different times serve the same dates), marks the data as prefetched
// (per the session's prefetch list) and sends financial_connections.account.created
// per account. CompleteLink is the Go client for it.
//
// # Refresh state machine
//
// Refresh sets the requested features to pending (a new fctxnref_… id for
// transactions, last_attempted_at = now, next_refresh_available_at = null).
// After Config.RefreshDelay the refresh ends as succeeded, or as failed when the
// persona's refresh_outcome is "failed", with next_refresh_available_at = now +
// Config.RefreshCooldown; then the account.refreshed_transactions,
// account.refreshed_balance (and account.refreshed_ownership) webhooks are sent.
// A succeeded balance refresh sets balance.as_of = now.
//
// What a succeeded transaction refresh after the link does with pending
// transactions is chosen per link: the link request's "pending_at_refresh",
// else the persona's, else Config.PostPendingOnRefresh ("post" when true,
// otherwise "keep", the default: persona outcomes are calibrated on the
// ledgers as written). PendingPost posts them (status posted, posted_at and
// updated = now, transaction_refresh = the new refresh id, balance.current
// moved by their amounts); PendingVoid voids them (void_at and updated = now,
// balance.cash.available releases their holds); PendingKeep changes nothing.
// transaction_refresh[after] returns exactly what later refreshes created or
// changed. Without prefetch, the first succeeded refresh delivers the balance
// and all transactions.
//
// A refresh that asks for a feature whose refresh is still pending, or before
// its next_refresh_available_at, is refused as a whole with 400
// invalid_request_error, param "features[i]" and no code; nothing starts and
// nothing is stored under its idempotency key. Stripe documents neither case:
// the 2023-10-16 spec only says next_refresh_available_at is the "time at
// which the next … refresh can be initiated" (null while pending), and neither
// the spec's error object nor stripe-go v76's ErrorCode list has a code for
// it. A client should re-read the account and wait, then retry.
//
// # Webhooks
//
// Events are Stripe event objects (api_version 2023-10-16) POSTed to
// Config.WebhookURL with a Stripe-Signature header (t=…,v1=HMAC-SHA256 of
// "t.body" with the webhook secret), so webhook.ConstructEvent accepts them. The
// signature timestamp is the wall clock (time.Now), not Config.Now, because the
// receiver checks it against its own clock; the event's created field uses
// Config.Now. Delivery is asynchronous, at least once, and retried with
// exponential backoff until a 2xx answer or Config.WebhookMaxAttempts; Close
// stops pending retries.
//
// # Subscriptions
//
// Subscribe adds "transactions" to the account's subscriptions (the only feature of
// 2023-10-16) and, when the account was not subscribed and has no transaction refresh
// pending, starts a transaction refresh, as Stripe does; subscribing again changes nothing.
// Unsubscribe removes it, whatever the account's status; both answer the account. An
// unknown account is Stripe's 404 resource_missing, another feature a 400 naming
// features[i], an account that is not active (subscribe only) a 400
// financial_connections_account_inactive, and disconnecting ends the subscriptions.
//
// # After the loan: stories and the simulated clock
//
// Until the clock moves, an account serves its linked ledger and nothing more. Advance
// (POST /sandbox/v1/clock/advance, or AdvanceClock from another process) moves the
// simulated clock forward by whole days: every timestamp the sandbox writes from then on
// (refreshes, balance.as_of, events' created) is Config.Now plus the days advanced. Each
// account's story after the loan then releases the transactions dated up to the simulated
// now, and each active account subscribed to transactions gets one new transaction
// refresh, already succeeded, carrying every released transaction not yet delivered, and
// one signed financial_connections.account.refreshed_transactions webhook: one refresh and
// one webhook per account per Advance call, whatever its number of days (a test wanting
// Stripe's daily webhooks advances one day at a time). An account with a transaction
// refresh pending gets none (the pending one delivers them); an account not subscribed gets
// its days with the next refresh the platform requests; transaction_refresh[after] lists
// exactly what later refreshes created. The bank's balance moves with the released
// transactions, so a balance refresh that succeeds after the clock moved reports it as of
// the simulated now.
//
// The story is the link's "after_loan" field, else the persona's manifest field
// "after_loan", else StorySteady; a persona named "<persona>_then_<story>" (e.g.
// "steady_salaried_then_job_loss") links the persona with that story, so any path that
// takes a persona name can choose one. StorySteady continues the ledger: each recurring
// description (at least three occurrences 7, 14, 21 or 28 days apart, monthly, or
// semi-monthly) on its cadence with its recent amounts in turn, and the other transactions
// (one-off inflows aside) replayed from one of the last three 28-day blocks of history, the
// same weekday, the block drawn per day from the account's seed. The other stories change
// it on given days after the ledger's end (StoryJobLoss, StoryStackingBorrower,
// StoryOverdraftSpiral, StorySecondJob, StoryWindfall, StoryAutoLoan, StoryDisconnect), with
// descriptions scoring's categoriser recognises. The seed derives from the persona, the
// story and the account's place in the ledger, and each day's draws from the seed and the
// day alone, so the same link gives the same amounts, descriptions and times however the
// clock is advanced (ids are new per link). AfterLoanStory.Events names the events
// scoring.Monitor fires on steady_salaried for each story; TestStoriesFireTheirEvents
// checks them, and that StorySteady fires none, day by day over 120 days.
//
// # Configuration for a command
//
// A command builds Config with ConfigFromEnv(os.Getenv), which reads:
//
//	STRIPE_SECRET_KEY         Config.APIKey ("" accepts any sk_test_… key)
//	STRIPE_WEBHOOK_SECRET     Config.WebhookSecret ("" = a generated whsec_… secret, see Server.WebhookSecret)
//	FCSANDBOX_WEBHOOK_URL     Config.WebhookURL ("" = no delivery)
//	FCSANDBOX_REFRESH_DELAY   Config.RefreshDelay (a time.ParseDuration string, default 2s)
//	FCSANDBOX_REFRESH_COOLDOWN Config.RefreshCooldown (default 1m)
//	FCSANDBOX_PERSONAS        Config.PersonaDir (default: the samples built into the binary)
//	FCSANDBOX_POST_PENDING    Config.PostPendingOnRefresh (true/false, default false)
//	FCSANDBOX_RATE_LIMIT      Config.RateLimit (requests per second per key, default 25; "off" or negative = none)
//
// and serves Server.Handler with its own http.Server.
//
// All state lives in memory, so a restart that keeps it is a suspension within
// one process (see above), not a new process. A Server is safe for concurrent use. Logs carry
// ids only: never API keys, client secrets, webhook secrets, last4 or
// transaction descriptions.
package fcsandbox
