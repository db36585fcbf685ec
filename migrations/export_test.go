package migrations

// MigrateTo exposes migrateTo to the external test package, which cannot live inside
// package migrations because internal/pgtest imports this package.
var MigrateTo = migrateTo
