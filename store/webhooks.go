package store

import (
	"context"
	"fmt"
)

// RecordWebhookEvent notes that the Stripe event id (evt_…) of type typ is being
// processed and reports whether it is new. A false result means the event was seen before
// (Stripe delivers at least once) and must not be acted on again. accountID is the
// Financial Connections account the event is about, "" when none.
func (s *Store) RecordWebhookEvent(ctx context.Context, id, typ, accountID string) (bool, error) {
	const q = `
		insert into webhook_events (id, type, account_id) values ($1, $2, $3)
		on conflict (id) do nothing`
	tag, err := s.pool.Exec(ctx, q, id, typ, nullIfEmpty(accountID))
	if err != nil {
		return false, fmt.Errorf("record webhook event %s: %w", id, err)
	}
	return tag.RowsAffected() == 1, nil
}

// ForgetWebhookEvent removes the record of event id, so that Stripe's redelivery is
// processed after a handler failed. Forgetting an unknown event is not an error.
func (s *Store) ForgetWebhookEvent(ctx context.Context, id string) error {
	const q = `delete from webhook_events where id = $1`
	if _, err := s.pool.Exec(ctx, q, id); err != nil {
		return fmt.Errorf("forget webhook event %s: %w", id, err)
	}
	return nil
}
