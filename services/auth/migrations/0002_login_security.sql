-- Login security: one live flow per account, single-use enrollment tickets, trusted kiosk
-- devices, passkeys for step-up, and how each grant and session was proven (amr, acr,
-- auth_time). Attempt state per (account, address) pair and per account start rate use the
-- existing attempt_counters table with the scopes 'pair' and 'start'.

-- One live login and one live enrollment per account, across replicas. A row past expires_at
-- is stale (its replica died) and may be taken over.
CREATE TABLE live_flows (
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('login', 'enroll')),
  flow_id uuid NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (user_id, kind)
);

-- Enrollment tickets are signed tokens whose id must also be here and unused: a ticket
-- completes one enrollment and never another.
CREATE TABLE enroll_tickets (
  jti uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  purpose text NOT NULL CHECK (purpose IN ('register', 'reenroll', 'admin')),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
CREATE INDEX enroll_tickets_user_idx ON enroll_tickets (user_id);

-- Kiosk terminals an administrator trusts. The browser holds the secret in a cookie; only its
-- hash is stored.
CREATE TABLE trusted_devices (
  id uuid PRIMARY KEY,
  name text NOT NULL,
  secret_hash text NOT NULL,
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz,
  revoked_at timestamptz
);

-- WebAuthn credentials (passkeys), a second factor for privileged accounts.
CREATE TABLE passkeys (
  id text PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  public_key bytea NOT NULL,
  counter bigint NOT NULL DEFAULT 0,
  transports text[] NOT NULL DEFAULT '{}',
  name text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz
);
CREATE INDEX passkeys_user_idx ON passkeys (user_id);

-- WebAuthn challenges are single-use and short-lived.
CREATE TABLE webauthn_challenges (
  id uuid PRIMARY KEY,
  user_id uuid REFERENCES users (id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('register', 'authenticate')),
  challenge text NOT NULL,
  expires_at timestamptz NOT NULL
);

-- How the person proved who they are (RFC 8176 amr values, a Faceline acr) and when.
ALTER TABLE login_grants
  ADD COLUMN amr text[] NOT NULL DEFAULT ARRAY['face']::text[],
  ADD COLUMN acr text NOT NULL DEFAULT 'urn:faceline:acr:face',
  ADD COLUMN auth_time timestamptz NOT NULL DEFAULT now(),
  ADD COLUMN device_id uuid;
ALTER TABLE sessions
  ADD COLUMN amr text[] NOT NULL DEFAULT ARRAY['face']::text[],
  ADD COLUMN acr text NOT NULL DEFAULT 'urn:faceline:acr:face',
  ADD COLUMN auth_time timestamptz NOT NULL DEFAULT now(),
  ADD COLUMN device_id uuid;
