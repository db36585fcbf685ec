-- 014_add_decisions_deployment_version: the Temporal Worker Deployment Version of the worker
-- that made each decision ("<deployment name>:<build id>", as Temporal's
-- TemporalWorkerDeploymentVersion search attribute spells it), so a decision can be traced to
-- the code that ran its workflow: an Underwrite run is pinned to the version it started on,
-- which may differ from the newest one. Null for decisions made before this column, and by an
-- unversioned worker (underwriter worker --deployment-name "").
alter table decisions add column deployment_version text;

---- create above / drop below ----

alter table decisions drop column deployment_version;
