-- Up Migration
-- Git sources: namespaces whose layers follow files in a Git repository. `environments` maps an
-- environment to the branch its overlay comes from; `base_branch` (optional) is where base layers
-- come from. Paths are templates with <namespace> and <environment>. Credentials and the webhook
-- secret are stored sealed (like layer secrets) with the data key of `key_namespace`.
CREATE TABLE git_sources (
  id               uuid PRIMARY KEY,
  name             text NOT NULL UNIQUE,
  provider         text NOT NULL CHECK (provider IN ('github', 'gitlab', 'gitea', 'bitbucket')),
  url              text NOT NULL,
  repository       text NOT NULL,
  namespaces       text[] NOT NULL,
  environments     jsonb NOT NULL,
  base_branch      text,
  base_path        text NOT NULL,
  environment_path text NOT NULL,
  key_namespace    text NOT NULL REFERENCES namespaces (name) ON DELETE CASCADE,
  credentials      jsonb,
  webhook_secret   jsonb,
  signing_secret   jsonb,
  created_by       text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX git_sources_by_repository ON git_sources (provider, lower(repository));

-- Which layer each source owns (derived from the binding when it is saved): the write path reads
-- it with the namespace, so a Git-bound layer refuses API writes without an extra query. Also what
-- the drift-detector needs: the commit and content hash last imported, and the last API override.
CREATE TABLE git_bound_layers (
  namespace      text NOT NULL REFERENCES namespaces (name) ON DELETE CASCADE,
  layer          text NOT NULL,
  source_id      uuid NOT NULL REFERENCES git_sources (id) ON DELETE CASCADE,
  branch         text NOT NULL,
  path           text NOT NULL,
  commit_sha     text,
  content_hash   text,
  revision       integer,
  imported_at    timestamptz,
  overridden_by  text,
  overridden_at  timestamptz,
  override_revision integer,
  PRIMARY KEY (namespace, layer)
);
CREATE INDEX git_bound_layers_by_source ON git_bound_layers (source_id);

-- The commit last imported per branch (the reconcile compares it with the branch head).
CREATE TABLE git_branch_heads (
  source_id   uuid NOT NULL REFERENCES git_sources (id) ON DELETE CASCADE,
  branch      text NOT NULL,
  commit_sha  text NOT NULL,
  imported_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source_id, branch)
);

-- Webhook deliveries seen, to answer a replay without importing twice.
CREATE TABLE git_deliveries (
  provider    text NOT NULL,
  delivery_id text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (provider, delivery_id)
);

-- Every import attempt and its outcome (problems: file, line, reason; never file content).
CREATE TABLE git_imports (
  id          uuid PRIMARY KEY,
  source_id   uuid NOT NULL REFERENCES git_sources (id) ON DELETE CASCADE,
  branch      text NOT NULL,
  commit_sha  text NOT NULL,
  trigger     text NOT NULL CHECK (trigger IN ('webhook', 'reconcile', 'resync')),
  delivery_id text,
  status      text NOT NULL CHECK (status IN ('applied', 'unchanged', 'failed')),
  layers      jsonb NOT NULL DEFAULT '[]',
  problems    jsonb NOT NULL DEFAULT '[]',
  author      text,
  message     text,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX git_imports_by_source ON git_imports (source_id, created_at DESC);

-- Down Migration
DROP TABLE git_imports;
DROP TABLE git_deliveries;
DROP TABLE git_branch_heads;
DROP TABLE git_bound_layers;
DROP TABLE git_sources;
