// Package alerthook signs, sends and verifies the webhooks that carry a booked loan's
// early-warning alerts to its lender (README "Loans and alerts").
//
// # The request
//
// Each alert is one POST of a JSON Body to the lender's alert webhook URL, with the headers
//
//	Content-Type: application/json
//	Underwriter-Delivery: <alert id>
//	Underwriter-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
//
// the scheme of Stripe's own webhook signatures. Underwriter-Delivery is the same on every
// retry of one alert, so a receiver that already processed it answers 2xx again and does
// nothing. Any 2xx answer means delivered; anything else, or no answer, is retried with
// back-off by the watcher's Temporal activity for up to three days.
//
// # The secret
//
// Each lender has its own signing secret, LenderSecret(master key, lender id): an
// HMAC-SHA256 of the lender id under the master key that the worker reads from
// UNDERWRITER_ALERT_SIGNING_KEY (64 hex digits, 32 bytes). No secret is stored in
// Postgres; `underwriter alerts set-webhook` prints a lender's secret for its receiver.
// Rotating the master key changes every lender's secret.
//
// # A lender's receiver
//
// A receiver reads the body whole, checks the signature and the timestamp with Verify
// before it trusts anything in it, de-duplicates by Underwriter-Delivery (or Body.ID), and
// answers 2xx once it has stored the alert:
//
//	func alerts(secret string, seen func(id string) bool) http.Handler {
//		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
//			if err != nil {
//				http.Error(w, "unreadable body", http.StatusBadRequest)
//				return
//			}
//			err = alerthook.Verify(secret, r.Header.Get(alerthook.SignatureHeader), body,
//				time.Now(), alerthook.DefaultTolerance)
//			if err != nil {
//				http.Error(w, err.Error(), http.StatusBadRequest)
//				return
//			}
//			if seen(r.Header.Get(alerthook.DeliveryHeader)) {
//				return // a retry of an alert already stored: 200 again
//			}
//			var a alerthook.Body
//			if err := json.Unmarshal(body, &a); err != nil {
//				http.Error(w, "not an alert", http.StatusBadRequest)
//				return
//			}
//			// Store a (a.LoanID, a.Event.Type, a.Event.Text …), then answer 200.
//		})
//	}
//
// A receiver in another language does the same with its HMAC-SHA256: split the header on
// ",", take t and every v1, compute the HMAC of t + "." + the raw body under the secret
// (its bytes as printed), and compare in constant time with each v1; refuse a t more than
// five minutes from its clock.
package alerthook
