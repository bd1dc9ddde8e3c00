-- The review policy's first-use-of-a-release rule looks up whether an
-- organisation has finalised an encounter coded under the same code-set
-- releases; this index keeps that lookup logarithmic.
CREATE INDEX coding_runs_releases ON coding_runs (org_id, codesets);
