package fcsandbox

import "github.com/cashflow-underwriting/underwriter/ledger"

// The JSON shapes below follow Stripe's API version 2023-10-16 field for field;
// nullable fields are pointers so that they encode as null, not as zero.

type customerJSON struct {
	ID                  string              `json:"id"`
	Object              string              `json:"object"`
	Address             *struct{}           `json:"address"`
	Balance             int64               `json:"balance"`
	Created             int64               `json:"created"`
	Currency            *string             `json:"currency"`
	DefaultSource       *string             `json:"default_source"`
	Delinquent          bool                `json:"delinquent"`
	Description         *string             `json:"description"`
	Discount            *struct{}           `json:"discount"`
	Email               *string             `json:"email"`
	InvoicePrefix       string              `json:"invoice_prefix"`
	InvoiceSettings     invoiceSettingsJSON `json:"invoice_settings"`
	Livemode            bool                `json:"livemode"`
	Metadata            map[string]string   `json:"metadata"`
	Name                *string             `json:"name"`
	NextInvoiceSequence int64               `json:"next_invoice_sequence"`
	Phone               *string             `json:"phone"`
	PreferredLocales    []string            `json:"preferred_locales"`
	Shipping            *struct{}           `json:"shipping"`
	TaxExempt           string              `json:"tax_exempt"`
	TestClock           *string             `json:"test_clock"`
}

type invoiceSettingsJSON struct {
	CustomFields         *struct{} `json:"custom_fields"`
	DefaultPaymentMethod *string   `json:"default_payment_method"`
	Footer               *string   `json:"footer"`
	RenderingOptions     *struct{} `json:"rendering_options"`
}

type sessionJSON struct {
	ID            string               `json:"id"`
	Object        string               `json:"object"`
	AccountHolder ledger.AccountHolder `json:"account_holder"`
	Accounts      listJSON             `json:"accounts"`
	ClientSecret  string               `json:"client_secret"`
	Filters       *filtersJSON         `json:"filters"`
	Livemode      bool                 `json:"livemode"`
	Permissions   []string             `json:"permissions"`
	Prefetch      []string             `json:"prefetch"`
	ReturnURL     *string              `json:"return_url,omitempty"` // optional, not nullable in the spec
}

type filtersJSON struct {
	Countries []string `json:"countries"`
}

type listJSON struct {
	Object  string `json:"object"`
	Data    any    `json:"data"`
	HasMore bool   `json:"has_more"`
	URL     string `json:"url"`
}

type eventJSON struct {
	ID              string           `json:"id"`
	Object          string           `json:"object"`
	APIVersion      string           `json:"api_version"`
	Created         int64            `json:"created"`
	Data            eventDataJSON    `json:"data"`
	Livemode        bool             `json:"livemode"`
	PendingWebhooks int64            `json:"pending_webhooks"`
	Request         eventRequestJSON `json:"request"`
	Type            string           `json:"type"`
}

type eventDataJSON struct {
	Object any `json:"object"`
}

type eventRequestJSON struct {
	ID             *string `json:"id"`
	IdempotencyKey *string `json:"idempotency_key"`
}

type errorJSON struct {
	Error errorBody `json:"error"`
}

type errorBody struct {
	Code    string `json:"code,omitempty"`
	DocURL  string `json:"doc_url,omitempty"`
	Message string `json:"message"`
	Param   string `json:"param,omitempty"`
	Type    string `json:"type"`
}

func ptr[T any](v T) *T { return &v }

// strOrNil is nil for "", as Stripe encodes unset strings as null.
func strOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
