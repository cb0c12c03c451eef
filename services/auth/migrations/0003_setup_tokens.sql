-- One-time setup tokens: the only way to create the first administrator. Auth prints a setup
-- link while no administrator exists (or takes the operator's FACELINE_SETUP_TOKEN); the
-- registration that presents it becomes an admin. Only SHA-256 hashes are stored. A token is
-- spent with one atomic UPDATE … WHERE used_at IS NULL under an advisory lock, and when one is
-- used every other outstanding token is spent too, so parallel registrations cannot make two
-- admins and deleting every user later hands admin to nobody.
CREATE TABLE setup_tokens (
  token_hash text PRIMARY KEY,
  source text NOT NULL CHECK (source IN ('generated', 'configured')),
  created_at timestamptz NOT NULL DEFAULT now(),
  -- generated tokens expire; the operator's configured token does not
  expires_at timestamptz,
  used_at timestamptz,
  used_by uuid
);
