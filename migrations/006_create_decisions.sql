-- 006_create_decisions: the underwriting decision, one per application (the primary key on
-- application_id makes a retried RecordDecision leave one row). It carries everything a
-- replay or an adverse-action notice needs: identity (workflow and run ids, decided_at,
-- build version), versions (model, policy, feature set, reason code map), inputs (snapshot
-- id, content hash, as_of, cutoff day), the feature vector, score, PD, points per
-- characteristic, every policy rule result and up to four reasons. Outcomes without a
-- score (expired, withdrawn) leave the scoring columns null.
create table decisions (
    application_id          text             primary key references applications (id) on delete cascade,
    workflow_id             text             not null,
    run_id                  text             not null,
    outcome                 text             not null check (outcome in ('approve', 'decline', 'refer', 'expired', 'withdrawn')),
    score                   integer,
    pd                      double precision check (pd >= 0 and pd <= 1),
    reasons                 jsonb            not null default '[]',
    rules                   jsonb            not null default '[]',
    features                jsonb,
    points                  jsonb,
    model_version           text             not null,
    policy_version          text             not null,
    feature_set_version     text             not null,
    reason_code_map_version text             not null default '',
    snapshot_id             bigint           references snapshots (id),
    content_hash            text,
    as_of                   timestamptz,
    cutoff                  date,
    decided_at              timestamptz      not null,
    build_version           text             not null,
    created_at              timestamptz      not null default now()
);

create index decisions_snapshot_id_idx on decisions (snapshot_id);

---- create above / drop below ----

drop table decisions;
