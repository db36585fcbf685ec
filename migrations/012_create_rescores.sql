-- 012_create_rescores: what a past application's stored snapshot scores under another
-- model or policy (`underwriter rescore`), beside its original decision, which stays as
-- it was. An analyst compares the two (swap set, score shift, PSI, AUC and KS on the
-- known outcomes) before shipping a new scorecard or policy.
--
-- One row per application and (feature-set, model, policy) versions: the primary key makes
-- a re-run of the same re-score (a workflow retried, a worker restarted mid-batch, the
-- command run twice) insert nothing, so a version names one file. The columns mirror
-- decisions' scoring columns, so that a re-score under a decision's own versions can be
-- compared with it field by field; the outcome is one a scored snapshot reaches
-- (approve, decline, or refer, score null when the snapshot could not be scored).
-- workflow_id is the Rescore run that wrote the row.
create table rescores (
    application_id          text             not null references applications (id) on delete cascade,
    feature_set_version     text             not null,
    model_version           text             not null,
    policy_version          text             not null,
    snapshot_id             bigint           not null references snapshots (id),
    outcome                 text             not null check (outcome in ('approve', 'decline', 'refer')),
    score                   integer,
    pd                      double precision check (pd >= 0 and pd <= 1),
    reasons                 jsonb            not null default '[]',
    rules                   jsonb            not null default '[]',
    features                jsonb,
    points                  jsonb,
    reason_code_map_version text             not null default '',
    cutoff                  date             not null,
    workflow_id             text             not null,
    build_version           text             not null,
    rescored_at             timestamptz      not null,
    primary key (application_id, feature_set_version, model_version, policy_version)
);

-- The report reads one (feature set, model, policy) triple's rows at a time.
create index rescores_versions_idx on rescores (model_version, policy_version, feature_set_version);

---- create above / drop below ----

-- Going down forgets every re-score; `underwriter rescore` computes them again from the
-- snapshots, which stay.

drop table rescores;
