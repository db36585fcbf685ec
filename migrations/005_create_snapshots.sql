-- 005_create_snapshots: the frozen input of a decision. A snapshot stores the ledger document
-- (ledger file format, exactly the bytes that were hashed, hence bytea rather than jsonb,
-- which would reorder keys and rewrite numbers) with its content hash, so re-scoring and
-- replays read exactly what the first decision read. (application_id, content_hash) is
-- unique so taking the same snapshot twice keeps one row; a trigger refuses updates because
-- a snapshot that changes after a decision would silently break the audit trail.
create table snapshots (
    id             bigserial   primary key,
    application_id text        not null references applications (id) on delete cascade,
    as_of          timestamptz not null,
    content_hash   text        not null,
    ledger         bytea       not null,
    txn_count      integer     not null check (txn_count >= 0),
    account_count  integer     not null check (account_count >= 0),
    created_at     timestamptz not null default now(),
    unique (application_id, content_hash)
);

create function snapshots_refuse_update() returns trigger
language plpgsql as $$
begin
    raise exception 'snapshots are immutable (snapshot %)', old.id;
end;
$$;

create trigger snapshots_immutable
    before update on snapshots
    for each row execute function snapshots_refuse_update();

---- create above / drop below ----

drop table snapshots;
drop function snapshots_refuse_update();
