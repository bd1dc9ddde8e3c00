-- Login sessions are API tokens with an expiry: NULL never expires (tokens
-- issued by an administrator), else an RFC 3339 UTC timestamp after which
-- authenticate_token refuses the token.
ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;
