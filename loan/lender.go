package loan

import (
	"fmt"
	"regexp"
	"strings"
)

// DevLender is the development lender: it owns the applications created before lenders
// existed (migration 010) and those whose workflow a backend started with the Temporal
// client without naming a lender.
const DevLender = "dev"

var lenderPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// CheckLender returns an error naming the problem when id cannot be a lender id: 1 to 32
// lowercase letters, digits and hyphens, starting with a letter or digit. Lender ids appear
// in workflow ids (underwrite/<lender>/<application>), so they hold no slash.
func CheckLender(id string) error {
	if !lenderPattern.MatchString(id) {
		return fmt.Errorf("lender %q: must be 1-32 lowercase letters, digits or '-', starting with a letter or digit", id)
	}
	return nil
}

// ApplicationKey is the key of a lender's application in Postgres, and the application
// id its workflow knows: "<lender>/<the lender's application id>". Application ids are the
// lender's own, so two lenders may use the same one.
func ApplicationKey(lender, externalID string) string {
	return lender + "/" + externalID
}

// SplitApplicationKey undoes ApplicationKey. A key without a slash is an application
// created before lenders existed: the development lender's.
func SplitApplicationKey(key string) (lender, externalID string) {
	if l, ext, ok := strings.Cut(key, "/"); ok {
		return l, ext
	}
	return DevLender, key
}
