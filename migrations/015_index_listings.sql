-- 015_index_listings: indexes for the queries that read a range rather than one row.
-- GET /v1/applications lists a lender's applications newest first, a page at a time
-- (store.ListApplications: where lender_id = $1 and (created_at, id) < … order by
-- created_at desc, id desc); without an index it sorted every row of the lender's.
-- decisions export, the portfolio report, rescore and train --from-db select decisions by
-- decided_at within a period; without an index each scanned the whole table.
create index applications_lender_created_idx on applications (lender_id, created_at desc, id desc);
create index decisions_decided_at_idx on decisions (decided_at);

---- create above / drop below ----

drop index decisions_decided_at_idx;
drop index applications_lender_created_idx;
