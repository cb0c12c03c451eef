-- OpenID Connect provider state (oidc-provider models: Session, Interaction, AuthorizationCode,
-- AccessToken, RefreshToken, Grant, ...), one row per (model, id) with the model's payload as
-- jsonb, so that every auth replica can continue any flow and nothing is lost on a restart.
-- The lookup columns are copies of payload fields the provider searches by.
-- Written for both PostgreSQL 15 and PGlite (PostgreSQL 18).

CREATE TABLE oidc_payloads (
  model text NOT NULL,
  id text NOT NULL,
  payload jsonb NOT NULL,
  -- the grant a token belongs to: revoking a grant deletes all its tokens at once
  grant_id text,
  -- Session: the fixed uid its interactions refer to
  uid text,
  -- DeviceCode: the code a person types (the device flow is off; kept for the adapter contract)
  user_code text,
  -- NULL = no expiry of its own; rows past it are invisible at once and deleted by housekeeping
  expires_at timestamptz,
  -- authorization codes and rotated refresh tokens are consumed, not deleted, so a replay is seen
  consumed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (model, id)
);
CREATE INDEX oidc_payloads_grant_idx ON oidc_payloads (model, grant_id) WHERE grant_id IS NOT NULL;
CREATE INDEX oidc_payloads_uid_idx ON oidc_payloads (model, uid) WHERE uid IS NOT NULL;
CREATE INDEX oidc_payloads_user_code_idx ON oidc_payloads (model, user_code) WHERE user_code IS NOT NULL;
CREATE INDEX oidc_payloads_expires_idx ON oidc_payloads (expires_at) WHERE expires_at IS NOT NULL;
