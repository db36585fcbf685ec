package fcsandbox

import "maps"

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

type accountHolderJSON struct {
	Customer string `json:"customer"`
	Type     string `json:"type"`
}

type sessionJSON struct {
	ID            string            `json:"id"`
	Object        string            `json:"object"`
	AccountHolder accountHolderJSON `json:"account_holder"`
	Accounts      listJSON          `json:"accounts"`
	ClientSecret  string            `json:"client_secret"`
	Filters       *filtersJSON      `json:"filters"`
	Livemode      bool              `json:"livemode"`
	Permissions   []string          `json:"permissions"`
	Prefetch      []string          `json:"prefetch"`
	ReturnURL     *string           `json:"return_url,omitempty"` // optional, not nullable in the spec
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

type balanceCashJSON struct {
	Available map[string]int64 `json:"available"`
}

type balanceCreditJSON struct {
	Used map[string]int64 `json:"used"`
}

// balanceJSON carries only the hash named by Type (cash or credit): the spec
// has neither as nullable, and Stripe includes "an additional hash … with a
// name matching" the type.
type balanceJSON struct {
	AsOf    int64              `json:"as_of"`
	Cash    *balanceCashJSON   `json:"cash,omitempty"`
	Credit  *balanceCreditJSON `json:"credit,omitempty"`
	Current map[string]int64   `json:"current"`
	Type    string             `json:"type"`
}

func (b *balanceJSON) clone() *balanceJSON {
	if b == nil {
		return nil
	}
	c := *b
	c.Current = maps.Clone(b.Current)
	if b.Cash != nil {
		c.Cash = &balanceCashJSON{Available: maps.Clone(b.Cash.Available)}
	}
	if b.Credit != nil {
		c.Credit = &balanceCreditJSON{Used: maps.Clone(b.Credit.Used)}
	}
	return &c
}

type balanceRefreshJSON struct {
	LastAttemptedAt        int64  `json:"last_attempted_at"`
	NextRefreshAvailableAt *int64 `json:"next_refresh_available_at"`
	Status                 string `json:"status"`
}

type transactionRefreshJSON struct {
	ID                     string `json:"id"`
	LastAttemptedAt        int64  `json:"last_attempted_at"`
	NextRefreshAvailableAt *int64 `json:"next_refresh_available_at"`
	Status                 string `json:"status"`
}

type ownershipRefreshJSON struct {
	LastAttemptedAt int64  `json:"last_attempted_at"`
	Status          string `json:"status"`
}

type accountJSON struct {
	ID                          string                  `json:"id"`
	Object                      string                  `json:"object"`
	AccountHolder               accountHolderJSON       `json:"account_holder"`
	Balance                     *balanceJSON            `json:"balance"`
	BalanceRefresh              *balanceRefreshJSON     `json:"balance_refresh"`
	Category                    string                  `json:"category"`
	Created                     int64                   `json:"created"`
	DisplayName                 string                  `json:"display_name"`
	InstitutionName             string                  `json:"institution_name"`
	Last4                       string                  `json:"last4"`
	Livemode                    bool                    `json:"livemode"`
	Ownership                   *string                 `json:"ownership"`
	OwnershipRefresh            *ownershipRefreshJSON   `json:"ownership_refresh"`
	Permissions                 []string                `json:"permissions"`
	Status                      string                  `json:"status"`
	Subcategory                 string                  `json:"subcategory"`
	Subscriptions               []string                `json:"subscriptions"`
	SupportedPaymentMethodTypes []string                `json:"supported_payment_method_types"`
	TransactionRefresh          *transactionRefreshJSON `json:"transaction_refresh"`
}

type statusTransitionsJSON struct {
	PostedAt *int64 `json:"posted_at"`
	VoidAt   *int64 `json:"void_at"`
}

type transactionJSON struct {
	ID                 string                `json:"id"`
	Object             string                `json:"object"`
	Account            string                `json:"account"`
	Amount             int64                 `json:"amount"`
	Currency           string                `json:"currency"`
	Description        string                `json:"description"`
	Livemode           bool                  `json:"livemode"`
	Status             string                `json:"status"`
	StatusTransitions  statusTransitionsJSON `json:"status_transitions"`
	TransactedAt       int64                 `json:"transacted_at"`
	TransactionRefresh string                `json:"transaction_refresh"`
	Updated            int64                 `json:"updated"`
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
