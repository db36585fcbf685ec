package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Alert is one early-warning event of a booked loan (a scoring.Event with the check it
// came from), stored once per loan and event key, and its delivery to the lender
// (migration 016). Its text and evidence name no transaction description.
//
// Evidence and Rescore are stored as jsonb, which keeps their meaning but not their bytes:
// compare them after decoding.
type Alert struct {
	// ID is assigned by the database; the webhook sends it as Underwriter-Delivery, the
	// same on every retry, so receivers de-duplicate by it.
	ID            int64  `db:"id"`
	ApplicationID string `db:"application_id"`
	// EventType is the event's type (scoring.EventLowBalance, …).
	EventType string `db:"event_type"`
	// EventKey is the event's type and evidence (scoring.Event.Key): unique per loan.
	EventKey string `db:"event_key"`
	// EventDate is the UTC day of the cause (a date).
	EventDate time.Time `db:"event_date"`
	Text      string    `db:"text"`
	// Evidence is the event's evidence, a JSON array ([] when nil).
	Evidence json.RawMessage `db:"evidence"`
	// Hint is what the lender can do, "" when nothing particular.
	Hint string `db:"hint"`
	// Rescore is the check's re-scored PD (a scoring.Rescore as JSON), nil when none.
	Rescore                 json.RawMessage `db:"rescore"`
	MonitoringPolicyVersion string          `db:"monitoring_policy_version"`
	// LedgerAsOf is the ledger clock of the check that raised the event.
	LedgerAsOf time.Time `db:"ledger_as_of"`
	CreatedAt  time.Time `db:"created_at"`
	// DeliveredAt is when the lender's endpoint accepted the webhook (2xx), nil until then.
	DeliveredAt *time.Time `db:"delivered_at"`
	// DeliveryAttempts counts the deliveries tried (MarkAlertDelivered and
	// RecordAlertDeliveryFailure each count one).
	DeliveryAttempts int `db:"delivery_attempts"`
	// LastDeliveryError is the last failed attempt's error, nil when none failed.
	LastDeliveryError *string `db:"last_delivery_error"`
}

const alertColumns = `id, application_id, event_type, event_key, event_date, text, evidence, hint,
	rescore, monitoring_policy_version, ledger_as_of, created_at, delivered_at, delivery_attempts,
	last_delivery_error`

// RecordAlerts stores the loan's alerts that are not stored yet (by EventKey; the other
// fields of an already stored one are left as they were) and returns every alert of
// alerts as stored, in the same order, each with its ID. Recording the same alerts again
// (an activity retry, a replayed or repeated check) inserts nothing and returns the same
// rows, so the caller delivers exactly what is not yet delivered (DeliveredAt nil). Each
// alert's ApplicationID is ignored; an application with no booked loan is refused by the
// table's foreign key.
func (s *Store) RecordAlerts(ctx context.Context, applicationID string, alerts []Alert) ([]Alert, error) {
	const insert = `
		insert into loan_alerts (application_id, event_type, event_key, event_date, text, evidence,
			hint, rescore, monitoring_policy_version, ledger_as_of)
		values ($1, $2, $3, $4, $5, coalesce($6::jsonb, '[]'), $7, $8::jsonb, $9, $10)
		on conflict (application_id, event_key) do nothing`
	const sel = `select ` + alertColumns + ` from loan_alerts where application_id = $1 and event_key = any($2)`
	if len(alerts) == 0 {
		return []Alert{}, nil
	}
	var out []Alert
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		keys := make([]string, len(alerts))
		for i, a := range alerts {
			keys[i] = a.EventKey
			b.Queue(insert, applicationID, a.EventType, a.EventKey, dateOnly(a.EventDate), a.Text,
				jsonArg(a.Evidence), a.Hint, jsonArg(a.Rescore), a.MonitoringPolicyVersion, a.LedgerAsOf)
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, sel, applicationID, keys)
		stored, err := pgx.CollectRows(rows, pgx.RowToStructByName[Alert])
		if err != nil {
			return err
		}
		byKey := make(map[string]Alert, len(stored))
		for _, a := range stored {
			byKey[a.EventKey] = a
		}
		out = make([]Alert, len(alerts))
		for i, a := range alerts {
			out[i] = byKey[a.EventKey]
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("record %d alerts of loan %s: %w", len(alerts), applicationID, err)
	}
	return out, nil
}

// ListAlerts returns the alerts of the loan of applicationID, oldest first (by ID); none is
// an empty slice, also for a loan never booked.
func (s *Store) ListAlerts(ctx context.Context, applicationID string) ([]Alert, error) {
	const q = `select ` + alertColumns + ` from loan_alerts where application_id = $1 order by id`
	rows, _ := s.pool.Query(ctx, q, applicationID)
	as, err := pgx.CollectRows(rows, pgx.RowToStructByName[Alert])
	if err != nil {
		return nil, fmt.Errorf("list alerts of loan %s: %w", applicationID, err)
	}
	if as == nil {
		as = []Alert{}
	}
	return as, nil
}

// GetAlert returns the alert with the given id, or an error wrapping ErrNotFound.
func (s *Store) GetAlert(ctx context.Context, id int64) (Alert, error) {
	const q = `select ` + alertColumns + ` from loan_alerts where id = $1`
	rows, _ := s.pool.Query(ctx, q, id)
	a, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Alert])
	if err != nil {
		return Alert{}, fmt.Errorf("get alert %d: %w", id, notFound(err))
	}
	return a, nil
}

// MarkAlertDelivered records that the lender's endpoint accepted alert id, counting the
// attempt. An alert already delivered keeps its first delivery time and count (a retried
// activity whose first attempt succeeded unseen). An unknown id wraps ErrNotFound.
func (s *Store) MarkAlertDelivered(ctx context.Context, id int64) error {
	const q = `
		update loan_alerts set delivered_at = now(), delivery_attempts = delivery_attempts + 1
		where id = $1 and delivered_at is null`
	return s.updateAlert(ctx, "mark alert delivered", q, id)
}

// RecordAlertDeliveryFailure counts a failed delivery of alert id and keeps its error
// (an HTTP status or a network error: the caller never passes the body or the secret).
// A delivered alert is left alone. An unknown id wraps ErrNotFound.
func (s *Store) RecordAlertDeliveryFailure(ctx context.Context, id int64, deliveryErr string) error {
	const q = `
		update loan_alerts set delivery_attempts = delivery_attempts + 1, last_delivery_error = $2
		where id = $1 and delivered_at is null`
	return s.updateAlert(ctx, "record alert delivery failure", q, id, deliveryErr)
}

// updateAlert runs an update of one alert's row that may match nothing because the alert
// is delivered, telling that apart from an unknown id.
func (s *Store) updateAlert(ctx context.Context, what, q string, id int64, args ...any) error {
	tag, err := s.pool.Exec(ctx, q, append([]any{id}, args...)...)
	if err != nil {
		return fmt.Errorf("%s %d: %w", what, id, err)
	}
	if tag.RowsAffected() == 0 {
		if _, err := s.GetAlert(ctx, id); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	return nil
}
