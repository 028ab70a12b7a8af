-- Up Migration
CREATE TABLE namespaces (
  name          text PRIMARY KEY,
  description   text NOT NULL DEFAULT '',
  owners        text[] NOT NULL DEFAULT '{}',
  environments  text[] NOT NULL,
  variables     jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- One revision sequence per namespace, shared by all its layers.
  head_revision integer NOT NULL DEFAULT 0,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Immutable history: every write to a layer (base or an environment overlay) is one row.
CREATE TABLE revisions (
  namespace  text NOT NULL REFERENCES namespaces(name) ON DELETE CASCADE,
  revision   integer NOT NULL,
  layer      text NOT NULL,
  content    jsonb NOT NULL,
  hash       text NOT NULL,
  diff       jsonb NOT NULL,
  author     text NOT NULL,
  message    text NOT NULL DEFAULT '',
  source     text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (namespace, revision)
);
CREATE INDEX revisions_by_layer ON revisions (namespace, layer, revision DESC);

-- The head of each layer (what the next write is compared against).
CREATE TABLE layers (
  namespace  text NOT NULL REFERENCES namespaces(name) ON DELETE CASCADE,
  layer      text NOT NULL,
  revision   integer NOT NULL,
  content    jsonb NOT NULL,
  hash       text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (namespace, layer)
);

-- The resolved document per environment, materialised at write time: reads never resolve, and
-- with Redis down they cost one indexed row. `revision` is the namespace revision that last
-- changed this environment's resolved content.
CREATE TABLE resolved_heads (
  namespace   text NOT NULL REFERENCES namespaces(name) ON DELETE CASCADE,
  environment text NOT NULL,
  revision    integer NOT NULL,
  hash        text NOT NULL,
  body        text NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (namespace, environment)
);

CREATE TABLE schemas (
  namespace  text PRIMARY KEY REFERENCES namespaces(name) ON DELETE CASCADE,
  schema     jsonb NOT NULL,
  hash       text NOT NULL,
  updated_by text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Which namespaces a namespace reads through ${ref:other:...} (transitively): a write to
-- `depends_on` re-resolves and re-validates `namespace`.
CREATE TABLE namespace_dependencies (
  namespace  text NOT NULL REFERENCES namespaces(name) ON DELETE CASCADE,
  depends_on text NOT NULL,
  PRIMARY KEY (namespace, depends_on)
);
CREATE INDEX namespace_dependencies_reverse ON namespace_dependencies (depends_on);

-- Down Migration
DROP TABLE namespace_dependencies;
DROP TABLE schemas;
DROP TABLE resolved_heads;
DROP TABLE layers;
DROP TABLE revisions;
DROP TABLE namespaces;
