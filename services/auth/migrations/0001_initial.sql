-- Faceline auth: accounts, encrypted face templates, sessions, signing keys, audit log and
-- brute-force state. Written for both PostgreSQL 15 and PGlite (PostgreSQL 18).

CREATE TABLE meta (
  key text PRIMARY KEY,
  value text NOT NULL
);

CREATE TABLE users (
  id uuid PRIMARY KEY,
  username text NOT NULL UNIQUE,
  display_name text NOT NULL,
  role text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
  profile jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  last_login_at timestamptz
);

-- The embedding is AES-256-GCM ciphertext (nonce + ciphertext||tag); the row id and user id are
-- the associated data, so a ciphertext copied onto another row does not decrypt.
CREATE TABLE face_templates (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  key_version integer NOT NULL,
  nonce bytea NOT NULL,
  ciphertext bytea NOT NULL,
  quality jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX face_templates_user_idx ON face_templates (user_id);

CREATE TABLE sessions (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  mode text NOT NULL,
  liveness boolean NOT NULL,
  ip text,
  user_agent text,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  revoked_reason text
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

-- Only SHA-256 hashes of refresh tokens are stored. A used (rotated) hash presented again means
-- the token was copied: the whole session is revoked.
CREATE TABLE refresh_tokens (
  token_hash text PRIMARY KEY,
  session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  used_at timestamptz
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);

-- One-time grants issued by a successful face login, exchanged over HTTP for a session.
CREATE TABLE login_grants (
  grant_hash text PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  mode text NOT NULL,
  liveness boolean NOT NULL,
  ip text,
  user_agent text,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);

-- Asymmetric signing keys shared by every replica; private halves are encrypted with the master key.
CREATE TABLE signing_keys (
  kid text PRIMARY KEY,
  alg text NOT NULL,
  public_jwk jsonb NOT NULL,
  private_nonce bytea NOT NULL,
  private_ciphertext bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- stops signing new tokens after this
  retire_at timestamptz NOT NULL,
  -- leaves the JWKS after this (retire_at + the longest token lifetime)
  expires_at timestamptz NOT NULL
);

CREATE TABLE audit_events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  type text NOT NULL,
  outcome text NOT NULL,
  user_id uuid,
  username text,
  actor_id uuid,
  ip text,
  user_agent text,
  mode text,
  code text,
  distance double precision,
  liveness text,
  details jsonb
);
CREATE INDEX audit_events_user_idx ON audit_events (user_id, id);
CREATE INDEX audit_events_type_idx ON audit_events (type, id);

-- Failed-attempt state per account ('user', user id) and per client address ('ip', address).
CREATE TABLE attempt_counters (
  scope text NOT NULL,
  key text NOT NULL,
  consecutive integer NOT NULL DEFAULT 0,
  window_start timestamptz NOT NULL DEFAULT now(),
  window_failures integer NOT NULL DEFAULT 0,
  backoff_until timestamptz,
  locked_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, key)
);
