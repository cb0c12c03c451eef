-- Hub and sites meet login security (0002): what a replicated unlock or account deletion must
-- also clear at a site. Replication applies rows without firing foreign-key cascades, so the
-- triggers of 0005 do the cascading by hand; these add the scopes and tables 0002 introduced.
-- (The migration runner splits statements at a semicolon that ends a line: each function is one line.)

-- An unlock from the hub clears the account's lock and its per-origin back-off and start count at this site.
CREATE OR REPLACE FUNCTION faceline_replicated_unlock() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$ BEGIN DELETE FROM attempt_counters WHERE scope = 'user' AND key = NEW.user_id::text; DELETE FROM attempt_counters WHERE scope IN ('pair', 'start') AND left(key, 37) = NEW.user_id::text || ' '; RETURN NULL; END $$;

-- An account deleted at the hub takes its sessions, grants, attempt state, live flows, tickets and passkey challenges at the site with it.
CREATE OR REPLACE FUNCTION faceline_replicated_user_deleted() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$ BEGIN DELETE FROM refresh_tokens WHERE session_id IN (SELECT id FROM sessions WHERE user_id = OLD.id); DELETE FROM sessions WHERE user_id = OLD.id; DELETE FROM login_grants WHERE user_id = OLD.id; DELETE FROM last_logins WHERE user_id = OLD.id; DELETE FROM attempt_counters WHERE scope = 'user' AND key = OLD.id::text; DELETE FROM attempt_counters WHERE scope IN ('pair', 'start') AND left(key, 37) = OLD.id::text || ' '; DELETE FROM live_flows WHERE user_id = OLD.id; DELETE FROM enroll_tickets WHERE user_id = OLD.id; DELETE FROM webauthn_challenges WHERE user_id = OLD.id; PERFORM pg_notify('faceline_templates', json_build_object('userId', OLD.id)::text); RETURN NULL; END $$;
